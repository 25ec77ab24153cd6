/**
 * TYPE A conversion on the client side (RFC 959 s3.1.1.1): the wire carries CRLF line ends (NVT-ASCII),
 * the local file carries LF. Both transforms keep state across chunk boundaries (a CR ending one chunk).
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Wire -> local: CRLF becomes LF; a lone CR stays. */
export class CrlfToLf extends Transform {
  private pendingCr = false;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let buf = chunk;
    if (this.pendingCr) {
      this.pendingCr = false;
      buf = buf[0] === 0x0a ? buf : Buffer.concat([Buffer.from([0x0d]), buf]);
    }
    if (buf.length && buf[buf.length - 1] === 0x0d) {
      this.pendingCr = true;
      buf = buf.subarray(0, buf.length - 1);
    }
    const out = Buffer.allocUnsafe(buf.length);
    let j = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c === 0x0d && buf[i + 1] === 0x0a) continue;
      out[j++] = c;
    }
    cb(null, out.subarray(0, j));
  }
  override _flush(cb: TransformCallback): void {
    cb(null, this.pendingCr ? Buffer.from([0x0d]) : undefined);
  }
}

/** Local -> wire: a LF not preceded by CR becomes CRLF. */
export class LfToCrlf extends Transform {
  private lastWasCr = false;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const out = Buffer.allocUnsafe(chunk.length * 2);
    let j = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 0x0a && !this.lastWasCr) out[j++] = 0x0d;
      out[j++] = c;
      this.lastWasCr = c === 0x0d;
    }
    cb(null, out.subarray(0, j));
  }
}
