/**
 * One data pipeline for both sides: the bytes of one transfer between the data connection (the wire) and
 * the local end (a storage stream on the server, a file or the caller's stream on the client), built from
 * {direction, type, mode, metering, idle timeout}, so metering and timing happen in one place and the speed
 * work has one place to optimise.
 *
 * Owns: the order of the stages (net/data-stages.ts, the TYPE A codec of protocol/codecs/), counting the
 * bytes on each side, the idle deadline, and telling which end failed first. Not here: opening the data
 * connection, replies, events and retries, which stay with each side's transfer.
 *
 * Stages (MODE S, RFC 959 s3.4.1: the bytes as they are, the end of data is the sender's close):
 *   send:    local source -> [local meter -> TYPE A encoder] -> wire writer (counts the wire)
 *   receive: wire -> wire meter -> [TYPE A decoder -> local meter] -> local sink (or a forwarder, end: false)
 * The bracketed stages exist only in TYPE A (RFC 959 s3.1.1.1); in TYPE I the local side counts the same
 * bytes as the wire. A rate limit sits next to the wire meter.
 *
 * MODE Z (deflate) and MODE B (block) add their codec at the wire's side of the TYPE A codec
 * (protocol/codecs/mode-z.ts, mode-b.ts): send: ... -> [TYPE A encoder] -> deflate | block encoder -> wire
 * writer; receive: wire meter -> inflate | block decoder -> [TYPE A decoder] -> local meter -> sink. Those
 * modes always take the stages (the local meter counts the file's bytes, the wire meter the coded ones);
 * their decoders fail with FtpStreamCodecError, a failure of the 'wire' end (the peer's data is bad).
 *
 * TYPE I, the hot path, takes no stages at all (net/data-direct.ts): a file source with a block reader
 * (net/block-source.ts) is read into two reused 1 MiB blocks with read-ahead, and received bytes are
 * written straight into the sink in corked batches of 1 MiB; the bytes are counted where they are written.
 * A plain socket into a sink with a block writer (a file: the client's downloads, the server's uploads)
 * skips even the chunks: its reads land in the pipeline's own 1 MiB blocks (net/wire-blocks.ts), the
 * client's socket created for it, the server's accepted one switched (net/socket-user-buffer.ts).
 */
import type { Socket } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FtpAbortedError } from '../errors.js';
import { TypeADecoder, TypeAEncoder } from '../protocol/codecs/type-a.js';
import { modeDecoder, modeEncoder, type ModeCodecOptions } from './data-modes.js';
import { blockReaderOf, blockWriterOf } from './block-source.js';
import { networkError } from './connect.js';
import { mapAdmission, receiveDirect, sendBlocks, type Admission, type DirectHooks } from './data-direct.js';
import { ByteMeter, StreamForwarder, WireWriter } from './data-stages.js';
import { ThrottleStage, type Throttle } from './token-bucket.js';
import { WireBlocks, wireBlocksOf } from './wire-blocks.js';

/** Representation type (RFC 959 s3.1.1): TYPE I (image, the bytes as they are) or TYPE A (line ends converted). */
export type DataType = 'binary' | 'ascii';
/** Transmission mode (RFC 959 s3.4): MODE S (stream), MODE Z (deflate), MODE B (block). */
export type DataMode = 'stream' | 'deflate' | 'block';
/** Which end made the transfer fail first. */
export type FailedEnd = 'wire' | 'local' | 'idle' | 'aborted';

