/**
 * download() and upload() of FtpClient: everything around the transfer itself — local temporary files and
 * in-place resume, REST offsets (RFC 3659 s5), resume of uploads with SIZE + APPE, TYPE A/I, progress with
 * the total when known. The transfer itself (both halves, ABOR, fallback) is run-transfer.ts / transfer.ts.
 */
import type { Readable, Writable } from 'node:stream';
import { FtpAbortedError, FtpClosedError, FtpProtocolError, FtpReplyError, FtpUsageError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import type { DataMode } from './data-channel.js';
import { ProgressTracker } from './progress.js';
import { localSize, openLocalSink, openLocalSource, type LocalSink } from './local-files.js';
import { assertResumable, inspectLocalTarget, isSpecialKind, type LocalTarget } from './local-target.js';
import { keepLocalTime, keepRemoteTime } from './timestamps.js';
import type { VerifyOutcome } from './verify.js';
import { readSize } from './remote-ops.js';
import { runTransfer } from './run-transfer.js';
import { checkDownloadEnd } from './short-download.js';
import type { TransferModeChoice } from './options.js';
import type { WireMode } from './transfer-mode.js';
import type { ClientSession } from './session.js';

export type TransferType = 'binary' | 'ascii';

export interface DownloadOptions {
  /** Start at this byte offset (REST, RFC 3659 s5). */
  startAt?: number;
  /**
   * Continue a local file: start at its size (destination must be a path). The file is written in place, so
   * an interrupted resumable download leaves what arrived for the next attempt.
   */
  resume?: boolean;
  type?: TransferType;
  signal?: AbortSignal;
  /** End a destination stream when the transfer ends (default true). */
  end?: boolean;
  /** MODE S/Z/B or 'auto' (client/transfer-mode.ts); default the connection's transferMode, else S. */
  mode?: TransferModeChoice;
  /**
   * The remote file's size when the caller already knows it (a listing, as mirror does): progress and
   * resume use it instead of asking SIZE, one round trip less per file.
   */
  size?: number;
  /**
   * Check the file against the server's after the transfer (verify.ts: HASH, XSHA256..., else SIZE); a
   * difference is an FtpVerifyError and the file is not left under its name (docs/client.md#verification).
   * Needs a local file path.
   */
  verify?: boolean;
  /** Give the local file the server's modification time (MDTM, or `modifiedAt`). Default false. */
  preserveTime?: boolean;
  /** The remote modification time when the caller already knows it (a listing): no MDTM is sent. */
  modifiedAt?: Date;
  /** false: no 'progress' events for this transfer (the ranges of a segmented download report one total). */
  progress?: boolean;
  /** Hold the download to the size known for it (default: the client's `sizeCheck`, else true; short-download.ts). */
  sizeCheck?: boolean;
}

export interface UploadOptions {
  /** APPE instead of STOR. */
  append?: boolean;
  /** MODE S/Z/B or 'auto' (client/transfer-mode.ts); default the connection's transferMode, else S. */
  mode?: TransferModeChoice;
  /** REST with this offset before STOR; the source must already be positioned (a path is read from here). */
  startAt?: number;
  /** Continue a partial remote file: SIZE, then APPE the rest of the local file (source must be a path). */
  resume?: boolean;
  type?: TransferType;
  signal?: AbortSignal;
  /** Check the remote file against the local one after the upload (verify.ts); needs a local file path. */
  verify?: boolean;
  /** Give the remote file the local file's modification time (MFMT, where the server has it). Default false. */
  preserveTime?: boolean;
}

export interface TransferResult {
  /** Bytes moved on the data connection in this call. */
  bytes: number;
  /** Offset the transfer started at. */
  startOffset: number;
  /** The final reply (226/250); undefined when nothing had to be transferred. */
  reply?: FtpResponse;
  /** The data-connection mode that carried it. */
  mode?: DataMode;
  /** Bytes of the file in this call (`bytes` counts the wire: they differ in TYPE A and MODE Z/B). */
  fileBytes?: number;
  /** The transmission mode it ran in (S, Z or B). */
  transferMode?: WireMode;
  /** How the file was checked (`verify`), and the value both sides agree on. */
  verified?: VerifyOutcome;
  /** The modification time given to the destination (`preserveTime`). */
  modifiedAt?: Date;
  /** Connections that carried a segmented download (`segments`). */
  segments?: number;
}

export async function downloadFile(session: ClientSession, remotePath: string, destination: string | Writable,
  opts: DownloadOptions): Promise<TransferResult> {
  const type = opts.type ?? session.options.transferType ?? 'binary';
  let startAt = opts.startAt ?? 0;
  if (opts.resume && typeof destination !== 'string') throw new FtpUsageError('resume needs a local file path as destination');
  if ((opts.resume || startAt > 0) && type === 'ascii') throw new FtpUsageError('resuming needs binary type: TYPE A offsets are not byte offsets');
  if (opts.verify && (typeof destination !== 'string' || type === 'ascii')) {
    throw new FtpUsageError('verify needs a local file path as destination and binary type (TYPE A changes the bytes)');
  }
  // What the destination is decides how it is written (local-target.ts); decided before anything is sent.
  const target = typeof destination === 'string' ? await inspectLocalTarget(destination) : undefined;
  if (target && (opts.resume || startAt > 0)) assertResumable(target);
  if (opts.verify && target && isSpecialKind(target.kind)) throw new FtpUsageError(`verify needs a regular file: ${target.path} is not one`);
  if (opts.resume) startAt = target!.size;
  let total = opts.size;
  if (total === undefined && session.features.has('SIZE') && (opts.resume || session.events.wantsProgress)) {
    total = await readSize(session, remotePath).catch(e => { if (e instanceof FtpReplyError) return undefined; throw e; });
  }
  if (opts.resume && total !== undefined && startAt > total) {
    // Not a partial copy of the remote file (curl: "bad download resume", exit 36): appending nothing and
    // reporting success would leave a wrong file in place. Nothing is written.
    throw new FtpUsageError(`${destination as string} has ${startAt} bytes, more than the ${total} of ${remotePath}: `
      + 'it is not a partial copy of it, so it cannot be resumed (remove it, or download without resume)');
  }
  if (opts.resume && total !== undefined && startAt === total) {
    session.status(`${remotePath}: the local file already has ${startAt} of ${total} bytes: nothing to download`);
    return { bytes: 0, startOffset: startAt };
  }
  await session.ensureType(type === 'ascii' ? 'A' : 'I');
  const local = target ? await openSink(session, target, startAt, !!opts.resume || startAt > 0, opts.signal) : undefined;
  const sink = local ? local.stream : destination as Writable;
  const progress = opts.progress === false ? undefined
    : new ProgressTracker(e => session.events.progress(e), { direction: 'download', path: remotePath, startOffset: startAt, total });
  let committed = false;
  try {
    const { reply, bytes, mode, fileBytes, transferMode, openingReply } = await runTransfer(session, () => ({
      command: `RETR ${remotePath}`, direction: 'download', restAt: startAt, sink, endSink: local ? true : opts.end ?? true,
      ascii: type === 'ascii', progress, mode: opts.mode,
    }), remotePath, opts.signal);
    // A data connection cut early with a FIN still gets a 226: the size known beforehand tells (short-download.ts).
    if (opts.sizeCheck ?? session.options.sizeCheck ?? true) await checkDownloadEnd(session, { remotePath, startAt, fileBytes, knownSize: total, openingReply, finalCode: reply.code, ascii: type === 'ascii' });
    let verified: VerifyOutcome | undefined;
    const check = opts.verify && target && !isSpecialKind(target.kind)
      ? async (written: string) => { verified = await (await import('./verify.js')).verifyFile(session, remotePath, written); } : undefined;
    committed = true;
    await local?.commit(check);
    const modifiedAt = opts.preserveTime && target && !isSpecialKind(target.kind)
      ? await keepRemoteTime(session, remotePath, target.realPath, opts.modifiedAt) : undefined;
    return { bytes, startOffset: startAt, reply, mode, fileBytes, transferMode, ...(verified ? { verified } : {}), ...(modifiedAt ? { modifiedAt } : {}) };
  } catch (e) {
    // commit() cleans up after a failed check itself.
    if (!committed) await local?.discard();
    throw e;
  }
}

/** Open the local side; a wait for a FIFO's reader ends with the caller's signal or when the client is destroyed. */
async function openSink(session: ClientSession, target: LocalTarget, startAt: number, inPlace: boolean,
  signal: AbortSignal | undefined): Promise<LocalSink> {
  // The session's lifetime ends when the client is destroyed (Ctrl-C in the CLI): that ends the wait too.
  const destroyed = session.lifetime;
  try {
    return await openLocalSink(target, startAt, inPlace, {
      signal: signal ? AbortSignal.any([signal, destroyed]) : destroyed,
      onWaitingForReader: () => session.status(`${target.path} is a FIFO with no reader yet: waiting for one to open it`),
    });
  } catch (e) {
    if (destroyed.aborted) throw new FtpClosedError(`the client was destroyed while waiting for a reader of ${target.path}`, { cause: e });
    if (signal?.aborted) throw new FtpAbortedError(`the download was aborted while waiting for a reader of ${target.path}`, { cause: e });
    throw e;
  }
}

export async function uploadFile(session: ClientSession, source: string | Readable, remotePath: string,
  opts: UploadOptions): Promise<TransferResult> {
  const type = opts.type ?? session.options.transferType ?? 'binary';
  let startAt = opts.startAt ?? 0;
  let append = !!opts.append;
  if (opts.resume && typeof source !== 'string') throw new FtpUsageError('resume needs a local file path as source');
  if ((opts.resume || startAt > 0) && type === 'ascii') throw new FtpUsageError('resuming needs binary type: TYPE A offsets are not byte offsets');
  if (opts.verify && (typeof source !== 'string' || type === 'ascii')) {
    throw new FtpUsageError('verify needs a local file path as source and binary type (TYPE A changes the bytes)');
  }
  const total = typeof source === 'string' ? await localSize(source) : undefined;
  if (opts.resume) {
    await session.ensureType('I');
    const r = await session.command(`SIZE ${remotePath}`);
    // No such file yet (550): start from the beginning.
    startAt = r.code === ReplyCode.FileStatus ? Number(r.message.trim()) : 0;
    if (!Number.isSafeInteger(startAt) || startAt < 0) throw new FtpProtocolError(`unusable SIZE reply: ${r.message}`);
    if (total !== undefined && startAt >= total) {
      session.status(`${remotePath}: the server already has ${startAt} of ${total} bytes: nothing to upload`);
      return { bytes: 0, startOffset: startAt };
    }
    // APPE is more widely supported than REST before STOR (RFC 959 s4.1.3 vs RFC 3659 s5).
    if (startAt > 0) {
      append = true;
      session.status(`resuming the upload of ${remotePath} at byte ${startAt} with APPE`);
    }
  }
  await session.ensureType(type === 'ascii' ? 'A' : 'I');
  const progress = new ProgressTracker(e => session.events.progress(e), { direction: 'upload', path: remotePath, startOffset: startAt, total });
  let opened: Readable | undefined;
  try {
    const { reply, bytes, mode, fileBytes, transferMode } = await runTransfer(session, async () => {
      // A retry (fallback) reopens a local file; a caller's stream was not consumed by the failed attempt.
      if (typeof source === 'string') opened?.destroy();
      opened = typeof source === 'string' ? await openLocalSource(source, startAt) : source;
      return {
        command: `${append ? 'APPE' : 'STOR'} ${remotePath}`, direction: 'upload' as const,
        restAt: append ? undefined : startAt, source: opened, ascii: type === 'ascii', progress, mode: opts.mode,
      };
    }, remotePath, opts.signal);
    // The remote file stays as it is after a failed check: the error says so (docs/client.md#verification).
    const verified = opts.verify ? await (await import('./verify.js')).verifyFile(session, remotePath, source as string) : undefined;
    const modifiedAt = opts.preserveTime && typeof source === 'string' ? await keepLocalTime(session, source, remotePath) : undefined;
    return { bytes, startOffset: startAt, reply, mode, fileBytes, transferMode, ...(verified ? { verified } : {}), ...(modifiedAt ? { modifiedAt } : {}) };
  } finally {
    if (typeof source === 'string') opened?.destroy();
  }
}
