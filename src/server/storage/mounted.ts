/**
 * Owns MountedStorage: one user's tree assembled from several Storages (virtual folders, as SFTPGo and
 * proftpd's <Directory> set-ups offer): a base Storage for "/" and others mounted at virtual paths such
 * as "/pub" or "/srv/incoming". A path belongs to the mount with the longest matching prefix and is handed
 * to it relative to the mount ("/pub/a.txt" -> "/a.txt"), so each mount stays its own jail: a path is
 * normalized before it gets here (protocol/paths.ts), a mount only ever sees paths below its own "/", and
 * a local mount opens them from its own root descriptor (docs/architecture.md#virtual-paths-never-escape).
 *
 * - A mount point shows in its parent's listing as a folder, even when the base has no such folder; the
 *   folders between "/" and a deeper mount point ("/srv" for "/srv/incoming") are shown the same way.
 * - A mount point, and a folder holding one, cannot be removed, renamed or replaced.
 * - RNFR/RNTO between two mounts is refused (553, 'invalid-name' with a reply text saying why) rather than emulated by copy + delete: a
 *   copy is not atomic (a failure half-way leaves two files or a partial one), takes as long as the data
 *   within a single control command, and the two folders may have different owners, quotas and
 *   permissions. A client that wants it downloads and uploads, and sees each step.
 * - The optional capabilities (storage/types.ts) exist here when at least one mounted storage has them, so
 *   FEAT announces them; on a path whose storage lacks one the call fails with 'not-supported' (502).
 */
import type { Readable, Writable } from 'node:stream';
import { FtpStorageError, FtpUsageError } from '../../errors.js';
import { baseName, isWithin, normalizePath } from '../../protocol/paths.js';
import { sortedListChunks } from './listing-chunks.js';
import {
  canAppend, canChmod, canListChunks, canOpenReadWithInfo, canReportSpace, canSetModifiedTime, canWriteAtOffset,
  type AtomicWriteOption, type FileInfo, type ListingChunks, type OpenedRead, type ReadOptions, type Storage, type WriteOptions,
} from './types.js';

export interface Mount {
  /** Virtual path where the storage appears, e.g. "/pub" (absolute, normalized, not "/"). */
  path: string;
  storage: Storage;
}

interface Target {
  storage: Storage;
  /** The path inside that storage. */
  inner: string;
  /** The mount that owns the path ("/" for the base). */
  mountPath: string;
}

/** A folder that exists only because a mount point lies below it (or is it). */
function syntheticDir(name: string): FileInfo {
  return { name, type: 'dir', size: 0, modifiedAt: new Date(0), mode: 0o755, owner: 'ftp', group: 'ftp', links: 2 };
}

export class MountedStorage implements Storage {
  /** Longest mount path first, so the first match is the longest prefix. */
  private readonly mounts: readonly Mount[];

  setModifiedAt?: (path: string, date: Date) => Promise<void>;
  chmod?: (path: string, mode: number) => Promise<void>;
  availableBytes?: (path: string) => Promise<number>;
  openWriteAt?: (path: string, offset: number, options?: AtomicWriteOption) => Promise<Writable>;
  openAppend?: (path: string, options?: AtomicWriteOption) => Promise<Writable>;
  listChunks?: (path: string) => Promise<ListingChunks>;

  /** Throws FtpUsageError for a mount path that is not absolute and normalized, is "/", or is given twice. */
  constructor(readonly base: Storage, mounts: readonly Mount[]) {
    const seen = new Set<string>();
    for (const m of mounts) {
      if (!m.path.startsWith('/') || normalizePath(m.path) !== m.path || m.path === '/') {
        throw new FtpUsageError(`mount path "${m.path}" must be an absolute, normalized virtual path other than "/", e.g. "/pub"`);
      }
      if (seen.has(m.path)) throw new FtpUsageError(`mount path "${m.path}" is given twice`);
      seen.add(m.path);
    }
    this.mounts = [...mounts].sort((a, b) => b.path.length - a.path.length);
    const all = [base, ...mounts.map((m) => m.storage)];
    // Each capability exists only when some storage has it (FEAT follows these; storage/types.ts guards).
    if (all.some(canSetModifiedTime)) {
      this.setModifiedAt = (path, date) => this.withCapability(path, canSetModifiedTime, 'setting modification times', (s, p) => s.setModifiedAt(p, date), true);
    }
    if (all.some(canChmod)) {
      this.chmod = (path, mode) => this.withCapability(path, canChmod, 'SITE CHMOD', (s, p) => s.chmod(p, mode), true);
    }
    if (all.some(canReportSpace)) {
      this.availableBytes = (path) => this.withCapability(path, canReportSpace, 'reporting free space', (s, p) => s.availableBytes(p), false);
    }
    if (all.some(canWriteAtOffset)) {
      this.openWriteAt = (path, offset, options) => this.withCapability(path, canWriteAtOffset, 'resuming uploads', (s, p) => s.openWriteAt(p, offset, options), true);
    }
    if (all.some(canAppend)) {
      this.openAppend = (path, options) => this.withCapability(path, canAppend, 'appending', (s, p) => s.openAppend(p, options), true);
    }
    if (all.some(canListChunks)) {
      // A folder with mount points below it shows them among its entries (list()): taken whole.
      this.listChunks = async (path) => {
        const t = this.resolve(path);
        if (canListChunks(t.storage) && !this.mounts.some((m) => m.path !== path && isWithin(path, m.path))) return t.storage.listChunks(t.inner);
        return sortedListChunks(this, path);
      };
    }
  }

  /** The virtual paths where storages are mounted, longest first. */
  get mountPaths(): string[] {
    return this.mounts.map((m) => m.path);
  }

