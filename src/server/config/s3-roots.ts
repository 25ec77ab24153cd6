/**
 * The `s3://bucket/prefix/` roots of a configuration (docs/configuration.md#s3-storage): each becomes an
 * S3 storage (loaded on first use: storage/s3/deferred.ts) on the one S3 client built from the `s3` section (one connection pool for every user), and is
 * checked at start-up (bucket, credentials) by checkRoots. A host folder stays a host folder.
 */
import { FtpConfigError } from '../../errors.js';
import { DeferredS3Storage, SharedS3Client } from '../storage/s3/deferred.js';
import { isS3Root, parseS3Root } from '../storage/s3/keys.js';
import type { Storage } from '../storage/types.js';
import type { ServeConfig } from './schema.js';

export class S3Roots {
  private readonly client: SharedS3Client;
  private readonly storages = new Map<string, DeferredS3Storage>();

  constructor(private readonly config: ServeConfig['s3']) {
    this.client = new SharedS3Client(config ?? {});
  }

  /** The S3 storage of an s3:// root, made once per root. Throws FtpConfigError under `key`. */
  storageFor(root: string, key: string): DeferredS3Storage {
    const loc = parseS3Root(root, key);
    const id = `${loc.bucket}/${loc.prefix}`;
    let storage = this.storages.get(id);
    if (!storage) {
      const c = this.config ?? {};
      storage = new DeferredS3Storage({
        bucket: loc.bucket, prefix: loc.prefix, partSize: c.partSize, staleUploadAgeMs: c.staleUploadAge,
        renameFolders: c.renameFolders, conditionalPut: c.conditionalPut, resumableUploads: c.resumableUploads,
      }, this.client);
      this.storages.set(id, storage);
    }
    return storage;
  }

  /** What an account or folder option takes: `{ storage }` for an s3:// root, `{ root }` for a host folder. */
  place(root: string, key: string): { root: string } | { storage: Storage } {
    return isS3Root(root) ? { storage: this.storageFor(root, key) } : { root };
  }

  /** The start-up check of an s3:// root: throws FtpConfigError with the reason (no such bucket, credentials...). */
  async check(root: string, key: string): Promise<DeferredS3Storage> {
    const storage = this.storageFor(root, key);
    const problem = await storage.problem();
    if (problem) throw new FtpConfigError(key, `${root}: ${problem}`);
    return storage;
  }
}

export { isS3Root };
