/**
 * Shared vocabulary of the inference modules: the input, and predicates over outcomes that encode FTP
 * knowledge (which reply means what). Pure.
 */
import type { TlsSettings } from '../client/options.js';
import { TRANSFER_VERBS } from '../protocol/transfer-verbs.js';
import type { Cause, CertificateFinding, DataProbeResult, Outcome, StepResult } from './types.js';

export interface InferenceInput {
  host: string;
  port: number;
  /** The IP the control connection went to (undefined when it never connected). */
  controlAddress?: string;
  /** Our local address on the control connection (what PORT/EPRT carry by default). */
  localAddress?: string;
  steps: StepResult[];
  matrix: DataProbeResult[];
  /** TLS mode the control steps found to work ('explicit' unless the port speaks implicit TLS). */
  secure: 'explicit' | 'implicit';
  /** TLS options the user gave (CA, insecure...) — carried into the recommended settings (with the pin, if pinned). */
  tls?: TlsSettings;
  /** The certificate was not trusted (src/doctor/certificate.ts). */
  certificate?: CertificateFinding;
  /** The user gave a CA file (--ca): the certificate advice differs. */
  userGaveCa?: boolean;
  portRange?: { min: number; max: number };
  portAddress?: string;
  /** The server refused a session beyond this many ("too many connections"), with its words. */
  sessionLimit?: { sessions: number; reply: string };
}

export const PASSIVE_SETUP = new Set(['EPSV', 'PASV']);
export const ACTIVE_SETUP = new Set(['EPRT', 'PORT']);
export { TRANSFER_VERBS };

export function verbOf(o: Outcome): string { return (o.phase ?? '').toUpperCase(); }

/** The data connection (or its setup) is what failed, in either mode. */
export function activeConnectBackFailed(o: Outcome): boolean {
  // The server did connect back: whatever went wrong after that (a stalled TLS handshake, no data) is not this.
  if (o.dataOpened) return false;
  if (o.kind === 'timeout' && o.connection === 'data') return true;
  // Servers that connect back before answering the transfer command (vsftpd) leave it unanswered meanwhile.
  if (o.kind === 'timeout' && o.connection === 'control' && o.command !== undefined && TRANSFER_VERBS.has(o.command)) return true;
  // The server reports its failed connect-back as 425 (RFC 959 s4.2) on the transfer command.
  return o.kind === 'reply' && (o.replyCode === 425 || o.replyCode === 426) && !ACTIVE_SETUP.has(verbOf(o));
}
export function commandRefused(o: Outcome, verbs: Set<string>): boolean {
  return o.kind === 'reply' && verbs.has(verbOf(o)) && (o.replyCode ?? 0) >= 500;
}
export function isWorking(r: DataProbeResult): boolean {
  if (r.outcome.kind !== 'ok') return false;
  const t = r.transfer;
  return !t || (t.upload !== 'failed' && t.download !== 'failed');
}
export function step(steps: StepResult[], id: StepResult['id']): StepResult | undefined { return steps.find(s => s.id === id); }

/** Adds a cause once (by code). */
export type AddCause = (c: Cause) => void;

/** Commands that set a session up (not the data path): a failure there says nothing about data connections. */
export const SESSION_SETUP = new Set(['AUTH', 'USER', 'PASS', 'FEAT', 'PBSZ', 'PROT', 'TYPE', 'OPTS', 'SYST', 'PWD', 'CWD']);

/**
 * A cell that never reached its data connection for reasons that do not depend on its settings: the server
 * was busy (421, no free passive port, a stalled greeting or session setup under a burst of connections)
 * or its session process died. The inference ignores it like a skipped cell.
 *
 * vsftpd is the common case of the last: with every port of a small passive range held by the other cells,
 * it gives up after ten random picks and exits with "500 OOPS: vsf_sysutil_bind, maximum number of attempts
 * to find a listening port exceeded", written in cleartext and then the connection closed. In a cleartext
 * session that is a 500 reply to PASV/EPSV (not a refusal of the command); under TLS the client reads it as
 * a broken record ("wrong version number") and the control connection ends with a reset.
 */
export function inconclusive(r: DataProbeResult): boolean {
  const o = r.outcome;
  if (o.kind === 'reply') {
    if (o.replyCode === 421 || /^OOPS\b/i.test(o.replyText ?? '')) return true;
    return o.replyCode! >= 400 && o.replyCode! < 500 && (o.phase === 'PASV' || o.phase === 'EPSV');
  }
  if (o.connection !== 'control') return false;
  if (o.kind === 'timeout' && (o.phase === 'connect' || o.phase === 'greeting' || o.phase === 'tls-handshake')) return true;
  if (o.kind === 'timeout' && o.phase === 'command' && o.command !== undefined && SESSION_SETUP.has(o.command)) return true;
  // The server ended the session between commands: nothing was learned about the data connection.
  return (o.kind === 'closed' || o.kind === 'reset') && o.phase !== 'transfer';
}

/**
 * A refusal that says "too many sessions": 421 (RFC 959 s4.2, service not available, closing the control
 * connection: vsftpd max_per_ip, pure-ftpd -C/-c, ftpkit maxSessionsPerAddress) or 530 in those words.
 * A server limit to respect, never a result about the settings tried. A 421 that asks for TLS (pure-ftpd
 * refusing cleartext) is not one.
 */
export function isSessionLimit(o: Outcome): boolean {
  if (o.kind !== 'reply') return false;
  const text = o.replyText ?? '';
  if (/\b(tls|ssl|secur|encrypt)/i.test(text)) return false;
  return o.replyCode === 421 || (o.replyCode === 530 && /too many|maximum|limit|connections/i.test(text));
}

/** Whether `verb` got a reply in the cell's session. */
export function answered(r: DataProbeResult, verb: string): boolean {
  return r.answered?.includes(verb) ?? false;
}
