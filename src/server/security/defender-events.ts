/**
 * Owns what the defender scores, decided from the server's own events (events.ts), so that sessions,
 * the dispatcher and the control channel need no calls to it:
 *
 * - 'login-failed': a wrong password (failedLogin), or a name the authenticator does not know
 *   (unknownUser, when it can tell: Authenticator.knowsUser); both count against the name too;
 * - 'command' answered 530 before login (refusedCommand): a command that needs a login;
 * - 'command' answered 500 before login (garbage): a line that is no command (RFC 959 s4.2); 'warning'
 *   'line-too-long' before login (garbage): a line over limits.maxLineLength, which is no command and so
 *   has no 'command' event; 'session-close' because a line was never completed or too many were queued
 *   (garbage). Not the per-reply 'reply' event: a listener there made every reply of every session build
 *   and emit an event (issue 10); without one, 'reply' is not emitted at all (session/session-events.ts);
 * - 'warning' 'login-busy' (limitExceeded): a login refused because the address already had its
 *   password verification running (auth/address-gate.ts);
 * - 'warning' 'command-rate-exceeded' and 'data-setup-churn' (limitExceeded), logged in or not: a session
 *   closed for flooding commands (session/dispatcher.ts) or for PASV/PORT without transfers
 *   (commands/data-setup.ts) is abuse whoever sends it;
 * - 'login': the name's points are forgotten.
 *
 * Otherwise only what happens before a login counts: a logged-in user typing a wrong command is not an attacker.
 * Note that scoring unknown names higher lets a patient prober learn, from when the ban comes, whether a
 * name exists; SFTPGo accepts the same trade-off, and `scores.unknownUser: 1` removes it.
 */
import type { EventEmitter } from 'node:events';
import type { FtpServerEvents } from '../events.js';
import type { Defender } from './defender.js';

/** Warnings of a limit an abuser hits (scored limitExceeded, logged in or not). */
const LIMIT_WARNINGS: ReadonlySet<string> = new Set(['login-busy', 'command-rate-exceeded', 'data-setup-churn']);

/** Session close reasons (session/session.ts, session/control-channel.ts) that are protocol garbage. */
const GARBAGE_CLOSE_REASONS: ReadonlySet<string> = new Set(['command line not completed in time', 'too many queued commands']);

/**
 * Subscribe the defender to a server's events. `knowsUser` tells an unknown name from a wrong password
 * (undefined: cannot tell). Returns a function that unsubscribes.
 */
export function scoreServerEvents(
  defender: Defender, events: EventEmitter<FtpServerEvents>, knowsUser: (name: string) => boolean | undefined,
): () => void {
  /** Sessions logged in now: their events are not scored. Bounded by the open sessions. */
  const loggedIn = new Set<string>();
  const handlers: { [K in keyof FtpServerEvents]?: (...args: FtpServerEvents[K]) => void } = {
    login: (e) => { loggedIn.add(e.sessionId); defender.loginSucceeded(e.user); },
    'login-failed': (e) => defender.record(knowsUser(e.user) === false ? 'unknownUser' : 'failedLogin', e.remoteAddress, e.user),
    command: (e) => {
      if (loggedIn.has(e.sessionId)) return;
      // PASS failures are scored as 'login-failed'.
      if (e.replyCode === 530 && e.verb !== 'PASS') defender.record('refusedCommand', e.remoteAddress);
      else if (e.replyCode === 500) defender.record('garbage', e.remoteAddress);
    },
    'session-close': (e) => {
      if (GARBAGE_CLOSE_REASONS.has(e.reason) && !loggedIn.has(e.sessionId)) defender.record('garbage', e.remoteAddress);
      loggedIn.delete(e.sessionId);
    },
    warning: (e) => {
      if (!e.remoteAddress) return;
      if (LIMIT_WARNINGS.has(e.code)) defender.record('limitExceeded', e.remoteAddress);
      else if (e.code === 'line-too-long' && !(e.sessionId && loggedIn.has(e.sessionId))) defender.record('garbage', e.remoteAddress);
    },
  };
  const on = events.on.bind(events) as (event: string, listener: (...args: never[]) => void) => unknown;
  const off = events.off.bind(events) as (event: string, listener: (...args: never[]) => void) => unknown;
  for (const [event, handler] of Object.entries(handlers)) on(event, handler as (...args: never[]) => void);
  return () => {
    for (const [event, handler] of Object.entries(handlers)) off(event, handler as (...args: never[]) => void);
  };
}
