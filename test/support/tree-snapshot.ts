/**
 * Test helper for confinement tests: a description of everything under a folder (not following links), so a
 * test can prove that a folder next to a storage root came out of a run byte-for-byte unchanged, and say
 * what changed when it did not.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Relative path -> "mode size mtime [-> link target | sha1]", for everything under dir; `skip` omits a top-level name. */
export async function snapshotTree(dir: string, skip?: string, into = new Map<string, string>(), prefix = ''): Promise<Map<string, string>> {
  for (const name of (await readdir(dir)).sort()) {
    if (prefix === '' && name === skip) continue;
    const path = join(dir, name);
    const st = await lstat(path);
    let desc = `${st.mode.toString(8)} ${st.size} ${st.mtimeMs}`;
    if (st.isSymbolicLink()) desc += ` -> ${await readlink(path)}`;
    else if (st.isFile()) desc += ` ${createHash('sha1').update(await readFile(path)).digest('hex')}`;
    into.set(prefix + name, desc);
    if (st.isDirectory()) await snapshotTree(path, skip, into, `${prefix}${name}/`);
  }
  return into;
}

export interface TreeChanges {
  removed: string[];
  added: string[];
  changed: string[];
}

/** What differs between two snapshots of the same folder. */
export function treeChanges(before: Map<string, string>, after: Map<string, string>): TreeChanges {
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const added = [...after.keys()].filter((k) => !before.has(k));
  const changed = [...before.keys()].filter((k) => after.has(k) && after.get(k) !== before.get(k));
  return { removed, added, changed };
}
