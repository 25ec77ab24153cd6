/**
 * Server-side copies for RNFR/RNTO (docs/server.md#s3-compatible-storage): S3 has no rename, so a file is
 * copied to its new key and then deleted. CopyObject takes objects up to 5 GiB; a bigger one is copied as a
 * multipart upload of UploadPartCopy ranges (no byte passes through ftpkit either way).
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  UploadPartCopyCommand, type S3Client,
} from '@aws-sdk/client-s3';

const COPY_OBJECT_MAX = 5 * 1024 ** 3;
const COPY_PART = 512 * 1024 ** 2;

/** The x-amz-copy-source value: bucket/key, each segment URL-encoded. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export async function copyObject(client: S3Client, bucket: string, from: string, to: string, size: number): Promise<void> {
  if (size <= COPY_OBJECT_MAX) {
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: copySource(bucket, from), MetadataDirective: 'COPY' }));
    return;
  }
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to }));
  try {
    const parts: { PartNumber: number; ETag: string }[] = [];
    for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
      const end = Math.min(size, start + COPY_PART) - 1;
      const r = await client.send(new UploadPartCopyCommand({
        Bucket: bucket, Key: to, UploadId, PartNumber: n, CopySource: copySource(bucket, from), CopySourceRange: `bytes=${start}-${end}`,
      }));
      parts.push({ PartNumber: n, ETag: r.CopyPartResult?.ETag ?? '' });
    }
    await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: to, UploadId })).catch(() => undefined);
    throw err;
  }
}
