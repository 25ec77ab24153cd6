/**
 * Owns the conversion of fs.Stats into FileInfo for the local storage, including owner and group names
 * (best effort, read once from /etc/passwd and /etc/group; the numeric id when a name is unknown).
 */
import type { Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { EntryType, FileInfo } from './types.js';

export interface OwnerNames {
  user(uid: number): string;
  group(gid: number): string;
}

async function readIdFile(path: string): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return names;
  }
  // passwd(5)/group(5): name:password:id:...
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 3 || fields[0] === '' || line.startsWith('#')) continue;
    const id = Number(fields[2]);
    if (Number.isInteger(id) && !names.has(id)) names.set(id, fields[0]!);
  }
  return names;
}

let ownerNames: Promise<OwnerNames> | undefined;

/** Name lookups, loaded once per process (the files are small; accounts rarely change while serving). */
export function loadOwnerNames(): Promise<OwnerNames> {
  ownerNames ??= (async () => {
    if (process.platform === 'win32') return { user: String, group: String };
    const [users, groups] = await Promise.all([readIdFile('/etc/passwd'), readIdFile('/etc/group')]);
    return {
      user: (uid: number) => users.get(uid) ?? String(uid),
      group: (gid: number) => groups.get(gid) ?? String(gid),
    };
  })();
  return ownerNames;
}

export function entryType(st: Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'link';
  return 'other';
}

export function toFileInfo(name: string, st: Stats, names: OwnerNames): FileInfo {
  return {
    name,
    type: entryType(st),
    size: st.size,
    modifiedAt: st.mtime,
    mode: st.mode & 0o7777,
    owner: names.user(st.uid),
    group: names.group(st.gid),
    links: st.nlink,
    // RFC 3659 s7.5.2: the same object gets the same value; device and inode identify it on POSIX.
    unique: `${st.dev.toString(16)}:${st.ino.toString(16)}`,
  };
}
