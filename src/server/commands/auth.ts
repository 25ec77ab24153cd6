/**
 * Login and session control commands: USER PASS ACCT REIN QUIT (RFC 959 s4.1.1).
 *
 * Owns: the login state machine (new -> need-password -> logged-in), the failed-login delay and limit.
 * USER always answers 331 so names cannot be probed; a wrong name and a wrong password look the same.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { AuthenticatedUser } from '../auth/types.js';
import type { CommandModule } from '../command-table.js';

export const authCommands: CommandModule = {
  name: 'auth',
  commands: [
    {
      verb: 'USER', needsLogin: false, argument: 'required', help: 'USER <sp> username',
      handler(s, arg) {
        if (s.user) return reply(ReplyCode.NotLoggedIn, "Can't change to another user; use REIN first");
        s.pendingUser = arg;
        s.phase = 'need-password';
        return reply(ReplyCode.NeedPassword, 'Please specify the password');
      },
    },
    {
      verb: 'PASS', needsLogin: false, argument: 'optional', help: 'PASS <sp> password',
      async handler(s, arg) {
        if (s.user) return reply(ReplyCode.BadSequence, 'Already logged in');
        if (s.phase !== 'need-password' || s.pendingUser === undefined) return reply(ReplyCode.BadSequence, 'Login with USER first');
        const name = s.pendingUser;
        s.pendingUser = undefined;
        s.phase = 'new';
        let user: AuthenticatedUser | null = null;
        try {
          user = await s.context.authenticator.authenticate(name, arg, { remoteAddress: s.remoteAddress, secure: s.secure });
        } catch (err) {
          s.reportError(err);
        }
        if (s.isClosed) return reply(ReplyCode.NotLoggedIn, 'Login incorrect');
        if (user) {
          s.loggedIn(user);
          return reply(ReplyCode.LoggedIn, 'Login successful');
        }
        s.loginFailures++;
        s.context.events.emit('login-failed', { sessionId: s.id, remoteAddress: s.remoteAddress, user: name, failures: s.loginFailures });
        // Slow down password guessing; the session's later commands wait in its queue meanwhile.
        const ms = s.options.limits.loginFailureDelayMs;
        if (ms > 0) await delay(ms);
        if (s.loginFailures >= s.options.limits.maxLoginFailures) {
          return { kind: 'outcome', replies: [reply(ReplyCode.NotLoggedIn, 'Login incorrect; too many failures, closing')], close: true, closeReason: 'too many login failures' };
        }
        return reply(ReplyCode.NotLoggedIn, 'Login incorrect');
      },
    },
    {
      verb: 'ACCT', needsLogin: false, argument: 'required', help: 'ACCT <sp> account-information',
      handler: () => reply(ReplyCode.NotImplementedSuperfluous, 'No account needed'),
    },
    {
      verb: 'REIN', needsLogin: false, argument: 'none', help: 'REIN (reinitialize the session)',
      handler(s) {
        s.reset();
        return reply(ReplyCode.ServiceReady, 'Service ready for new user');
      },
    },
    {
      // RFC 959 s4.1.1: during a transfer QUIT waits for its end (it is queued, not marked duringTransfer).
      verb: 'QUIT', needsLogin: false, argument: 'optional', help: 'QUIT (close the control connection)',
      handler: () => ({ kind: 'outcome', replies: [reply(ReplyCode.ClosingControl, 'Goodbye')], close: true, closeReason: 'client quit' }),
    },
  ],
};
