/**
 * Session timeouts.
 *
 * sessionTimer(): one unref'd setTimeout, for the short-lived command-line deadline (only while a line is
 * incomplete). DeadlineSweep: the idle and login deadlines of every session of a server on ONE timer. A
 * timer per session costs a Timeout object, a list entry and a closure for each of 10,000 idle sessions and
 * is re-armed on every command; here a session keeps two numbers and the sweep visits the sessions when the
 * earliest deadline is due (issue 10: memory per idle session).
 */

/**
 * A session timeout of `ms` (0 or Infinity: none). Unref'd: the connection keeps the process alive, not
 * this timer (an embedding app can exit cleanly).
 */
export function sessionTimer(ms: number, onExpiry: () => void): NodeJS.Timeout | undefined {
  if (!(ms > 0) || !Number.isFinite(ms)) return undefined;
  const timer = setTimeout(onExpiry, ms);
  timer.unref();
  return timer;
}

/** A member of the sweep (a session). */
export interface DeadlineHolder {
  /** Act on every deadline at or before `now`; return the next one (epoch ms), Infinity for none. */
  sweep(now: number): number;
}

/**
 * Least time between two sweeps. Deadlines are seconds to minutes; a burst of sessions whose deadlines
 * fall a few milliseconds apart is handled by one pass over the sessions, not one pass each.
 */
const MIN_SWEEP_GAP_MS = 20;

export class DeadlineSweep {
  private readonly holders = new Set<DeadlineHolder>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (epoch ms), Infinity when it is not armed. */
  private armedFor = Infinity;
  private lastSweep = 0;

  add(holder: DeadlineHolder): void { this.holders.add(holder); }

  delete(holder: DeadlineHolder): void { this.holders.delete(holder); }

  get size(): number { return this.holders.size; }

  /**
   * A holder has a deadline at `at`. Only an earlier deadline than the armed one re-arms the timer: a later
   * one (the idle deadline moving on with every command) is found by the sweep that is due anyway.
   */
  schedule(at: number): void {
    if (at < this.armedFor) this.arm(at);
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = at;
    if (!Number.isFinite(at)) return;
    const fireAt = Math.max(at, this.lastSweep + MIN_SWEEP_GAP_MS);
    // Unref'd: open connections keep the process alive, not their deadlines (an embedding app can exit).
    this.timer = setTimeout(() => this.run(), Math.max(0, fireAt - Date.now()));
    this.timer.unref();
  }

  private run(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
    this.lastSweep = now;
    let next = Infinity;
    // A holder that leaves during the sweep (a session closing) is simply not visited again.
    for (const holder of this.holders) {
      const at = holder.sweep(now);
      if (at < next) next = at;
    }
    if (next < this.armedFor) this.arm(next);
  }

  /** Stop the timer (the server closed); holders that are added later arm it again. */
  stop(): void {
    this.arm(Infinity);
  }
}
