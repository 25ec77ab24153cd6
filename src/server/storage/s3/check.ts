/**
 * The start-up check of an S3 root (`ftpkit serve` and `serve --check`, config/to-options.ts checkRoots):
 * the bucket exists and the credentials may list it, said in words before the first login rather than as
 * 550s after it.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { httpStatus, s3Code } from './errors.js';

/** Resolves with null when the root is usable, else with the reason. */
export async function s3RootProblem(client: S3Client, bucket: string, prefix: string): Promise<string | null> {
  try {
    await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
    return null;
  } catch (err) {
    const code = s3Code(err);
    const status = httpStatus(err);
    if (code === 'NoSuchBucket') return `no such bucket "${bucket}"`;
    if (code === 'InvalidAccessKeyId') return 'the access key is not known to the S3 endpoint (s3.accessKeyId)';
    if (code === 'SignatureDoesNotMatch') return 'the secret key does not match the access key (s3.secretAccessKey)';
    if (status === 403 || code === 'AccessDenied') return `access denied to bucket "${bucket}" with these credentials`;
    if (status === undefined) return `the S3 endpoint cannot be reached: ${(err as Error).message}`;
    return `S3 ${code || 'error'} (HTTP ${status}): ${(err as Error).message}`;
  }
}
