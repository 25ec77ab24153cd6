/**
 * One FTP session: the control connection, its explicit state, and the dispatcher.
 *
 * Owns: reading command lines (protocol/commands.ts framing), queueing them, running them through the
 * gates and the command table, the ONE writer that sends and logs replies (DESIGN.md principle 3), the
 * session state with its one reset path (REIN, principle 9), the data channel slot, and the session's
 * lifetime (idle timeout, close). Transfers themselves run in transfer.ts.
 *
 * A session works on any Duplex (principle 16): FtpServer hands it TCP sockets, tests may hand it an
 * in-memory pair. The control socket can be swapped mid-session (replaceControlSocket) so FTPS can put a
 * TLS socket in its place after AUTH TLS, and data sockets pass through `wrapDataSocket` (TLS for PROT P).
 */
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CommandLineFramer, isPlausibleVerb, maskArgument, maskCommand, maskVerb, parseCommandLine } from '../protocol/commands.js';
import type { FtpCommand } from '../protocol/commands.js';
import { DEFAULT_MLST_FACTS } from '../protocol/listing-format.js';
import type { MlstFact } from '../protocol/listing-format.js';
import { normalizePath, resolvePath } from '../protocol/paths.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { formatReply, reply } from '../protocol/reply.js';
import type { Reply } from '../protocol/reply.js';
import { unmapIPv4 } from '../protocol/hostport.js';
import type { AuthenticatedUser, Authenticator } from './auth/types.js';
import type { Storage } from './storage/types.js';
import type { CommandSpec, CommandTable, HandlerResult, TransferRequest } from './command-table.js';
import type { DataChannel, DataSocketWrapper } from './data/data-channel.js';
import type { PassiveAddressResolver } from './data/passive-address.js';
import type { PassivePortPool } from './data/passive-pool.js';
import type { FtpServerEvents } from './events.js';
import type { ResolvedServerOptions } from './resolved-options.js';
import { storageErrorReply, isExpectedStorageError } from './storage-replies.js';
import { runTransfer } from './transfer.js';
import type { RunningTransfer } from './transfer.js';

/** What a session needs from its server. Passed in, never global: two servers never share state. */
export interface ServerContext {
  options: ResolvedServerOptions;
  authenticator: Authenticator;
  events: EventEmitter<FtpServerEvents>;
  table: CommandTable;
  passiveAddressResolver: PassiveAddressResolver;
  /** The server's passive listeners (reclaimed under pressure); none: each listener on its own. */
  passivePool?: PassivePortPool;
  /** Called once when the session has closed. */
  onSessionClosed?(session: Session): void;
}

/** Addresses of the control connection (a Duplex that is not a socket has none, so they are passed in). */
export interface ConnectionInfo {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export type LoginPhase = 'new' | 'need-password' | 'logged-in';
export type TransferType = 'A' | 'I';

/** Commands a client may have queued while a command or transfer runs; more is abuse (DESIGN.md principle 12). */
const MAX_QUEUED_COMMANDS = 64;
/** Reply bytes waiting in the control socket's buffer before we give up on a client that does not read. */
const MAX_UNREAD_REPLY_BYTES = 4 * 1024 * 1024;

export class Session {
  readonly id: string;
  readonly context: ServerContext;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly startedAt = Date.now();

  // ---- session state (reset by REIN through reset()) ----
  phase: LoginPhase = 'new';
  /** Name given by USER, waiting for PASS. */
  pendingUser: string | undefined;
  user: AuthenticatedUser | undefined;
  /** Virtual working directory. */
  cwd = '/';
  /** RFC 959 s3.1.1: ASCII is the default representation type. */
  type: TransferType = 'A';
  /** REST offset for the next RETR/STOR/APPE (RFC 3659 s5). Cleared when a transfer command uses it. */
  restOffset = 0;
  /** Set by RNFR, used by the RNTO that must follow immediately (RFC 959 s4.1.3). */
  renameFrom: string | undefined;
  /** After EPSV ALL only EPSV may set up data connections (RFC 2428 s4). */
  epsvAll = false;
  mlstFacts: Set<MlstFact> = new Set(DEFAULT_MLST_FACTS);
  /**
   * Failed PASS attempts on this connection. SECURITY: not reset by REIN, which is allowed before login:
   * otherwise USER/PASS/REIN loops would get unlimited guesses per connection.
   */
  loginFailures = 0;
  /** Whether the control connection is protected by TLS (set by the FTPS module). */
  secure = false;
  /** Free slots for other command modules (FTPS: PBSZ/PROT state). Cleared by reset(). */
  readonly ext = new Map<string, unknown>();
  /** Wraps each data socket before use (FTPS: TLS for PROT P). */
  wrapDataSocket: DataSocketWrapper | undefined;
  /** Run by reset() (REIN) so modules can clear their own state. */
  readonly resetHooks: Array<(session: Session) => void> = [];