  /** The storage and inner path a virtual path belongs to (longest mount prefix wins). */
  resolve(path: string): Target {
    for (const m of this.mounts) {
      if (isWithin(m.path, path)) return { storage: m.storage, inner: path.slice(m.path.length) || '/', mountPath: m.path };
    }
    return { storage: this.base, inner: path, mountPath: '/' };
  }

  /** A mount point itself, or a folder with a mount point below it: shown even if absent, never changed. */
  private holdsMount(path: string): boolean {
    return this.mounts.some((m) => isWithin(path, m.path));
  }

  private isMountPoint(path: string): boolean {
    return this.mounts.some((m) => m.path === path);
  }

  /** Refuse to remove, rename or replace a mount point or a folder that holds one. */
  private guardChange(path: string): Target {
    if (path === '/' || this.holdsMount(path)) {
      throw new FtpStorageError('permission', `${path} is or holds a mounted folder`, path);
    }
    return this.resolve(path);
  }

  private async withCapability<S extends Storage, R>(
    path: string, has: (s: Storage) => s is S, what: string, run: (s: S, inner: string) => Promise<R>, changes: boolean,
  ): Promise<R> {
    const t = changes ? this.guardChange(path) : this.resolve(path);
    if (!has(t.storage)) throw new FtpStorageError('not-supported', `${what} is not supported by the storage of ${t.mountPath}`, path);
    return run(t.storage, t.inner);
  }

  async stat(path: string): Promise<FileInfo> {
    const t = this.resolve(path);
    try {
      const info = await t.storage.stat(t.inner);
      // The root of a mount answers with its own name ("" or a host folder's); give it the virtual one.
      if (t.inner === '/') return { ...info, name: baseName(path) };
      // A file of the base where a folder leads to a mount point is hidden by that folder.
      return info.type !== 'dir' && this.holdsMount(path) ? syntheticDir(info.name) : info;
    } catch (err) {
      if (err instanceof FtpStorageError && err.failure === 'not-found' && this.holdsMount(path)) return syntheticDir(baseName(path));
      throw err;
    }
  }

  async list(path: string): Promise<FileInfo[]> {
    const t = this.resolve(path);
    let entries: FileInfo[];
    try {
      entries = await t.storage.list(t.inner);
    } catch (err) {
      if (!(err instanceof FtpStorageError && err.failure === 'not-found' && this.holdsMount(path))) throw err;
      entries = [];
    }
    // Child names that lead to a mount point: the mount point itself, or a folder on the way to one.
    const children = new Set<string>();
    for (const m of this.mounts) {
      if (m.path !== path && isWithin(path, m.path)) {
        children.add(m.path.slice(path === '/' ? 1 : path.length + 1).split('/')[0]!);
      }
    }
    if (children.size === 0) return entries;
    const prefix = path === '/' ? '/' : `${path}/`;
    const kept = entries.filter((e) => !children.has(e.name) || (!this.isMountPoint(prefix + e.name) && e.type === 'dir'));
    const shown = new Set(kept.map((e) => e.name));
    for (const name of children) {
      const child = prefix + name;
      if (this.isMountPoint(child)) kept.push(await this.stat(child).catch(() => syntheticDir(name)));
      else if (!shown.has(name)) kept.push(syntheticDir(name));
    }
    return kept;
  }

  async openRead(path: string, options?: ReadOptions): Promise<Readable> {
    const t = this.resolve(path);
    return t.storage.openRead(t.inner, options);
  }

  /**
   * RETR's open-and-size (storage/types.ts), on every mounted tree: a mount whose storage lacks it is asked
   * stat() then openRead(), as RETR would. A folder leading to a mount point is a folder, whatever the base holds.
   */
  async openReadWithInfo(path: string, options?: ReadOptions): Promise<OpenedRead> {
    if (this.holdsMount(path)) throw new FtpStorageError('is-a-directory', `${path} is a folder`, path);
    const t = this.resolve(path);
    if (canOpenReadWithInfo(t.storage)) return t.storage.openReadWithInfo(t.inner, options);
    const info = await t.storage.stat(t.inner);
    if (info.type === 'dir') throw new FtpStorageError('is-a-directory', `${path} is a folder`, path);
    if (info.type !== 'file') throw new FtpStorageError('permission', `${path} is not a regular file`, path);
    return { source: await t.storage.openRead(t.inner, options), size: info.size };
  }

  async openWrite(path: string, options?: WriteOptions): Promise<Writable> {
    const t = this.guardChange(path);
    return t.storage.openWrite(t.inner, options);
  }

  async mkdir(path: string): Promise<void> {
    if (this.holdsMount(path)) throw new FtpStorageError('exists', `${path} is a mounted folder`, path);
    const t = this.resolve(path);
    return t.storage.mkdir(t.inner);
  }

  async rmdir(path: string): Promise<void> {
    const t = this.guardChange(path);
    return t.storage.rmdir(t.inner);
  }

  async delete(path: string): Promise<void> {
    const t = this.guardChange(path);
    return t.storage.delete(t.inner);
  }

  async rename(from: string, to: string): Promise<void> {
    const a = this.guardChange(from);
    const b = this.guardChange(to);
    if (a.storage !== b.storage || a.mountPath !== b.mountPath) {
      // RFC 959 s4.2: 553 is RNTO's "file name not allowed"; the text says why and what to do instead.
      throw new FtpStorageError('invalid-name', `${from} (in ${a.mountPath}) and ${to} (in ${b.mountPath}) are in different folders`, to, {
        replyText: `Cannot rename across virtual folders (${a.mountPath} -> ${b.mountPath}); download and upload instead`,
      });
    }
    return a.storage.rename(a.inner, b.inner);
  }
}
