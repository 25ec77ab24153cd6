/**
 * The client's transmission mode (RFC 959 s3.4) for a transfer: S stream (the default), Z deflate
 * (draft-preston-ftpext-deflate: proftpd's mod_deflate, ftpkit's server), B block (RFC 959 s3.4.2), or
 * 'auto': Z when the server's FEAT offers "MODE Z", else S.
 *
 * Owns: choosing the mode (per transfer, else the connection's `transferMode` option), sending MODE only
 * when it changes (remembered per control connection: a new connection starts in stream mode, RFC 959
 * s3.4), and the transcript line that shows the wire bytes beside the file bytes of a coded transfer.
 * Progress always counts the file's bytes; TransferResult.bytes the wire's.
 */
import { FtpReplyError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { DataMode } from '../net/data-pipeline.js';
import type { ControlConnection } from './control-connection.js';
import type { TransferModeChoice } from './options.js';
import type { ClientSession } from './session.js';

/** A mode on the wire. */
export type WireMode = 'S' | 'Z' | 'B';
export type { TransferModeChoice };

export const TRANSFER_MODE_CHOICES: readonly TransferModeChoice[] = ['S', 'Z', 'B', 'auto'];

/** The MODE last accepted on each control connection (absent: stream, the default of a new connection). */
const current = new WeakMap<ControlConnection, WireMode>();

/** The server's FEAT offers MODE Z. */
export function offersModeZ(session: ClientSession): boolean {
  return (session.features.get('MODE') ?? '').toUpperCase().split(/[\s;,]+/).includes('Z');
}

/**
 * Put the connection in the mode for the next transfer: `wanted`, else the connection's option, else S.
 * MODE goes out only when it changes. 'auto' falls back to S (with a status line) when Z is not offered or
 * is refused; an explicit Z or B that the server refuses is an FtpReplyError.
 */
export async function enterTransferMode(session: ClientSession, wanted: TransferModeChoice | undefined): Promise<WireMode> {
  const choice = wanted ?? session.options.transferMode ?? 'S';
  let mode: WireMode = choice === 'auto' ? (offersModeZ(session) ? 'Z' : 'S') : choice;
  const control = session.control;
  if ((current.get(control) ?? 'S') === mode) return mode;
  const r = await session.command(`MODE ${mode}`);
  if (r.code !== ReplyCode.Ok) {
    if (choice !== 'auto') throw new FtpReplyError(r.code, r.message, `MODE ${mode}`);
    session.status(`MODE Z refused (${r.code} ${r.message.trim()}): transferring in stream mode`);
    mode = 'S';
    if ((current.get(control) ?? 'S') !== 'S') await session.expect('MODE S', ReplyCode.Ok);
  }
  current.set(control, mode);
  return mode;
}

/** The data pipeline's name of a mode (net/data-pipeline.ts). */
export function pipelineModeOf(mode: WireMode): DataMode {
  return mode === 'Z' ? 'deflate' : mode === 'B' ? 'block' : 'stream';
}

/** The transcript's line after a MODE Z/B transfer: what the file had and what the wire carried. */
export function reportWireBytes(session: ClientSession, mode: WireMode, path: string, fileBytes: number, wireBytes: number): void {
  if (mode === 'S') return;
  const ratio = fileBytes > 0 ? ` (${((wireBytes / fileBytes) * 100).toFixed(1)}% of the file's size)` : '';
  session.status(`MODE ${mode}: ${path}: ${fileBytes} bytes of data moved as ${wireBytes} bytes on the wire${ratio}`, 'data');
}
