/**
 * Owns the fallback confinement of the local storage, for systems without /proc/self/fd (macOS, the BSDs,
 * Windows, a Linux container without /proc): symlinks are resolved with realpath() and the result must lie
 * inside the root's own realpath; for entries the *parent* is resolved and the last name is used without
 * following it (mkdir, rename, unlink and rmdir never follow a final symlink; open uses O_NOFOLLOW).
 *
 * LIMITATION: this is a check-then-use on path strings. A local process that renames a folder inside the
 * served tree between the check and the use (e.g. exchanges it with a symlink to a folder outside) can make
 * an entry operation act outside the root. Only DescriptorJail (local-jail-descriptor.ts, Linux) holds
 * under concurrent renames; this one is for hosts where nobody else writes in the served tree.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Stats } from 'node:fs';
import { storageError, toStorageError } from './local-errors.js';
import { FOLLOW, mayBeSymlink, virtualSegments, type Jail, type Step } from './local-jail.js';

export class RealpathJail implements Jail {
  readonly root: string;
  private readonly prefix: string;

  /** `realRoot`: the realpath of an existing directory. */
  constructor(realRoot: string) {
    this.root = realRoot;
    this.prefix = realRoot.endsWith(sep) ? realRoot : realRoot + sep;
  }

  private contains(hostPath: string): boolean {
    return hostPath === this.root || hostPath.startsWith(this.prefix);
  }

  /** Real path of an existing object (symlinks followed), refused unless inside the root. */
  private async real(virtualPath: string, names: readonly string[]): Promise<string> {
    if (names.length === 0) return this.root;
    let real: string;
    try {
      real = await realpath(join(this.root, ...names));
    } catch (err) {
      throw toStorageError(err, virtualPath);
    }
    // SECURITY: a symlink anywhere on the way may point outside; only the resolved path counts.
    if (!this.contains(real)) throw storageError('permission', virtualPath);
    return real;
  }

  async entry<T>(virtualPath: string, op: (hostPath: string) => Promise<T>): Promise<T> {
    const names = virtualSegments(virtualPath);
    const name = names.pop();
    if (name === undefined) throw storageError('permission', virtualPath);
    return op(join(await this.real(virtualPath, names), name));
  }

  async object<T>(
    virtualPath: string,
    op: (hostPath: string, viaLink: boolean) => Promise<Step<T>>,
    options: { refuseDangling?: boolean } = {},
  ): Promise<T> {
    const names = virtualSegments(virtualPath);
    if (names.length === 0) return this.once(virtualPath, op(this.root, false));
    const entry = await this.entry(virtualPath, async (host) => host);
    let isLink: boolean;
    try {
      const result = await op(entry, false);
      if (result !== FOLLOW) return result;
      isLink = true;
    } catch (err) {
      if (!mayBeSymlink(err)) throw err;
      isLink = await lstat(entry).then((st) => st.isSymbolicLink(), () => false);
      if (!isLink) throw err;
    }
    let target: string;
    try {
      target = await this.real(virtualPath, names);
    } catch (err) {
      if (options.refuseDangling) throw storageError('permission', virtualPath);
      throw err;
    }
    return this.once(virtualPath, op(target, true));
  }

  async pinned<T>(virtualPath: string, op: (hostPath: string, st: Stats) => Promise<T>): Promise<T> {
    const real = await this.real(virtualPath, virtualSegments(virtualPath));
    let st: Stats;
    try {
      st = await stat(real);
    } catch (err) {
      throw toStorageError(err, virtualPath);
    }
    return op(real, st);
  }

  /** A real path is no symlink: meeting one now means a concurrent swap, refused (ELOOP is 'permission' too). */
  private async once<T>(virtualPath: string, result: Promise<Step<T>>): Promise<T> {
    const value = await result;
    if (value === FOLLOW) throw storageError('permission', virtualPath);
    return value;
  }
}