interface CommonOptions extends ModeCodecOptions {
  /** The data connection, connected (and TLS-wrapped under PROT P). Destroyed when the pipeline fails. */
  wire: Duplex;
  /** Default 'binary'. */
  type?: DataType;
  /** Default 'stream'. */
  mode?: DataMode;
  /**
   * Fail when no byte moved on the wire for this long (0 or undefined: never), in both directions, also
   * when the local source is the one that stalls. The failure is an FtpNetworkError (connection 'data',
   * phase 'transfer', failure 'timeout').
   */
  idleTimeoutMs?: number;
  /** Where the data connection goes, for messages (e.g. "127.0.0.1:50012 (EPSV port on the control host)"). */
  endpoint?: string;
  /** Called for each chunk that moved on the wire (after TYPE A encoding when sending, before decoding when receiving). */
  onWireBytes?: (bytes: number) => void;
  /** Called for each chunk that moved at the local end (the file's bytes: no CR added or removed). */
  onLocalBytes?: (bytes: number) => void;
  /** Abort the transfer: the pipeline fails with FtpAbortedError (failedEnd 'aborted'). */
  signal?: AbortSignal;
  /**
   * A bandwidth cap on the wire's bytes (net/token-bucket.ts). Absent: no cap, and no stage or check for it
   * on any path.
   */
  throttle?: Throttle;
}

export interface SendOptions extends CommonOptions {
  direction: 'send';
  source: Readable;
}

export interface ReceiveOptions extends CommonOptions {
  direction: 'receive';
  sink: Writable;
  /**
   * End the sink when the data ends (default true). false: a stream the caller keeps for more (the
   * client's end: false); it is then neither ended, nor destroyed on failure, nor left with listeners.
   */
  endSink?: boolean;
  /**
   * Asked before each received chunk reaches the sink, with its size at the local end: an error refuses the
   * chunk (it is not written) and fails the transfer at the local end with that error (a quota, a size limit);
   * a promise holds the wire until it answers (data-direct.ts Admission).
   */
  admit?: (bytes: number) => Admission;
}

export type DataPipelineOptions = SendOptions | ReceiveOptions;

export interface DataPipeline {
  /**
   * Resolves when the data is complete: sending, every byte was accepted by the wire and its end queued;
   * receiving, the wire ended and the sink took every byte. Rejects with the error of the end that failed
   * first (as that end reported it), the idle FtpNetworkError, or FtpAbortedError.
   */
  readonly done: Promise<void>;
  /** Bytes moved on the wire so far. */
  readonly wireBytes: number;
  /** Bytes moved at the local end so far (equal to wireBytes in TYPE I). */
  readonly localBytes: number;
  /** Once done rejected: which end failed first. */
  readonly failedEnd: FailedEnd | undefined;
}

/** Build the pipeline for one transfer and start it. */
export function runDataPipeline(options: DataPipelineOptions): DataPipeline {
  return new DataPipelineRun(options);
}

class DataPipelineRun implements DataPipeline {
  wireBytes = 0;
  localBytes = 0;
  failedEnd: FailedEnd | undefined;
  readonly done: Promise<void>;
  /** The first failure seen; it becomes failedEnd only if the pipeline fails (a late wire error may not). */
  private first: { end: FailedEnd; err: unknown } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Until when (performance.now() ms) the throttle holds the transfer back: no idle failure before then. */
  private heldUntil = 0;
  private forwarder: StreamForwarder | undefined;
  /** Sending: the last stage, which alone writes into the wire. */
  private toWire: WireWriter | undefined;
  private readonly cleanups: Array<() => void> = [];
  /** Rejects on abort or at the idle deadline: stops the TYPE I paths, which are no stream pipeline. */
  private readonly stopped: Promise<never>;
  private stop!: (err: unknown) => void;
  /** options.throttle, noting its waits for the idle deadline (heldBy). */
  private readonly throttle: Throttle | undefined;

  constructor(private readonly options: DataPipelineOptions) {
    this.stopped = new Promise<never>((_, reject) => { this.stop = reject; });
    this.stopped.catch(() => { /* observed by the TYPE I paths */ });
    this.throttle = options.throttle && this.heldBy(options.throttle);
    this.done = this.run();
  }

  private get ascii(): boolean { return this.options.type === 'ascii'; }
  /** The local bytes differ from the wire's (TYPE A, or a MODE Z/B codec): two meters, no direct path. */
  private get transformed(): boolean { return this.ascii || (this.options.mode ?? 'stream') !== 'stream'; }

