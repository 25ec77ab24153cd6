/**
 * Login and session control commands: USER PASS ACCT REIN QUIT (RFC 959 s4.1.1).
 *
 * Owns: the login state machine (new -> need-password -> logged-in), the failed-login delay and limit, and
 * telling the server-wide failed-login record (auth/failed-logins.ts) about every outcome.
 * USER always answers 331 so names cannot be probed; a wrong name and a wrong password look the same.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { FtpLoginRefusedError } from '../../errors.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { AuthenticatedUser } from '../auth/types.js';
import type { LoginAttempt } from '../auth/failed-logins.js';
import { command } from './contract.js';
import { loginVetoed } from './veto.js';
import type { CommandContext, CommandModule, Outcome } from './contract.js';

/** Tell the failed-login record; a broken record is reported, never a reason to answer differently. */
async function record(ctx: CommandContext, outcome: 'failure' | 'success', attempt: LoginAttempt): Promise<void> {
  try {
    const failedLogins = ctx.services.failedLogins;
    await (outcome === 'failure' ? failedLogins.recordFailure(attempt) : failedLogins.recordSuccess(attempt));
  } catch (err) {
    ctx.events.reportError(err);
  }
}

/**
 * A login refused before its password was checked (the address is banned, or already has its password
 * verification running, or the user database is unreachable): 421 and close (RFC 959 s4.2), not 530, since no password was judged. The
 * warning is what the defender scores (security/defender-events.ts).
 */
function loginRefused(ctx: CommandContext, err: FtpLoginRefusedError): Outcome {
  ctx.events.warn(err.reason === 'busy' ? 'login-busy' : err.reason === 'unavailable' ? 'login-unavailable' : 'login-banned', err.message);
  const text = err.reason === 'busy'
    ? 'Another login from your address is being checked; try again in a moment'
    // The user database (src/server/db/) cannot be reached: no password was judged, try later.
    : err.reason === 'unavailable' ? 'Service not available: the user database cannot be reached; try again later'
    : 'Your address is blocked for a while after repeated failures; try again later';
  return { kind: 'outcome', replies: [reply(ReplyCode.ServiceNotAvailable, text)], close: true, closeReason: `login refused: ${err.reason}` };
}

/**
 * limits.maxSessionsPerUser: the user has as many sessions as allowed. 530 like SFTPGo's max_sessions (a
 * login refused, RFC 959 s4.1.1), not 421: the connection stays usable (another user, or later); vsftpd has
 * no per-user limit (its max_per_ip answers 421 at connect). Not a failed login: the password was not
 * judged and the defender does not score it.
 */
function tooManySessions(ctx: CommandContext, name: string): Outcome {
  const max = ctx.services.userSessions.limitFor(name);
  ctx.events.warn('user-session-limit', `login of ${JSON.stringify(name)} refused: ${ctx.services.userSessions.count(name)} session(s) already logged in (limit ${max})`);
  return { kind: 'outcome', replies: [reply(ReplyCode.NotLoggedIn, `Too many sessions for this user (at most ${max} at a time); close one and try again`)] };
}

export const authCommands: CommandModule = {
  name: 'auth',
  commands: [
    command({
      verb: 'USER', needsLogin: false, argument: 'required', help: 'USER <sp> username',
      handler(ctx, name) {
        if (ctx.user) return reply(ReplyCode.NotLoggedIn, "Can't change to another user; use REIN first");
        ctx.state.pendingUser = name;
        ctx.state.phase = 'need-password';
        return reply(ReplyCode.NeedPassword, 'Please specify the password');
      },
    }),
    command({
      verb: 'PASS', needsLogin: false, argument: 'optional', help: 'PASS <sp> password',
      async handler(ctx, password) {
        const { state } = ctx;
        if (ctx.user) return reply(ReplyCode.BadSequence, 'Already logged in');
        if (state.phase !== 'need-password' || state.pendingUser === undefined) return reply(ReplyCode.BadSequence, 'Login with USER first');
        const name = state.pendingUser;
        state.pendingUser = undefined;
        state.phase = 'new';
        // Before the password check: a login over the limit costs no hashing.
        if (ctx.services.userSessions.full(name)) return tooManySessions(ctx, name);
        let user: AuthenticatedUser | null = null;
        try {
          user = await ctx.services.authenticator.authenticate(name, password, { remoteAddress: ctx.connection.remoteAddress, secure: state.tls.secure });
        } catch (err) {
          if (err instanceof FtpLoginRefusedError) return loginRefused(ctx, err);
          ctx.events.reportError(err);
        }
        if (ctx.isClosed) return reply(ReplyCode.NotLoggedIn, 'Login incorrect');
        const attempt = { sessionId: ctx.connection.sessionId, remoteAddress: ctx.connection.remoteAddress, user: name };
        if (user) {
          // The host application's beforeLogin hook (hooks.ts) may still refuse an accepted password.
          const veto = await loginVetoed(ctx, user);
          if (veto) {
            ctx.events.warn('login-vetoed', `login of ${name} refused by the beforeLogin hook (${veto.code})`);
            return veto;
          }
          if (ctx.isClosed) return reply(ReplyCode.NotLoggedIn, 'Login incorrect');
          // Another login of this user may have completed while this password was checked.
          if (ctx.services.userSessions.full(user.name)) return tooManySessions(ctx, user.name);
          await record(ctx, 'success', attempt);
          ctx.completeLogin(user);
          return reply(ReplyCode.LoggedIn, 'Login successful');
        }
        state.loginFailures++;
        await record(ctx, 'failure', attempt);
        ctx.events.loginFailed(name, state.loginFailures);
        // Slow down password guessing; the session's later commands wait in its queue meanwhile.
        const ms = ctx.options.limits.loginFailureDelayMs;
        if (ms > 0) await delay(ms);
        if (state.loginFailures >= ctx.options.limits.maxLoginFailures) {
          return { kind: 'outcome', replies: [reply(ReplyCode.NotLoggedIn, 'Login incorrect; too many failures, closing')], close: true, closeReason: 'too many login failures' };
        }
        return reply(ReplyCode.NotLoggedIn, 'Login incorrect');
      },
    }),
    command({
      verb: 'ACCT', needsLogin: false, argument: 'required', help: 'ACCT <sp> account-information',
      handler: () => reply(ReplyCode.NotImplementedSuperfluous, 'No account needed'),
    }),
    command({
      verb: 'REIN', needsLogin: false, argument: 'none', help: 'REIN (reinitialize the session)',
      handler(ctx) {
        ctx.reinitialize();
        return reply(ReplyCode.ServiceReady, 'Service ready for new user');
      },
    }),
    command({
      // RFC 959 s4.1.1: during a transfer QUIT waits for its end (it is queued, not marked duringTransfer).
      verb: 'QUIT', needsLogin: false, argument: 'optional', help: 'QUIT (close the control connection)',
      handler: () => ({ kind: 'outcome', replies: [reply(ReplyCode.ClosingControl, 'Goodbye')], close: true, closeReason: 'client quit' }),
    }),
  ],
};
