/**
 * In-memory Storage backend, for tests and for embedding ftpkit where files should not touch a disk.
 *
 * Owns: a tree of directories and files held in memory, implementing the Storage interface and the
 * optional set-mtime and chmod capabilities. Paths are virtual and normalized (protocol/paths.ts);
 * nothing here is shared between instances, so two servers in one process never see each other's files.
 * File contents are kept as a list of chunks so large uploads are not copied again and again.
 */
import { Readable, Writable } from 'node:stream';
import { FtpStorageError } from '../../errors.js';
import type {
  AtomicWriteOption, ChmodCapability, FileInfo, ReadOptions, SetModifiedTimeCapability, Storage, WriteOptions,
} from './types.js';
import { refuseRetiredWriteOptions } from './types.js';

interface FileNode {
  type: 'file';
  chunks: Buffer[];
  size: number;
  mtime: Date;
  mode: number;
  id: number;
}
interface DirNode {
  type: 'dir';
  children: Map<string, Node>;
  mtime: Date;
  mode: number;
  id: number;
}
type Node = FileNode | DirNode;

const READ_SLICE = 256 * 1024;

export interface MemoryStorageOptions {
  /** Owner and group names shown in LIST. Default "ftp". */
  owner?: string;
  group?: string;
}

export class MemoryStorage implements Storage, SetModifiedTimeCapability, ChmodCapability {
  private nextId = 1;
  private readonly root: DirNode;
  private readonly owner: string;
  private readonly group: string;

  constructor(options: MemoryStorageOptions = {}) {
    this.root = { type: 'dir', children: new Map(), mtime: new Date(), mode: 0o755, id: this.nextId++ };
    this.owner = options.owner ?? 'ftp';
    this.group = options.group ?? 'ftp';
  }

  private segments(path: string): string[] {
    if (!path.startsWith('/')) throw new FtpStorageError('invalid-name', 'path must be absolute', path);
    return path.split('/').filter(Boolean);
  }

  private lookup(path: string): Node {
    let node: Node = this.root;
    for (const seg of this.segments(path)) {
      if (node.type !== 'dir') throw new FtpStorageError('not-a-directory', 'not a directory', path);
      const next = node.children.get(seg);
      if (!next) throw new FtpStorageError('not-found', 'no such file or directory', path);
      node = next;
    }
    return node;
  }

  /** The parent directory node and the last name of `path`. */
  private parentOf(path: string): { dir: DirNode; name: string } {
    const segs = this.segments(path);
    const name = segs.pop();
    if (name === undefined) throw new FtpStorageError('permission', 'the root cannot be changed', path);
    const dir = this.lookup('/' + segs.join('/'));
    if (dir.type !== 'dir') throw new FtpStorageError('not-a-directory', 'not a directory', path);
    return { dir, name };
  }

  private info(name: string, node: Node): FileInfo {
    return {
      name,
      type: node.type,
      size: node.type === 'file' ? node.size : 0,
      modifiedAt: node.mtime,
      mode: node.mode,
      owner: this.owner,
      group: this.group,
      links: node.type === 'dir' ? 2 : 1,
      unique: `m${node.id.toString(16)}`,
    };
  }

  async stat(path: string): Promise<FileInfo> {
    const node = this.lookup(path);
    const segs = this.segments(path);
    return this.info(segs[segs.length - 1] ?? '', node);
  }

  async list(path: string): Promise<FileInfo[]> {
    const node = this.lookup(path);
    if (node.type !== 'dir') throw new FtpStorageError('not-a-directory', 'not a directory', path);
    return [...node.children].map(([name, child]) => this.info(name, child));
  }

  async openRead(path: string, options: ReadOptions = {}): Promise<Readable> {
    const node = this.lookup(path);
    if (node.type !== 'file') throw new FtpStorageError('is-a-directory', 'is a directory', path);
    // A snapshot of the chunk list: a concurrent overwrite does not tear this read.
    const chunks = node.chunks.slice();
    let skip = Math.max(0, options.start ?? 0);
    function* slices(): Generator<Buffer> {
      for (const c of chunks) {
        if (skip >= c.length) { skip -= c.length; continue; }
        const from = skip;
        skip = 0;
        for (let i = from; i < c.length; i += READ_SLICE) yield c.subarray(i, Math.min(c.length, i + READ_SLICE));
      }
    }
    return Readable.from(slices(), { objectMode: false });
  }