  private countWire = (bytes: number): void => {
    this.wireBytes += bytes;
    this.idleTimer?.refresh();
    this.options.onWireBytes?.(bytes);
    if (!this.transformed) this.countLocal(bytes);
  };

  private countLocal = (bytes: number): void => {
    this.localBytes += bytes;
    this.options.onLocalBytes?.(bytes);
  };

  /** Receiving: the caller's admit(); a refusal is the local end's failure. */
  private admitLocal = (bytes: number): Admission => {
    const answer = this.options.direction === 'receive' ? this.options.admit?.(bytes) : undefined;
    return mapAdmission(answer, refused => {
      if (refused) this.noteFailure('local', refused);
      return refused;
    });
  };

  /** The ByteMeter stage of a transformed receive: admitted bytes are counted at the local end. */
  private admitThenCount(bytes: number): Admission {
    return mapAdmission(this.admitLocal(bytes), refused => {
      if (!refused) this.countLocal(bytes);
      return refused;
    });
  }

  /** The first end to fail names the cause: pipeline() then destroys the other stages with that same error. */
  private noteFailure(end: FailedEnd, err: unknown): void {
    this.first ??= { end, err };
    if (end === 'aborted' || end === 'idle') this.stop(err);
  }

  private async run(): Promise<void> {
    const { options } = this;
    const { wire } = options;
    // Listeners before pipeline()'s own, so the first 'error' event names the origin. The wire's stays: a
    // later error on a socket without a listener would be thrown.
    wire.on('error', err => this.noteFailure('wire', err));
    const local = options.direction === 'send' ? options.source : options.sink;
    const onLocalError = (err: Error): void => this.noteFailure('local', err);
    local.once('error', onLocalError);
    this.cleanups.push(() => local.off('error', onLocalError));
    this.armIdle();
    const onAbort = (): void => this.noteFailure('aborted', new FtpAbortedError(abortReason(options.signal)));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.cleanups.push(() => options.signal?.removeEventListener('abort', onAbort));
    const direct = this.directPath();
    try {
      let running: Promise<void>;
      if (direct) {
        running = direct();
      } else {
        running = pipeline(this.stages(), { signal: options.signal });
        // A socket made to read into blocks (the client's, wire-blocks.ts) in a transfer that does not take
        // them (TYPE A): its reads become 'data' events for the stages.
        wireBlocksOf(wire)?.asDataEvents(wire);
      }
      await running;
    } catch (err) {
      // No end reported an error event: a stage did (the forwarder: the caller's stream closed; the wire
      // writer or a premature close: the data connection).
      this.noteFailure(this.forwarder?.failure === err ? 'local' : 'wire', err);
      wire.destroy();
      // pipeline() destroys its streams on failure; the direct send path leaves that to here (the receive
      // path destroys a sink it owns itself).
      if (direct && options.direction === 'send') options.source.destroy();
      this.failedEnd = this.first!.end;
      throw this.first!.err;
    } finally {
      clearTimeout(this.idleTimer);
      for (const cleanup of this.cleanups.splice(0)) cleanup();
    }
  }

