/**
 * Owns the confinement of the local-filesystem storage to its root directory (DESIGN.md principle 8).
 *
 * Storage receives virtual paths that protocol/paths.ts already normalized, but this module does not trust
 * that: it is the last line between a client's text and the host file system, so it enforces on its own
 * that nothing outside the root is ever read, written, created, listed or removed:
 *
 * - a virtual path must be absolute; "..", NUL and (on Windows) separators inside a name are refused.
 *   Nothing is percent-decoded: "%2e%2e" is a literal file name inside the root.
 * - symbolic links are resolved with realpath() before every access and the result must lie inside the
 *   root's own realpath; for creations and renames the *parent* is resolved and the last name is used
 *   without following it (mkdir, rename, unlink and rmdir never follow a final symlink; open uses
 *   O_NOFOLLOW), and a final name that is a symlink is only written through when its target is inside.
 * - after open(), the descriptor's real path (/proc/self/fd on Linux) is checked again, which closes the
 *   window where a local process swaps a directory for a symlink between realpath() and open().
 */
import { constants as fsc } from 'node:fs';
import { lstat, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { storageError, toStorageError } from './local-errors.js';

export interface JailEntry {
  /** Real path of the parent directory (inside the root). */
  parent: string;
  /** Last name, not resolved. */
  name: string;
  /** parent + name: the entry itself (a symlink is not followed). */
  host: string;
}

export class RootJail {
  /** realpath of the root directory. */
  readonly root: string;
  private readonly prefix: string;

  constructor(realRoot: string) {
    this.root = realRoot;
    this.prefix = realRoot.endsWith(sep) ? realRoot : realRoot + sep;
  }

  /** Whether a real host path is the root or below it. */
  contains(hostPath: string): boolean {
    return hostPath === this.root || hostPath.startsWith(this.prefix);
  }

  /** Validate a virtual path and split it into names. Throws FtpStorageError. */
  segments(virtualPath: string): string[] {
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

  /** Host path of the virtual path without resolving symlinks (only for building, never for access). */
  private lexical(names: readonly string[]): string {
    return names.length === 0 ? this.root : join(this.root, ...names);
  }

  /**
   * Real path of an existing object (symlinks followed), refused unless inside the root.
   * Used for everything that reads or changes an object's content or attributes.
   */
  async existing(virtualPath: string): Promise<string> {
    const names = this.segments(virtualPath);
    if (names.length === 0) return this.root;
    let real: string;
    try {
      real = await realpath(this.lexical(names));
    } catch (err) {
      throw toStorageError(err, virtualPath);
    }
    // SECURITY: a symlink anywhere on the way may point outside; only the resolved path counts.
    if (!this.contains(real)) throw storageError('permission', virtualPath);
    return real;
  }

  /**
   * The entry itself: its parent resolved and confined, its last name not followed. Used by operations
   * that act on a directory entry (mkdir, rmdir, unlink, rename), which never follow a final symlink.
   * The root itself is not an entry: it cannot be created, removed or renamed.
   */
  async entry(virtualPath: string): Promise<JailEntry> {
    const names = this.segments(virtualPath);
    const name = names.pop();
    if (name === undefined) throw storageError('permission', virtualPath);
    const parent = names.length === 0 ? this.root : await this.existing('/' + names.join('/'));
    return { parent, name, host: join(parent, name) };
  }

  /**
   * Where a write to the virtual path goes: the entry, or, when the entry is a symlink whose target exists
   * inside the root, that target. A dangling symlink or one pointing outside is refused: creating through
   * it would create a file wherever it points.
   */
  async writeTarget(virtualPath: string): Promise<string> {
    const { host } = await this.entry(virtualPath);
    let isLink = false;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw toStorageError(err, virtualPath);
    }
    if (!isLink) return host;
    let real: string;
    try {
      real = await realpath(host);
    } catch {
      throw storageError('permission', virtualPath);
    }
    if (!this.contains(real)) throw storageError('permission', virtualPath);
    return real;
  }

  /**
   * Check an opened descriptor's real path (Linux /proc/self/fd). Where /proc is unavailable the
   * realpath() checks above are the guard. Closes the handle and throws when it is outside.
   */
  async verifyHandle(handle: FileHandle, virtualPath: string): Promise<void> {
    let real: string;
    try {
      real = await readlink(`/proc/self/fd/${handle.fd}`);
    } catch {
      return;
    }
    // A file unlinked meanwhile reads "<path> (deleted)": still judged by its path.
    if (real.endsWith(' (deleted)')) real = real.slice(0, -' (deleted)'.length);
    if (!this.contains(real)) {
      await handle.close().catch(() => undefined);
      throw storageError('permission', virtualPath);
    }
  }
}

/**
 * Open flags: never follow a final symlink (the jail resolved it already; a symlink here means a race),
 * and never block on a FIFO or device (O_NONBLOCK has no effect on regular files).
 */
export const SAFE_OPEN_FLAGS = (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0);
