/**
 * Owns putting the defender in front of one FtpServer: the Defender made from options.defender (its bans
 * emitted as 'ban'), its scores fed from the server's events, the authenticator wrapped for PASS, and the
 * admission check the accept paths call first. FtpServer calls defendServer() once in its constructor.
 */
import type { EventEmitter } from 'node:events';
import type { FtpServerEvents } from '../events.js';
import type { FtpServerOptions } from '../options.js';
import { Admission } from './admission.js';
import { Defender } from './defender.js';
import { scoreServerEvents } from './defender-events.js';
import { DefendedAuthenticator } from './login-guard.js';
import type { SharedScores } from './shared-scores.js';

export interface ServerDefence {
  defender: Defender;
  /** What the accept paths ask first (admission.ts). */
  admission: Admission;
  /** The server's authenticator behind the defender's PASS checks (login-guard.ts); its `inner` is replaceable. */
  authenticator: DefendedAuthenticator;
}

/** Throws FtpConfigError for bad options.defender. */
export function defendServer(events: EventEmitter<FtpServerEvents>, options: FtpServerOptions, shared?: SharedScores): ServerDefence {
  const defender = new Defender(options.defender, ban => events.emit('ban', ban), shared,
    err => events.emit('warning', { code: 'defender-shared', message: `shared scores and bans: ${err instanceof Error ? err.message : String(err)}` }));
  const authenticator = new DefendedAuthenticator(options.authenticator, defender);
  // Through the wrapper: after a reload (FtpServer.reconfigure) the new authenticator tells unknown names.
  scoreServerEvents(defender, events, name => authenticator.knowsUser(name));
  return { defender, admission: new Admission(defender, events), authenticator };
}
