/**
 * Owns LocalStorage: the Storage backend on the local file system, confined to a root directory.
 *
 * Confinement lives in local-jail*.ts: every operation runs on a host path the jail resolved inside the root
 * (on Linux, descriptor by descriptor, so that concurrent renames in the served tree cannot redirect it) and
 * never follows a final symlink itself; errno translation in local-errors.ts; Stats -> FileInfo in
 * local-info.ts, the lstat of a listing's entries in local-listing.ts; uploads are written through local-file-sink.ts, atomic ones and the start-up sweep in
 * local-uploads.ts; temporary uploads' names (upload-temp.ts) are hidden and refused here.
 * Data is streamed end to end with large buffers: the server pipes these
 * streams to and from sockets, so backpressure is the stream's own. A read stream also offers a block
 * reader (net/block-source.ts): the data pipeline reads TYPE I downloads with it, 1 MiB at a time into
 * reused buffers, instead of taking the stream's chunks.
 */
import { constants as fsc, type ReadStream, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, realpath, rename, rmdir, stat, statfs, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { attachBlockReader, fileBlockReader } from '../../net/block-source.js';
import { FileSink, type FileSinkHooks } from './local-file-sink.js';
import { storageError, toStorageError } from './local-errors.js';
import { loadOwnerNames, packedFileInfo, toFileInfo } from './local-info.js';
import { statChunks } from './local-listing.js';
import { NO_ENTRY, STAT_FIELDS } from './local-lstat-worker.js';
import { FOLLOW, SAFE_OPEN_FLAGS, virtualSegments, type Jail } from './local-jail.js';
import { DescriptorJail } from './local-jail-descriptor.js';
import { RealpathJail } from './local-jail-realpath.js';
import { openAtomicUpload, sweepUploadTemps } from './local-uploads.js';
import type {
  AtomicWriteOption, AvailableSpaceCapability, ChmodCapability, ChunkedListCapability, FileInfo, ListingChunks, OpenedRead,
  OpenReadWithInfoCapability, ReadOptions, SetModifiedTimeCapability, Storage, SweepUploadsCapability, WriteOptions,
} from './types.js';
import { refuseRetiredWriteOptions } from './types.js';
import { isUploadTempName, namesUploadTemp } from './upload-temp.js';

export interface LocalStorageOptions {
  /**
   * Buffer size of file streams. Default 256 KiB for reading (TYPE I downloads read 1 MiB blocks through
   * the block reader instead) and 1 MiB for writing: uploads arrive in corked batches of up to 1 MiB (one
   * writev each), one written while the next fills (net/data-direct.ts says why no more).
   */
  highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 256 * 1024;
const DEFAULT_WRITE_HIGH_WATER_MARK = 1024 * 1024;
/**
 * Let a file stream's OS errors (ENOSPC while writing, EIO while reading...) surface as FtpStorageError
 * carrying their FTP meaning. Node emits the error that _destroy() hands to its callback, so mapping it
 * there covers every path that ends a stream with an error.
 */
function mapStreamErrors<T extends ReadStream>(stream: T, virtualPath: string): T {
  const destroyImpl = stream._destroy.bind(stream);
  stream._destroy = (error: Error | null, callback: (error?: Error | null) => void) => {
    destroyImpl(error, (err?: Error | null) => callback(err ? toStorageError(err, virtualPath) : err));
  };
  return stream;
}

/**
 * Temporary uploads' names are reserved (storage/upload-temp.ts): a client path naming one is refused as if
 * it did not exist ('not-found': RETR, DELE, RNFR, SIZE... answer 550), or, for a name to create, as a name
 * not allowed (553), so no client reaches an upload in progress nor plants a file the sweep would remove.
 */
function refuseReserved(virtualPath: string, failure: 'not-found' | 'invalid-name' = 'not-found'): void {
  if (namesUploadTemp(virtualPath)) throw storageError(failure, virtualPath);
}

function checkOffset(value: number | undefined, virtualPath: string): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0) throw storageError('invalid-name', virtualPath);
  return value;
}

