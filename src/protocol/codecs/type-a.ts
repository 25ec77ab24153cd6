/**
 * TYPE A (ASCII) line-end codec of the data connection (RFC 959 s3.1.1.1): on the wire every line ends with
 * CRLF (NVT-ASCII); in local files and storage lines end with LF, as on Unix. Used by both the server and
 * the client; MODE B blocks and MODE Z deflate will be sibling codecs in this folder.
 *
 * Owns: the pure chunk functions (a state record carried from one chunk to the next, no streams), the
 * Transform streams built on them, and crlfSize() for SIZE in TYPE A (RFC 3659 s4).
 *
 * The rules, safe at any chunk boundary:
 * - encode (local -> wire): an LF not already preceded by CR becomes CRLF; an existing CRLF is kept, also
 *   when its CR ended the previous chunk. A chunk without a bare LF is passed on as it is (no copy).
 * - decode (wire -> local): CRLF becomes LF; a lone CR is kept. A CR that ends a chunk is held back until
 *   the next chunk shows whether an LF follows; at the end of the data a held CR is a lone CR and is kept.
 *
 * Speed: Buffer.indexOf finds line ends natively and whole runs are copied with Buffer.copy, which is
 * several times faster than a byte loop when lines are long; when lines are short (a line end every few
 * dozen bytes) the per-call cost of indexOf/copy loses to a plain byte loop, so each function switches to
 * the loop once it sees the chunk is dense.
 */
import { Transform, type TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;

/**
 * Average line length (bytes per line end) below which the byte loop beats indexOf + copy. Measured on
 * 64 KiB chunks: the two cross between 20 and 40 bytes per line.
 */
const DENSE_RUN = 32;
/** Line ends to see before judging the density of a chunk (a short first line says little). */
const DENSITY_SAMPLE = 16;

/** What the encoder remembers between chunks. */
export interface TypeAEncodeState {
  /** The previous chunk ended with a CR: an LF opening this chunk completes a CRLF and is not doubled. */
  lastWasCr: boolean;
}

/** What the decoder remembers between chunks. */
export interface TypeADecodeState {
  /** The previous chunk ended with a CR that was held back: an LF opening this chunk makes it a CRLF. */
  pendingCr: boolean;
}

export function newEncodeState(): TypeAEncodeState {
  return { lastWasCr: false };
}

export function newDecodeState(): TypeADecodeState {
  return { pendingCr: false };
}

/** Is the chunk dense in line ends, judged at position `at` after `seen` of them? */
function isDense(seen: number, at: number): boolean {
  return seen > DENSITY_SAMPLE && seen * DENSE_RUN > at;
}

/** Bare LFs (not preceded by CR) in the chunk: the bytes encoding adds. */
function countBareLf(chunk: Buffer, crBefore: boolean): number {
  let count = 0;
  let seen = 0;
  let i = chunk.indexOf(LF);
  for (; i !== -1; i = chunk.indexOf(LF, i + 1)) {
    const prev = i > 0 ? chunk[i - 1] : (crBefore ? CR : -1);
    if (prev !== CR) count++;
    if (isDense(++seen, i)) break;
  }
  if (i === -1) return count;
  // Dense: count the rest byte by byte, from the LF just counted.
  let prev = LF;
  for (let j = i + 1; j < chunk.length; j++) {
    const c = chunk[j];
    if (c === LF && prev !== CR) count++;
    prev = c;
  }
  return count;
}

/** How many octets encoding this chunk yields; advances `state` as encodeTypeA() would. */
export function encodedTypeALength(chunk: Buffer, state: TypeAEncodeState): number {
  if (chunk.length === 0) return 0;
  const added = countBareLf(chunk, state.lastWasCr);
  state.lastWasCr = chunk[chunk.length - 1] === CR;
  return chunk.length + added;
}

/**
 * Short lines: one pass, byte by byte, into room for the worst case (every byte an LF); counting first
 * would cost a second pass.
 */
function encodeDense(chunk: Buffer, crBefore: boolean): Buffer {
  const len = chunk.length;
  const out = Buffer.allocUnsafe(len * 2);
  let afterCr = crBefore;
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = chunk[i];
    if (c === LF && !afterCr) out[o++] = CR;
    out[o++] = c;
    afterCr = c === CR;
  }
  return out.subarray(0, o);
}