  /** The TYPE I path without stages (net/data-direct.ts), when it applies. */
  private directPath(): (() => Promise<void>) | undefined {
    const { options } = this;
    if (this.transformed) return undefined;
    const hooks: DirectHooks = { count: this.countWire, fail: (end, err) => this.noteFailure(end, err), stopped: this.stopped, admit: this.admitLocal };
    if (this.throttle) hooks.throttle = this.throttle;
    if (options.direction === 'receive') {
      const blocks = wireBlocksOf(options.wire);
      const writer = blockWriterOf(options.sink);
      const endSink = options.endSink ?? true;
      // A plain TYPE I transfer into a file: read from the socket straight into blocks (wire-blocks.ts): the
      // client's socket was made for it; another one (the server's accepted data connection) is switched
      // now (a TLS socket too, its decrypted records), unless it cannot be (the 'data' path below).
      if (writer && endSink) {
        if (blocks) return () => blocks.receive(options.wire as Socket, options.sink, writer, hooks);
        return () => {
          const switched = WireBlocks.forAccepted(options.wire);
          if (switched) return switched.receive(options.wire as Socket, options.sink, writer, hooks);
          return receiveDirect(options.wire, options.sink, endSink, hooks);
        };
      }
      return () => {
        const receiving = receiveDirect(options.wire, options.sink, endSink, hooks);
        blocks?.asDataEvents(options.wire);
        return receiving;
      };
    }
    const reader = blockReaderOf(options.source);
    if (!reader) return undefined;
    return async () => {
      await sendBlocks(options.wire, reader, hooks);
      options.source.destroy(); // releases the file the blocks were read from
    };
  }

  private stages(): Array<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream> {
    const { options } = this;
    const capped = this.throttle ? [new ThrottleStage(this.throttle)] : [];
    const coded = options.mode === 'deflate' || options.mode === 'block';
    if (options.direction === 'send') {
      const toWire = this.toWire = new WireWriter(options.wire, this.countWire);
      if (!this.transformed) return [options.source, ...capped, toWire];
      const typeA = this.ascii ? [new TypeAEncoder()] : [];
      const encoder = coded ? [modeEncoder(options.mode as 'deflate' | 'block', options, this.ascii)] : [];
      return [options.source, new ByteMeter(this.countLocal), ...typeA, ...encoder, ...capped, toWire];
    }
    const sink = options.endSink ?? true ? options.sink : (this.forwarder = new StreamForwarder(options.sink));
    const fromWire = new ByteMeter(this.countWire);
    if (!this.transformed) return [options.wire, fromWire, ...capped, sink];
    const decoder = coded ? [modeDecoder(options.mode as 'deflate' | 'block', options, this.ascii)] : [];
    const typeA = this.ascii ? [new TypeADecoder()] : [];
    return [options.wire, fromWire, ...capped, ...decoder, ...typeA, new ByteMeter(b => this.admitThenCount(b)), sink];
  }

  /**
   * options.throttle, noting how long it holds the transfer back: a wait of our own making is no idle
   * peer (a 64 KiB chunk under a 1 KiB/s cap waits 64 s, longer than a short idle deadline).
   */
  private heldBy(t: Throttle): Throttle {
    return {
      pieceBytes: () => t.pieceBytes(),
      delay: (bytes: number): number => {
        const ms = t.delay(bytes);
        if (ms > 0) this.heldUntil = Math.max(this.heldUntil, performance.now() + ms);
        return ms;
      },
    };
  }

  private armIdle(): void {
    const ms = this.options.idleTimeoutMs ?? 0;
    if (ms <= 0) return;
    const onIdle = (): void => {
      // Held back by the throttle: the deadline counts from the end of that wait (never sooner than ms:
      // refresh() restarts a timer with the delay it was armed with).
      const held = this.heldUntil + ms - performance.now();
      if (held > 0) { this.idleTimer = setTimeout(onIdle, Math.max(held, ms)); return; }
      const err = networkError({ connection: 'data', phase: 'transfer', failure: 'timeout', elapsedMs: ms,
        endpoint: this.options.endpoint, detail: `no data moved for ${ms} ms after ${this.wireBytes} bytes` });
      this.noteFailure('idle', err);
      this.options.wire.destroy(err);
      // Sending, the wire is not a stage: a source that stalls would leave pipeline() waiting for ever, and
      // a wire reset meanwhile is only noted (WireWriter fails on a failed write, so that a peer closing
      // right after the last byte is no failure). The idle deadline ends both cases here.
      this.toWire?.destroy(err);
    };
    this.idleTimer = setTimeout(onIdle, ms);
  }
}

function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason.message;
  return 'the transfer was aborted';
}
