/**
 * The clocks of one client transfer (transfer.ts; the data idle timeout is the pipeline's, net/data-pipeline.ts): the stall limit
 * (timeouts.stall, curl's --speed-limit/--speed-time), the whole transfer's deadline (timeouts.maxTimeMs,
 * curl's --max-time for one transfer) and the wait for the final reply once the data is over or ABOR went
 * out (timeouts.commandMs). They only measure; the transfer decides what an expiry means.
 */
import type { StallLimit } from './options.js';

export interface TransferLimits {
  dataMs: number;
  commandMs: number;
  stall?: StallLimit;
  maxTimeMs?: number;
}

/** What the stall limit saw when it fired. */
export interface StallReading { moved: number; spanMs: number; rate: number }

export class TransferClocks {
  private stall: NodeJS.Timeout | undefined;
  private max: NodeJS.Timeout | undefined;
  private final: NodeJS.Timeout | undefined;

  constructor(readonly limits: TransferLimits) {}

  /**
   * Every tick, the average rate since the newest sample at least one window old; below the minimum,
   * `onStall`. Sliding, so a stall is caught one window after it starts, whatever the phase of the ticks.
   */
  watchStall(bytes: () => number, onStall: (reading: StallReading) => void): void {
    const limit = this.limits.stall;
    if (!limit || limit.minBytesPerSecond <= 0) return;
    const windowMs = limit.seconds * 1000;
    const samples = [{ t: performance.now(), bytes: bytes() }];
    this.stall = setInterval(() => {
      const now = performance.now();
      const total = bytes();
      samples.push({ t: now, bytes: total });
      while (samples.length > 2 && now - samples[1].t >= windowMs) samples.shift();
      const from = samples[0];
      const spanMs = now - from.t;
      if (spanMs < windowMs) return;
      const moved = total - from.bytes;
      const rate = moved / (spanMs / 1000);
      if (rate >= limit.minBytesPerSecond) return;
      onStall({ moved, spanMs, rate });
    }, Math.max(50, Math.min(1000, windowMs / 4)));
  }

  /** Stop the stall clock (the data is over). */
  stopDataClocks(): void {
    if (this.stall) { clearInterval(this.stall); this.stall = undefined; }
  }

  /** The whole transfer's deadline; none when maxTimeMs is 0 or unset. */
  armMaxTime(onExpire: (ms: number) => void): void {
    const ms = this.limits.maxTimeMs ?? 0;
    if (ms <= 0) return;
    this.max = setTimeout(() => { this.max = undefined; onExpire(ms); }, ms);
  }

  /** Bound the wait for the final reply (once; a second call keeps the first deadline). */
  armFinal(onExpire: (elapsedMs: number) => void): void {
    if (this.final) return;
    const started = performance.now();
    this.final = setTimeout(() => onExpire(performance.now() - started), this.limits.commandMs);
  }

  /** Whether a final-reply deadline is running (the replies after ABOR are still due). */
  get finalPending(): boolean { return this.final !== undefined; }

  clearFinal(): void {
    if (this.final) { clearTimeout(this.final); this.final = undefined; }
  }

  clearAll(): void {
    this.stopDataClocks();
    this.clearFinal();
    if (this.max) { clearTimeout(this.max); this.max = undefined; }
  }
}