/** Local -> wire: every LF not already preceded by CR becomes CRLF. Returns `chunk` itself when unchanged. */
export function encodeTypeA(chunk: Buffer, state: TypeAEncodeState): Buffer {
  const len = chunk.length;
  if (len === 0) return chunk;
  const crBefore = state.lastWasCr;
  state.lastWasCr = chunk[len - 1] === CR;
  // Long lines: count the bare LFs with indexOf, then copy the runs between them.
  let added = 0;
  let seen = 0;
  for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
    const prev = i > 0 ? chunk[i - 1] : (crBefore ? CR : -1);
    if (prev !== CR) added++;
    if (isDense(++seen, i)) return encodeDense(chunk, crBefore);
  }
  if (added === 0) return chunk;
  const out = Buffer.allocUnsafe(len + added);
  let o = 0;
  let from = 0;
  for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
    const prev = i > 0 ? chunk[i - 1] : (crBefore ? CR : -1);
    if (prev === CR) continue;
    o += chunk.copy(out, o, from, i);
    out[o++] = CR;
    from = i; // the LF itself is copied with the next run
  }
  chunk.copy(out, o, from);
  return out;
}

/** Wire -> local: CRLF becomes LF, a lone CR is kept; a CR ending the chunk is held in `state`. */
export function decodeTypeA(chunk: Buffer, state: TypeADecodeState): Buffer {
  const len = chunk.length;
  if (len === 0) return chunk;
  const out = Buffer.allocUnsafe(len + 1);
  let o = 0;
  if (state.pendingCr) {
    state.pendingCr = false;
    if (chunk[0] !== LF) out[o++] = CR; // the held CR was a lone CR
  }
  let i = 0;
  let seen = 0;
  while (i < len) {
    const cr = chunk.indexOf(CR, i);
    if (cr === -1) { o += chunk.copy(out, o, i, len); i = len; break; }
    o += chunk.copy(out, o, i, cr);
    if (cr === len - 1) { state.pendingCr = true; i = len; break; }
    if (chunk[cr + 1] !== LF) out[o++] = CR; // a lone CR stays; the CR of a CRLF is dropped
    i = cr + 1;
    if (isDense(++seen, i)) break;
  }
  // Dense: byte by byte; the last byte apart, since a CR there waits for the next chunk.
  const last = len - 1;
  for (; i < last; i++) {
    const c = chunk[i];
    if (c === CR && chunk[i + 1] === LF) continue; // the CR of a CRLF is dropped
    out[o++] = c;
  }
  if (i === last) {
    if (chunk[last] === CR) state.pendingCr = true;
    else out[o++] = chunk[last];
  }
  return out.subarray(0, o);
}

/** The end of the data: a CR still held is a lone CR and is emitted. */
export function finishTypeADecode(state: TypeADecodeState): Buffer | undefined {
  if (!state.pendingCr) return undefined;
  state.pendingCr = false;
  return Buffer.from([CR]);
}

/** Local -> wire as a Transform (RFC 959 s3.1.1.1). */
export class TypeAEncoder extends Transform {
  private readonly state = newEncodeState();

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    cb(null, encodeTypeA(chunk, this.state));
  }
}

/** Wire -> local as a Transform (RFC 959 s3.1.1.1). */
export class TypeADecoder extends Transform {
  private readonly state = newDecodeState();

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const out = decodeTypeA(chunk, this.state);
    if (out.length > 0) cb(null, out);
    else cb();
  }

  override _flush(cb: TransformCallback): void {
    cb(null, finishTypeADecode(this.state));
  }
}

/**
 * How many octets a TYPE A download of `source` sends (RFC 3659 s4: SIZE counts what RETR in the current
 * TYPE would transfer). Counts with the encoder's own rule (encodedTypeALength), so the figure matches
 * the transfer by construction, without allocating the encoded bytes.
 */
export async function crlfSize(source: AsyncIterable<Buffer>): Promise<number> {
  const state = newEncodeState();
  let total = 0;
  for await (const chunk of source) total += encodedTypeALength(chunk, state);
  return total;
}
