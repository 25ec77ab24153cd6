/**
 * One data transfer (RETR, STOR, APPE, LIST, MLSD, NLST) on a prepared data connection.
 *
 * Owns DESIGN principle 10: the transfer is complete only when BOTH the data stream has ended and the final
 * control reply (226/250) has arrived, in either order. Also owns the failure paths, so the control
 * connection stays in step with the server:
 * - a data-side failure (reset, stall, local write error) or abort() before the final reply sends ABOR and
 *   reads the transfer's final reply plus the ABOR reply (RFC 959 s4.1.3: 426 then 226, or 226 then 225/226);
 * - every wait is bounded: accept (data timeout), data idle (data timeout), preliminary and final replies
 *   (command timeout). If the server does not answer in time, the control connection is failed.
 */
import { pipeline } from 'node:stream/promises';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import type net from 'node:net';
import { FtpAbortedError, FtpError, FtpNetworkError, FtpReplyError, FtpUsageError, classifySocketError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { isPreliminary, isPositive, type FtpResponse } from '../protocol/reply-parser.js';
import { networkError } from '../net/connect.js';
import { maskCommand, type SocketLike } from './control-connection.js';
import { prepareData, markDataFailure, type DataContext, type DataMode, type PreparedData } from './data-channel.js';
import { CrlfToLf, LfToCrlf } from './ascii.js';
import type { ProgressTracker } from './progress.js';
import type { DataSocketInfo, SessionContext } from './transport.js';
import type { StallLimit } from './options.js';

export interface TransferContext extends DataContext {
  readonly commandTimeoutMs: number;
  /** Fail when data moves slower than this on average over the window (minBytesPerSecond 0: off). */
  readonly stall?: StallLimit;
  /** Longest the whole transfer may take (0 or undefined: no limit). */
  readonly maxTimeMs?: number;
  readonly session: SessionContext;
  readonly wrapDataSocket?: (socket: net.Socket, info: DataSocketInfo) => Promise<SocketLike>;
}

export interface TransferSpec {
  /** The transfer command line, e.g. "RETR /a/b.bin". */
  command: string;
  direction: 'download' | 'upload' | 'list';
  /** Send REST with this offset first (RFC 3659 s5). */
  restAt?: number;
  /** download / list: where the bytes go. */
  sink?: Writable;
  /** End the sink when the data ends (default true). */
  endSink?: boolean;
  /** upload: where the bytes come from. */
  source?: Readable;
  /** TYPE A: convert line ends (RFC 959 s3.1.1.1). */
  ascii?: boolean;
  progress?: ProgressTracker;
}

/** How long to wait for the second reply after ABOR (normally it arrives with the first). */
const ABOR_SECOND_REPLY_MS = 2000;

/** Counts bytes and re-arms the idle timer: one add and one timer refresh per chunk. */
class Meter extends Transform {
  constructor(private readonly onChunk: (n: number) => void) { super({ highWaterMark: 256 * 1024 }); }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.onChunk(chunk.length);
    cb(null, chunk);
  }
}

/** Writes into a caller's stream with backpressure, without ending it or leaving listeners on it. */
class Forwarder extends Writable {
  constructor(private readonly dest: Writable) { super({ highWaterMark: 256 * 1024 }); }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const dest = this.dest;
    if (dest.destroyed || dest.writableEnded) { cb(new Error('the destination stream is closed')); return; }
    if (dest.write(chunk)) { cb(); return; }
    const cleanup = (): void => { dest.off('drain', onDrain); dest.off('error', onError); dest.off('close', onClose); };
    const onDrain = (): void => { cleanup(); cb(); };
    const onError = (e: Error): void => { cleanup(); cb(e); };
    const onClose = (): void => { cleanup(); cb(new Error('the destination stream was closed')); };
    dest.once('drain', onDrain);
    dest.once('error', onError);
    dest.once('close', onClose);
  }
}

export class Transfer {
  private data: PreparedData | undefined;
  private dataSocket: SocketLike | undefined;
  private final: FtpResponse | undefined;
  private dataDone = false;
  private failure: Error | undefined;
  private aborted = false;
  private aborSent = false;
  private settled = false;
  private finalTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private socketError: Error | undefined;
  private localError: Error | undefined;
  private readonly cleanups: Array<() => void> = [];
  private resolvePromise!: (r: FtpResponse) => void;
  private rejectPromise!: (e: Error) => void;
  private preliminaryResolve!: () => void;
  private readonly preliminary: Promise<void>;
  /** Aborts a passive data connect still in progress when abort() comes early. */
  private readonly preparing = new AbortController();
  readonly promise: Promise<FtpResponse>;
  /** Bytes moved on the data connection (before TYPE A conversion on downloads). */
  bytes = 0;

