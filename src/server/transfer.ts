/**
 * Running one transfer over a data channel.
 *
 * Owns: the sequence 150 -> data connection -> stream the bytes (with TYPE A conversion, byte counting,
 * backpressure, idle timeout) -> final reply, and the events 'upload' / 'download' / 'transfer-failed'.
 * A transfer is complete only when the data is done AND the reply is sent: 226 goes out after the data
 * socket has flushed everything (downloads) or the storage stream has finished (uploads), never before.
 * ABOR (RFC 959 s4.1.3) aborts it: the transfer answers 426, then the ABOR handler answers 226.
 *
 * A transfer talks to a small TransferHost (send a reply, emit events, options), never to the session.
 */
import type { Socket } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import { FtpNetworkError, FtpStorageError, FtpTlsError } from '../errors.js';
import { dataTlsFailureReply } from './tls/server-tls.js';
import type { Admission } from '../net/data-direct.js';
import { runDataPipeline, type DataPipeline } from '../net/data-pipeline.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { reply } from '../protocol/reply.js';
import type { Reply } from '../protocol/reply.js';
import type { ResolvedServerOptions } from './resolved-options.js';
import type { DataChannel } from './data/data-channel.js';
import type { TransferEvent, TransferFailedEvent } from './events.js';
import { storageErrorReply } from './storage-replies.js';
import type { TransferThrottle } from './limits/bandwidth.js';
import { codecFailureReply, compressedBusyReply, modeCodecOptions, pipelineMode, type TransferModeSettings } from './transfer-modes.js';

/** A transfer to run over the session's data channel; the session sends 150, moves the data, then 226. */
export interface TransferRequest {
  kind: 'transfer';
  direction: 'download' | 'upload' | 'list';
  /** Virtual path (file, or listed directory). */
  path: string;
  /** REST offset the transfer starts at. */
  offset: number;
  /** For downloads and listings: what to send. Already open (storage errors became replies before 150). */
  source?: Readable;
  /** For uploads: where to write. Already open. */
  sink?: Writable;
  /** Convert line ends (TYPE A, RFC 959 s3.1.1.1). Listings are produced with CRLF already. */
  ascii: boolean;
  /** Text of the 150 reply. */
  openingText: string;
  /** Downloads: the file's size, when known (a status page's progress bar: src/server/admin/). */
  size?: number;
  /** Text of the 226 reply on success. */
  completeText?: string;
  /** Uploads: a limit on what may be stored (server/quota/upload-guard.ts: quotas, the size of one upload). */
  limit?: UploadLimit;
}

/**
 * A limit an upload is held to while its bytes arrive. The refusal is an error of the local end (an
 * FtpStorageError 'quota': 552, RFC 959 s4.2), so the storage stream is destroyed as for any storage failure.
 */
export interface UploadLimit {
  /**
   * Before each received chunk is stored (its size in stored bytes): an error refuses it and ends the
   * transfer; a promise holds the data connection until it answers (net/data-direct.ts Admission).
   */
  admit(bytes: number): Admission;
  /**
   * Once the upload is over and its storage stream closed, before the final reply: whether it completed,
   * and how many bytes were stored. Must not throw.
   */
  settle(result: { ok: boolean; bytes: number }): Promise<void>;
}

/** What a transfer needs from the session that runs it. */
export interface TransferHost {
  readonly options: ResolvedServerOptions;
  /** Fields every transfer event carries: the session, the client's address, the user. */
  eventBase(): Pick<TransferEvent, 'sessionId' | 'remoteAddress' | 'user' | 'anonymous'>;
  /** Send a reply on the control connection (the session's one writer); resolves once handed to the socket. */
  send(r: Reply): Promise<void>;
  /** 'upload' or 'download' after a transfer completed. */
  transferred(kind: 'upload' | 'download', event: TransferEvent): void;
  transferFailed(event: TransferFailedEvent): void;
  /** A 'warning' for the operator. */
  warn(code: string, message: string): void;
  /** A 'session-error'. */
  reportError(err: unknown): void;
  /** The bandwidth caps of an upload or download (limits/bandwidth.ts); released when the transfer ends. */
  throttle?(direction: 'upload' | 'download'): TransferThrottle;
  /** The session's MODE (and MODE Z level) for this transfer (transfer-modes.ts). Absent: stream. */
  modeSettings?(): TransferModeSettings;
  /**
   * A slot for a MODE Z transfer (limits.maxCompressedTransfers), released when it ends; undefined when
   * the server runs its maximum already: the transfer is refused with 450 before its 150.
   */
  compressedSlot?(): (() => void) | undefined;
}

