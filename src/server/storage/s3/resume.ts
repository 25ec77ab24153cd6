/**
 * REST + STOR and APPE on S3, when `resumableUploads` is on (docs/server.md#s3-compatible-storage): an object
 * cannot be written at an offset, so a new version is built as a multipart upload whose first parts are
 * server-side copies of the bytes kept (UploadPartCopy, no byte through ftpkit), followed by the new data;
 * it replaces the object only at CompleteMultipartUpload, so a failed resume leaves the old object whole.
 * S3 requires every part but the last to be at least 5 MiB: the kept bytes are copied in ranges of that size
 * or more, and a tail shorter than 5 MiB (or a whole file below it) is read back and re-uploaded in front of
 * the new data instead.
 */
import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand,
  PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import { copySource } from './copy.js';
import { storageError } from './errors.js';

const MIN_PART = 5 * 1024 * 1024;
/** Size of one copied range (S3 allows up to 5 GiB). */
const COPY_RANGE = 1024 ** 3;
const ABORT_WAIT_MS = 30_000;

export interface ResumeTarget {
  client: S3Client;
  bucket: string;
  key: string;
  path: string;
  partSize: number;
  /** Bytes of the existing object kept in front of the new data (the REST offset, or the size for APPE). */
  keep: number;
}

/** The byte ranges copied server-side: [0, copied) in parts of at least 5 MiB; the rest is read back. */
export function copyRanges(keep: number): { ranges: [number, number][]; copied: number } {
  const rest = keep % COPY_RANGE;
  const copied = keep < MIN_PART ? 0 : rest < MIN_PART ? keep - rest : keep;
  const ranges: [number, number][] = [];
  for (let start = 0; start < copied; start += COPY_RANGE) ranges.push([start, Math.min(copied, start + COPY_RANGE) - 1]);
  return { ranges, copied };
}

export async function resumedWriter(target: ResumeTarget): Promise<Writable> {
  const { client, bucket, key, path } = target;
  const call = async <T>(op: () => Promise<T>): Promise<T> => {
    try { return await op(); } catch (err) { throw storageError(err, path); }
  };
  const { ranges, copied } = copyRanges(target.keep);
  // The tail below 5 MiB: read back now, so a vanished object fails before 150.
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  if (copied < target.keep) {
    const res = await call(() => client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${copied}-${target.keep - 1}` })));
    const tail = Buffer.from(await res.Body!.transformToByteArray());
    buffered = [tail];
    bufferedBytes = tail.length;
  }
  const { UploadId } = await call(() => client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key })));
  const parts: CompletedPart[] = [];
  const abort = () => client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).then(() => undefined, () => undefined);
  try {
    for (const [start, end] of ranges) {
      const r = await call(() => client.send(new UploadPartCopyCommand({
        Bucket: bucket, Key: key, UploadId, PartNumber: parts.length + 1, CopySource: copySource(bucket, key), CopySourceRange: `bytes=${start}-${end}`,
      })));
      parts.push({ PartNumber: parts.length + 1, ETag: r.CopyPartResult?.ETag });
    }
  } catch (err) {
    await abort();
    throw err;
  }
  const sendBuffered = async (): Promise<void> => {
    const body = Buffer.concat(buffered, bufferedBytes);
    buffered = [];
    bufferedBytes = 0;
    const n = parts.length + 1;
    const r = await call(() => client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: body, ContentLength: body.length })));
    parts.push({ PartNumber: n, ETag: r.ETag });
  };
  let completing = false;
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      buffered.push(Buffer.from(chunk));
      bufferedBytes += chunk.length;
      if (bufferedBytes < target.partSize) { cb(); return; }
      sendBuffered().then(() => cb(), cb);
    },
    final(cb) {
      completing = true;
      void (async () => {
        if (parts.length === 0 && bufferedBytes === 0) {
          // Nothing kept, nothing sent: an empty object (a multipart upload needs a part).
          await abort();
          await call(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0), ContentLength: 0 })));
          return;
        }
        if (bufferedBytes > 0 || parts.length === 0) await sendBuffered();
        await call(() => client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } })));
      })().then(() => cb(), (err: Error) => { void abort().then(() => cb(err)); });
    },
    destroy(err, cb) {
      if (completing && this.writableFinished) { cb(err); return; }
      let timer: NodeJS.Timeout | undefined;
      void Promise.race([abort(), new Promise<void>((r) => { timer = setTimeout(r, ABORT_WAIT_MS); })]).then(() => { clearTimeout(timer); cb(err); });
    },
  });
}