  constructor(private readonly ctx: TransferContext, readonly mode: DataMode, private readonly spec: TransferSpec) {
    this.promise = new Promise((resolve, reject) => { this.resolvePromise = resolve; this.rejectPromise = reject; });
    this.promise.catch(() => {}); // the caller awaits run(); avoid an unhandled rejection in between
    this.preliminary = new Promise(resolve => { this.preliminaryResolve = resolve; });
  }

  /** Whether any data moved: a transfer that moved data must not be retried from scratch. */
  get movedData(): boolean { return this.bytes > 0; }

  async run(): Promise<FtpResponse> {
    this.armMaxTime();
    try {
      await this.start();
    } catch (e) {
      // Nothing runs on the wire for this transfer: settle its promise too (abort() waits on it).
      this.settled = true;
      this.clearMaxTime();
      this.rejectPromise(e as Error);
      throw e;
    }
    void this.readReplies();
    void this.runData();
    return this.promise;
  }

  /** Prepare the data connection, REST, and send the transfer command. */
  private async start(): Promise<void> {
    const { ctx, spec } = this;
    try {
      this.data = await prepareData({ ...ctx, signal: this.preparing.signal }, this.mode);
    } catch (e) {
      if (this.aborted || this.failure) throw this.failure ?? e;
      throw e;
    }
    try {
      if (this.failure) throw this.failure; // the maximum time ran out while the data connection opened
      if (this.aborted) throw new FtpAbortedError(`${maskCommand(spec.command)} aborted before it started`);
      if (spec.restAt !== undefined && spec.restAt > 0) {
        const r = await ctx.command(`REST ${spec.restAt}`);
        if (r.code !== ReplyCode.PendingFurtherInformation) throw new FtpReplyError(r.code, r.message, `REST ${spec.restAt}`);
      }
      if (this.aborted) throw new FtpAbortedError(`${maskCommand(spec.command)} aborted before it started`);
      ctx.control.write(spec.command);
    } catch (e) {
      this.data.close();
      throw e;
    }
  }

  /** Abort the transfer (ABOR, RFC 959 s4.1.3); the run() promise rejects with FtpAbortedError. */
  abort(reason = 'the transfer was aborted'): void {
    if (this.settled || this.aborted) return;
    this.aborted = true;
    this.failure ??= new FtpAbortedError(reason);
    if (!this.data) {
      // Still preparing: stop a data connect in progress; start() checks the flag before sending anything.
      this.preparing.abort();
      return;
    }
    this.stopData();
    if (this.final) {
      // The server already finished: nothing to abort on its side.
      this.settle();
    } else {
      this.sendAbor();
    }
  }

  private sendAbor(): void {
    if (this.aborSent || this.ctx.control.closed) return;
    this.aborSent = true;
    try {
      this.ctx.control.write('ABOR');
    } catch (e) {
      this.fail(e as Error, 'control');
      return;
    }
    this.armFinalTimer('the replies to ABOR');
  }

  private armFinalTimer(what: string): void {
    if (this.finalTimer) return;
    const started = performance.now();
    this.finalTimer = setTimeout(() => {
      this.ctx.control.fail(networkError({ connection: 'control', phase: 'transfer', failure: 'timeout',
        elapsedMs: performance.now() - started, detail: `no reply: waiting for ${what} (${maskCommand(this.spec.command)})` }));
    }, this.ctx.commandTimeoutMs);
  }

  private async readReplies(): Promise<void> {
    const { control, commandTimeoutMs } = this.ctx;
    const what = maskCommand(this.spec.command);
    try {
      let r = await control.nextReply(commandTimeoutMs, 'command', what);
      while (isPreliminary(r.code)) {
        this.preliminaryResolve();
        // While data flows there is no bound here; the data idle timer and armFinalTimer() bound it.
        r = await control.nextReply(0, 'transfer', what);
      }
      this.final = r;
      if (this.aborSent) {
        // RFC 959 s4.1.3: after ABOR two replies come (426 or 226 for the transfer, then 226/225 for ABOR),
        // back to back. pure-ftpd folds them into one: wait briefly for the second instead of forever; a
        // later straggler is dropped as unsolicited before the next command.
        const second = await control.maybeNextReply(Math.min(commandTimeoutMs, ABOR_SECOND_REPLY_MS));
        if (!second) this.ctx.status('ABOR: the server sent a single reply for the transfer and ABOR');
      }
      if (this.finalTimer) { clearTimeout(this.finalTimer); this.finalTimer = undefined; }
      if (!isPositive(r.code)) {
        // A server that cuts the data connection (reset/close) and then says why (552 quota, 451 disk
        // error) is best explained by its reply; our own timeouts, and the 426 that answers our ABOR, are not.
        const dataSideFailure = this.failure instanceof FtpNetworkError && this.failure.connection === 'data'
          && (this.failure.failure === 'reset' || this.failure.failure === 'closed')
          && r.code !== ReplyCode.ConnectionClosedTransferAborted;
        const err = new FtpReplyError(r.code, r.message, what, dataSideFailure ? { cause: this.failure } : undefined);
        // 425: the server could not open the data connection (active mode) — a data-connection failure.
        if (r.code === ReplyCode.CantOpenDataConnection) markDataFailure(err);
        if (dataSideFailure && !this.aborted) this.failure = err; // the reset stays as its cause
        this.failure ??= err;
        this.stopData();
      }
      this.settle();
    } catch (e) {
      this.fail(e as Error, 'control');
    }
  }

