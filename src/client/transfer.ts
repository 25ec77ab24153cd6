/**
 * One data transfer (RETR, STOR, APPE, LIST, MLSD, NLST) on a prepared data connection.
 *
 * The transfer is complete only when BOTH the data stream has ended and the final control reply (226/250)
 * has arrived, in either order: servers send the 226 before or after closing the data connection. Its life
 * is one state field with checked transitions:
 *
 *   preparing --(transfer command written)--> running --(one half over, or a failure)--> draining --> settled
 *   preparing --> settled: nothing was sent (the data connection failed, REST was refused, abort() came)
 *   running --> settled: a refusal, or the control connection failed (nothing left to wait for)
 *
 * Failure paths keep the control connection in step with the server:
 * - a data-side failure (reset, stall, local write error) or abort() while running sends ABOR and reads the
 *   transfer's final reply plus the ABOR reply (RFC 959 s4.1.3: 426 then 226, or 226 then 225/226);
 * - every wait is bounded: accept (data-channel.ts) and data idle (net/data-pipeline.ts) by the data
 *   timeout, preliminary and final replies by the command timeout (transfer-clocks.ts). If the server does not answer in time, the control connection is failed.
 */
import type { Readable, Writable } from 'node:stream';
import { FtpAbortedError, FtpError, FtpNetworkError, FtpReplyError, FtpUsageError, classifySocketError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { isPreliminary, isPositive, type FtpResponse } from '../protocol/reply-parser.js';
import { maskOutgoingCommand } from '../protocol/masking.js';
import { networkError } from '../net/connect.js';
import { runDataPipeline, type FailedEnd } from '../net/data-pipeline.js';
import { blockWriterOf } from '../net/block-source.js';
import { WireBlocks } from '../net/wire-blocks.js';
import type { ControlConnection, SocketLike } from './control-connection.js';
import { prepareData, type DataMode, type PreparedData } from './data-channel.js';
import type { ProgressTracker } from './progress.js';
import type { ClientSession } from './session.js';
import { TransferClocks } from './transfer-clocks.js';
import { enterTransferMode, pipelineModeOf, reportWireBytes, type WireMode } from './transfer-mode.js';
import type { TransferModeChoice } from './options.js';
import { transferThrottle } from './rate-limit.js';

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
  /** MODE for this transfer (client/transfer-mode.ts); default the connection's transferMode option, else S. */
  mode?: TransferModeChoice;
  progress?: ProgressTracker;
}

/** How long to wait for the second reply after ABOR (normally it arrives with the first). */
const ABOR_SECOND_REPLY_MS = 2000;

type TransferState = 'preparing' | 'running' | 'draining' | 'settled';

/** The transitions a transfer may make (see the module header). */
const NEXT_STATES: Record<TransferState, readonly TransferState[]> = {
  preparing: ['running', 'settled'],
  running: ['draining', 'settled'],
  draining: ['settled'],
  settled: [],
};

export class Transfer {
  private state: TransferState = 'preparing';
  private readonly control: ControlConnection;
  private readonly clocks: TransferClocks;
  private data: PreparedData | undefined;
  private dataSocket: SocketLike | undefined;
  /** The two halves: the final reply, and the data stream's end. */
  private final: FtpResponse | undefined;
  private dataDone = false;
  /** The first failure; the transfer rejects with it once the control connection is back in step. */
  private failure: Error | undefined;
  /** abort() was called: the transfer rejects with FtpAbortedError whatever else failed. */
  private aborted = false;
  private aborSent = false;
  private readonly cleanups: Array<() => void> = [];
  private resolvePromise!: (r: FtpResponse) => void;
  private rejectPromise!: (e: Error) => void;
  private preliminaryResolve!: () => void;
  private readonly preliminary: Promise<void>;
  /**
   * The data socket ready for bytes (TLS handshake done under PROT P), opened as soon as the connection
   * exists: for passive right after connect, before the transfer command; for active when it is accepted.
   */
  private opening: Promise<SocketLike> | undefined;
  /** Aborts a passive data connect still in progress when abort() comes early. */
  private readonly preparing = new AbortController();
  readonly promise: Promise<FtpResponse>;
  /** Bytes moved on the data connection (before TYPE A conversion on downloads). */
  bytes = 0;
  /** Bytes of the file (after TYPE A and MODE Z/B decoding on downloads, before encoding on uploads). */
  fileBytes = 0;
  /** The MODE the transfer ran in (set before the transfer command). */
  wireMode: WireMode = 'S';
  /** The first 1xx reply to the transfer command (its text may announce the size: "(N bytes)"). */
  openingReply: FtpResponse | undefined;

