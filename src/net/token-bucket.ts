/**
 * Rate limiting for the data path (bandwidth caps) and for the control channel (command rate): a token
 * bucket, and the Throttle a data pipeline asks before it moves bytes.
 *
 * Owns: the bucket arithmetic. A bucket fills at `rate` tokens per second up to `burst`; taking more
 * tokens than it holds is allowed and leaves it in debt, and the caller waits until the debt is paid back
 * (reserve() returns that wait). Debt instead of refusal: a 1 MiB block never has to be cut to fit the
 * bucket, several buckets (session, user, global) are charged at once and the caller waits for the slowest,
 * and callers sharing a bucket queue up in the order they took (each one's wait includes the debt of those
 * before it). Waiting is the caller's, with one timer; nothing here polls.
 *
 * Not here: which buckets apply to a transfer (src/server/limits/bandwidth.ts), where the data path waits
 * (net/data-direct.ts, the ThrottleStage below for the stage pipeline).
 */
import { Transform, type TransformCallback } from 'node:stream';

export class TokenBucket {
  private tokens: number;
  private last: number;
  private burstSize: number;

  /**
   * `rate`: tokens per second (> 0, finite). `burst`: the most it holds (default: a twentieth of a second
   * of rate, at least 16 KiB). It starts full.
   */
  constructor(private ratePerSecond: number, burst?: number, private readonly now: () => number = performanceNow) {
    this.burstSize = burst ?? defaultBurst(ratePerSecond);
    this.tokens = this.burstSize;
    this.last = now();
  }

  get rate(): number { return this.ratePerSecond; }
  get burst(): number { return this.burstSize; }

  /** Change the rate (and burst) from now on; what was earned at the old rate is kept, a debt too. */
  setRate(rate: number, burst?: number): void {
    this.refill();
    this.ratePerSecond = rate;
    this.burstSize = burst ?? defaultBurst(rate);
    if (this.tokens > this.burstSize) this.tokens = this.burstSize;
  }

  /** Take `n` tokens now; returns the milliseconds to wait before using them (0: at once). */
  reserve(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }

  /** Milliseconds until the bucket is out of debt (0 when it is not in debt). */
  debtMs(): number {
    this.refill();
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }

  private refill(): void {
    const t = this.now();
    const earned = ((t - this.last) / 1000) * this.ratePerSecond;
    this.last = t;
    this.tokens = Math.min(this.burstSize, this.tokens + earned);
  }
}

function performanceNow(): number {
  return performance.now();
}

/** Smallest burst of a byte bucket: one TCP window's worth of chunks still moves in one go. */
const MIN_BURST = 16 * 1024;

/** A twentieth of a second of rate: short enough that a cap measured over a second or two is the cap. */
function defaultBurst(rate: number): number {
  return Math.max(MIN_BURST, rate / 20);
}

/**
 * What a data pipeline asks before moving bytes (net/data-pipeline.ts `throttle`). The pipeline asks once
 * per piece; an unlimited transfer has no Throttle at all, or one whose answers are 0 and BLOCK_SIZE.
 */
export interface Throttle {
  /** The bytes are being moved now: the milliseconds to wait before moving them (0: go on). */
  delay(bytes: number): number;
  /**
   * The largest piece to move at once now (a sender reads its file in pieces of this size): about a
   * twentieth of a second of the tightest cap, so that a cap paces the wire instead of sending 1 MiB bursts.
   */
  pieceBytes(): number;
}

/** The largest piece for a cap of `rate` bytes per second (see Throttle.pieceBytes), within [min, max]. */
export function pieceFor(rate: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.floor(rate / 20)));
}

/**
 * A stage for the stream pipeline (TYPE A, or a source without a block reader): a chunk is passed on in
 * pieces of the throttle's size, each after the throttle's wait; the next chunk is taken only once the
 * last piece went, so that backpressure slows the stages before it.
 */
export class ThrottleStage extends Transform {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly throttle: Throttle) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const next = (offset: number): void => {
      this.timer = undefined;
      if (offset >= chunk.length) { cb(); return; }
      const piece = chunk.subarray(offset, offset + this.throttle.pieceBytes());
      const ms = this.throttle.delay(piece.length);
      const go = (): void => { this.push(piece); next(offset + piece.length); };
      if (ms > 0) this.timer = setTimeout(go, ms);
      else go();
    };
    next(0);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    cb(err);
  }
}
