/**
 * Owns the race-free confinement of the local storage on Linux: every virtual path is resolved component by
 * component from an open descriptor of the root, never by handing the kernel a path string to walk.
 *
 * Why: checking a path (realpath) and then using it (unlink, mkdir, rename, open(O_CREAT)) lets a local
 * process that renames folders inside the served tree in between redirect the use outside the root; a
 * descriptor check after open() comes after the damage (measured: a renameat2(RENAME_EXCHANGE) loop made the
 * realpath jail delete, create and truncate files outside the root; test/socket/local-storage-race.test.ts).
 * A descriptor names a folder, not a path: once open, renaming or replacing names around it does not change
 * what it is.
 *
 * How, and why this way:
 * - The root is opened once (O_PATH|O_DIRECTORY) and held for the jail's life (closed by a finalizer).
 * - Each component is opened relative to the previous folder's descriptor as `/proc/self/fd/<fd>/<name>`
 *   with O_PATH|O_DIRECTORY|O_NOFOLLOW. The kernel resolves `/proc/self/fd/<fd>` to the open folder itself
 *   (a "magic link", proc(5)), not to a path string, so this is openat(fd, name): Node has neither openat()
 *   nor openat2(RESOLVE_BENEATH), and this is the one way to get openat's guarantee from it. O_NOFOLLOW
 *   stops at a symlink (ENOTDIR with O_DIRECTORY), which the jail then resolves itself; O_PATH needs only
 *   search permission on the folders, as the path walk it replaces, and opens nothing for reading.
 *   One syscall per component in the common case; readlink() only where a component turned out not to be
 *   a folder. Intermediate descriptors are closed as soon as the next one is open: at most one per walk.
 * - Symlinks are followed like Go's os.Root (src/os/root_unix.go) and openat2(RESOLVE_IN_ROOT), except that
 *   leaving the root is refused instead of clamped: a relative target continues from the link's folder; an
 *   absolute one must start with the root's real (or configured) path and continues from the root
 *   descriptor; ".." re-walks the names from the root minus the last one (never openat(".."), which would
 *   leave a folder that was moved out of the root meanwhile) and may not rise above the root; at most
 *   MAX_SYMLINKS links per resolution, then 'permission' (ELOOP).
 * - The operation then runs on the final name relative to its parent's descriptor
 *   (`/proc/self/fd/<parent>/<name>`), with calls that never follow a final symlink (unlink, rmdir, mkdir,
 *   rename, open(O_NOFOLLOW), lstat). Calls without such a variant (chmod, utimes, statfs, readdir) get
 *   `/proc/self/fd/<fd>` of an O_PATH|O_NOFOLLOW descriptor of the object itself (pinned()), the technique
 *   glibc's fchmodat(AT_SYMLINK_NOFOLLOW) uses.
 * - Every descriptor a path string names stays open until the operation using it has finished, so its
 *   number cannot be reused for another file meanwhile.
 *
 * Used when /proc/self/fd works (checked at open: the root seen through it is the root's own inode);
 * otherwise LocalStorage falls back to RealpathJail (local-jail-realpath.ts), which does not hold against
 * concurrent renames.
 */
import { close, closeSync, constants as fsc, fstat, open, type Stats } from 'node:fs';
import { readlink, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { storageError, toStorageError } from './local-errors.js';
import { FOLLOW, MAX_SYMLINKS, mayBeSymlink, symlinkTarget, virtualSegments, type Jail, type Step } from './local-jail.js';

/** O_PATH (Linux >= 2.6.39; this value on every architecture Node runs on). fs.constants does not export it. */
const O_PATH = 0o10000000;
const FOLDER_FLAGS = O_PATH | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;
const PIN_FLAGS = O_PATH | fsc.O_NOFOLLOW;

// Raw descriptors rather than FileHandle: cheaper, and their lifetime is exactly the walk's.
const openFd = promisify(open);
const fstatFd = promisify(fstat);

function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/**
 * Close one of the jail's O_PATH descriptors, synchronously: closing an O_PATH descriptor cannot block (it
 * has no file operations, nothing to flush), so a thread-pool round trip per folder walked would only add
 * latency. Synchronous also means the number is free exactly when the walk moves on.
 */
function release(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // EBADF cannot happen for a descriptor the walk owns; nothing else is possible on close(O_PATH).
  }
}

const rootClosers = new FinalizationRegistry<number>((fd) => close(fd, () => undefined));

export class DescriptorJail implements Jail {
  readonly root: string;
  /** Names of the root's real path and of its configured path: an absolute link target must start with one. */
  private readonly rootPrefixes: readonly string[][];

  private constructor(private readonly rootFd: number, realRoot: string, configuredRoot: string) {
    this.root = realRoot;
    this.rootPrefixes = [realRoot, configuredRoot].map((p) => p.split('/').filter((n) => n !== ''));
    rootClosers.register(this, rootFd);
  }

