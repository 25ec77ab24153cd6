/**
 * A download mirror with delete must never delete local files because a remote folder listed empty
 * (a folder the server may not read, a name its LIST mishandles: its listing says nothing). Before such
 * deletions are planned, the server is asked about a few of the local files concerned (SIZE, RFC 3659 s4):
 * one it knows proves the listing wrong, and the mirror stops before it changes anything.
 */
import { FtpEmptyListingError, FtpReplyError } from '../../errors.js';
import type { MirrorPlan } from './plan.js';
import type { TreeClient } from './types.js';
import { remoteJoin, type Tree } from './walk.js';

/** Files asked about per folder that listed empty: enough to catch a wrong listing, bounded for big trees. */
const PROBES_PER_FOLDER = 3;

function folderOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

function remotePathOf(remoteDir: string, rel: string): string {
  return remoteJoin(remoteDir, rel === '' ? [] : rel.split('/'));
}

/** Throws FtpEmptyListingError when the server has a file that a planned deletion would remove locally. */
export async function checkDeletionsUnderEmptyFolders(
  client: TreeClient, plan: MirrorPlan, remoteDir: string, emptyDirs: readonly string[], local: Tree,
): Promise<void> {
  if (!client.size || emptyDirs.length === 0 || plan.deletions.length === 0) return;
  const empty = new Set(emptyDirs);
  const asked = new Map<string, number>();
  for (const deletion of plan.deletions) {
    const files = deletion.kind === 'delete-file' ? [deletion.rel]
      : [...local.values()].filter(n => n.type === 'file' && n.rel.startsWith(`${deletion.rel}/`)).map(n => n.rel);
    for (const rel of files) {
      const folder = folderOf(rel);
      if (!empty.has(folder) || (asked.get(folder) ?? 0) >= PROBES_PER_FOLDER) continue;
      asked.set(folder, (asked.get(folder) ?? 0) + 1);
      const remotePath = remotePathOf(remoteDir, rel);
      let size: number;
      try {
        size = await client.size(remotePath);
      } catch (err) {
        if (err instanceof FtpReplyError) continue; // 550: not there (or no SIZE): the listing stands
        throw err;
      }
      throw new FtpEmptyListingError(remotePathOf(remoteDir, folder), `the server answers SIZE for ${remotePath} (${size} bytes)`);
    }
  }
}
