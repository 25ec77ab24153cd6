/**
 * Progress accounting for one transfer: bytes, smoothed rate, ETA, throttled to a few events per second plus
 * a final one, so a progress bar costs nothing on the hot path (one counter add per chunk).
 */
import type { ProgressEvent } from './events.js';

export class ProgressTracker {
  private bytes = 0;
  private lastEmit = 0;
  private lastBytes = 0;
  private rate = 0;
  private readonly started = performance.now();
  private finished = false;

  constructor(
    private readonly emit: (e: ProgressEvent) => void,
    private readonly base: { direction: ProgressEvent['direction']; path: string; startOffset: number; total?: number },
    private readonly intervalMs = 250,
  ) {
    this.lastEmit = this.started;
  }

  get transferred(): number { return this.bytes; }

  add(n: number): void {
    this.bytes += n;
    const now = performance.now();
    if (now - this.lastEmit >= this.intervalMs) this.flush(now, false);
  }

  /** The final event (done: true); emitted once. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.flush(performance.now(), true);
  }

  private flush(now: number, done: boolean): void {
    const dt = (now - this.lastEmit) / 1000;
    if (dt > 0) {
      const inst = (this.bytes - this.lastBytes) / dt;
      // Exponential smoothing; the first sample sets the rate.
      this.rate = this.rate === 0 ? inst : this.rate * 0.7 + inst * 0.3;
    }
    if (done) {
      const total = (now - this.started) / 1000;
      if (total > 0) this.rate = this.bytes / total;
    }
    this.lastEmit = now;
    this.lastBytes = this.bytes;
    const { total } = this.base;
    const left = total !== undefined ? Math.max(0, total - this.base.startOffset - this.bytes) : undefined;
    this.emit({
      direction: this.base.direction,
      path: this.base.path,
      bytes: this.bytes,
      startOffset: this.base.startOffset,
      total,
      bytesPerSecond: Math.round(this.rate),
      etaSeconds: left !== undefined && this.rate > 0 ? left / this.rate : done ? 0 : undefined,
      done,
    });
  }
}