  private async runData(): Promise<void> {
    const { spec, ctx } = this;
    const data = this.data!;
    try {
      const raw = await data.socket();
      if (this.settled || this.failure) { raw.destroy(); return; }
      raw.setNoDelay?.(true);
      let sock: SocketLike = raw;
      if (ctx.wrapDataSocket) {
        sock = await ctx.wrapDataSocket(raw, { session: ctx.session, direction: spec.direction,
          preliminary: this.preliminary, mode: this.mode });
        if (this.settled || this.failure) { sock.destroy(); return; }
      }
      this.dataSocket = sock;
      // Who failed first? pipeline() then destroys every other stream with the same error, so only the
      // first 'error' event names the origin (these listeners run before pipeline's own).
      sock.on('error', e => { if (!this.localError) this.socketError ??= e; });
      const local = spec.direction === 'upload' ? spec.source : spec.sink;
      const onLocalError = (e: Error): void => { if (!this.socketError) this.localError ??= e; };
      local?.once('error', onLocalError);
      // A caller's stream may serve many transfers (end: false): leave no listener behind.
      this.cleanups.push(() => local?.off('error', onLocalError));
      this.armIdle();
      this.watchStall();
      // TYPE A: the wire carries CRLF, the local file LF. Progress counts the local side (its total is the
      // local size or SIZE, so wire bytes would pass 100%); the idle timer and this.bytes count the wire.
      const meter = new Meter(n => { this.bytes += n; if (!spec.ascii) spec.progress?.add(n); this.armIdle(); });
      const localMeter = (): Meter => new Meter(n => spec.progress?.add(n));
      if (spec.direction === 'upload') {
        const source = spec.source!;
        if (spec.ascii) await pipeline(source, localMeter(), new LfToCrlf(), meter, sock);
        else await pipeline(source, meter, sock);
      } else {
        // A stream the caller keeps (end: false) is fed through a Forwarder: pipeline() with end: false
        // leaves a 'close' listener on it per call.
        const sink = spec.endSink ?? true ? spec.sink! : new Forwarder(spec.sink!);
        if (spec.ascii) await pipeline(sock, meter, new CrlfToLf(), localMeter(), sink);
        else await pipeline(sock, meter, sink);
      }
      this.clearIdle();
      this.dataDone = true;
      if (!this.final) this.armFinalTimer('the final reply after the data connection closed');
      this.settle();
    } catch (e) {
      this.clearIdle();
      if (this.settled) return;
      if (this.aborted) { this.settle(); return; }
      this.fail(this.classifyDataError(e as Error), 'data');
    }
  }

  private classifyDataError(e: Error): Error {
    if (e instanceof FtpError) return e;
    // pipeline() destroys every stream with the first error, so the socket may re-emit a local error.
    if (this.localError) {
      return new FtpUsageError(`local ${this.spec.direction === 'upload' ? 'source' : 'destination'} failed: ${this.localError.message}`, { cause: this.localError });
    }
    const sockErr = this.socketError;
    if (sockErr || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') {
      const cause = sockErr ?? e;
      const failure = classifySocketError(cause);
      return networkError({ connection: 'data', phase: 'transfer', failure: failure === 'other' ? 'closed' : failure,
        endpoint: this.data?.description, cause, detail: `after ${this.bytes} bytes (${maskCommand(this.spec.command)})` });
    }
    return new FtpUsageError(`local ${this.spec.direction === 'upload' ? 'source' : 'destination'} failed: ${e.message}`, { cause: e });
  }

