/**
 * Retries that resume (docs/client.md#retries): when a control or data connection drops (reset, EPIPE,
 * timeout, stall, an unexpected close, 421, 425/426/450/451), wait with bounded exponential backoff,
 * reconnect and log in again when the control connection is gone (TLS, PROT and the data settings come
 * back with it: they are the client's options), go back to the working folder, and continue:
 *
 * - a download to a file continues with REST from the local file's size (RFC 3659 s5) when FEAT lists
 *   REST STREAM, else starts again from zero; the bytes go to `.NAME.ftpkit-retry` beside the destination,
 *   renamed over it when complete (as a plain download's temporary file is);
 * - an upload from a file continues with APPE from the server's SIZE (RFC 3659 s4) when FEAT lists SIZE,
 *   else starts again with STOR;
 * - anything else (a listing, MKD, a tree operation's step) is simply run again.
 *
 * A permanent refusal (5xx, e.g. 550) is never retried; neither is a client closed or destroyed by its
 * user. Each retry is a 'retry' event and a transcript line (attempt, reason, resume offset).
 */
import path from 'node:path';
import { rename, rm, stat, truncate } from 'node:fs/promises';
import { FtpClosedError, FtpNetworkError, FtpProtocolError, FtpReplyError, FtpUsageError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { FtpClient } from './ftp-client.js';
import type { DownloadOptions, TransferResult, UploadOptions } from './file-transfers.js';
import type { RetryEvent } from './events.js';

export interface RetrySettings {
  /** Attempts after the first one (0: no retry, the default). */
  retries?: number;
  /** Wait before the first retry, doubled for each next one. Default 1000 ms. */
  delayMs?: number;
  /** The longest wait between two attempts. Default 30 000 ms. */
  maxDelayMs?: number;
}

/** Transient replies (RFC 959 s4.2: 4yz "the action may be requested again"). */
const TRANSIENT_REPLIES = new Set<number>([
  ReplyCode.ServiceNotAvailable, ReplyCode.CantOpenDataConnection, 426, 450, ReplyCode.LocalError,
]);

/** Why `err` is worth another attempt, or undefined when it is not (a permanent refusal, a usage error...). */
export function retryReason(err: unknown): string | undefined {
  if (err instanceof FtpReplyError) {
    return TRANSIENT_REPLIES.has(err.replyCode) ? `the server answered ${err.replyCode} ${err.message}`.slice(0, 200) : undefined;
  }
  if (err instanceof FtpNetworkError) {
    if (err.failure === 'not-found' || err.failure === 'permission' || err.failure === 'address-in-use') return undefined;
    return err.message;
  }
  // The server closed the connection in the middle of a reply: the connection dropped, not a protocol dispute.
  if (err instanceof FtpProtocolError && /closed the control connection/.test(err.message)) return err.message;
  if (err instanceof FtpClosedError) return err.message;
  return undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/**
 * Runs operations on one FtpClient with retries. `run()` is the general form; `download()` and `upload()`
 * resume instead of starting again.
 */
export class Retrier {
  private readonly retries: number;
  private readonly delayMs: number;
  private readonly maxDelayMs: number;
  /** The working folder to go back to after a reconnect (read once, before the first retry can happen). */
  private cwd: string | undefined;

  constructor(readonly client: FtpClient, settings: RetrySettings = client.options.retry ?? {}) {
    this.retries = settings.retries ?? 0;
    this.delayMs = settings.delayMs ?? 1000;
    this.maxDelayMs = settings.maxDelayMs ?? 30_000;
    if (!Number.isInteger(this.retries) || this.retries < 0) throw new FtpUsageError(`retries must be a whole number >= 0, got ${this.retries}`);
    if (!(this.delayMs >= 0) || !(this.maxDelayMs >= 0)) throw new FtpUsageError('retry delays must be >= 0 ms');
  }

  /**
   * Run `attempt` until it succeeds, fails permanently, or the retries are used up. `attempt(n)` gets the
   * attempt number (1 = first) and returns the offset it resumes at through `note` for the event.
   */
  async run<T>(operation: string, target: string, attempt: (n: number) => Promise<T>,
    resumeAt?: () => Promise<number | undefined>): Promise<T> {
    if (this.retries > 0 && this.cwd === undefined && this.client.connected) {
      this.cwd = await this.client.pwd().catch(() => undefined);
    }
    for (let n = 1; ; n++) {
      try {
        if (n > 1) await this.reconnect();
        return await attempt(n);
      } catch (err) {
        const reason = retryReason(err);
        if (reason === undefined || n > this.retries || this.client.stopped) throw err;
        const delayMs = Math.min(this.maxDelayMs, this.delayMs * 2 ** (n - 1));
        const offset = resumeAt ? await resumeAt().catch(() => undefined) : undefined;
        this.publish({ attempt: n + 1, attempts: this.retries + 1, operation, path: target, reason, delayMs,
          ...(offset !== undefined ? { resumeAt: offset } : {}) });
        await sleep(delayMs);
        if (this.client.stopped) throw err;
      }
    }
  }

  /**
   * Download to a local file, resuming after a drop. A stream destination (or a FIFO/device) cannot be
   * continued: it gets the plain download, without retries.
   */
  async download(remotePath: string, destination: string, opts: DownloadOptions = {}): Promise<TransferResult> {
    if (this.retries === 0) return this.client.download(remotePath, destination, opts);
    // TYPE A offsets are not byte offsets: an ASCII download starts again from zero.
    if (this.isAscii(opts.type)) return this.run(`RETR ${remotePath}`, remotePath, () => this.client.download(remotePath, destination, opts));
    const kind = await stat(destination).then(s => s.isFile() ? 'file' : 'special', () => 'missing');
    if (kind === 'special') return this.client.download(remotePath, destination, opts);
    // --resume: the destination itself is the partial file; otherwise a file of our own beside it.
    const part = opts.resume ? destination
      : path.join(path.dirname(destination), `.${path.basename(destination)}.ftpkit-retry`);
    if (!opts.resume) await rm(part, { force: true });
    const localSize = (): Promise<number> => stat(part).then(s => s.size, () => 0);
    const first = await localSize();
    try {
      const result = await this.run(`RETR ${remotePath}`, remotePath, async (n) => {
        if (n > 1 && !this.client.features.has('REST')) {
          // FEAT does not list REST STREAM (RFC 3659 s5): the offset would not be understood; start again.
          await truncate(part, 0).catch(() => undefined);
        }
        return this.client.download(remotePath, part, { ...opts, resume: true, startAt: undefined });
      }, async () => this.client.features.has('REST') ? localSize() : 0);
      if (part !== destination) await rename(part, destination);
      // What this call moved in all: from where the first attempt started to the end.
      const size = await stat(destination).then(s => s.size);
      return { ...result, bytes: size - first, startOffset: first };
    } catch (e) {
      if (part !== destination) await rm(part, { force: true });
      throw e;
    }
  }

  /**
   * Upload a local file, continuing after a drop with APPE from the server's SIZE where it has SIZE, else
   * again from zero. An upload that appends (APPE) or reads a stream is not retried: what the server
   * already has cannot be told apart from what this call sent.
   */
  async upload(source: string, remotePath: string, opts: UploadOptions = {}): Promise<TransferResult> {
    if (this.retries === 0 || opts.append) return this.client.upload(source, remotePath, opts);
    if (this.isAscii(opts.type)) return this.run(`STOR ${remotePath}`, remotePath, () => this.client.upload(source, remotePath, opts));
    const remoteSize = async (): Promise<number> => {
      if (!this.client.features.has('SIZE')) return 0;
      return this.client.size(remotePath).catch(e => { if (e instanceof FtpReplyError) return 0; throw e; });
    };
    let first: number | undefined;
    let last = 0;
    const result = await this.run(`STOR ${remotePath}`, remotePath, async (n) => {
      if (n === 1) {
        const r = await this.client.upload(source, remotePath, opts);
        first = r.startOffset;
        return r;
      }
      const offset = await remoteSize();
      last = offset;
      this.status(offset > 0 ? `resuming the upload of ${remotePath} at byte ${offset} (SIZE, then APPE)`
        : `uploading ${remotePath} again from byte 0${this.client.features.has('SIZE') ? '' : ' (the server has no SIZE to resume from)'}`);
      return this.client.upload(source, remotePath, offset > 0 ? { ...opts, resume: false, append: true, startAt: offset } : { ...opts, resume: false });
    });
    const total = await stat(source).then(s => s.size);
    return { ...result, bytes: total - (first ?? last), startOffset: first ?? 0 };
  }

  private isAscii(type: UploadOptions['type']): boolean {
    return (type ?? this.client.options.transferType) === 'ascii';
  }

  /** After a failure: keep a working control connection (NOOP), else connect and log in again. */
  private async reconnect(): Promise<void> {
    if (this.client.connected) {
      const alive = await this.client.send('NOOP').then(r => r.code < 400, () => false);
      if (alive) return;
      this.client.destroy();
    }
    await this.client.connect();
    if (this.cwd !== undefined) await this.client.cd(this.cwd);
  }

  private status(text: string): void {
    this.client.emit('transcript', { kind: 'status', connection: 'control', time: new Date(), text });
  }

  private publish(event: Omit<RetryEvent, 'time'>): void {
    const time = new Date();
    this.client.emit('retry', { ...event, time });
    const resume = event.resumeAt !== undefined ? `, resuming at byte ${event.resumeAt}` : '';
    this.status(`retry ${event.attempt}/${event.attempts} of ${event.operation} in ${event.delayMs} ms${resume}: ${event.reason}`);
  }
}