export interface RunningTransfer {
  readonly direction: TransferRequest['direction'];
  readonly path: string;
  readonly offset: number;
  readonly dataMode: 'passive' | 'active';
  readonly startedAt: number;
  /** The file's size, when the request knew it (TransferRequest.size). */
  readonly size: number | undefined;
  /** Bytes moved over the data connection so far. */
  readonly bytes: number;
  /** Abort; resolves once the transfer's own final reply (426) has been sent. */
  abort(reason: string): Promise<void>;
  /** Settles with the final reply after it was sent. Never rejects. */
  readonly done: Promise<Reply>;
}

class AbortedError extends Error {}

/** How long a failed transfer waits for its storage stream's cleanup before it answers anyway. */
const SINK_CLEANUP_MS = 5_000;

export function runTransfer(host: TransferHost, req: TransferRequest, channel: DataChannel): RunningTransfer {
  const controller = new AbortController();
  let abortReason: string | undefined;
  const startedAt = Date.now();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AbortedError(abortReason));
  });
  aborted.catch(() => { /* observed through Promise.race */ });

  let pipelineRun: DataPipeline | undefined;
  // A storage stream's failure is observed through the pipeline (data.done) and destroyStorage; one that a
  // stream reports after the pipeline let go of it (a sink whose cleanup, e.g. removing an atomic upload's
  // temporary file, ends after its failed write was seen) must not become an uncaught exception.
  const ignoreLateError = (): void => {};
  req.source?.on('error', ignoreLateError);
  req.sink?.on('error', ignoreLateError);
  let throttle: TransferThrottle | undefined;
  const modeSettings: TransferModeSettings = host.modeSettings?.() ?? { mode: 'S', deflateLevel: 6 };
  let releaseCompressed: (() => void) | undefined;

  /**
   * Destroy the storage streams and wait (bounded) until the sink has closed: an upload's cleanup (an atomic
   * upload's temporary file removed, an APPE cut back) is done before the failure reply, so a client that
   * lists right after 426 sees the folder as it was.
   */
  const destroyStorage = async (): Promise<void> => {
    req.source?.destroy();
    const sink = req.sink;
    if (!sink) return;
    const closed = sink.closed ? Promise.resolve() : new Promise<void>(resolve => sink.once('close', () => resolve()));
    sink.destroy();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>(resolve => { timer = setTimeout(resolve, SINK_CLEANUP_MS).unref(); })]);
    clearTimeout(timer);
  };

  const base = (): TransferEvent => ({
    ...host.eventBase(),
    path: req.path,
    bytes: pipelineRun?.wireBytes ?? 0,
    durationMs: Date.now() - startedAt,
    offset: req.offset,
    dataMode: channel.kind,
    type: req.ascii ? 'ascii' : 'binary',
  });

  const fail = (reason: string, final: Reply): Reply => {
    host.transferFailed({ ...base(), direction: req.direction, reason });
    return final;
  };

  const run = async (): Promise<Reply> => {
    if (modeSettings.mode === 'Z' && host.compressedSlot) {
      releaseCompressed = host.compressedSlot();
      if (!releaseCompressed) {
        channel.discard();
        await destroyStorage();
        return fail('too many compressed transfers', compressedBusyReply());
      }
    }
    await host.send(reply(ReplyCode.FileStatusOk, req.openingText));
    let socket: Duplex;
    try {
      socket = await Promise.race([channel.connect(host.options.timeouts.dataConnectMs), aborted]);
    } catch (err) {
      channel.discard();
      await destroyStorage();
      if (err instanceof AbortedError) return fail(abortReason ?? 'aborted', reply(ReplyCode.ConnectionClosedTransferAborted, 'Transfer aborted'));
      // FTPS (PROT P): 522 when the data connection did not resume the control TLS session, 425 otherwise.
      if (err instanceof FtpTlsError) return fail(`data connection TLS: ${err.message}`, dataTlsFailureReply(err));
      const timedOut = err instanceof FtpNetworkError ? err.failure === 'timeout' : (err as NodeJS.ErrnoException).code === 'ETIMEDOUT';
      const why = timedOut ? 'timed out' : 'failed';
      // The operator learns the cause (e.g. binding source port 20 needs privileges); the client only 425.
      if (err instanceof FtpNetworkError && channel.kind === 'active') host.warn('active-connect-failed', err.message);
      return fail(`data connection ${why}`, reply(ReplyCode.CantOpenDataConnection, `Can't open data connection (${why})`));
    }

    // Big writes, few syscalls: no Nagle delay on the last partial segment.
    (socket as Partial<Socket>).setNoDelay?.(true);
    // Listings are not capped (proftpd's TransferRate and vsftpd's rates cap file transfers too).
    throttle = req.direction === 'list' ? undefined : host.throttle?.(req.direction);
    const common = { wire: socket, type: req.ascii ? 'ascii' as const : 'binary' as const,
      idleTimeoutMs: host.options.timeouts.dataIdleMs, signal: controller.signal, ...(throttle ? { throttle } : {}),
      mode: pipelineMode(modeSettings.mode), ...modeCodecOptions(modeSettings, req.offset, host.options.limits, r => void host.send(r)) };
    const data = runDataPipeline(req.direction === 'upload'
      ? { direction: 'receive', sink: req.sink as Writable, admit: req.limit && (n => req.limit!.admit(n)), ...common }
      : { direction: 'send', source: req.source as Readable, ...common });
    pipelineRun = data;
    try {
      await data.done;
    } catch (err) {
      // The data connection first (a sender blocked on a full window would meet the reset later, with data
      // still to send: curl then exits 55 instead of reading the 552), then the storage's cleanup.
      socket.destroy();
      await destroyStorage();
      if (abortReason !== undefined) return fail(abortReason, reply(ReplyCode.ConnectionClosedTransferAborted, 'Transfer aborted'));
      const codecReply = codecFailureReply(err);
      if (codecReply) return fail(`${(err as Error).message}`, codecReply);
      if (data.failedEnd === 'idle') return fail('data connection idle timeout', reply(ReplyCode.ConnectionClosedTransferAborted, 'Data connection timed out; transfer aborted'));
      if (data.failedEnd === 'local') {
        // Raw OS text stays in the event (for the operator), never on the wire.
        if (!(err instanceof FtpStorageError)) host.reportError(err);
        const kind = err instanceof FtpStorageError ? err.failure : 'io';
        return fail(`storage error: ${kind}`, storageErrorReply(err, req.path));
      }
      const code = (err as NodeJS.ErrnoException).code;
      return fail(`data connection lost${code ? ` (${code})` : ''}`,
        reply(ReplyCode.ConnectionClosedTransferAborted, 'Connection closed; transfer aborted'));
    }
    // Downloads: the source ended and the socket accepted every byte (net/data-stages.ts WireWriter), even if the client
    // closed the data connection first. Uploads: the client's EOF arrived and the storage stream finished.
    // Either way the data is done.
    socket.destroy();
    if (req.direction !== 'list') host.transferred(req.direction, base());
    return reply(ReplyCode.ClosingData, req.completeText ?? 'Transfer complete');
  };

  const done = (async () => {
    const final = await run().catch(err => {
      host.reportError(err);
      return reply(ReplyCode.LocalError, 'Local error in processing');
    });
    if (req.limit) {
      const ok = final.code === ReplyCode.ClosingData;
      // What a failed upload stored is known once its stream has closed (destroyStorage is a no-op wait when
      // a failure path above already destroyed it; the outer catch's path did not).
      if (!ok) await destroyStorage();
      await req.limit.settle({ ok, bytes: pipelineRun?.localBytes ?? 0 });
    }
    throttle?.release();
    releaseCompressed?.();
    await host.send(final);
    return final;
  })();

  return {
    direction: req.direction,
    path: req.path,
    offset: req.offset,
    dataMode: channel.kind,
    startedAt,
    size: req.size,
    get bytes() { return pipelineRun?.wireBytes ?? 0; },
    async abort(reason: string) {
      if (abortReason === undefined) {
        abortReason = reason;
        onAbort?.();
        controller.abort();
      }
      await done;
    },
    done,
  };
}
