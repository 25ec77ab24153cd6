/**
 * The dispatcher: runs a session's queued commands one at a time through the command table.
 *
 * Owns: the order (one command at a time; while a transfer runs only rows marked duringTransfer, RFC 959
 * s4.1.3), unknown verbs (502/500), the gates, running the row (command-table.ts runCommand), what a
 * handler's result turns into (replies, a transfer, a close), and the per-command state rules that follow
 * every command (REST and RNFR), and the command rate (limits.commandsPerSecond).
 *
 * The command rate: a token bucket per session (net/token-bucket.ts), created at the first command when
 * a rate is set. A command over the rate waits (one timer) and the control socket is not read meanwhile,
 * so a flooding client is slowed by TCP backpressure rather than by a queue we hold; a client slowed
 * without a break for limits.commandRateCloseMs gets 421 and is closed (RFC 959 s4.2: service closing
 * the control connection). Slowing first, closing later: a client with a legitimate burst (lftp mirroring
 * many small files) is only delayed, never cut. SFTPGo's rate limiters and proftpd's mod_ratelimit-style
 * delays choose between refusing and delaying; a delay needs no reply code a client could misread.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isPlausibleVerb } from '../../protocol/commands.js';
import { TokenBucket } from '../../net/token-bucket.js';
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
  /** The command rate's bucket (limits.commandsPerSecond), from the first command on; none without a rate. */
  private rate: TokenBucket | undefined;
  /** Since when every command had to wait for the rate (epoch ms); undefined while within it. */
  private slowedSince: number | undefined;

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
        if (!(await this.paced())) return;
        await this.execute(cmd);
      } catch (err) {
        host.context.events.reportError(err);
        await host.send(reply(ReplyCode.LocalError, 'Local error in processing'));
      } finally {
        this.busy = false;
      }
    }
  }

  /**
   * Wait for the command rate (see the file comment); false when the session was closed for exceeding it
   * without a break for limits.commandRateCloseMs.
   */
  private async paced(): Promise<boolean> {
    const { host } = this;
    const { commandsPerSecond, commandBurst, commandRateCloseMs } = host.context.options.limits;
    if (!Number.isFinite(commandsPerSecond)) return true;
    const ms = (this.rate ??= new TokenBucket(commandsPerSecond, commandBurst)).reserve(1);
    if (ms <= 0) { this.slowedSince = undefined; return true; }
    const now = Date.now();
    if (this.slowedSince === undefined) {
      this.slowedSince = now;
      host.events.warn('command-rate', `commands faster than limits.commandsPerSecond (${commandsPerSecond}/s): the session is slowed down`);
    } else if (now - this.slowedSince >= commandRateCloseMs) {
      host.events.warn('command-rate-exceeded',
        `commands faster than limits.commandsPerSecond (${commandsPerSecond}/s) for ${Math.round((now - this.slowedSince) / 100) / 10} s: closing the session`);
      await host.send(reply(ReplyCode.ServiceNotAvailable, 'Too many commands too fast, closing control connection'));
      host.close('command rate exceeded', true);
      return false;
    }
    host.channel.holdReading(true);
    await delay(ms);
    host.channel.holdReading(false);
    return !host.isClosed;
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
      if ('kind' in result && result.kind === 'transfer') { result.source?.destroy(); result.sink?.destroy(); void result.limit?.settle({ ok: false, bytes: 0 }); }
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
    if (spec.transfer) { state.restOffset = 0; state.allocation = undefined; state.dataSetupsWithoutTransfer = 0; }
    if (spec.verb !== 'RNFR') state.renameFrom = undefined;
  }
}