  constructor(private readonly session: ClientSession, readonly mode: DataMode, private readonly spec: TransferSpec) {
    this.control = session.control;
    const { dataMs, commandMs, stall, maxTimeMs } = session.timeouts;
    this.clocks = new TransferClocks({ dataMs, commandMs, stall, maxTimeMs });
    this.promise = new Promise((resolve, reject) => { this.resolvePromise = resolve; this.rejectPromise = reject; });
    this.promise.catch(() => {}); // the caller awaits run(); avoid an unhandled rejection in between
    this.preliminary = new Promise(resolve => { this.preliminaryResolve = resolve; });
  }

  /** Whether any data moved: a transfer that moved data must not be retried from scratch. */
  get movedData(): boolean { return this.bytes > 0; }

  /** Settled, or failed: a data socket arriving now is not used. */
  private isOver(): boolean { return this.state === 'settled' || this.failure !== undefined; }

  private moveTo(next: TransferState): void {
    if (!NEXT_STATES[this.state].includes(next)) throw new Error(`internal: a transfer cannot go from ${this.state} to ${next}`);
    this.state = next;
  }

  async run(): Promise<FtpResponse> {
    this.clocks.armMaxTime(ms => this.fail(networkError({ connection: 'data', phase: 'transfer', failure: 'timeout',
      elapsedMs: ms, endpoint: this.data?.description,
      detail: `the transfer took longer than the maximum time of ${ms / 1000} s, after ${this.bytes} bytes (${maskOutgoingCommand(this.spec.command)})` }), 'data'));
    try {
      await this.start();
    } catch (e) {
      // Nothing runs on the wire for this transfer: settle its promise too (abort() waits on it).
      this.moveTo('settled');
      this.clocks.clearAll();
      this.rejectPromise(e as Error);
      throw e;
    }
    void this.readReplies();
    void this.runData();
    return this.promise;
  }

  /** Prepare the data connection, REST, and send the transfer command. */
  private async start(): Promise<void> {
    const { session, spec } = this;
    // MODE (when it changes) before the data connection: a passive TLS handshake starts as soon as that
    // connection opens, and the transfer command must follow it without another round trip in between
    // (pyftpdlib closes a data connection whose ClientHello came before the command).
    this.wireMode = await enterTransferMode(session, spec.mode);
    try {
      this.data = await prepareData(session, this.mode, this.preparing.signal, this.wireBlocks());
    } catch (e) {
      throw this.failure ?? e; // abort() or the maximum time stopped the connect
    }
    if (this.data.mode === 'passive') {
      // The data TLS handshake starts now, concurrently with the transfer command (RFC 4217 s7 does not
      // order it after 150): ftp-srv answers 150 only once the handshake is done, vsftpd/proftpd/pure-ftpd
      // and ftpkit's server send 150 first and read the waiting ClientHello after it. runData() awaits it.
      this.opening = this.openDataSocket();
      this.opening.catch(() => {}); // runData() reports it; before the command is sent, start() fails instead
    }
    try {
      if (this.failure) throw this.failure; // abort() or the maximum time came while the data connection opened
      if (spec.restAt !== undefined && spec.restAt > 0) {
        const r = await session.command(`REST ${spec.restAt}`);
        if (r.code !== ReplyCode.PendingFurtherInformation) throw new FtpReplyError(r.code, r.message, `REST ${spec.restAt}`);
      }
      if (this.aborted) throw new FtpAbortedError(`${maskOutgoingCommand(spec.command)} aborted before it started`);
      if (this.failure) throw this.failure;
      this.control.write(spec.command);
      this.moveTo('running');
    } catch (e) {
      this.data.close();
      throw e;
    }
  }