  private armIdle(): void {
    if (this.idleTimer) { this.idleTimer.refresh(); return; }
    const ms = this.ctx.dataTimeoutMs;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      this.fail(networkError({ connection: 'data', phase: 'transfer', failure: 'timeout', elapsedMs: ms,
        endpoint: this.data?.description, detail: `no data moved for ${ms} ms after ${this.bytes} bytes` }), 'data');
    }, ms);
  }

  private clearIdle(): void {
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    if (this.stallTimer) { clearInterval(this.stallTimer); this.stallTimer = undefined; }
  }

  /**
   * The stall limit (curl's --speed-limit/--speed-time): every tick, the average rate since the newest
   * sample at least one window old; below the minimum, the transfer fails. Sliding, so a stall is caught
   * one window after it starts, whatever the phase of the ticks.
   */
  private watchStall(): void {
    const limit = this.ctx.stall;
    if (!limit || limit.minBytesPerSecond <= 0) return;
    const windowMs = limit.seconds * 1000;
    const samples = [{ t: performance.now(), bytes: this.bytes }];
    this.stallTimer = setInterval(() => {
      const now = performance.now();
      samples.push({ t: now, bytes: this.bytes });
      while (samples.length > 2 && now - samples[1].t >= windowMs) samples.shift();
      const from = samples[0];
      const spanMs = now - from.t;
      if (spanMs < windowMs) return;
      const moved = this.bytes - from.bytes;
      const rate = moved / (spanMs / 1000);
      if (rate >= limit.minBytesPerSecond) return;
      this.fail(networkError({ connection: 'data', phase: 'transfer', failure: 'stalled', elapsedMs: spanMs,
        endpoint: this.data?.description,
        detail: `${moved} bytes in the last ${(spanMs / 1000).toFixed(1)} s (${rate.toFixed(1)} B/s), below the minimum of `
          + `${limit.minBytesPerSecond} B/s over ${limit.seconds} s, after ${this.bytes} bytes (${maskCommand(this.spec.command)})` }), 'data');
    }, Math.max(50, Math.min(1000, windowMs / 4)));
  }

  /** The whole transfer's deadline (timeouts.maxTimeMs, curl's --max-time for one transfer). */
  private armMaxTime(): void {
    const ms = this.ctx.maxTimeMs ?? 0;
    if (ms <= 0) return;
    this.maxTimer = setTimeout(() => {
      this.maxTimer = undefined;
      const err = networkError({ connection: 'data', phase: 'transfer', failure: 'timeout', elapsedMs: ms,
        endpoint: this.data?.description,
        detail: `the transfer took longer than the maximum time of ${ms / 1000} s, after ${this.bytes} bytes (${maskCommand(this.spec.command)})` });
      if (!this.data) {
        // Still opening the data connection: stop it; start() throws this failure.
        this.failure ??= err;
        this.preparing.abort();
        return;
      }
      this.fail(err, 'data');
    }, ms);
  }

  private clearMaxTime(): void {
    if (this.maxTimer) { clearTimeout(this.maxTimer); this.maxTimer = undefined; }
  }

  private stopData(): void {
    this.clearIdle();
    this.dataSocket?.destroy();
    this.data?.close();
  }

  /** A failure on one side: release the data side; resynchronise the control connection if it is alive. */
  private fail(err: Error, side: 'data' | 'control'): void {
    if (this.settled) return;
    this.failure ??= err;
    this.stopData();
    if (side === 'control' || this.ctx.control.closed) {
      this.settle(true);
      return;
    }
    if (!this.final) this.sendAbor(); // then readReplies() settles after the final + ABOR replies
    else this.settle();
  }

  private settle(force = false): void {
    if (this.settled) return;
    const failed = this.failure !== undefined;
    if (!force) {
      // Success needs both halves; a failure needs the control side back in step (final reply read).
      if (!failed && !(this.dataDone && this.final)) return;
      if (failed && !this.final && !this.ctx.control.closed) return;
      if (failed && this.final && this.aborSent && this.finalTimer) return; // ABOR reply still due
    }
    this.settled = true;
    this.clearIdle();
    this.clearMaxTime();
    for (const c of this.cleanups.splice(0)) c();
    if (this.finalTimer) { clearTimeout(this.finalTimer); this.finalTimer = undefined; }
    if (failed) {
      this.stopData();
      this.preliminaryResolve(); // a hook waiting for it proceeds and meets the destroyed socket
      this.rejectPromise(this.aborted ? (this.failure instanceof FtpAbortedError ? this.failure
        : new FtpAbortedError('the transfer was aborted', { cause: this.failure })) : this.failure!);
    } else {
      this.data?.close();
      this.spec.progress?.finish();
      this.resolvePromise(this.final!);
    }
  }
}