  private dataChannel: DataChannel | undefined;
  /** Why the prepared data channel went away by itself (told in the 425 of the next transfer command). */
  private dataChannelLost: string | undefined;
  transfer: RunningTransfer | undefined;

  private socket: Duplex;
  private framer: CommandLineFramer;
  private readonly queue: FtpCommand[] = [];
  private busy = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private loginTimer: NodeJS.Timeout | undefined;
  /** Runs while a command line has begun but not ended (timeouts.commandLineMs). */
  private lineTimer: NodeJS.Timeout | undefined;
  private readonly onData = (chunk: Buffer): void => this.onBytes(chunk);
  private readonly onEnd = (): void => this.close('client closed the connection');
  private readonly onError = (err: Error): void => this.close(`control connection error: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
  private closeWaiters: Array<() => void> = [];

  constructor(context: ServerContext, socket: Duplex, info: ConnectionInfo, id: string) {
    this.context = context;
    this.id = id;
    this.socket = socket;
    this.remoteAddress = unmapIPv4(info.remoteAddress);
    this.remotePort = info.remotePort;
    this.localAddress = unmapIPv4(info.localAddress);
    this.localPort = info.localPort;
    this.framer = new CommandLineFramer(context.options.limits.maxLineLength);
  }

  get options(): ResolvedServerOptions { return this.context.options; }
  get isClosed(): boolean { return this.closed; }
  /** True when the control connection is IPv6 (and not an IPv4-mapped address). */
  get isIPv6(): boolean { return this.localAddress.includes(':'); }

  /** The logged-in user's storage. Only valid after login (handlers behind the login gate). */
  get storage(): Storage {
    if (!this.user) throw new Error('no user logged in');
    return this.user.storage;
  }

  /** Resolve a client path argument against the working directory (throws InvalidPathError on NUL). */
  resolve(argument: string): string {
    return resolvePath(this.cwd, argument);
  }

  /** Send the greeting and start reading commands. */
  start(): void {
    this.attach(this.socket);
    this.resetIdleTimer();
    this.startLoginDeadline();
    void this.send(reply(ReplyCode.ServiceReady, this.options.greeting));
  }

  // ---- control socket -------------------------------------------------------------------------------

  private attach(socket: Duplex): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  private detach(socket: Duplex): void {
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onEnd);
    socket.off('error', this.onError);
  }

  /** The current control socket (FTPS wraps it in a TLSSocket). */
  get controlSocket(): Duplex { return this.socket; }

  /**
   * Put another Duplex in place of the control socket (after AUTH TLS, RFC 4217 s4: the TLSSocket wrapping
   * the old one). Call detachControlSocket() first, before the TLS layer starts reading the old socket.
   */
  replaceControlSocket(socket: Duplex): void {
    this.detach(this.socket);
    this.socket = socket;
    if (!this.closed) this.attach(socket);
  }

  /**
   * SECURITY: forget commands queued and any partial line received so far. The FTPS module calls it on
   * AUTH TLS: commands pipelined in cleartext behind AUTH must not run once TLS is up (the STARTTLS
   * command-injection flaw, CVE-2011-0411).
   */
  discardPendingInput(): void {
    this.queue.length = 0;
    this.framer = new CommandLineFramer(this.framer.maxLineLength);
    this.clearLineTimer();
  }

  /** Stop reading the control socket without closing it (the FTPS module then hands it to TLS). */
  detachControlSocket(): Duplex {
    this.detach(this.socket);
    return this.socket;
  }

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    const linesBefore = this.framer.completedLines;
    const events = this.framer.push(chunk);
    this.watchPartialLine(this.framer.completedLines !== linesBefore);
    for (const ev of events) {
      if (this.closed) return;
      this.resetIdleTimer();
      if (ev.kind === 'too-long') {
        // RFC 959 s4.2: 500 covers "command line too long". The rest of the line is discarded unbuffered.
        this.context.events.emit('transcript', { sessionId: this.id, direction: 'in', line: '<line too long, discarded>' });
        void this.send(reply(ReplyCode.SyntaxError, `Command line too long (max ${this.framer.maxLineLength} bytes)`));
        continue;
      }
      const cmd = parseCommandLine(ev.text);
      if (!cmd) continue; // a stray CRLF is not a command
      this.context.events.emit('transcript', { sessionId: this.id, direction: 'in', line: maskCommand(cmd) });
      if (this.queue.length >= MAX_QUEUED_COMMANDS) {
        void this.send(reply(ReplyCode.ServiceNotAvailable, 'Too many commands queued, closing'));
        this.close('too many queued commands');
        return;
      }
      this.queue.push(cmd);
    }
    void this.pump();
  }

  /**
   * A line must end within timeouts.commandLineMs of its first byte. Without this bound a client trickling
   * a line that never ends (one byte now and then) holds the session until the idle timeout (300 s):
   * 1000 such connections locked real clients out for that long. Real clients send a line in one go.
   */
  private watchPartialLine(lineEnded: boolean): void {
    if (lineEnded) this.clearLineTimer();
    if (!this.framer.hasPartialLine) { this.clearLineTimer(); return; }
    if (this.lineTimer) return;
    const ms = this.options.timeouts.commandLineMs;
    this.lineTimer = sessionTimer(ms, () => {
      this.lineTimer = undefined;
      this.context.events.emit('transcript', { sessionId: this.id, direction: 'in', line: '<command line not completed in time>' });
      this.closeWith421(`Command line not completed within ${Math.round(ms / 100) / 10} s, closing control connection`, 'command line not completed in time');
    });
  }

  private clearLineTimer(): void {
    if (this.lineTimer) clearTimeout(this.lineTimer);
    this.lineTimer = undefined;
  }

  // ---- dispatcher ----------------------------------------------------------------------------------

  /** Run queued commands one at a time; while a transfer runs, only rows marked duringTransfer may run. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    while (this.queue.length && !this.closed) {
      let index = 0;
      if (this.transfer) {
        index = this.queue.findIndex(c => this.context.table.lookup(c.verb)?.duringTransfer === true);
        if (index < 0) return; // the end of the transfer calls pump() again
      }
      const [cmd] = this.queue.splice(index, 1);
      this.busy = true;
      try {
        await this.execute(cmd);
      } catch (err) {
        this.reportError(err);
        await this.send(reply(ReplyCode.LocalError, 'Local error in processing'));
      } finally {
        this.busy = false;
      }
    }
  }

  private async execute(cmd: FtpCommand): Promise<void> {
    const started = Date.now();
    const spec = this.context.table.lookup(cmd.verb);
    if (!spec) {
      // 502 for what looks like a command we do not implement, 500 for line noise (RFC 959 s4.2).
      const r = isPlausibleVerb(cmd.verb)
        ? reply(ReplyCode.CommandNotImplemented, `Command ${cmd.verb} not implemented`)
        : reply(ReplyCode.SyntaxError, 'Syntax error, command unrecognized');
      await this.send(r);
      this.emitCommand(cmd, r.code, started);
      return;
    }
    for (const gate of this.context.table.gates) {
      const refusal = gate(this, spec, cmd);
      if (refusal) {
        await this.send(refusal);
        this.afterCommand(spec);
        this.emitCommand(cmd, refusal.code, started);
        return;
      }
    }
    let result: HandlerResult;
    try {
      result = await spec.handler(this, cmd.argument, cmd);
    } catch (err) {
      if (!isExpectedStorageError(err)) this.reportError(err);
      result = storageErrorReply(err);
    }
    this.afterCommand(spec);
    if (this.closed) {
      // The client left while the handler ran: release what it opened.
      if ('kind' in result && result.kind === 'transfer') { result.source?.destroy(); result.sink?.destroy(); }
      return;
    }
    if ('kind' in result && result.kind === 'transfer') {
      this.beginTransfer(result, cmd, started);
      return;
    }
    const replies = 'kind' in result ? result.replies : [result];
    for (const r of replies) await this.send(r);
    this.emitCommand(cmd, replies.length ? replies[replies.length - 1].code : 0, started);
    if ('kind' in result) {
      if (result.afterSend) await result.afterSend();
      if (result.close) this.close(result.closeReason ?? `closed after ${cmd.verb}`, true);
    }
  }

  /**
   * RNFR applies to the command right after it only (RFC 959 s4.1.3). REST (RFC 3659 s5.3) is meant to be
   * the last command before the transfer, but real clients put PASV/EPSV/TYPE in between (ftplib sends
   * EPSV after REST), so like vsftpd and pyftpdlib the offset is kept until a transfer command uses it.
   */
  private afterCommand(spec: CommandSpec): void {
    if (spec.transfer) this.restOffset = 0;
    if (spec.verb !== 'RNFR') this.renameFrom = undefined;
  }

  private beginTransfer(req: TransferRequest, cmd: FtpCommand, started: number): void {
    const channel = this.takeDataChannel();
    if (!channel) {
      // The gate checked it; only a concurrent REIN/close could get here.
      req.source?.destroy();
      req.sink?.destroy();
      void this.send(reply(ReplyCode.CantOpenDataConnection, 'No data connection'));
      return;
    }
    this.clearIdleTimer();
    const running = runTransfer(this, req, channel);
    this.transfer = running;
    void running.done.then(finalReply => {
      this.transfer = undefined;
      this.emitCommand(cmd, finalReply.code, started);
      this.resetIdleTimer();
      void this.pump();
    });
  }

  // ---- the one writer --------------------------------------------------------------------------------

  /** Send a reply, emit it ('reply', 'transcript'). Resolves once handed to the socket. Never throws. */
  send(r: Reply): Promise<void> {
    if (this.closed) return Promise.resolve();
    // Bound what a client that never reads its replies can make us buffer (DESIGN.md principle 12).
    if (this.socket.writableLength > MAX_UNREAD_REPLY_BYTES) {
      this.close('client does not read its replies');
      return Promise.resolve();
    }
    const text = formatReply(r);
    const { events } = this.context;
    events.emit('reply', { sessionId: this.id, remoteAddress: this.remoteAddress, user: this.user?.name, code: r.code, lines: r.lines });
    if (events.listenerCount('transcript')) {
      for (const line of text.split('\r\n')) if (line) events.emit('transcript', { sessionId: this.id, direction: 'out', line });
    }
    return new Promise<void>(resolve => {
      try {
        this.socket.write(text, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  private emitCommand(cmd: FtpCommand, replyCode: number, started: number): void {
    this.context.events.emit('command', {
      sessionId: this.id, remoteAddress: this.remoteAddress, user: this.user?.name ?? this.pendingUser,
      verb: maskVerb(cmd), argument: maskArgument(cmd), replyCode, durationMs: Date.now() - started,
    });
  }

  /** Report an unexpected error of this session ('session-error', never the EventEmitter 'error'). */
  reportError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.context.events.emit('session-error', { sessionId: this.id, remoteAddress: this.remoteAddress, error });
  }

  warn(code: string, message: string): void {
    this.context.events.emit('warning', { sessionId: this.id, remoteAddress: this.remoteAddress, code, message });
  }

  // ---- data channel slot ---------------------------------------------------------------------------

  hasDataChannel(): boolean { return this.dataChannel !== undefined; }

  /** Install a new data channel; one at a time, so an unused previous one is discarded. */
  setDataChannel(channel: DataChannel | undefined): void {
    if (this.dataChannel && this.dataChannel !== channel) this.dataChannel.discard();
    this.dataChannel = channel;
    this.dataChannelLost = undefined;
    if (this.closed) channel?.discard();
  }

  /**
   * Empty the slot if it still holds `channel` (which released itself), so the next transfer hears 425;
   * `why` is said in that 425.
   */
  dropDataChannel(channel: DataChannel, why?: string): void {
    if (this.dataChannel !== channel) return;
    this.dataChannel = undefined;
    this.dataChannelLost = why;
  }

  /** Why the data channel prepared by PASV/EPSV is gone, if it went away by itself. */
  get lostDataChannelReason(): string | undefined { return this.dataChannelLost; }

  private takeDataChannel(): DataChannel | undefined {
    const c = this.dataChannel;
    this.dataChannel = undefined;
    return c;
  }

  // ---- state -------------------------------------------------------------------------------------

  /** Complete a login. */
  loggedIn(user: AuthenticatedUser): void {
    this.user = user;
    this.phase = 'logged-in';
    this.pendingUser = undefined;
    this.cwd = normalizePath(user.home ?? '/');
    this.clearLoginDeadline();
    this.context.events.emit('login', { sessionId: this.id, remoteAddress: this.remoteAddress, user: user.name });
  }

  /**
   * The one reset path (REIN, RFC 959 s4.1.1): back to "new" as if just connected, keeping the control
   * connection (and its TLS, if any: modules decide through resetHooks).
   */
  reset(): void {
    this.setDataChannel(undefined);
    this.phase = 'new';
    this.pendingUser = undefined;
    this.user = undefined;
    this.cwd = '/';
    this.type = 'A';
    this.restOffset = 0;
    this.renameFrom = undefined;
    this.epsvAll = false;
    this.mlstFacts = new Set(DEFAULT_MLST_FACTS);
    this.ext.clear();
    this.wrapDataSocket = undefined;
    for (const hook of this.resetHooks) hook(this);
    this.startLoginDeadline();
  }

  // ---- lifetime ----------------------------------------------------------------------------------

  private resetIdleTimer(): void {
    this.clearIdleTimer();
    if (this.closed || this.transfer) return;
    this.idleTimer = sessionTimer(this.options.timeouts.idleMs,
      () => this.closeWith421('Idle timeout, closing control connection', 'idle timeout'));
  }

  /** 421 (RFC 959 s4.2: service closing the control connection), then close once it went out. */
  private closeWith421(text: string, reason: string): void {
    void this.send(reply(ReplyCode.ServiceNotAvailable, text)).then(() => this.close(reason, true));
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /**
   * SECURITY: an absolute deadline for logging in, from the greeting (or REIN) on; loggedIn() clears it.
   * The idle timer alone does not bound a connection that never logs in: any line, NOOP included,
   * restarts it.
   */
  private startLoginDeadline(): void {
    this.clearLoginDeadline();
    if (this.closed) return;
    this.loginTimer = sessionTimer(this.options.timeouts.loginMs,
      () => this.closeWith421('Login timeout, closing control connection', 'login timeout'));
  }

  private clearLoginDeadline(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
  }

  /**
   * Close the session: abort a transfer, release the data channel, close the control connection.
   * `graceful` lets already written replies (221, 421) flush first.
   */
  close(reason: string, graceful = false): void {
    if (this.closed) return;
    this.closed = true;
    this.clearIdleTimer();
    this.clearLoginDeadline();
    this.clearLineTimer();
    this.queue.length = 0;
    this.transfer?.abort('session closed');
    this.setDataChannel(undefined);
    const socket = this.socket;
    this.detach(socket);
    socket.on('error', () => { /* late errors after close are not interesting */ });
    if (graceful) {
      socket.end();
      const t = setTimeout(() => socket.destroy(), 2000);
      t.unref();
      socket.once('close', () => clearTimeout(t));
    } else {
      socket.destroy();
    }
    this.context.events.emit('session-close', {
      sessionId: this.id, remoteAddress: this.remoteAddress, user: this.user?.name,
      durationMs: Date.now() - this.startedAt, reason,
    });
    this.context.onSessionClosed?.(this);
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Resolves when the session has closed. */
  closedPromise(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise(resolve => this.closeWaiters.push(resolve));
  }
}

/**
 * A session timeout of `ms` (0 or Infinity: none). Unref'd: the connection keeps the process alive, not
 * this timer (an embedding app can exit cleanly).
 */
function sessionTimer(ms: number, onExpiry: () => void): NodeJS.Timeout | undefined {
  if (!(ms > 0) || !Number.isFinite(ms)) return undefined;
  const timer = setTimeout(onExpiry, ms);
  timer.unref();
  return timer;
}
