/**
 * MODE Z (deflate) codec of the data connection: draft-preston-ftpext-deflate-04 (the mode proftpd's
 * mod_deflate, Apache Commons Net, WS_FTP and SmartFTP speak). Each transfer is one zlib stream (RFC 1950
 * around RFC 1951 deflate data); the zlib stream's own end marks the end of the data, and the data
 * connection closes after it as in stream mode. Used by both the server and the client, beside the TYPE A
 * codec (type-a.ts): TYPE A is applied to the file's bytes first, deflate to what TYPE A produced.
 *
 * Owns: the deflate encoder stage, the bounded inflate decoder stage and their typed failures
 * (FtpStreamCodecError: corrupt, truncated, too-large).
 *
 * Bounds (docs/architecture.md#bound-every-input): the decoder feeds the inflater at most INFLATE_SLICE
 * compressed bytes at a time and waits for the reader before the next slice, so what one slice can expand
 * to (deflate's ceiling is about 1032:1, so 16 KiB -> ~16.5 MiB) is the most a transfer holds in memory,
 * plus zlib's own state (~44 KiB for a 32 KiB window). `maxRatio` ends a stream whose output exceeds that
 * many times its input (a "bomb": a small upload that would cost far more disk and CPU than its wire
 * size); the receiver's size limits (quota, the upload size limit) apply to the inflated bytes downstream.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { FtpStreamCodecError } from '../../errors.js';

/** Levels `OPTS MODE Z LEVEL n` accepts (draft-preston-ftpext-deflate-04 s4). */
export const MIN_DEFLATE_LEVEL = 1;
export const MAX_DEFLATE_LEVEL = 9;
/** zlib's own default (6): the usual balance of speed and size, also mod_deflate's default. */
export const DEFAULT_DEFLATE_LEVEL = 6;

/** Compressed bytes handed to the inflater at once: the bound on what one step can expand to. */
const INFLATE_SLICE = 16 * 1024;
/** Output below which the ratio is not judged: a short stream of zeros legitimately has a huge ratio. */
const RATIO_GRACE_BYTES = 1024 * 1024;

/** The deflate encoder stage (local/TYPE A bytes -> the zlib stream on the wire). */
export function createDeflateEncoder(level = DEFAULT_DEFLATE_LEVEL): Deflate {
  if (!Number.isInteger(level) || level < MIN_DEFLATE_LEVEL || level > MAX_DEFLATE_LEVEL) {
    throw new RangeError(`deflate level ${level}: expected ${MIN_DEFLATE_LEVEL}-${MAX_DEFLATE_LEVEL}`);
  }
  return createDeflate({ level, chunkSize: 64 * 1024 });
}

export interface InflateLimits {
  /**
   * Fail with 'too-large' once the output exceeds this many times the compressed input (after the first
   * MiB of output). 0 or undefined: no ratio bound.
   */
  maxRatio?: number;
}

/** zlib's error for this data, as a typed codec failure. */
function inflateFailure(err: NodeJS.ErrnoException): FtpStreamCodecError {
  // Node reports an incomplete stream at its end as Z_BUF_ERROR ("unexpected end of file").
  const truncated = err.code === 'Z_BUF_ERROR' || err.errno === constants.Z_BUF_ERROR;
  return new FtpStreamCodecError('deflate', truncated ? 'truncated' : 'corrupt',
    truncated ? 'MODE Z: the data ended before the end of the compressed stream' : `MODE Z: the compressed data is corrupt (${err.message})`,
    { cause: err });
}

/** The bounded inflate decoder stage (the zlib stream on the wire -> TYPE A/local bytes). */
export class InflateDecoder extends Transform {
  /** Compressed bytes taken in and inflated bytes given out. */
  inBytes = 0;
  outBytes = 0;
  private readonly inflater: Inflate = createInflate({ chunkSize: 64 * 1024 });
  private failure: FtpStreamCodecError | undefined;
  /** The reader asked for more after a push() said to wait. */
  private onRead: (() => void) | undefined;
  private full = false;

  constructor(private readonly limits: InflateLimits = {}) {
    super({ highWaterMark: 256 * 1024 });
    this.inflater.on('data', (out: Buffer) => this.output(out));
    this.inflater.on('error', (err: NodeJS.ErrnoException) => { this.failure ??= inflateFailure(err); });
  }

  private output(out: Buffer): void {
    if (this.failure) return;
    this.outBytes += out.length;
    const max = this.limits.maxRatio ?? 0;
    if (max > 0 && this.outBytes > RATIO_GRACE_BYTES && this.outBytes > max * this.inBytes) {
      this.failure = new FtpStreamCodecError('deflate', 'too-large',
        `MODE Z: the compressed data expands more than ${max} times (${this.inBytes} bytes became over ${this.outBytes})`);
      this.inflater.destroy();
      return;
    }
    if (!this.push(out)) this.full = true;
  }

  override _read(size: number): void {
    this.full = false;
    const wake = this.onRead;
    this.onRead = undefined;
    wake?.();
    super._read(size);
  }

  /** Feed one slice and wait until the inflater processed it (and the reader made room, if it had none). */
  private feed(slice: Buffer): Promise<void> {
    this.inBytes += slice.length;
    return new Promise<void>(resolve => {
      const done = (): void => {
        if (this.full && !this.failure) this.onRead = resolve;
        else resolve();
      };
      if (this.failure || this.inflater.destroyed) { resolve(); return; }
      // A destroyed inflater (its error) may never call back the write in flight.
      const onClose = (): void => resolve();
      this.inflater.once('close', onClose);
      // The write callback comes once zlib processed the slice, after its output was emitted.
      this.inflater.write(slice, () => { this.inflater.off('close', onClose); done(); });
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    void (async () => {
      for (let at = 0; at < chunk.length && !this.failure; at += INFLATE_SLICE) {
        await this.feed(chunk.subarray(at, at + INFLATE_SLICE));
      }
      cb(this.failure);
    })();
  }

  override _flush(cb: TransformCallback): void {
    if (this.failure) { cb(this.failure); return; }
    let called = false;
    const finish = (): void => { if (!called) { called = true; cb(this.failure); } };
    this.inflater.once('end', finish);
    this.inflater.once('close', finish);
    this.inflater.end();
    // 'end' comes only once the readable side is read to its end.
    this.inflater.resume();
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.inflater.destroy();
    cb(err);
  }
}
