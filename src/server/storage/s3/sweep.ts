/**
 * The sweep of stale multipart uploads (docs/server.md#s3-compatible-storage): an upload cut by a crash of
 * ftpkit (kill -9, power loss) leaves a multipart upload whose parts S3 keeps, and bills, until someone
 * aborts it. At start the server aborts those under the root that began more than `staleAfterMs` ago; the
 * age keeps a sweep from cutting the running uploads of other nodes sharing the bucket.
 */
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';

export async function sweepStaleUploads(client: S3Client, bucket: string, prefix: string, staleAfterMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({
      Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker,
    }));
    for (const u of page.Uploads ?? []) {
      const started = u.Initiated?.getTime() ?? 0;
      if (!u.Key || !u.UploadId || now - started < staleAfterMs) continue;
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
      removed++;
    }
    if (!page.IsTruncated) return removed;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
