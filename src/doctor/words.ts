/**
 * Outcome -> words, shared by the inference and the report. Says how long things took, because a fast
 * refusal (TCP reset) and a silent drop (timeout) point at different culprits.
 */
import type { Outcome } from './types.js';
import { TRANSFER_VERBS } from '../protocol/transfer-verbs.js';

/** Commands of the login (RFC 959 s4.1.1, RFC 4217 s4-s5 for AUTH/PBSZ/PROT/CCC). */
const LOGIN_VERBS = new Set(['USER', 'PASS', 'ACCT', 'AUTH', 'PBSZ', 'PROT', 'CCC', 'FEAT', 'OPTS', 'TYPE']);
/** Commands that set a data connection up (RFC 959 s4.1.2, RFC 2428). */
const DATA_SETUP_VERBS = new Set(['EPSV', 'PASV', 'EPRT', 'PORT']);

/**
 * The step that waited for an unanswered command: one command went unanswered while the control
 * connection was up, which is not a connection "silently dropped".
 */
function unansweredCommand(o: Outcome): string {
  const verb = o.command!;
  const step = LOGIN_VERBS.has(verb) ? 'during the login'
    : DATA_SETUP_VERBS.has(verb) ? `setting up the data connection, ${verb} only`
      : TRANSFER_VERBS.has(verb) ? 'the transfer command: the server answers it once the data connection is up' : 'the control connection was up';
  return `no reply to ${verb} within ${secs(o.ms)} (${step})`;
}

export function secs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "timed out after 5.0 s (no answer: packets silently dropped)" etc. */
export function describeOutcome(o: Outcome): string {
  const at = o.endpoint ? ` to ${o.endpoint}` : '';
  switch (o.kind) {
    case 'ok': return `worked (${secs(o.ms)})`;
    case 'timeout':
      if (o.phase === 'greeting' || o.phase === 'tls-handshake') return `connected${at}, but no ${o.phase === 'greeting' ? 'greeting' : 'TLS handshake reply'} within ${secs(o.ms)}`;
      if (o.phase === 'accept') return `the server never connected back${at} within ${secs(o.ms)}`;
      if (o.connection === 'control' && o.command) return unansweredCommand(o);
      return `${o.connection ?? ''} connection${at} got no answer within ${secs(o.ms)} (silently dropped)`.trim();
    case 'refused': return `${o.connection ?? ''} connection${at} was refused after ${secs(o.ms)} (TCP reset: actively rejected)`.trim();
    case 'reset': return `${o.connection ?? ''} connection${at} was reset after ${secs(o.ms)}`.trim();
    case 'closed': return `${o.connection ?? ''} connection${at} was closed by the peer after ${secs(o.ms)}`.trim();
    case 'unreachable': return `${o.connection ?? ''} connection${at} failed after ${secs(o.ms)}: host or network unreachable`.trim();
    case 'not-found': return `name resolution failed after ${secs(o.ms)}`;
    case 'reply': return `the server answered ${o.replyCode ?? '?'} ${o.replyText ?? ''} (${secs(o.ms)})`.trim();
    case 'tls': return `TLS failed after ${secs(o.ms)}${o.message ? `: ${o.message}` : ''}`;
    case 'protocol': return `unusable reply after ${secs(o.ms)}${o.message ? `: ${o.message}` : ''}`;
    case 'skipped': return `not tried${o.message ? ` (${o.message})` : ''}`;
    default: return `failed after ${secs(o.ms)}${o.message ? `: ${o.message}` : ''}`;
  }
}

/**
 * Network-level failure of the data connection itself (not a refusal by the server, not TLS). A timeout
 * after the connection opened is the server going silent (pyftpdlib stalls a session now and then under
 * a burst of TLS handshakes), not the path: the path let the connection through.
 */
export function isDataPathFailure(o: Outcome): boolean {
  if (o.kind === 'timeout' && o.dataOpened) return false;
  return (o.kind === 'timeout' || o.kind === 'refused' || o.kind === 'unreachable' || o.kind === 'reset')
    && o.connection !== 'control';
}
