/**
 * Owns asking the host application's veto hooks (server/hooks.ts) from a command handler and turning the
 * answer into the reply: nothing when allowed (or when no hook is registered: no promise, no object),
 * the hook's code and reason when denied, 451 when the hook threw (a 'session-error') or hung (a
 * 'warning' 'hook-timeout').
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { Reply } from '../../protocol/reply.js';
import type { HookContexts, HookName, HookOutcome } from '../hooks.js';
import type { AuthenticatedUser } from '../auth/types.js';
import type { CommandContext } from './contract.js';

/** At most this much of a deny reason goes to the client, on one line (it is the host's text, not ours). */
const MAX_REASON = 200;

function oneLine(text: string): string {
  const line = text.replace(/[\r\n\0]+/g, ' ').trim();
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON)}...` : line || 'refused';
}

function outcomeReply(ctx: CommandContext, name: HookName, outcome: HookOutcome, denyCode: number): Reply | undefined {
  switch (outcome.kind) {
    case 'allow': return undefined;
    case 'deny': return reply(outcome.code ?? denyCode, oneLine(outcome.reason));
    case 'failed':
      ctx.events.reportError(outcome.error);
      return reply(ReplyCode.LocalError, 'Local error in processing: the request could not be checked');
    case 'timeout':
      ctx.events.warn('hook-timeout', `${name} did not answer within ${outcome.timeoutMs} ms; the action was refused`);
      return reply(ReplyCode.LocalError, 'Local error in processing: the request could not be checked in time');
  }
}

type ActionHook = Exclude<HookName, 'beforeLogin'>;
type ActionDetail<N extends ActionHook> = Omit<HookContexts[N], 'sessionId' | 'remoteAddress' | 'user'>;

/**
 * Ask the hook `name` about an action of the logged-in user: undefined to go on, or the refusal to send.
 * Returns synchronously-resolved undefined without building anything when no such hook is registered.
 */
export function vetoed<N extends ActionHook>(ctx: CommandContext, name: N, detail: ActionDetail<N>): Promise<Reply | undefined> | undefined {
  const hooks = ctx.services.hooks;
  if (!hooks?.has(name)) return undefined;
  const context = {
    ...detail, sessionId: ctx.connection.sessionId, remoteAddress: ctx.connection.remoteAddress, user: ctx.user?.name ?? '',
  } as HookContexts[N];
  return hooks.run(name, context).then((outcome) => outcomeReply(ctx, name, outcome, ReplyCode.FileUnavailable));
}

/** beforeLogin for a user whose password was accepted: undefined to log in, or the refusal (530 by default). */
export function loginVetoed(ctx: CommandContext, user: AuthenticatedUser): Promise<Reply | undefined> | undefined {
  const hooks = ctx.services.hooks;
  if (!hooks?.has('beforeLogin')) return undefined;
  return hooks.run('beforeLogin', {
    sessionId: ctx.connection.sessionId, remoteAddress: ctx.connection.remoteAddress, user: user.name,
    anonymous: user.anonymous === true, secure: ctx.state.tls.secure,
  }).then((outcome) => outcomeReply(ctx, 'beforeLogin', outcome, ReplyCode.NotLoggedIn));
}
