/**
 * CCC, "clear command channel" (RFC 4217 s6; RFC 2228 s3): after the 200 reply both ends close TLS on the
 * control connection with close_notify and continue in cleartext on the same TCP connection — used so that
 * a NAT/firewall FTP helper (ALG) can read PORT/PASV again, while the data connections stay protected.
 *
 * Node cannot take a TCP socket back from a TLSSocket that wraps its handle. So when CCC may be needed, the
 * TLS socket is layered on a DetachableStream instead: a Duplex that forwards bytes to and from the raw
 * socket in JavaScript (a small cost, on the control connection only). After the close_notify exchange,
 * `release()` stops the forwarding and hands the raw socket back, untouched by TLS teardown.
 * Sequence: beginClearTls() before the CCC command/reply, complete() after the 200.
 */
import { Duplex } from 'node:stream';
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import { FtpTlsError, type ConnectionKind } from '../errors.js';

export class DetachableStream extends Duplex {
  private released = false;
  private clearing = false;
  /** During a CCC: bytes of a TLS record not complete yet. */
  private pending: Buffer = Buffer.alloc(0);
  /** During a CCC: cleartext that arrived behind the peer's last TLS record (its first command). */
  private leftover: Buffer | undefined;
  private readonly onData = (chunk: Buffer): void => {
    // Backpressure toward TLS is not needed here: control-connection traffic is a few lines.
    if (!this.clearing) { this.push(chunk); return; }
    this.splitRecords(chunk);
  };
  private readonly onEnd = (): void => { if (!this.released) this.push(null); };
  private readonly onError = (err: Error): void => { if (!this.released) this.destroy(err); };
  private readonly onClose = (): void => { if (!this.released) this.destroy(); };

  constructor(readonly raw: net.Socket) {
    super({ allowHalfOpen: true });
    raw.on('data', this.onData);
    raw.on('end', this.onEnd);
    raw.on('error', this.onError);
    raw.on('close', this.onClose);
  }

  // Addresses, so code that reads them from the control socket keeps working.
  get remoteAddress(): string | undefined { return this.raw.remoteAddress; }
  get remotePort(): number | undefined { return this.raw.remotePort; }
  get localAddress(): string | undefined { return this.raw.localAddress; }
  get localPort(): number | undefined { return this.raw.localPort; }

  override _read(): void { /* data is pushed as it arrives */ }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.released || this.raw.destroyed) { cb(); return; }
    this.raw.write(chunk, (err) => cb(err ?? null));
  }

  /** Normal close (no CCC): TLS's shutdown of its transport ends the TCP connection too. */
  override _final(cb: (err?: Error | null) => void): void {
    if (!this.released) this.raw.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // During a CCC the TLS socket destroys itself once both close_notify are through: keep the TCP socket.
    if (!this.released && !this.clearing) this.raw.destroy();
    cb(err);
  }

  /**
   * Announce a CCC: from now on the TLS layer's shutdown of its transport (end() after close_notify) and
   * its destruction must not reach the TCP socket, which carries on in cleartext. The writable side also
   * stays open, so TLS output still queued behind the shutdown gets through.
   */
  prepareRelease(): void {
    this.clearing = true;
  }

  /** CCC was refused after all: TLS teardown ends the TCP connection again, as normal. */
  cancelRelease(): void {
    this.clearing = false;
    const rest = Buffer.concat([this.pending, this.leftover ?? Buffer.alloc(0)]);
    this.pending = Buffer.alloc(0);
    this.leftover = undefined;
    if (rest.length) this.push(rest);
  }

  override end(...args: unknown[]): this {
    if (!this.clearing) return super.end(...(args as [])) as this;
    const cb = args.find((a): a is () => void => typeof a === 'function');
    if (cb) process.nextTick(cb);
    return this;
  }

  /**
   * While clearing, hand TLS whole records only. The peer may send its first cleartext command right after
   * its close_notify, even in the same TCP segment; those bytes must not be fed to TLS. A TLS record starts
   * with a content type 20-24 and version major 3 (RFC 8446 s5.1); an FTP command line never does.
   */
  private splitRecords(chunk: Buffer): void {
    if (this.leftover) { this.leftover = Buffer.concat([this.leftover, chunk]); return; }
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length > 0) {
      const looksTls = buf[0] >= 20 && buf[0] <= 24 && (buf.length < 2 || buf[1] === 3);
      if (!looksTls) { this.leftover = buf; buf = Buffer.alloc(0); break; }
      if (buf.length < 5) break;
      const total = 5 + buf.readUInt16BE(3);
      if (buf.length < total) break;
      this.push(buf.subarray(0, total));
      buf = buf.subarray(total);
    }
    this.pending = buf;
  }

  /**
   * Stop forwarding and return the raw socket, PAUSED, with any cleartext that arrived behind the TLS
   * teardown put back in front: attach the new reader, then resume().
   */
  release(): net.Socket {
    this.released = true;
    this.raw.off('data', this.onData);
    this.raw.off('end', this.onEnd);
    this.raw.off('error', this.onError);
    this.raw.off('close', this.onClose);
    this.raw.pause();
    if (this.leftover?.length) this.raw.unshift(this.leftover);
    this.leftover = undefined;
    return this.raw;
  }
}

