/**
 * Test helper for the S3 storage (src/server/storage/s3/) against the radosgw shared service
 * (test/support/services/radosgw.ts): a raw SDK client to look behind the server's back (put keys the way
 * another tool would, list multipart uploads), and a fresh key prefix per call so tests stay independent.
 */
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import {
  DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { S3Storage, type S3StorageOptions } from '../../src/server/storage/s3/index.js';
import { radosgw, type RadosgwDetails } from './services/radosgw.js';
import { useService } from './services/use-service.js';

export interface S3Fixture {
  details: RadosgwDetails;
  /** A client of its own (not the storage's). */
  raw: S3Client;
  bucket: string;
  /** This call's prefix, "t-<uuid>/". */
  prefix: string;
  storage: S3Storage;
  /** Puts an object the way another tool would (no folder markers). */
  put(key: string, body: string | Buffer): Promise<void>;
  /** Every key under the prefix (relative to it), sorted. */
  keys(): Promise<string[]>;
  /** The multipart uploads in progress under the prefix. */
  uploads(): Promise<{ key: string; uploadId: string }[]>;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Undefined when the test was skipped (no radosgw here). */
export async function s3Fixture(t: TestContext, options: Partial<S3StorageOptions> = {}): Promise<S3Fixture | undefined> {
  const details = await useService<RadosgwDetails>(t, radosgw);
  if (!details) return undefined;
  const connection = {
    endpoint: details.endpoint, region: details.region, forcePathStyle: true,
    credentials: { accessKeyId: details.accessKeyId, secretAccessKey: details.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  } as const;
  const raw = new S3Client(connection);
  const bucket = details.bucket;
  const prefix = `t-${randomUUID()}/`;
  const storage = new S3Storage({
    endpoint: details.endpoint, region: details.region, accessKeyId: details.accessKeyId, secretAccessKey: details.secretAccessKey,
    forcePathStyle: true, bucket, prefix, ...options,
  });
  t.after(() => storage.client.destroy());
  /** Every object under the prefix (keys relative to it). */
  const objects = async (): Promise<{ key: string; size: number }[]> => {
    const out: { key: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      out.push(...(page.Contents ?? []).map((o) => ({ key: (o.Key ?? '').slice(prefix.length), size: o.Size ?? 0 })));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  };
  // The OSD keeps objects in memory (memstore): a test's big objects are removed after it (small ones,
  // cheap to keep, stay: deleting a folder of 1,000 keys would cost as much as making it).
  t.after(async () => {
    try {
      const big = (await objects()).filter((o) => o.size > 64 * 1024).map((o) => prefix + o.key);
      await Promise.all(big.map((Key) => raw.send(new DeleteObjectCommand({ Bucket: bucket, Key }))));
    } catch {
      // Housekeeping only: the service is stopped at the end of the run anyway.
    } finally {
      raw.destroy();
    }
  });
  return {
    details, raw, bucket, prefix, storage,
    async put(key, body) {
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: body }));
    },
    async keys() {
      return (await objects()).map((o) => o.key).sort();
    },
    async uploads() {
      const page = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
      return (page.Uploads ?? []).map((u) => ({ key: (u.Key ?? '').slice(prefix.length), uploadId: u.UploadId ?? '' }));
    },
  };
}
