/**
 * The last stage of a download or listing: writes into the data socket and decides completion by what the
 * socket accepted, not by what the client does afterwards.
 *
 * Owns: the rule "every byte handed to and accepted by the data socket (its write completed) = the transfer
 * is complete". A client that knows the size often closes or resets the data connection the moment the
 * last byte arrives, before the server's own end of file and close (RFC 959 s3.4: in stream mode the
 * server's close marks the end). With the socket itself as the pipeline's last stage, that close raced the
 * storage's end of file: the socket's read side reported ECONNRESET or a premature close and a transfer
 * whose bytes had all been delivered was answered 426. Here only a failed write fails the transfer, so a
 * real loss in the middle (more data to send, the socket gone) still ends in 426.
 */
import { Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { FtpNetworkError } from '../../errors.js';

export class DataSocketSink extends Writable {
  /** Bytes the data socket accepted (their write completed). */
  accepted = 0;

  constructor(private readonly socket: Duplex) {
    // 64 KiB like the byte counter before it: one chunk in flight, one waiting.
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
      callback();
    });
  }

  /**
   * The source ended and every byte was accepted: complete, whatever the end of the socket brings (the
   * client may already have closed or reset it). Otherwise wait for the FIN to be queued (end()).
   */
  override _final(callback: (err?: Error | null) => void): void {
    if (this.socket.destroyed || this.socket.writableEnded) { callback(); return; }
    this.socket.end(() => callback());
  }
}