export class LocalStorage implements Storage, OpenReadWithInfoCapability, SetModifiedTimeCapability, ChmodCapability,
  AvailableSpaceCapability, SweepUploadsCapability, ChunkedListCapability {
  /** The root as given (absolute). */
  readonly root: string;
  private readonly highWaterMark: number;
  private readonly writeHighWaterMark: number;
  private jailPromise: Promise<Jail> | undefined;

  constructor(root: string, options: LocalStorageOptions = {}) {
    this.root = resolve(root);
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.writeHighWaterMark = options.highWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK;
  }

  /**
   * Create a LocalStorage and check now that the root is an existing directory, so that a server or CLI
   * fails at start-up rather than at the first login. Throws FtpStorageError.
   */
  static async open(root: string, options?: LocalStorageOptions): Promise<LocalStorage> {
    const storage = new LocalStorage(root, options);
    await storage.jail();
    return storage;
  }

  /**
   * The root is taken once: the jail is the directory the root named when first used (on Linux it holds
   * that directory open). DescriptorJail where /proc/self/fd works, else the realpath fallback.
   */
  private jail(): Promise<Jail> {
    this.jailPromise ??= (async () => {
      try {
        const pinned = await DescriptorJail.open(this.root);
        if (pinned) return pinned;
        const real = await realpath(this.root);
        if (!(await stat(real)).isDirectory()) throw storageError('not-a-directory', '/');
        return new RealpathJail(real);
      } catch (err) {
        this.jailPromise = undefined; // let a later call retry (the folder may be created later)
        throw toStorageError(err, '/');
      }
    })();
    return this.jailPromise;
  }

  /** Stats of the object (symlinks inside the root followed). */
  private async statOf(jail: Jail, path: string): Promise<Stats> {
    return jail.object(path, async (host) => {
      const st = await lstat(host);
      return st.isSymbolicLink() ? FOLLOW : st;
    });
  }

  async stat(path: string): Promise<FileInfo> {
    refuseReserved(path);
    const jail = await this.jail();
    try {
      const [st, names] = await Promise.all([this.statOf(jail, path), loadOwnerNames()]);
      return toFileInfo(virtualSegments(path).at(-1) ?? '', st, names);
    } catch (err) {
      throw toStorageError(err, path);
    }
  }

  async list(path: string): Promise<FileInfo[]> {
    refuseReserved(path);
    const jail = await this.jail();
    const infos: FileInfo[] = [];
    try {
      // pinned(): the folder listed is the one resolved, even if its name is swapped meanwhile.
      await jail.pinned(path, async (dir, st) => {
        if (!st.isDirectory()) throw storageError('not-a-directory', path);
        for await (const chunk of this.entryChunks(jail, path, dir, await this.sortedNames(dir))) infos.push(...chunk);
      });
    } catch (err) {
      throw toStorageError(err, path);
    }
    return infos;
  }

  /**
   * list() a chunk at a time (ChunkedListCapability). The folder stays pinned (its descriptor open) until
   * the iterator is run to its end or return()ed, since the lstat calls go through the pinned path.
   */
  async listChunks(path: string): Promise<ListingChunks> {
    refuseReserved(path);
    const jail = await this.jail();
    return new Promise<ListingChunks>((resolve, reject) => {
      let opened = false;
      jail.pinned(path, async (dir, st) => {
        if (!st.isDirectory()) throw storageError('not-a-directory', path);
        const chunks = this.entryChunks(jail, path, dir, await this.sortedNames(dir));
        let release!: () => void;
        const released = new Promise<void>(r => { release = r; });
        opened = true;
        resolve({
          next: () => chunks.next().then(
            (r) => { if (r.done) release(); return r; },
            (err: unknown) => { release(); throw toStorageError(err, path); }),
          return: () => { release(); return chunks.return(undefined); },
        });
        await released;
      }).catch((err: unknown) => { if (!opened) reject(toStorageError(err, path)); });
    });
  }

  /**
   * The names of the folder `dir` (host path), sorted as listings show them (by UTF-16 code unit): sorted
   * before the lstat calls, so their chunks come back in the order they are sent (local-listing.ts).
   * Uploads in progress (atomic mode) are nobody's business until they are renamed into place.
   */
  private async sortedNames(dir: string): Promise<string[]> {
    return (await readdir(dir)).filter(name => !isUploadTempName(name)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The entries of `names` in the pinned folder `dir` (virtual `path`), in order, a chunk at a time. */
  private async *entryChunks(jail: Jail, path: string, dir: string, names: readonly string[]): AsyncGenerator<FileInfo[]> {
    const owners = await loadOwnerNames();
    for await (const { start, stats } of statChunks(dir, names)) {
      const infos: FileInfo[] = [];
      const count = stats.length / STAT_FIELDS;
      for (let i = 0; i < count; i++) {
        const mode = stats[i * STAT_FIELDS]!;
        if (mode === NO_ENTRY) continue; // vanished since readdir: not part of the listing
        const name = names[start + i]!;
        const entry = packedFileInfo(name, stats, i, owners);
        if (entry.type !== 'link') { infos.push(entry); continue; }
        // A symlink whose target is inside the root is shown as what it points to, so clients can walk
        // into linked folders. One pointing outside (or nowhere) is shown as a bare link, target withheld:
        // its host path is none of the client's business, and every access to it is refused.
        try {
          infos.push(toFileInfo(name, await this.statOf(jail, posix.join(path, name)), owners));
        } catch {
          infos.push(entry);
        }
      }
      yield infos;
    }
  }

  async openRead(path: string, options: ReadOptions = {}): Promise<Readable> {
    return (await this.openReadWithInfo(path, options)).source;
  }

  /**
   * Open, then fstat the descriptor (requireRegularFile): the size comes from the file that is read, in two
   * thread-pool round trips where RETR's stat(path) + openRead() took four (storage/types.ts).
   */
  async openReadWithInfo(path: string, options: ReadOptions = {}): Promise<OpenedRead> {
    refuseReserved(path);
    const start = checkOffset(options.start, path);
    const jail = await this.jail();
    let handle: FileHandle | undefined;
    let st: Stats;
    try {
      handle = await jail.object(path, (host) => open(host, fsc.O_RDONLY | SAFE_OPEN_FLAGS));
      st = await this.requireRegularFile(handle, path);
    } catch (err) {
      await handle?.close().catch(() => undefined);
      throw toStorageError(err, path);
    }
    const stream = mapStreamErrors(handle.createReadStream({ start, highWaterMark: this.highWaterMark }), path);
    const reader = fileBlockReader(handle, start, err => toStorageError(err, path), st.size);
    return { source: attachBlockReader(stream, reader), size: st.size };
  }

  async openWrite(path: string, options: WriteOptions = {}): Promise<Writable> {
    refuseRetiredWriteOptions(options);
    refuseReserved(path, 'invalid-name');
    if (options.atomic) return this.openAtomic(path, { exclusive: options.exclusive, keep: 0, durable: options.durable === true });
    return this.openForWrite(path, { exclusive: options.exclusive, truncateOnData: options.truncateOnData });
  }

  /** REST + STOR: keep the first `offset` bytes, write from there (atomic: in a copy, renamed over the file). */
  async openWriteAt(path: string, offset: number, options: AtomicWriteOption = {}): Promise<Writable> {
    refuseReserved(path, 'invalid-name');
    if (options.atomic) return this.openAtomic(path, { keep: checkOffset(offset, path), durable: options.durable === true });
    return this.openForWrite(path, { start: offset });
  }

  /** APPE (atomic: a failed append is cut back to the size the file had). */
  async openAppend(path: string, options: AtomicWriteOption = {}): Promise<Writable> {
    refuseReserved(path, 'invalid-name');
    return this.openForWrite(path, { append: true, rollback: options.atomic });
  }

  /** Write in place under the final name (direct and resumable modes, APPE, and through a final symlink). */
  private async openForWrite(path: string, options: {
    exclusive?: boolean; start?: number; append?: boolean; truncateOnData?: boolean; rollback?: boolean;
  }): Promise<Writable> {
    const start = checkOffset(options.start, path);
    const jail = await this.jail();
    let flags = fsc.O_WRONLY | fsc.O_CREAT | SAFE_OPEN_FLAGS;
    if (options.exclusive) flags |= fsc.O_EXCL;
    if (options.append) flags |= fsc.O_APPEND;
    // REST n + STOR keeps the first n bytes (RFC 3659 s5.5); a plain STOR replaces the file.
    else if (start === 0 && !options.truncateOnData) flags |= fsc.O_TRUNC;
    let handle: FileHandle | undefined;
    let sizeBefore = 0;
    // Atomic APPE to a new name: a failed append removes the file it created rather than leave it empty.
    const existed = options.rollback ? await jail.entry(path, (host) => lstat(host)).then(() => true, () => false) : true;
    try {
      // A final symlink whose target exists inside the root is written through; a dangling one is refused:
      // creating through it would create a file wherever it points (hence no O_CREAT via a link).
      handle = await jail.object(path, (host, viaLink) => open(host, viaLink ? flags & ~fsc.O_CREAT : flags, 0o666),
        { refuseDangling: true });
      sizeBefore = (await this.requireRegularFile(handle, path)).size;
      if (!options.append && start > 0) await handle.truncate(start);
    } catch (err) {
      await handle?.close().catch(() => undefined);
      throw toStorageError(err, path);
    }
    const hooks: FileSinkHooks = {};
    // Resumable STOR: the old content goes when the new one starts, not when the data connection is awaited.
    if (options.truncateOnData && !options.append && start === 0) hooks.beforeFirstWrite = (h) => h.truncate(0);
    // Atomic APPE: the bytes that were there are never touched; a failed append's tail is cut back off.
    if (options.rollback) {
      hooks.abandon = async (h) => {
        await h.truncate(sizeBefore);
        if (existed) return;
        const created = await h.stat();
        // Only the file this append created (not one that replaced it meanwhile) is removed.
        await jail.entry(path, async (host) => {
          const now = await lstat(host);
          if (now.ino === created.ino && now.dev === created.dev) await unlink(host);
        });
      };
    }
    return new FileSink(handle, options.append ? null : start, path, hooks, this.writeHighWaterMark);
  }

  /** Atomic upload (local-uploads.ts); a symlink at the final name is written through in place. */
  private async openAtomic(path: string, options: { exclusive?: boolean; keep: number; durable: boolean }): Promise<Writable> {
    return openAtomicUpload(await this.jail(), path, {
      ...options,
      highWaterMark: this.writeHighWaterMark,
      inPlace: () => this.openForWrite(path, { start: options.keep, truncateOnData: true }),
    });
  }

  /** Remove the temporary files of atomic uploads whose process is gone (local-uploads.ts). */
  async sweepUploadTemps(): Promise<number> {
    return sweepUploadTemps(await this.jail());
  }

  async mkdir(path: string): Promise<void> {
    refuseReserved(path, 'invalid-name');
    const jail = await this.jail();
    try {
      await jail.entry(path, (host) => mkdir(host, 0o777));
    } catch (err) {
      throw toStorageError(err, path);
    }
  }

  async rmdir(path: string): Promise<void> {
    refuseReserved(path);
    const jail = await this.jail();
    try {
      await jail.entry(path, (host) => rmdir(host));
    } catch (err) {
      throw toStorageError(err, path);
    }
  }

  async delete(path: string): Promise<void> {
    refuseReserved(path);
    const jail = await this.jail();
    try {
      await jail.entry(path, async (host) => {
        try {
          // unlink() removes a symlink itself, never its target.
          await unlink(host);
        } catch (err) {
          // A folder: EISDIR on Linux, EPERM elsewhere (POSIX).
          if ((await lstat(host).catch(() => undefined))?.isDirectory()) throw storageError('is-a-directory', path);
          throw err;
        }
      });
    } catch (err) {
      throw toStorageError(err, path);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    refuseReserved(from);
    refuseReserved(to, 'invalid-name');
    const jail = await this.jail();
    try {
      // Both parents stay pinned while rename() runs.
      await jail.entry(from, (source) => jail.entry(to, async (target) => {
        try {
          await rename(source, target);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !(await lstat(source).catch(() => undefined))) {
            throw storageError('not-found', from);
          }
          throw err;
        }
      }));
    } catch (err) {
      throw toStorageError(err, to);
    }
  }

  async setModifiedAt(path: string, date: Date): Promise<void> {
    refuseReserved(path);
    const jail = await this.jail();
    try {
      await jail.pinned(path, (host, st) => utimes(host, st.atime, date));
    } catch (err) {
      throw toStorageError(err, path);
    }
  }

  async chmod(path: string, mode: number): Promise<void> {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw storageError('invalid-name', path);
    refuseReserved(path);
    const jail = await this.jail();
    try {
      // SECURITY: only the rwx bits; setuid/setgid/sticky are not for FTP users to hand out.
      await jail.pinned(path, (host) => chmod(host, mode & 0o777));
    } catch (err) {
      throw toStorageError(err, path);
    }
  }

  async availableBytes(path: string): Promise<number> {
    refuseReserved(path);
    const jail = await this.jail();
    try {
      const fs = await jail.pinned(path, (host) => statfs(host));
      return fs.bavail * fs.bsize;
    } catch (err) {
      throw toStorageError(err, path);
    }
  }

  /** Only regular files are transferred: a FIFO or device would block or leak host state. */
  private async requireRegularFile(handle: FileHandle, path: string): Promise<Stats> {
    const st = await handle.stat();
    if (st.isDirectory()) throw storageError('is-a-directory', path);
    if (!st.isFile()) throw storageError('permission', path);
    return st;
  }
}

