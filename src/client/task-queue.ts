/**
 * Serial task queue: one command in flight per control connection. Calls made while another runs wait their
 * turn in call order; nothing is ever interleaved on the wire (RFC 959 s5.4 is strictly request/reply).
 */
export class TaskQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private running = 0;
  private queued = 0;
  private idleListeners: Array<() => void> = [];

  /** Number of tasks running or waiting. */
  get size(): number { return this.running + this.queued; }
  get idle(): boolean { return this.size === 0; }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.queued++;
    const result = this.tail.then(async () => {
      this.queued--;
      this.running++;
      try {
        return await task();
      } finally {
        this.running--;
        if (this.size === 0) for (const l of this.idleListeners.splice(0)) l();
      }
    });
    // The chain continues whatever this task's outcome.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when no task runs or waits. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise(resolve => this.idleListeners.push(resolve));
  }
}