  /**
   * Open the root (following symlinks in the configured path: it is the administrator's). Resolves to
   * undefined where /proc/self/fd cannot serve as openat() (not Linux, /proc not mounted). Throws
   * FtpStorageError when the root is missing or no directory.
   */
  static async open(configuredRoot: string): Promise<DescriptorJail | undefined> {
    if (process.platform !== 'linux') return undefined;
    let fd: number;
    try {
      fd = await openFd(configuredRoot, O_PATH | fsc.O_DIRECTORY);
    } catch (err) {
      throw toStorageError(err, '/');
    }
    try {
      const [seen, own] = await Promise.all([stat(fdPath(fd)), fstatFd(fd)]);
      if (seen.dev === own.dev && seen.ino === own.ino) return new DescriptorJail(fd, await readlink(fdPath(fd)), configuredRoot);
    } catch {
      // no usable /proc: the caller falls back
    }
    release(fd);
    return undefined;
  }

  entry<T>(virtualPath: string, op: (hostPath: string) => Promise<T>): Promise<T> {
    return this.resolve(virtualPath, op, { entry: true });
  }

  object<T>(
    virtualPath: string,
    op: (hostPath: string, viaLink: boolean) => Promise<Step<T>>,
    options: { refuseDangling?: boolean } = {},
  ): Promise<T> {
    return this.resolve(virtualPath, op, { refuseDangling: options.refuseDangling });
  }

  pinned<T>(virtualPath: string, op: (hostPath: string, st: Stats) => Promise<T>): Promise<T> {
    return this.object(virtualPath, async (hostPath) => {
      const fd = await openFd(hostPath, PIN_FLAGS);
      try {
        const st = await fstatFd(fd);
        // O_PATH|O_NOFOLLOW opens a symlink itself: resolve it instead.
        if (st.isSymbolicLink()) return FOLLOW;
        return await op(fdPath(fd), st);
      } finally {
        release(fd);
      }
    });
  }

  /**
   * The walk. `dir` is the descriptor of the folder reached (the root's is never closed here), `walked` the
   * names from the root to it, `queue` the names still to resolve (link targets are spliced in front).
   */
  private async resolve<T>(
    virtualPath: string,
    op: (hostPath: string, viaLink: boolean) => Promise<Step<T>>,
    mode: { entry?: boolean; refuseDangling?: boolean },
  ): Promise<T> {
    const queue = virtualSegments(virtualPath);
    if (mode.entry && queue.length === 0) throw storageError('permission', virtualPath);
    let dir = this.rootFd;
    let walked: string[] = [];
    let links = 0;
    let viaLink = false;
    const enter = (fd: number): void => {
      if (dir !== this.rootFd) release(dir);
      dir = fd;
    };
    const backToRoot = (): void => {
      walked = [];
      enter(this.rootFd);
    };
    /** A missing link target is 'permission' for writes (refuseDangling); other errors keep their meaning. */
    const failure = (err: unknown, fromOp: boolean): unknown => {
      if (mode.refuseDangling && viaLink && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        return storageError('permission', virtualPath);
      }
      return fromOp ? err : toStorageError(err, virtualPath);
    };
    try {
      for (;;) {
        const name = queue.shift();
        if (name === undefined) {
          // The object is the folder reached itself: the root ("/"), or a link target ending in "." or "..".
          const result = await op(`${fdPath(dir)}/.`, viaLink);
          if (result === FOLLOW) throw storageError('permission', virtualPath);
          return result;
        }
        if (name === '' || name === '.') continue;
        if (name === '..') {
          // Only link targets have ".." (virtual paths are refused with it).
          if (walked.length === 0) throw storageError('permission', virtualPath);
          queue.unshift(...walked.slice(0, -1));
          backToRoot();
          continue;
        }
        const hostPath = `${fdPath(dir)}/${name}`;
        let target: string | undefined;
        if (queue.length > 0) {
          try {
            const fd = await openFd(hostPath, FOLDER_FLAGS);
            enter(fd);
            walked.push(name);
            continue;
          } catch (err) {
            target = mayBeSymlink(err) ? await symlinkTarget(hostPath) : undefined;
            if (target === undefined) throw failure(err, false);
          }
        } else if (mode.entry) {
          return (await op(hostPath, false)) as T;
        } else {
          try {
            const result = await op(hostPath, viaLink);
            if (result !== FOLLOW) return result;
          } catch (err) {
            if (!mayBeSymlink(err)) throw failure(err, true);
            target = await symlinkTarget(hostPath);
            if (target === undefined) throw err;
          }
          target ??= await symlinkTarget(hostPath);
          // It was a symlink a moment ago and is not now: swapped under us.
          if (target === undefined) throw storageError('permission', virtualPath);
          // From here on the object is a link's target (links met on the way to the parent do not count).
          viaLink = true;
        }
        if (++links > MAX_SYMLINKS) {
          throw storageError('permission', virtualPath, Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' }));
        }
        if (target.startsWith('/')) {
          const below = this.belowRoot(target);
          // SECURITY: an absolute target outside the root (or spelled through another path) is refused.
          if (below === undefined) throw storageError('permission', virtualPath);
          queue.unshift(...below);
          backToRoot();
        } else {
          queue.unshift(...target.split('/'));
        }
      }
    } finally {
      if (dir !== this.rootFd) release(dir);
    }
  }

  /** The names of an absolute link target below the root, or undefined when it does not start with the root. */
  private belowRoot(target: string): string[] | undefined {
    const names = target.split('/').filter((n) => n !== '' && n !== '.');
    for (const prefix of this.rootPrefixes) {
      if (prefix.every((n, i) => names[i] === n)) return names.slice(prefix.length);
    }
    return undefined;
  }
}