/** A CCC in progress: created before the CCC command is sent, completed after its 200 reply. */
export interface TlsClearing {
  /** Exchange close_notify and return the raw socket (bounded by timeoutMs). */
  complete(timeoutMs: number): Promise<net.Socket>;
  /** The peer refused CCC: TLS stays as it was. */
  cancel(): void;
}

/**
 * Start returning the control connection to cleartext. Call BEFORE sending (client) or answering (server)
 * CCC: the peer's close_notify may arrive together with the 200 reply, and Node's TLS socket then ends and
 * destroys itself at once; from here on that teardown can no longer reach the TCP socket, and the events
 * are recorded so `complete()` knows what already happened. The caller must have stopped treating the TLS
 * socket's 'end'/'close' as the end of the session.
 */
export function beginClearTls(tlsSocket: tls.TLSSocket, stream: DetachableStream, connection: ConnectionKind = 'control'): TlsClearing {
  let peerEnded = tlsSocket.readableEnded;
  let ourFinished = tlsSocket.writableFinished;
  let closed = tlsSocket.destroyed;
  let error: Error | undefined;
  let notify: (() => void) | undefined;
  const onEnd = (): void => { peerEnded = true; notify?.(); };
  const onFinish = (): void => { ourFinished = true; notify?.(); };
  const onClose = (): void => { closed = true; notify?.(); };
  const onError = (e: Error): void => { error ??= e; notify?.(); };
  tlsSocket.on('end', onEnd);
  tlsSocket.on('finish', onFinish);
  tlsSocket.on('close', onClose);
  tlsSocket.on('error', onError);
  stream.prepareRelease();
  const detach = (): void => {
    tlsSocket.off('end', onEnd);
    tlsSocket.off('finish', onFinish);
    tlsSocket.off('close', onClose);
    tlsSocket.off('error', onError);
    tlsSocket.on('error', () => {});
  };
  return {
    cancel(): void {
      detach();
      stream.cancelRelease();
    },
    complete(timeoutMs: number): Promise<net.Socket> {
      return new Promise<net.Socket>((resolve, reject) => {
        const fail = (err: FtpTlsError): void => {
          clearTimeout(timer);
          detach();
          tlsSocket.destroy();
          stream.raw.destroy();
          reject(err);
        };
        const check = (): void => {
          // Done when the peer's close_notify arrived AND ours went out: 'finish' means the TLS layer's
          // shutdown completed, so its close_notify passed through the stream's _write to the raw socket.
          if (peerEnded && (ourFinished || closed) && !error) {
            clearTimeout(timer);
            detach();
            const raw = stream.release();
            tlsSocket.destroy();
            resolve(raw);
          } else if (error) {
            fail(new FtpTlsError(connection, `CCC: TLS shutdown failed: ${error.message}`, { cause: error, reason: 'handshake' }));
          } else if (closed) {
            fail(new FtpTlsError(connection, 'CCC: the peer closed the connection instead of continuing in cleartext', { reason: 'closed' }));
          }
        };
        const timer = setTimeout(() => {
          fail(new FtpTlsError(connection, `CCC: no close_notify from the peer within ${timeoutMs} ms`, { reason: 'timeout' }));
        }, timeoutMs);
        timer.unref();
        notify = check;
        // Reading must flow for the peer's close_notify to be seen; send ours now (a peer that waits for it
        // before sending its own cannot deadlock us).
        if (!tlsSocket.destroyed) {
          tlsSocket.resume();
          if (!tlsSocket.writableEnded) tlsSocket.end();
        }
        check();
      });
    },
  };
}
