/**
 * Owns the stream a line log writes to (the JSON-lines log and the xferlog share it): failures are
 * reported once and stop that log, never the server; the stream can be replaced for log rotation.
 */
import type { Writable } from 'node:stream';

export class LogSink {
  private stream: Writable;
  private failed = false;

  constructor(stream: Writable, private readonly onError: ((error: Error) => void) | undefined) {
    this.stream = this.watch(stream);
  }

  /** An unhandled 'error' on the stream would crash the process: a broken log must not stop the server. */
  private watch(stream: Writable): Writable {
    stream.on('error', (error: Error) => {
      if (this.failed || stream !== this.stream) return;
      this.failed = true;
      this.onError?.(error);
    });
    return stream;
  }

  /** Whether lines are still written (false after the stream failed, until it is replaced). */
  get writing(): boolean { return !this.failed; }

  /** Queue one line; a log must never stall the server, so lines wait in the stream's buffer when the disk is slow. */
  write(line: string): void {
    if (!this.failed) this.stream.write(line + '\n');
  }

  /**
   * Continue on a new stream (log rotation: the file was renamed, SIGHUP reopens it). Resolves once the
   * old stream has flushed what it had; it is ended unless it is process.stderr/stdout.
   */
  async replaceStream(stream: Writable): Promise<void> {
    const old = this.stream;
    this.stream = this.watch(stream);
    this.failed = false;
    if (old === process.stderr || old === process.stdout) return;
    await new Promise<void>((resolve) => {
      old.once('error', () => resolve());
      old.end(() => resolve());
    });
  }
}