  async openWrite(path: string, options: WriteOptions = {}): Promise<Writable> {
    refuseRetiredWriteOptions(options);
    return this.openForWrite(path, { exclusive: options.exclusive, atomic: options.atomic, truncateOnData: options.truncateOnData });
  }

  /** REST + STOR: keep the first `offset` bytes, write from there. */
  async openWriteAt(path: string, offset: number, options: AtomicWriteOption = {}): Promise<Writable> {
    return this.openForWrite(path, { start: offset, atomic: options.atomic });
  }

  /** APPE. */
  async openAppend(path: string, options: AtomicWriteOption = {}): Promise<Writable> {
    return this.openForWrite(path, { append: true, atomic: options.atomic });
  }

  /**
   * Atomic (docs/server.md#uploads-atomic-resumable-or-direct): a new file (or a REST + STOR's copy of the kept part) is built aside
   * and put under its name when the stream finishes; an append is cut back off when the stream is destroyed
   * first. Otherwise in place, as a disk file would be.
   */
  private openForWrite(path: string, options: {
    exclusive?: boolean; start?: number; append?: boolean; atomic?: boolean; truncateOnData?: boolean;
  }): Writable {
    const { dir, name } = this.parentOf(path);
    let node = dir.children.get(name);
    if (node?.type === 'dir') throw new FtpStorageError('is-a-directory', 'is a directory', path);
    if (node && options.exclusive) throw new FtpStorageError('exists', 'file exists', path);
    const start = Math.max(0, options.start ?? 0);
    if (options.atomic && !options.append) return this.atomicWriter(path, node, start, options.exclusive ?? false);
    const existed = node !== undefined;
    if (!node) {
      node = { type: 'file', chunks: [], size: 0, mtime: new Date(), mode: 0o644, id: this.nextId++ };
      dir.children.set(name, node);
      dir.mtime = new Date();
    } else if (!options.append && !options.truncateOnData) {
      truncate(node, start);
    }
    const file = node;
    const sizeBefore = file.size;
    let pendingTruncate = Boolean(options.truncateOnData && !options.append && start === 0 && file.size > 0);
    const beforeData = () => { if (pendingTruncate) { pendingTruncate = false; truncate(file, 0); } };
    return new Writable({
      highWaterMark: 1024 * 1024,
      write(chunk: Buffer, _enc, cb) {
        beforeData();
        // Copy: the caller may reuse its buffer (and socket buffers are pooled slices).
        const copy = Buffer.from(chunk);
        file.chunks.push(copy);
        file.size += copy.length;
        file.mtime = new Date();
        cb();
      },
      final(cb) { beforeData(); cb(); },
      destroy(err, cb) {
        // Atomic APPE: a failed append leaves the file as it was.
        if (options.atomic && !this.writableFinished) {
          truncate(file, sizeBefore);
          // An append that created the file removes it again (if the name still holds it).
          if (!existed && dir.children.get(name) === file) dir.children.delete(name);
        }
        cb(err);
      },
    });
  }

  /** The new content of an atomic write, put in place by 'finish' only. */
  private atomicWriter(path: string, old: Node | undefined, keep: number, exclusive: boolean): Writable {
    const file: FileNode = { type: 'file', chunks: [], size: 0, mtime: new Date(), mode: old?.mode ?? 0o644, id: this.nextId++ };
    if (old?.type === 'file' && keep > 0) {
      file.chunks = old.chunks.slice();
      file.size = old.size;
      truncate(file, keep);
    }
    return new Writable({
      highWaterMark: 1024 * 1024,
      write(chunk: Buffer, _enc, cb) {
        const copy = Buffer.from(chunk);
        file.chunks.push(copy);
        file.size += copy.length;
        cb();
      },
      final: (cb) => {
        try {
          // The folder is looked up again: it may have been renamed or removed meanwhile.
          const { dir, name } = this.parentOf(path);
          const now = dir.children.get(name);
          if (now?.type === 'dir') throw new FtpStorageError('is-a-directory', 'is a directory', path);
          if (now && exclusive) throw new FtpStorageError('exists', 'file exists', path);
          file.mtime = new Date();
          dir.children.set(name, file);
          dir.mtime = new Date();
          cb();
        } catch (err) {
          cb(err as Error);
        }
      },
    });
  }

