/**
 * TYPE A (ASCII) line-end conversion on the data connection (RFC 959 s3.1.1.1: on the wire, lines end
 * with CRLF; in storage they end with LF, as on Unix).
 *
 * Owns: two streaming Transforms that are safe at chunk boundaries (a CRLF split across two chunks, or an
 * LF whose CR came in the previous chunk) and copy only when a chunk actually contains a line end.
 */
import { Transform } from 'node:stream';
import type { Readable, TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;

/** Storage -> wire: every LF not already preceded by CR becomes CRLF. */
export class ToCrlf extends Transform {
  private lastWasCr = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let count = 0;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
      const prev = i > 0 ? chunk[i - 1] : (this.lastWasCr ? CR : -1);
      if (prev !== CR) count++;
    }
    if (count === 0) {
      if (chunk.length) this.lastWasCr = chunk[chunk.length - 1] === CR;
      cb(null, chunk);
      return;
    }
    const out = Buffer.allocUnsafe(chunk.length + count);
    let o = 0;
    let from = 0;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
      const prev = i > 0 ? chunk[i - 1] : (this.lastWasCr ? CR : -1);
      if (prev === CR) continue;
      o += chunk.copy(out, o, from, i);
      out[o++] = CR;
      from = i; // the LF itself is copied with the next run
    }
    o += chunk.copy(out, o, from);
    this.lastWasCr = chunk[chunk.length - 1] === CR;
    cb(null, out.subarray(0, o));
  }
}

/** Wire -> storage: CRLF becomes LF; a lone CR is kept. A CR at the end of a chunk waits for the next one. */
export class FromCrlf extends Transform {
  private pendingCr = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (chunk.length === 0) { cb(); return; }
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let o = 0;
    let i = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (chunk[0] !== LF) out[o++] = CR; // lone CR from the previous chunk
    }
    const end = chunk.length;
    while (i < end) {
      const cr = chunk.indexOf(CR, i);
      if (cr === -1) { o += chunk.copy(out, o, i, end); break; }
      o += chunk.copy(out, o, i, cr);
      if (cr === end - 1) { this.pendingCr = true; i = end; break; }
      if (chunk[cr + 1] === LF) { i = cr + 1; continue; } // drop the CR of CRLF; the LF is copied next
      out[o++] = CR;
      i = cr + 1;
    }
    cb(null, out.subarray(0, o));
  }

  override _flush(cb: TransformCallback): void {
    cb(null, this.pendingCr ? Buffer.from([CR]) : undefined);
  }
}

/**
 * How many octets a TYPE A download of `source` sends (RFC 3659 s4: SIZE counts what RETR in the current
 * TYPE would transfer). Runs the same converter as the transfer, so the count matches it by construction.
 */
export async function crlfSize(source: Readable): Promise<number> {
  let total = 0;
  for await (const chunk of source.pipe(new ToCrlf())) total += (chunk as Buffer).length;
  return total;
}
