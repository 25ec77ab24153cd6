/**
 * The stream stages a data transfer is built from, shared by the server's and the client's transfers and
 * composed by net/data-pipeline.ts: a byte meter, the writer into the data socket, and the writer into a
 * stream the caller keeps open.
 */
import { Transform, Writable, type Duplex, type TransformCallback } from 'node:stream';
import { FtpNetworkError } from '../errors.js';

/** Reports the size of each chunk that passes: one call per chunk, no copy. An error returned fails the stage. */
export class ByteMeter extends Transform {
  constructor(private readonly onChunk: (bytes: number) => Error | void | Promise<Error | void>, highWaterMark = 256 * 1024) {
    super({ highWaterMark });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const answer = this.onChunk(chunk.length);
    // A later answer (data-direct.ts Admission): the chunk waits here, and the stages before it with it.
    if (answer instanceof Promise) { answer.then(refused => cb(refused ?? null, refused ? undefined : chunk), (err: unknown) => cb(err as Error)); return; }
    if (answer) { cb(answer); return; }
    cb(null, chunk);
  }
}

/**
 * The last stage of a sending transfer (a download on the server, an upload on the client): writes into
 * the data socket and decides completion by what the socket accepted, not by what the peer does afterwards.
 *
 * The rule: every byte handed to and accepted by the data socket (its write completed) = the data is
 * complete. A peer that knows the size often closes or resets the data connection the moment the last
 * byte arrives, before our own end of file and close (RFC 959 s3.4: in stream mode the sender's close
 * marks the end). With the socket itself as the pipeline's last stage, that close raced the source's end
 * of file: the socket's read side reported ECONNRESET or a premature close and a transfer whose bytes had
 * all been delivered failed. Here only a failed write fails the transfer, so a real loss in the middle
 * (more data to send, the socket gone) still fails.
 */
export class WireWriter extends Writable {
  /** Bytes the data socket accepted (their write completed). */
  accepted = 0;

  constructor(private readonly socket: Duplex, private readonly onAccepted?: (bytes: number) => void) {
    // 64 KiB: one chunk in flight, one waiting.
    super({ highWaterMark: 64 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.socket.destroyed || this.socket.writableEnded) {
      callback(new FtpNetworkError({
        connection: 'data', phase: 'transfer', failure: 'closed', message: 'the data connection closed before the transfer was complete',
      }));
      return;
    }
    this.socket.write(chunk, (err?: Error | null) => {
      if (err) { callback(err); return; }
      this.accepted += chunk.length;
      this.onAccepted?.(chunk.length);
      callback();
    });
  }

  /**
   * The source ended and every byte was accepted: complete, whatever the end of the socket brings (the
   * peer may already have closed or reset it). Otherwise wait for the FIN to be queued (end()).
   */
  override _final(callback: (err?: Error | null) => void): void {
    if (this.socket.destroyed || this.socket.writableEnded) { callback(); return; }
    this.socket.end(() => callback());
  }
}

/**
 * Writes into a stream the caller keeps (one stream for many transfers, end: false), with backpressure,
 * without ending it and without leaving listeners on it: pipeline() with end: false would leave a 'close'
 * listener on it per call.
 */
export class StreamForwarder extends Writable {
  /** The error this stage failed with, when the destination closed or failed under it. */
  failure: Error | undefined;

  constructor(private readonly dest: Writable) { super({ highWaterMark: 256 * 1024 }); }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const dest = this.dest;
    const fail = (e: Error): void => { this.failure ??= e; cb(e); };
    if (dest.destroyed || dest.writableEnded) { fail(new Error('the destination stream is closed')); return; }
    if (dest.write(chunk)) { cb(); return; }
    const cleanup = (): void => { dest.off('drain', onDrain); dest.off('error', onError); dest.off('close', onClose); };
    const onDrain = (): void => { cleanup(); cb(); };
    const onError = (e: Error): void => { cleanup(); fail(e); };
    const onClose = (): void => { cleanup(); fail(new Error('the destination stream was closed')); };
    dest.once('drain', onDrain);
    dest.once('error', onError);
    dest.once('close', onClose);
  }
}
