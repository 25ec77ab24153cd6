/**
 * What the local destination of a download is, decided once (lstat, and stat to follow a symbolic link),
 * because that decides how the download may be written (local-files.ts):
 * - a regular file, or nothing yet: a temporary file beside it, renamed over it on success, so a failed
 *   download never leaves a file that looks complete;
 * - a character or block device, or a FIFO: opened and written directly, like `curl -o /dev/null` or a
 *   shell redirection. Renaming a file over such a node destroys it: /dev/null would become a regular file
 *   for the whole system, a FIFO a script reads from would become a file nobody reads;
 * - a symbolic link: followed, and the rules above apply to what it points to. For a regular file the
 *   temporary file goes beside the REAL file and is renamed over it, so the link stays a link and the file
 *   it names gets the new content.
 */
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { FtpUsageError } from '../errors.js';

export type LocalTargetKind = 'missing' | 'file' | 'char-device' | 'block-device' | 'fifo';

export interface LocalTarget {
  /** The path as the caller gave it (for messages). */
  path: string;
  kind: LocalTargetKind;
  /** Where the bytes go: the path with every symbolic link resolved (the path itself when missing). */
  realPath: string;
  /** Size of a regular file; 0 otherwise. */
  size: number;
  /** Identity of the node that was inspected, so an opened descriptor can be checked to be that node. */
  identity?: { dev: number; ino: number };
}

const KIND_NAMES: Record<LocalTargetKind, string> = {
  'missing': 'a new file', 'file': 'a regular file', 'char-device': 'a character device',
  'block-device': 'a block device', 'fifo': 'a FIFO (named pipe)',
};

/** "a character device", "a FIFO (named pipe)"... for messages. */
export function describeKind(kind: LocalTargetKind): string {
  return KIND_NAMES[kind];
}

/** A device or a FIFO: written directly, never replaced, never resumed (it has no size to continue from). */
export function isSpecialKind(kind: LocalTargetKind): kind is 'char-device' | 'block-device' | 'fifo' {
  return kind === 'char-device' || kind === 'block-device' || kind === 'fifo';
}

/** Resuming (writing from an offset into what is there) needs a regular file: a device or FIFO has no size. */
export function assertResumable(target: LocalTarget): void {
  if (isSpecialKind(target.kind)) {
    throw new FtpUsageError(`cannot resume into ${target.path}: it is ${describeKind(target.kind)}, which has no size to continue from; download without resuming`);
  }
}

/** The kind of a node from its (followed) stat, or a usage error for what a download cannot go into. */
export function kindOf(st: Stats, where: string): LocalTargetKind {
  if (st.isFile()) return 'file';
  if (st.isCharacterDevice()) return 'char-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  if (st.isDirectory()) throw new FtpUsageError(`${where} is a folder: give a file name to download into`);
  throw new FtpUsageError(`${where} is a socket: a download cannot be written into it`);
}

export async function inspectLocalTarget(destination: string): Promise<LocalTarget> {
  let st: Stats;
  let isLink = false;
  try {
    // lstat first: one call for the common cases (a new file, a regular file, a device); a symbolic link
    // is then followed with stat.
    st = await lstat(destination);
    isLink = st.isSymbolicLink();
    if (isLink) st = await stat(destination);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new FtpUsageError(`${destination}: too many levels of symbolic links`, { cause: e });
    if (code !== 'ENOENT') throw e;
    // A dangling symbolic link is refused rather than written through (curl's open(O_CREAT) would create
    // the file it names): the link is most often stale, and creating a file at a place the user never
    // typed is a surprise; replacing the link with a file would destroy it. The user decides which.
    if (isLink) {
      const to = await readlink(destination).catch(() => '?');
      throw new FtpUsageError(`${destination} is a symbolic link to ${to}, which does not exist: `
        + 'create the file it points to, or remove the link');
    }
    return { path: destination, kind: 'missing', realPath: destination, size: 0 };
  }
  const kind = kindOf(st, destination);
  return {
    path: destination, kind, realPath: await realpath(destination), size: kind === 'file' ? st.size : 0,
    identity: { dev: st.dev, ino: st.ino },
  };
}
