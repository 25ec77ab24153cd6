/**
 * An S3 storage whose SDK is loaded on first use: `ftpkit serve` builds its storages when it reads the
 * configuration, and the AWS SDK costs ~0.4 s to import, which a server without s3:// roots must not pay
 * (docs/architecture.md#the-tree: start-up loads only what is used). Every call awaits the real
 * S3Storage once, then forwards.
 */
import type { Readable, Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { FileInfo, ReadOptions, Storage, SweepUploadsCapability, WriteOptions } from '../types.js';
import type { S3ConnectionOptions } from './client.js';
import type { S3Storage, S3StorageOptions } from './s3-storage.js';

/** One S3 client shared by the storages of a configuration, made when the first of them is used. */
export class SharedS3Client {
  private client: Promise<S3Client> | undefined;
  constructor(private readonly options: S3ConnectionOptions) {}
  get(): Promise<S3Client> {
    return (this.client ??= import('./client.js').then((m) => m.createS3Client(this.options)));
  }
}

export class DeferredS3Storage implements Storage, SweepUploadsCapability {
  /** `s3://bucket/prefix/`, for logs and the sweep's event. */
  readonly root: string;
  private loaded: Promise<S3Storage> | undefined;
  /** REST + STOR and APPE, present only with resumableUploads, as on S3Storage. */
  readonly openWriteAt?: (path: string, offset: number) => Promise<Writable>;
  readonly openAppend?: (path: string) => Promise<Writable>;

  constructor(private readonly options: Omit<S3StorageOptions, 'client'>, private readonly client: SharedS3Client) {
    this.root = `s3://${options.bucket}/${options.prefix ?? ''}`;
    if (options.resumableUploads) {
      this.openWriteAt = async (path, offset) => (await this.real()).openWriteAt!(path, offset);
      this.openAppend = async (path) => (await this.real()).openAppend!(path);
    }
  }

  private real(): Promise<S3Storage> {
    return (this.loaded ??= Promise.all([import('./s3-storage.js'), this.client.get()])
      .then(([m, client]) => new m.S3Storage({ ...this.options, client })));
  }

  /** Why the bucket cannot be used (missing, credentials refused, endpoint down), or null. */
  async problem(): Promise<string | null> { return (await this.real()).problem(); }
  async stat(path: string): Promise<FileInfo> { return (await this.real()).stat(path); }
  async list(path: string): Promise<FileInfo[]> { return (await this.real()).list(path); }
  async openRead(path: string, options?: ReadOptions): Promise<Readable> { return (await this.real()).openRead(path, options); }
  async openWrite(path: string, options?: WriteOptions): Promise<Writable> { return (await this.real()).openWrite(path, options); }
  async mkdir(path: string): Promise<void> { return (await this.real()).mkdir(path); }
  async rmdir(path: string): Promise<void> { return (await this.real()).rmdir(path); }
  async delete(path: string): Promise<void> { return (await this.real()).delete(path); }
  async rename(from: string, to: string): Promise<void> { return (await this.real()).rename(from, to); }
  async sweepUploadTemps(): Promise<number> { return (await this.real()).sweepUploadTemps(); }
}
