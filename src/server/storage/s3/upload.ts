/**
 * STOR on S3: a streamed multipart upload (@aws-sdk/lib-storage), docs/server.md#s3-compatible-storage.
 * The object appears under its name only when CompleteMultipartUpload succeeds (a body smaller than one
 * part is a single PutObject, equally all-or-nothing), so every S3 upload is atomic whatever the upload
 * mode. A stream destroyed before 'finish' (ABOR, a dropped data connection, a quota stop) ends the body
 * with an error: lib-storage then aborts the multipart upload, and destroy() waits for that, so nothing of
 * the upload is left, not even its parts.
 */
import { PassThrough, Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { storageError } from './errors.js';

export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  /** The virtual path, for errors. */
  path: string;
  partSize: number;
  queueSize: number;
  /** STOU: `If-None-Match: *` on the final PutObject / CompleteMultipartUpload (a store that supports it refuses to replace). */
  ifNoneMatch?: boolean;
}

/** A bounded wait for the abort of a destroyed upload: a hung endpoint must not hold the session forever. */
const ABORT_WAIT_MS = 30_000;

export function multipartWriter(target: UploadTarget): Writable {
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  const upload = new Upload({
    client: target.client,
    params: { Bucket: target.bucket, Key: target.key, Body: body, ...(target.ifNoneMatch ? { IfNoneMatch: '*' } : {}) },
    partSize: target.partSize,
    queueSize: target.queueSize,
    leavePartsOnError: false,
  });
  let failure: Error | undefined;
  const done = upload.done().then(() => undefined, (err: unknown) => {
    failure = storageError(err, target.path);
  });
  const writer: Writable = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (failure) { cb(failure); return; }
      // A copy: lib-storage holds chunks until a part is full, and the caller may reuse its buffer.
      if (body.write(Buffer.from(chunk))) { cb(); return; }
      const onDrain = () => { body.off('close', onDrain); cb(failure); };
      body.once('drain', onDrain).once('close', onDrain);
    },
    final(cb) {
      body.end();
      void done.then(() => cb(failure));
    },
    destroy(err, cb) {
      if (writer.writableFinished) { cb(err); return; }
      // Ending the body with an error makes lib-storage abort the multipart upload (AbortMultipartUpload)
      // once the parts in flight have settled; done settles after that.
      body.destroy(err ?? new Error('upload cancelled'));
      // Destroyed after end() (ABOR while the last parts are sent): lib-storage checks its abort signal before
      // CompleteMultipartUpload, so the object is not completed unless that request has already gone out.
      if (writer.writableEnded) void upload.abort();
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise<void>((r) => { timer = setTimeout(r, ABORT_WAIT_MS); });
      void Promise.race([done, bounded]).then(() => { clearTimeout(timer); cb(err); });
    },
  });
  // The store failed while the client was still sending (S3 refused a part, the endpoint went away); after
  // end() final() reports it.
  void done.then(() => { if (failure && !writer.destroyed && !writer.writableEnded) writer.destroy(failure); });
  return writer;
}
