/**
 * A Storage over an S3 bucket (or a prefix of one): AWS S3, Ceph radosgw, MinIO... The mapping of FTP onto
 * objects is in docs/server.md#s3-compatible-storage; in short: files are objects, folders are key prefixes
 * (with a `dir/` marker object when made by MKD), STOR is a multipart upload (atomic), RETR with REST a
 * ranged GET, RNFR/RNTO a server-side copy then a delete. What S3 cannot do is not offered as a capability
 * (docs/architecture.md#storage-capabilities): no MFMT or SITE CHMOD, and REST+STOR and APPE only with
 * resumableUploads (resume.ts), so FEAT and the commands follow. Stale multipart uploads are swept at start.
 */
import { Readable, type Writable } from 'node:stream';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { FtpStorageError } from '../../../errors.js';
import { isWithin } from '../../../protocol/paths.js';
import type { FileInfo, ReadOptions, Storage, SweepUploadsCapability, WriteOptions } from '../types.js';
import { refuseRetiredWriteOptions } from '../types.js';
import { createS3Client, type S3ConnectionOptions } from './client.js';
import { copyObject } from './copy.js';
import { httpStatus, isNotFound, s3Code, storageError } from './errors.js';
import { fileKey, folderPrefix, parentPath, type S3Location } from './keys.js';
import { fileInfo, folderInfo, keysUnder, listFolder, someKeys } from './listing.js';
import { sweepStaleUploads } from './sweep.js';
import { s3RootProblem } from './check.js';
import { multipartWriter } from './upload.js';
import { resumedWriter } from './resume.js';

export interface S3StorageOptions extends S3ConnectionOptions {
  bucket: string;
  /** Key prefix that is the user's "/" ("users/alice/"); default "" (the whole bucket). */
  prefix?: string;
  /** A client to share between storages (then the connection options above are not used). */
  client?: S3Client;
  /** Bytes per part of an upload, at least 5 MiB (S3's minimum). Default 8 MiB. */
  partSize?: number;
  /** Parts of one upload sent at once (each held in memory). Default 4. */
  queueSize?: number;
  /** The start-up sweep aborts multipart uploads older than this. Default one day. */
  staleUploadAgeMs?: number;
  /** RNFR/RNTO of a folder that is not empty: 'refuse' (default, 550) or 'copy' (every key copied, then deleted). */
  renameFolders?: 'refuse' | 'copy';
  /** STOU with `If-None-Match: *` (a store that supports conditional writes refuses to replace). Default false. */
  conditionalPut?: boolean;
  /**
   * Offer REST + STOR and APPE (the capabilities openWriteAt/openAppend, and REST STREAM in FEAT): a new
   * version made of server-side copies of the kept bytes and the new data (resume.ts). Default false.
   */
  resumableUploads?: boolean;
}

const MIN_PART = 5 * 1024 * 1024;
const DAY_MS = 24 * 3600 * 1000;
/** Keys copied or deleted at once by a recursive folder rename. */
const FOLDER_COPY_CONCURRENCY = 8;

export class S3Storage implements Storage, SweepUploadsCapability {
  readonly client: S3Client;
  /** `s3://bucket/prefix/`, for logs and the sweep's event. */
  readonly root: string;
  private readonly loc: S3Location;
  private readonly options: S3StorageOptions;
  /** REST + STOR, only with resumableUploads (storage/types.ts WriteAtOffsetCapability). */
  readonly openWriteAt?: (path: string, offset: number) => Promise<Writable>;
  /** APPE, only with resumableUploads (storage/types.ts AppendCapability). */
  readonly openAppend?: (path: string) => Promise<Writable>;

  constructor(options: S3StorageOptions) {
    const prefix = (options.prefix ?? '').replace(/^\/+/, '');
    this.loc = { bucket: options.bucket, prefix: prefix && !prefix.endsWith('/') ? prefix + '/' : prefix };
    this.root = `s3://${this.loc.bucket}/${this.loc.prefix}`;
    this.client = options.client ?? createS3Client(options);
    this.options = options;
    if (options.resumableUploads) {
      this.openWriteAt = (path, offset) => this.openResumed(path, offset, false);
      this.openAppend = (path) => this.openResumed(path, 0, true);
    }
    if (options.partSize !== undefined && options.partSize < MIN_PART) throw new RangeError(`partSize must be at least ${MIN_PART} bytes (S3's minimum part)`);
  }

  /** Why the bucket cannot be used (missing, credentials refused, endpoint down), or null. */
  problem(): Promise<string | null> {
    return s3RootProblem(this.client, this.loc.bucket, this.loc.prefix);
  }

