/**
 * The server's transmission modes beyond stream (RFC 959 s3.4): MODE Z (deflate, draft-preston-ftpext-
 * deflate-04, as proftpd's mod_deflate) and MODE B (block, RFC 959 s3.4.2). The codecs are
 * protocol/codecs/mode-z.ts and mode-b.ts; the data pipeline runs them (net/data-modes.ts).
 *
 * Owns: OPTS MODE Z LEVEL n, what a transfer of the session's mode asks of the pipeline (deflate level,
 * inflate bound, restart markers and their 110 replies), the CPU guard on compressed transfers running at
 * once (limits.maxCompressedTransfers), and the replies for a broken compressed or block stream.
 *
 * REST offsets are file offsets in every mode (each transfer is one new deflate stream from the offset on).
 * Under PROT P the data is compressed, then encrypted (the pipeline's wire is the TLS socket).
 */
import { FtpStreamCodecError } from '../errors.js';
import { MAX_DEFLATE_LEVEL, MIN_DEFLATE_LEVEL } from '../protocol/codecs/mode-z.js';
import type { ModeCodecOptions } from '../net/data-modes.js';
import type { DataMode } from '../net/data-pipeline.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { reply, type Reply } from '../protocol/reply.js';
import type { TransferMode } from './session/state.js';

/** A restart marker after about every this many bytes of a MODE B download (TYPE I). */
export const DEFAULT_MARKER_EVERY_BYTES = 16 * 1024 * 1024;

/** The session's mode for one transfer, as the transfer needs it. */
export interface TransferModeSettings {
  mode: TransferMode;
  deflateLevel: number;
}

export function pipelineMode(mode: TransferMode): DataMode {
  return mode === 'Z' ? 'deflate' : mode === 'B' ? 'block' : 'stream';
}

/** STAT's name of the mode (RFC 959 s3.4). */
export function modeLabel(mode: TransferMode): string {
  return mode === 'Z' ? 'Deflate' : mode === 'B' ? 'Block' : 'Stream';
}

/**
 * OPTS MODE Z LEVEL n (draft-preston-ftpext-deflate-04 s4): the level of the session's MODE Z downloads,
 * bounded to zlib's 1-9. "OPTS MODE Z" alone reports the level.
 */
export function modeOptions(state: { deflateLevel: number }, value: string): Reply {
  const m = /^Z(?:\s+LEVEL\s+(\S+))?\s*$/i.exec(value.trim());
  if (!m) return reply(ReplyCode.SyntaxErrorInParameters, 'Usage: OPTS MODE Z LEVEL <1-9>');
  if (m[1] === undefined) return reply(ReplyCode.Ok, `MODE Z LEVEL ${state.deflateLevel}`);
  const level = /^\d$/.test(m[1]) ? Number(m[1]) : NaN;
  if (!(level >= MIN_DEFLATE_LEVEL && level <= MAX_DEFLATE_LEVEL)) {
    return reply(ReplyCode.SyntaxErrorInParameters, `MODE Z LEVEL must be ${MIN_DEFLATE_LEVEL}-${MAX_DEFLATE_LEVEL}`);
  }
  state.deflateLevel = level;
  return reply(ReplyCode.Ok, `MODE Z LEVEL set to ${level}`);
}

/** Compressed transfers running at once on a server, against limits.maxCompressedTransfers. */
export class CompressedTransferSlots {
  private running = 0;
  constructor(private readonly limits: { readonly maxCompressedTransfers: number }) {}

  /** A slot for one MODE Z transfer, or undefined when the server runs its maximum already. */
  take(): (() => void) | undefined {
    if (this.running >= this.limits.maxCompressedTransfers) return undefined;
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
    };
  }
}

/** The refusal of a MODE Z transfer over limits.maxCompressedTransfers (before its 150). */
export function compressedBusyReply(): Reply {
  return reply(ReplyCode.FileActionNotTaken, 'Too many compressed transfers running; try again later or use MODE S');
}

/**
 * What the pipeline of one transfer needs for the session's mode. `send` gives a reply on the control
 * connection: the 110 "MARK yyyy = mmmm" of RFC 959 s4.2 for each restart marker of a MODE B upload, where
 * yyyy is the client's marker and mmmm the file offset received before it (the argument for REST).
 */
export function modeCodecOptions(settings: TransferModeSettings, startOffset: number, limits: { maxInflateRatio: number },
  send: (r: Reply) => void): ModeCodecOptions {
  if (settings.mode === 'Z') return { deflateLevel: settings.deflateLevel, inflate: { maxRatio: limits.maxInflateRatio } };
  if (settings.mode !== 'B') return {};
  return {
    startOffset,
    markerEvery: DEFAULT_MARKER_EVERY_BYTES,
    onRestartMarker: (marker, fileOffset) => send(reply(ReplyCode.RestartMarker, `MARK ${printable(marker)} = ${fileOffset}`)),
  };
}

/** A client's marker in a reply: printable ASCII only (the control connection is text). */
function printable(marker: string): string {
  return marker.replace(/[^\x21-\x7e]/g, '?');
}

/**
 * The reply for a transfer whose MODE Z or MODE B stream was broken by the client: 552 for data that
 * inflates beyond the bound (RFC 959 s4.2 "exceeded storage allocation"), 426 for a corrupt or truncated
 * stream (the transfer aborted). Undefined for any other failure.
 */
export function codecFailureReply(err: unknown): Reply | undefined {
  if (!(err instanceof FtpStreamCodecError)) return undefined;
  if (err.failure === 'too-large') return reply(ReplyCode.ExceededStorageAllocation, 'Compressed data expands beyond the server\'s limit; transfer aborted');
  const what = err.codec === 'deflate' ? 'MODE Z' : 'MODE B';
  return reply(ReplyCode.ConnectionClosedTransferAborted,
    err.failure === 'truncated' ? `${what} data ended early; transfer aborted` : `${what} data is corrupt; transfer aborted`);
}