  /**
   * A plain TYPE I download into a file the pipeline can write blocks into (local-files.ts): the data
   * socket reads straight into the pipeline's blocks (net/wire-blocks.ts). Not made here under TLS (the TLS
   * layer reads the TCP socket itself; the pipeline switches the TLS socket to the blocks once secured) and
   * not for an accepted socket (active mode: prepareData ignores it; the pipeline switches it too).
   */
  private wireBlocks(): WireBlocks | undefined {
    const { spec } = this;
    if (spec.direction !== 'download' || spec.ascii || !spec.sink || !blockWriterOf(spec.sink)) return undefined;
    const hooks = this.session.hooks;
    if (hooks?.wrapDataSocket && (!hooks.wrapsDataSockets || hooks.wrapsDataSockets())) return undefined;
    return new WireBlocks();
  }

  /** Abort the transfer (ABOR, RFC 959 s4.1.3); the run() promise rejects with FtpAbortedError. */
  abort(reason = 'the transfer was aborted'): void {
    if (this.state === 'settled' || this.aborted) return;
    this.aborted = true;
    this.failure ??= new FtpAbortedError(reason);
    if (this.state === 'preparing') {
      // Nothing sent yet: stop a data connect in progress; start() checks before sending anything.
      this.preparing.abort();
      return;
    }
    this.stopData();
    if (this.final) {
      // The server already finished: nothing to abort on its side.
      this.settle();
    } else {
      this.drain();
      this.sendAbor();
    }
  }

  private sendAbor(): void {
    if (this.aborSent || this.control.closed) return;
    this.aborSent = true;
    try {
      this.control.write('ABOR');
    } catch (e) {
      this.fail(e as Error, 'control');
      return;
    }
    this.armFinalTimer('the replies to ABOR');
  }

  private armFinalTimer(what: string): void {
    this.clocks.armFinal(elapsedMs => {
      this.control.fail(networkError({ connection: 'control', phase: 'transfer', failure: 'timeout',
        elapsedMs, detail: `no reply: waiting for ${what} (${maskOutgoingCommand(this.spec.command)})` }));
    });
  }