  async mkdir(path: string): Promise<void> {
    const { dir, name } = this.parentOf(path);
    if (dir.children.has(name)) throw new FtpStorageError('exists', 'already exists', path);
    dir.children.set(name, { type: 'dir', children: new Map(), mtime: new Date(), mode: 0o755, id: this.nextId++ });
    dir.mtime = new Date();
  }

  async rmdir(path: string): Promise<void> {
    const { dir, name } = this.parentOf(path);
    const node = dir.children.get(name);
    if (!node) throw new FtpStorageError('not-found', 'no such directory', path);
    if (node.type !== 'dir') throw new FtpStorageError('not-a-directory', 'not a directory', path);
    if (node.children.size) throw new FtpStorageError('not-empty', 'directory not empty', path);
    dir.children.delete(name);
    dir.mtime = new Date();
  }

  async delete(path: string): Promise<void> {
    const { dir, name } = this.parentOf(path);
    const node = dir.children.get(name);
    if (!node) throw new FtpStorageError('not-found', 'no such file', path);
    if (node.type === 'dir') throw new FtpStorageError('is-a-directory', 'is a directory', path);
    dir.children.delete(name);
    dir.mtime = new Date();
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.parentOf(from);
    const node = src.dir.children.get(src.name);
    if (!node) throw new FtpStorageError('not-found', 'no such file or directory', from);
    const dst = this.parentOf(to);
    if (node.type === 'dir' && (to === from || to.startsWith(from + '/'))) {
      throw new FtpStorageError('invalid-name', 'cannot move a directory into itself', to);
    }
    const existing = dst.dir.children.get(dst.name);
    if (existing && existing !== node) {
      // POSIX rename semantics: a file replaces a file; directories are never replaced.
      if (existing.type === 'dir' || node.type === 'dir') throw new FtpStorageError('exists', 'target exists', to);
    }
    src.dir.children.delete(src.name);
    dst.dir.children.set(dst.name, node);
    src.dir.mtime = dst.dir.mtime = new Date();
  }

  async setModifiedAt(path: string, date: Date): Promise<void> {
    this.lookup(path).mtime = new Date(date.getTime());
  }

  async chmod(path: string, mode: number): Promise<void> {
    this.lookup(path).mode = mode & 0o7777;
  }

  // Convenience for tests and embedding (not part of the Storage interface).

  /** Create or replace a file with the given content, creating parent directories. */
  writeFile(path: string, content: string | Uint8Array, mtime?: Date): void {
    const segs = this.segments(path);
    const name = segs.pop();
    if (!name) throw new FtpStorageError('invalid-name', 'no file name', path);
    const dir = this.ensureDirs(segs, path);
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    const old = dir.children.get(name);
    dir.children.set(name, {
      type: 'file', chunks: [data], size: data.length, mtime: mtime ?? new Date(), mode: 0o644,
      id: old?.id ?? this.nextId++,
    });
  }

  /** Whole content of a file (tests). */
  readFile(path: string): Buffer {
    const node = this.lookup(path);
    if (node.type !== 'file') throw new FtpStorageError('is-a-directory', 'is a directory', path);
    return Buffer.concat(node.chunks, node.size);
  }

  /** Create a directory and its parents (tests). */
  mkdirp(path: string): void {
    this.ensureDirs(this.segments(path), path);
  }

  /** Walk the folders named by segs from the root, creating missing ones; returns the last one. */
  private ensureDirs(segs: string[], path: string) {
    let dir = this.root;
    for (const seg of segs) {
      let next = dir.children.get(seg);
      if (!next) {
        next = { type: 'dir', children: new Map(), mtime: new Date(), mode: 0o755, id: this.nextId++ };
        dir.children.set(seg, next);
      }
      if (next.type !== 'dir') throw new FtpStorageError('not-a-directory', 'not a directory', path);
      dir = next;
    }
    return dir;
  }

  /** True when the path exists (tests). */
  exists(path: string): boolean {
    try { this.lookup(path); return true; } catch { return false; }
  }
}

function truncate(node: FileNode, size: number): void {
  if (size >= node.size) {
    if (size > node.size) { node.chunks.push(Buffer.alloc(size - node.size)); node.size = size; }
    return;
  }
  const kept: Buffer[] = [];
  let left = size;
  for (const c of node.chunks) {
    if (left <= 0) break;
    const part = c.length <= left ? c : c.subarray(0, left);
    kept.push(part);
    left -= part.length;
  }
  node.chunks = kept;
  node.size = size;
  node.mtime = new Date();
}
