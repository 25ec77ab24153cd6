/**
 * Owns the contract of the local-filesystem storage's confinement to its root directory (a user's view
 * can never be widened beyond it), and what both implementations share: virtual-path validation, the
 * symlink budget, the open flags.
 *
 * Storage receives virtual paths that protocol/paths.ts already normalized, but the jail does not trust
 * that: it is the last line between a client's text and the host file system, so it enforces on its own
 * that nothing outside the root is ever read, written, created, listed, renamed or removed, *also while
 * other processes rename folders inside the served tree* (shared hosting, sync tools, users with a shell):
 *
 * - a virtual path must be absolute; "..", NUL and (on Windows) separators inside a name are refused.
 *   Nothing is percent-decoded: "%2e%2e" is a literal file name inside the root.
 * - the jail never hands out a path string that the kernel would resolve again from the top: operations
 *   receive a host path whose every folder is pinned (local-jail-descriptor.ts: /proc/self/fd/<fd>/<name>,
 *   an open descriptor of the parent plus one name) and run on the final name without following it.
 * - symbolic links inside the root that point inside the root are followed (a supported feature), but
 *   by the jail itself, one component at a time, never by the kernel; one pointing outside is refused.
 *
 * Two implementations: DescriptorJail (Linux, /proc/self/fd available: race-free) and RealpathJail (the
 * fallback elsewhere: realpath() checks, which a concurrent rename can defeat; see its header).
 */
import { constants as fsc, type Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { storageError } from './local-errors.js';

/** What an object operation returns when the name it was given is a symbolic link: "resolve it, call me again". */
export const FOLLOW: unique symbol = Symbol('follow the symbolic link at this name');
export type Step<T> = T | typeof FOLLOW;

/**
 * How many symbolic links one resolution may follow, as Linux's own limit (40, path_resolution(7)); more is
 * a loop, refused like the kernel's ELOOP.
 */
export const MAX_SYMLINKS = 40;

/**
 * Open flags: never follow a final symlink (the jail follows links itself), and never block on a FIFO or
 * device (O_NONBLOCK has no effect on regular files).
 */
export const SAFE_OPEN_FLAGS = (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0);

export interface Jail {
  /** Real path of the root directory (links to it must be written with this or the configured root path). */
  readonly root: string;

  /**
   * Run `op` on the directory entry itself: the parent folder resolved inside the root and pinned while
   * `op` runs, the last name never followed. For mkdir, rmdir, unlink and rename, which act on names.
   * The root itself is not an entry (it cannot be created, removed or renamed): 'permission'.
   * Errors of the resolution are FtpStorageError; errors `op` throws pass through unchanged.
   */
  entry<T>(virtualPath: string, op: (hostPath: string) => Promise<T>): Promise<T>;

  /**
   * Run `op` on the object the path names, symlinks inside the root followed. `op` must not follow a final
   * symlink itself (O_NOFOLLOW, lstat): when it meets one it returns FOLLOW or throws ELOOP/ENOTDIR, and the
   * jail resolves the link (confined) and calls it again with `viaLink` true. With `refuseDangling`, a link
   * whose target does not exist is 'permission' (a write through it would create a file wherever it points).
   */
  object<T>(
    virtualPath: string,
    op: (hostPath: string, viaLink: boolean) => Promise<Step<T>>,
    options?: { refuseDangling?: boolean },
  ): Promise<T>;

  /**
   * Run `op` on exactly the object the path names (symlinks inside the root followed), for calls that have
   * no "do not follow" variant (chmod, utimes, statfs, readdir): `hostPath` is pinned to the object, `st`
   * its stats. Never a symlink.
   */
  pinned<T>(virtualPath: string, op: (hostPath: string, st: Stats) => Promise<T>): Promise<T>;
}

/** Validate a virtual path and split it into names. Throws FtpStorageError. */
export function virtualSegments(virtualPath: string): string[] {
  if (typeof virtualPath !== 'string' || !virtualPath.startsWith('/')) {
    throw storageError('permission', String(virtualPath));
  }
  if (virtualPath.includes('\0')) throw storageError('invalid-name', virtualPath.replaceAll('\0', '\\0'));
  const names: string[] = [];
  for (const name of virtualPath.split('/')) {
    if (name === '' || name === '.') continue;
    // SECURITY: never interpret "..", whatever produced the path; a normalized path has none.
    if (name === '..') throw storageError('permission', virtualPath);
    if (process.platform === 'win32' && /[\\:]/.test(name)) throw storageError('invalid-name', virtualPath);
    names.push(name);
  }
  return names;
}

/**
 * Whether an error from an operation that did not follow a final name may mean "that name is a symlink":
 * open(O_NOFOLLOW) says ELOOP, open(O_DIRECTORY|O_NOFOLLOW) says ENOTDIR.
 */
export function mayBeSymlink(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ELOOP' || code === 'ENOTDIR';
}

/** The target of the symlink at hostPath, or undefined when it is not (or no longer) a symlink. */
export async function symlinkTarget(hostPath: string): Promise<string | undefined> {
  try {
    return await readlink(hostPath);
  } catch {
    return undefined;
  }
}