  private async readReplies(): Promise<void> {
    const { control } = this;
    const commandTimeoutMs = this.session.timeouts.commandMs;
    const what = maskOutgoingCommand(this.spec.command);
    try {
      let r = await control.nextReply(commandTimeoutMs, 'command', what, what);
      while (isPreliminary(r.code)) {
        this.openingReply ??= r;
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
        if (!second) this.session.status('ABOR: the server sent a single reply for the transfer and ABOR');
      }
      this.clocks.clearFinal();
      if (!isPositive(r.code)) {
        // A server that cuts the data connection (reset/close) and then says why (552 quota, 451 disk
        // error) is best explained by its reply; our own timeouts, and the 426 that answers our ABOR, are not.
        const dataSideFailure = this.failure instanceof FtpNetworkError && this.failure.connection === 'data'
          && (this.failure.failure === 'reset' || this.failure.failure === 'closed')
          && r.code !== ReplyCode.ConnectionClosedTransferAborted;
        const err = new FtpReplyError(r.code, r.message, what, dataSideFailure ? { cause: this.failure } : undefined);
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
    const { spec } = this;
    let failedEnd: FailedEnd | undefined;
    try {
      // Active: the server connects after the transfer command; the TLS handshake starts on accept.
      const sock = await (this.opening ??= this.openDataSocket());
      if (this.isOver()) { sock.destroy(); return; }
      this.dataSocket = sock;
      this.clocks.watchStall(() => this.bytes, ({ moved, spanMs, rate }) => {
        const limit = this.clocks.limits.stall!;
        this.fail(networkError({ connection: 'data', phase: 'transfer', failure: 'stalled', elapsedMs: spanMs,
          endpoint: this.data?.description,
          detail: `${moved} bytes in the last ${(spanMs / 1000).toFixed(1)} s (${rate.toFixed(1)} B/s), below the minimum of `
            + `${limit.minBytesPerSecond} B/s over ${limit.seconds} s, after ${this.bytes} bytes (${maskOutgoingCommand(this.spec.command)})` }), 'data');
      });
      // TYPE A: progress counts the local side (its total is the local size or SIZE, so wire bytes would
      // pass 100%); this.bytes, the stall watch and the idle deadline count the wire.
      const common = { wire: sock, type: spec.ascii ? 'ascii' as const : 'binary' as const,
        idleTimeoutMs: this.clocks.limits.dataMs, endpoint: this.data?.description,
        onWireBytes: (n: number) => { this.bytes += n; }, onLocalBytes: (n: number) => { this.fileBytes += n; spec.progress?.add(n); },
        mode: pipelineModeOf(this.wireMode), startOffset: spec.restAt ?? 0,
        ...(spec.direction !== 'list' && this.session.options.limitRate !== undefined ? { throttle: transferThrottle(this.session.options.limitRate) } : {}) };
      const run = runDataPipeline(spec.direction === 'upload'
        ? { direction: 'send', source: spec.source!, ...common }
        : { direction: 'receive', sink: spec.sink!, endSink: spec.endSink ?? true, ...common });
      try {
        await run.done;
      } catch (e) {
        failedEnd = run.failedEnd;
        throw e;
      }
      this.clocks.stopDataClocks();
      this.dataDone = true;
      reportWireBytes(this.session, this.wireMode, maskOutgoingCommand(spec.command), this.fileBytes, this.bytes);
      if (!this.final) this.armFinalTimer('the final reply after the data connection closed');
      this.settle();
    } catch (e) {
      this.clocks.stopDataClocks();
      if (this.state === 'settled') return;
      if (this.aborted) { this.settle(); return; }
      this.fail(this.classifyDataError(e as Error, failedEnd), 'data');
    }
  }

  /** The data socket, wrapped by the session's hook (TLS under PROT P, see tls.ts) when there is one. */
  private async openDataSocket(): Promise<SocketLike> {
    const { session, spec, mode } = this;
    const raw = await this.data!.socket();
    raw.setNoDelay?.(true);
    const wrap = session.hooks?.wrapDataSocket;
    if (!wrap || this.isOver()) return raw;
    return wrap.call(session.hooks, raw, { session, direction: spec.direction, preliminary: this.preliminary, mode,
      reportTls: tls => session.events.dataTls({ ...tls, mode, direction: spec.direction }) });
  }

  private classifyDataError(e: Error, failedEnd: FailedEnd | undefined): Error {
    if (e instanceof FtpError) return e;
    const side = this.spec.direction === 'upload' ? 'source' : 'destination';
    if (failedEnd === 'wire') {
      const failure = classifySocketError(e);
      return networkError({ connection: 'data', phase: 'transfer', failure: failure === 'other' ? 'closed' : failure,
        endpoint: this.data?.description, cause: e, detail: `after ${this.bytes} bytes (${maskOutgoingCommand(this.spec.command)})` });
    }
    return new FtpUsageError(`local ${side} failed: ${e.message}`, { cause: e });
  }

  private stopData(): void {
    this.clocks.stopDataClocks();
    this.dataSocket?.destroy();
    this.data?.close();
  }

  /** One half is over, or the transfer failed: wait for the other half (the control side) to finish. */
  private drain(): void {
    if (this.state === 'running') this.moveTo('draining');
  }

  /** A failure on one side: release the data side; resynchronise the control connection if it is alive. */
  private fail(err: Error, side: 'data' | 'control'): void {
    if (this.state === 'settled') return;
    this.failure ??= err;
    if (this.state === 'preparing') {
      // Nothing sent yet (the maximum time ran out while the data connection opened): start() throws it.
      this.preparing.abort();
      return;
    }
    this.stopData();
    if (side === 'control' || this.control.closed) {
      this.settle(true);
      return;
    }
    this.drain();
    if (!this.final) this.sendAbor(); // then readReplies() settles after the final + ABOR replies
    else this.settle();
  }

  private settle(force = false): void {
    if (this.state === 'settled') return;
    const failed = this.failure !== undefined;
    if (!force) {
      // Success needs both halves; a failure needs the control side back in step (final reply read).
      if (!failed && !(this.dataDone && this.final)) { this.drain(); return; }
      if (failed && !this.final && !this.control.closed) return;
      if (failed && this.final && this.aborSent && this.clocks.finalPending) return; // ABOR reply still due
    }
    this.moveTo('settled');
    this.clocks.clearAll();
    for (const c of this.cleanups.splice(0)) c();
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
