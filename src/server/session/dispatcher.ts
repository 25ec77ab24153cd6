/**
 * The dispatcher: runs a session's queued commands one at a time through the command table.
 *
 * Owns: the order (one command at a time; while a transfer runs only rows marked duringTransfer, RFC 959
 * s4.1.3), unknown verbs (502/500), the gates, running the row (command-table.ts runCommand), what a
 * handler's result turns into (replies, a transfer, a close), and the per-command state rules that follow
 * every command (REST and RNFR).
 */
import { isPlausibleVerb } from '../../protocol/commands.js';
import { maskArgument, maskVerb } from '../../protocol/masking.js';
import type { FtpCommand } from '../../protocol/commands.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { Reply } from '../../protocol/reply.js';
import { runCommand } from '../command-table.js';
import type { CommandTable } from '../command-table.js';
import type { AnyCommandSpec, CommandContext, HandlerResult } from '../commands/contract.js';
import type { CommandEventDetail } from '../events.js';
import type { TransferRequest } from '../transfer.js';
import type { ControlChannel } from './control-channel.js';
import type { SessionEvents } from './session-events.js';

/** What the dispatcher needs from its session. */
export interface DispatcherHost {
  readonly context: CommandContext;
  readonly table: CommandTable;
  readonly channel: ControlChannel;
  readonly events: SessionEvents;
  readonly isClosed: boolean;
  readonly transferRunning: boolean;
  send(r: Reply): Promise<void>;
  /** Hand a transfer request to the prepared data channel; its end emits the command and pumps again. */
  beginTransfer(req: TransferRequest, cmd: FtpCommand, started: number): void;
  close(reason: string, graceful: boolean): void;
}

export class Dispatcher {
  private busy = false;

  constructor(private readonly host: DispatcherHost) {}

  /** Run queued commands one at a time; while a transfer runs, only rows marked duringTransfer may run. */
  async pump(): Promise<void> {
    const { host } = this;
    if (this.busy) return;
    while (host.channel.queued && !host.isClosed) {
      const cmd = host.transferRunning
        ? host.channel.next(c => host.table.lookup(c.verb)?.duringTransfer === true)
        : host.channel.next();
      if (!cmd) return; // the end of the transfer calls pump() again
      this.busy = true;
      try {
        await this.execute(cmd);
      } catch (err) {
        host.context.events.reportError(err);
        await host.send(reply(ReplyCode.LocalError, 'Local error in processing'));
      } finally {
        this.busy = false;
      }
    }
  }

  /** Emit the 'command' event: the masked command, its (last) reply code and how long it took. */
  commandDone(cmd: FtpCommand, replyCode: number, started: number, detail?: CommandEventDetail): void {
    const { state } = this.host.context;
    this.host.events.command(state.user?.name ?? state.pendingUser, maskVerb(cmd), maskArgument(cmd), replyCode, Date.now() - started, detail);
  }

  private async execute(cmd: FtpCommand): Promise<void> {
    const { host } = this;
    const started = Date.now();
    if (cmd.tooLong) {
      // An over-long line (control-channel.ts), answered in its turn; no command event: it was none.
      await host.send(reply(ReplyCode.SyntaxError, `Command line too long (max ${host.channel.maxLineLength} bytes)`));
      return;
    }
    const spec = host.table.lookup(cmd.verb);
    if (!spec) {
      // 502 for what looks like a command we do not implement, 500 for line noise (RFC 959 s4.2).
      const r = isPlausibleVerb(cmd.verb)
        ? reply(ReplyCode.CommandNotImplemented, `Command ${cmd.verb} not implemented`)
        : reply(ReplyCode.SyntaxError, 'Syntax error, command unrecognized');
      await host.send(r);
      this.commandDone(cmd, r.code, started);
      return;
    }
    const refusal = host.table.refusal(host.context, spec, cmd);
    if (refusal) {
      await host.send(refusal);
      this.afterCommand(spec);
      this.commandDone(cmd, refusal.code, started);
      return;
    }
    const result: HandlerResult = await runCommand(spec, host.context, cmd);
    this.afterCommand(spec);
    if (host.isClosed) {
      // The client left while the handler ran: release what it opened.
      if ('kind' in result && result.kind === 'transfer') { result.source?.destroy(); result.sink?.destroy(); }
      return;
    }
    if ('kind' in result && result.kind === 'transfer') {
      host.beginTransfer(result, cmd, started);
      return;
    }
    const replies = 'kind' in result ? result.replies : [result];
    for (const r of replies) await host.send(r);
    this.commandDone(cmd, replies.length ? replies[replies.length - 1].code : 0, started, 'kind' in result ? result.detail : undefined);
    if ('kind' in result) {
      if (result.afterSend) await result.afterSend();
      if (result.close) host.close(result.closeReason ?? `closed after ${cmd.verb}`, true);
    }
  }

  /**
   * RNFR applies to the command right after it only (RFC 959 s4.1.3). REST (RFC 3659 s5.3) is meant to be
   * the last command before the transfer, but real clients put PASV/EPSV/TYPE in between (ftplib sends
   * EPSV after REST), so like vsftpd and pyftpdlib the offset is kept until a transfer command uses it.
   */
  private afterCommand(spec: AnyCommandSpec): void {
    const { state } = this.host.context;
    if (spec.transfer) state.restOffset = 0;
    if (spec.verb !== 'RNFR') state.renameFrom = undefined;
  }
}
