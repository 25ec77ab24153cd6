/**
 * Snapshots of a remote tree (through listings) and a local tree (through the file system), as maps from
 * relative path to TreeNode. Unsafe names are refused here (see safe-name.ts) and reported as events, so
 * nothing later ever sees them. Symlinks and special files are skipped on both sides: following a
 * server's symlink could loop forever or copy a whole disk.
 */
import path from 'node:path';
import { lstat, readdir } from 'node:fs/promises';
import type { FileEntry } from '../../protocol/listing-types.js';
import type { FolderHint } from '../listings.js';
import { unsafeNameReason } from './safe-name.js';
import type { TreeClient, TreeEvent, TreeNode } from './types.js';

export type Tree = Map<string, TreeNode>;

/** Join a remote folder and relative segments with "/" (FTP paths are "/"-separated, RFC 959 s3.2 aside). */
export function remoteJoin(dir: string, segments: readonly string[]): string {
  if (segments.length === 0) return dir || '.';
  const base = dir === '' || dir === '.' ? '' : dir.endsWith('/') ? dir : `${dir}/`;
  return base + segments.join('/');
}

/** How precise a listing's time is (see TreeNode.precisionMs). */
function remotePrecision(entry: FileEntry): number {
  const d = entry.modifiedAt;
  if (!d) return Number.POSITIVE_INFINITY;
  if ('facts' in entry || entry.raw?.startsWith('+')) return 1000; // MLSx (RFC 3659 s2.3) or EPLF: seconds
  if (d.getUTCSeconds() !== 0 || d.getUTCMilliseconds() !== 0) return 1000;
  // `ls -l` shows a year instead of a time for old files: only the day is known.
  if (d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && entry.raw && /\s\d{4}\s/.test(entry.raw)) return 86_400_000;
  return 60_000;
}

/**
 * The remote tree under root. Each folder is listed with what its parent's listing said of it, so an empty
 * listing is checked, not trusted (client/listings.ts); the folders that did list empty are added to
 * `emptyDirs` (relative paths, "" for the root) so that nothing under them is deleted on that word alone.
 */
export async function walkRemote(
  client: TreeClient, root: string, emit: (e: TreeEvent) => void, maxDepth = 64, signal?: AbortSignal,
  emptyDirs: string[] = [],
): Promise<Tree> {
  const tree: Tree = new Map();
  const queue: { segments: string[]; depth: number; folder: FolderHint }[] = [{ segments: [], depth: 0, folder: { mustExist: true } }];
  while (queue.length) {
    signal?.throwIfAborted();
    const { segments, depth, folder } = queue.shift()!;
    const dirPath = remoteJoin(root, segments);
    // LIST passes its argument to `ls` on many servers (vsftpd, pure-ftpd): "-x" would be read as options.
    const entries = await client.list(dirPath.startsWith('-') ? `./${dirPath}` : dirPath, folder);
    if (entries.length === 0) emptyDirs.push(segments.join('/'));
    for (const entry of entries) {
      const why = unsafeNameReason(entry.name);
      if (why) {
        emit({ type: 'refused', side: 'remote', dir: dirPath, name: entry.name, reason: why });
        continue;
      }
      const segs = [...segments, entry.name];
      const rel = segs.join('/');
      if (entry.type === 'dir') {
        tree.set(rel, { segments: segs, rel, type: 'dir', modifiedAt: entry.modifiedAt, precisionMs: remotePrecision(entry) });
        if (depth + 1 < maxDepth) queue.push({ segments: segs, depth: depth + 1, folder: { links: entry.links } });
        else emit({ type: 'skipped-entry', side: 'remote', rel, reason: `deeper than ${maxDepth} levels` });
      } else if (entry.type === 'file') {
        tree.set(rel, {
          segments: segs, rel, type: 'file', size: entry.size, modifiedAt: entry.modifiedAt,
          precisionMs: remotePrecision(entry),
        });
      } else {
        emit({ type: 'skipped-entry', side: 'remote', rel, reason: entry.type === 'link' ? 'symbolic link' : 'not a file or folder' });
      }
    }
  }
  return tree;
}

export async function walkLocal(root: string, emit: (e: TreeEvent) => void, maxDepth = 64, signal?: AbortSignal): Promise<Tree> {
  const tree: Tree = new Map();
  const queue: { segments: string[]; depth: number }[] = [{ segments: [], depth: 0 }];
  while (queue.length) {
    signal?.throwIfAborted();
    const { segments, depth } = queue.shift()!;
    const dir = path.join(root, ...segments);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && segments.length === 0) return tree;
      throw err;
    }
    names.sort();
    for (const name of names) {
      const why = unsafeNameReason(name);
      if (why) {
        emit({ type: 'refused', side: 'local', dir, name, reason: why });
        continue;
      }
      const segs = [...segments, name];
      const rel = segs.join('/');
      const st = await lstat(path.join(dir, name));
      if (st.isDirectory()) {
        tree.set(rel, { segments: segs, rel, type: 'dir', modifiedAt: st.mtime, precisionMs: 1000 });
        if (depth + 1 < maxDepth) queue.push({ segments: segs, depth: depth + 1 });
        else emit({ type: 'skipped-entry', side: 'local', rel, reason: `deeper than ${maxDepth} levels` });
      } else if (st.isFile()) {
        tree.set(rel, { segments: segs, rel, type: 'file', size: st.size, modifiedAt: st.mtime, precisionMs: 1000 });
      } else {
        emit({ type: 'skipped-entry', side: 'local', rel, reason: st.isSymbolicLink() ? 'symbolic link' : 'not a file or folder' });
      }
    }
  }
  return tree;
}
