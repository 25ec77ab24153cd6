/**
 * Owns the conversion of fs.Stats into FileInfo for the local storage, including owner and group names
 * (best effort, read once from /etc/passwd and /etc/group; the numeric id when a name is unknown).
 */
import { constants as fsc, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { STAT_FIELDS } from './local-lstat-worker.js';
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

/** As Stats.isFile() and its siblings read the mode: file, dir or link by S_IFMT, anything else 'other'. */
function typeOfMode(mode: number): EntryType {
  const format = mode & fsc.S_IFMT;
  return format === fsc.S_IFREG ? 'file' : format === fsc.S_IFDIR ? 'dir' : format === fsc.S_IFLNK ? 'link' : 'other';
}

export function toFileInfo(name: string, st: Stats, names: OwnerNames): FileInfo {
  return makeInfo(name, st.mode, st.size, st.mtime, st.uid, st.gid, st.nlink, st.dev, st.ino, names);
}

/** The FileInfo of entry `i` of a chunk of packed lstat numbers (local-lstat-worker.ts STAT_FIELDS). */
export function packedFileInfo(name: string, stats: Float64Array, i: number, names: OwnerNames): FileInfo {
  const o = i * STAT_FIELDS;
  return makeInfo(name, stats[o]!, stats[o + 1]!, new Date(stats[o + 2]!), stats[o + 3]!, stats[o + 4]!, stats[o + 5]!,
    stats[o + 6]!, stats[o + 7]!, names);
}

function makeInfo(
  name: string, mode: number, size: number, mtime: Date, uid: number, gid: number, nlink: number, dev: number, ino: number,
  names: OwnerNames,
): FileInfo {
  return {
    name,
    type: typeOfMode(mode),
    size,
    modifiedAt: mtime,
    mode: mode & 0o7777,
    owner: names.user(uid),
    group: names.group(gid),
    links: nlink,
    // RFC 3659 s7.5.2: the same object gets the same value; device and inode identify it on POSIX.
    unique: `${dev.toString(16)}:${ino.toString(16)}`,
  };
}