  private key(path: string): string { return fileKey(this.loc, path); }
  private prefixOf(path: string): string { return folderPrefix(this.loc, path); }

  private async call<T>(path: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw storageError(err, path);
    }
  }

  /** The entry at `path`, or undefined. A file wins over a folder of the same name (S3 can hold both). */
  private async lookup(path: string): Promise<FileInfo | undefined> {
    if (path === '/') return folderInfo('');
    const name = path.slice(path.lastIndexOf('/') + 1);
    const [head, keys] = await Promise.allSettled([
      this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.key(path) })),
      someKeys(this.client, this.loc.bucket, this.prefixOf(path), 1),
    ]);
    if (head.status === 'fulfilled') return fileInfo(name, head.value.ContentLength ?? 0, head.value.LastModified, head.value.ETag);
    if (!isNotFound(head.reason)) throw storageError(head.reason, path);
    if (keys.status === 'rejected') throw storageError(keys.reason, path);
    return keys.value.length ? folderInfo(name) : undefined;
  }

  async stat(path: string): Promise<FileInfo> {
    const info = await this.lookup(path);
    if (!info) throw new FtpStorageError('not-found', 'no such file or folder', path);
    return info;
  }

  /** The folder `path` must exist (the parent of a new name), as on a disk. */
  private async requireFolder(path: string, forPath: string): Promise<void> {
    if (path === '/') return;
    const info = await this.lookup(path);
    if (!info) throw new FtpStorageError('not-found', 'no such folder', forPath);
    if (info.type !== 'dir') throw new FtpStorageError('not-a-directory', 'not a folder', forPath);
  }

  async list(path: string): Promise<FileInfo[]> {
    const { entries, found } = await this.call(path, () => listFolder(this.client, this.loc.bucket, this.prefixOf(path)));
    if (found || path === '/') return entries;
    const info = await this.lookup(path);
    if (info?.type === 'file') throw new FtpStorageError('not-a-directory', 'not a folder', path);
    throw new FtpStorageError('not-found', 'no such folder', path);
  }

  async openRead(path: string, options: ReadOptions = {}): Promise<Readable> {
    const start = Math.max(0, options.start ?? 0);
    try {
      const res = await this.client.send(new GetObjectCommand({
        Bucket: this.loc.bucket, Key: this.key(path), ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
      }));
      return res.Body as Readable;
    } catch (err) {
      // REST at or past the end: nothing left to send (S3 answers 416 to such a range).
      if (start > 0 && (httpStatus(err) === 416 || s3Code(err) === 'InvalidRange')) return Readable.from([]);
      if (!isNotFound(err)) throw storageError(err, path);
      if ((await this.lookup(path))?.type === 'dir') throw new FtpStorageError('is-a-directory', 'is a folder', path);
      throw storageError(err, path);
    }
  }

  async openWrite(path: string, options: WriteOptions = {}): Promise<Writable> {
    refuseRetiredWriteOptions(options);
    if (path === '/') throw new FtpStorageError('is-a-directory', 'is a folder', path);
    await this.requireFolder(parentPath(path), path);
    const existing = await this.lookup(path);
    if (existing?.type === 'dir') throw new FtpStorageError('is-a-directory', 'is a folder', path);
    if (existing && options.exclusive) throw new FtpStorageError('exists', 'file exists', path);
    // Every S3 upload is atomic (upload.ts): `atomic`, `durable` and `truncateOnData` are met as they are.
    return multipartWriter({
      client: this.client, bucket: this.loc.bucket, key: this.key(path), path,
      partSize: this.options.partSize ?? 8 * 1024 * 1024, queueSize: this.options.queueSize ?? 4,
      ifNoneMatch: Boolean(options.exclusive && this.options.conditionalPut),
    });
  }

  /** A new version keeping the first `offset` bytes (REST + STOR) or all of them (APPE), then the new data. */
  private async openResumed(path: string, offset: number, append: boolean): Promise<Writable> {
    if (path === '/') throw new FtpStorageError('is-a-directory', 'is a folder', path);
    await this.requireFolder(parentPath(path), path);
    const existing = await this.lookup(path);
    if (existing?.type === 'dir') throw new FtpStorageError('is-a-directory', 'is a folder', path);
    const size = existing?.size ?? 0;
    if (!append && offset > size) {
      throw new FtpStorageError('invalid-name', 'restart offset beyond the end of the file', path, { replyText: 'Restart offset beyond the end of the file' });
    }
    return resumedWriter({
      client: this.client, bucket: this.loc.bucket, key: this.key(path), path,
      partSize: this.options.partSize ?? 8 * 1024 * 1024, keep: append ? size : offset,
    });
  }

  async mkdir(path: string): Promise<void> {
    if (path === '/') throw new FtpStorageError('exists', 'already exists', path);
    await this.requireFolder(parentPath(path), path);
    if (await this.lookup(path)) throw new FtpStorageError('exists', 'already exists', path);
    await this.call(path, () => this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: this.prefixOf(path), Body: new Uint8Array(0), ContentLength: 0 })));
  }

  async rmdir(path: string): Promise<void> {
    if (path === '/') throw new FtpStorageError('permission', 'the root cannot be removed', path);
    const info = await this.stat(path);
    if (info.type !== 'dir') throw new FtpStorageError('not-a-directory', 'not a folder', path);
    const marker = this.prefixOf(path);
    const keys = await this.call(path, () => someKeys(this.client, this.loc.bucket, marker, 2));
    if (keys.some((k) => k !== marker)) throw new FtpStorageError('not-empty', 'folder not empty', path);
    await this.call(path, () => this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: marker })));
  }

  async delete(path: string): Promise<void> {
    const info = await this.stat(path);
    if (info.type === 'dir') throw new FtpStorageError('is-a-directory', 'is a folder', path);
    await this.call(path, () => this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.key(path) })));
  }

  async rename(from: string, to: string): Promise<void> {
    if (from === '/') throw new FtpStorageError('permission', 'the root cannot be renamed', from);
    const src = await this.stat(from);
    if (src.type === 'dir' && isWithin(from, to)) throw new FtpStorageError('invalid-name', 'cannot move a folder into itself', to);
    if (to === from) return;
    await this.requireFolder(parentPath(to), to);
    const dst = await this.lookup(to);
    // POSIX rename: a file replaces a file; folders are never replaced.
    if (dst && (dst.type === 'dir' || src.type === 'dir')) throw new FtpStorageError('exists', 'target exists', to);
    const { bucket } = this.loc;
    if (src.type === 'file') {
      await this.call(from, () => copyObject(this.client, bucket, this.key(from), this.key(to), src.size));
      await this.call(from, () => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: this.key(from) })));
      return;
    }
    await this.renameFolder(from, to);
  }

  /**
   * A folder is every key under its prefix: an empty one moves its marker; one with entries is refused
   * (550 with the reason) unless renameFolders is 'copy', which copies every key and then deletes the old
   * ones: not atomic; a failure while copying leaves the old tree whole and part of it under the new name.
   */
  private async renameFolder(from: string, to: string): Promise<void> {
    const { bucket } = this.loc;
    const oldPrefix = this.prefixOf(from);
    const newPrefix = this.prefixOf(to);
    const keys = await this.call(from, () => someKeys(this.client, bucket, oldPrefix, 2));
    if (keys.every((k) => k === oldPrefix)) {
      await this.call(to, () => this.client.send(new PutObjectCommand({ Bucket: bucket, Key: newPrefix, Body: new Uint8Array(0), ContentLength: 0 })));
      await this.call(from, () => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: oldPrefix })));
      return;
    }
    if (this.options.renameFolders !== 'copy') {
      throw new FtpStorageError('permission', 'renaming a folder that is not empty is refused (renameFolders)', from, {
        replyText: 'Renaming a folder that is not empty is not supported on this S3 storage',
      });
    }
    await this.call(from, async () => {
      const moved: string[] = [];
      let batch: { key: string; size: number }[] = [];
      const copyBatch = async () => {
        await Promise.all(batch.map(({ key, size }) => copyObject(this.client, bucket, key, newPrefix + key.slice(oldPrefix.length), size)));
        moved.push(...batch.map((b) => b.key));
        batch = [];
      };
      for await (const entry of keysUnder(this.client, bucket, oldPrefix)) {
        batch.push(entry);
        if (batch.length >= FOLDER_COPY_CONCURRENCY) await copyBatch();
      }
      await copyBatch();
      // Deleted only once every copy is made: a failure before leaves the old tree whole.
      for (let i = 0; i < moved.length; i += FOLDER_COPY_CONCURRENCY) {
        await Promise.all(moved.slice(i, i + FOLDER_COPY_CONCURRENCY).map((Key) => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))));
      }
    });
  }

  /** Aborts the multipart uploads under the root older than staleUploadAgeMs (a crash's leftovers). */
  sweepUploadTemps(): Promise<number> {
    return this.call('/', () => sweepStaleUploads(this.client, this.loc.bucket, this.loc.prefix, this.options.staleUploadAgeMs ?? DAY_MS));
  }
}
