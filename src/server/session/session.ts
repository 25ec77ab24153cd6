/**
 * One FTP session: ties the control channel (socket side), the dispatcher, the protocol state, the
 * data-channel slot and the running transfer together, and owns the session's lifetime (idle timeout,
 * login deadline: two numbers on the server's one DeadlineSweep, session/timers.ts; close).
 *
 * Handlers never see this class: they get its narrow CommandContext (commands/contract.ts); transfers get
 * a TransferHost (transfer.ts). A session works on any Duplex: FtpServer hands it TCP or TLS sockets, tests
 * an in-memory pair.
 */
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { FtpCommand } from '../../protocol/commands.js';
import { normalizePath } from '../../protocol/paths.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { Reply } from '../../protocol/reply.js';
import { unmapIPv4 } from '../../protocol/hostport.js';
import { FtpStorageError } from '../../errors.js';
import type { AuthenticatedUser } from '../auth/types.js';
import type { CommandTable } from '../command-table.js';
import type { CommandContext, ConnectionFacts, ControlSocketSwap, HandlerEvents, SessionServices } from '../commands/contract.js';
import type { FtpServerEvents } from '../events.js';
import type { ResolvedServerOptions } from '../resolved-options.js';
import type { Storage } from '../storage/types.js';
import { runTransfer } from '../transfer.js';
import type { RunningTransfer, TransferHost, TransferRequest } from '../transfer.js';
import { ControlChannel, type ControlChannelOwner } from './control-channel.js';
import { DataChannelSlot } from './data-slot.js';
import { Dispatcher, type DispatcherHost } from './dispatcher.js';
import { SessionEvents } from './session-events.js';
import { sessionInfo } from './session-info.js';
import type { SessionInfo } from './session-info.js';
import { SessionState } from './state.js';
import type { DeadlineHolder, DeadlineSweep } from './timers.js';
import type { BandwidthLimiter } from '../limits/bandwidth.js';

/** What a session needs from its server. Passed in, never global: two servers never share state. */
export interface ServerContext {
  options: ResolvedServerOptions;
  events: EventEmitter<FtpServerEvents>;
  table: CommandTable;
  services: SessionServices;
  /** The idle and login deadlines of every session, on one timer (session/timers.ts). */
  deadlines: DeadlineSweep;
  /** The server's bandwidth caps (limits/bandwidth.ts). */
  bandwidth: BandwidthLimiter;
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

/** What FtpServer.handleConnection() gives its caller: the session's facts, a snapshot, its end. */
export interface SessionHandle extends ConnectionFacts {
  readonly id: string;
  /** A read-only snapshot of the session now. */
  info(): SessionInfo;
  /** Resolves when the session has closed. */
  closedPromise(): Promise<void>;
}

export class Session implements DeadlineHolder, ControlChannelOwner, DispatcherHost {
  readonly id: string;
  /** Addresses (IPv4-mapped ones unmapped) and family of the control connection. */
  readonly connection: ConnectionFacts;
  readonly startedAt = Date.now();
  readonly state = new SessionState();
  /** What handlers may touch (commands/contract.ts). */
  readonly context: CommandContext;

  private readonly server: ServerContext;
  /** The session's events, its control channel: for its dispatcher (DispatcherHost), not for handlers. */
  readonly events: SessionEvents;
  readonly channel: ControlChannel;
  private readonly dispatcher: Dispatcher;
  private readonly dataChannel = new DataChannelSlot();
  private running: { transfer: RunningTransfer; command: string } | undefined;
  private closed = false;
  /** When the session is closed for idleness / for not logging in (epoch ms; Infinity: no deadline). */
  private idleAt = Infinity;
  private loginAt = Infinity;
  private closeWaiters: Array<() => void> = [];

  constructor(server: ServerContext, socket: Duplex, info: ConnectionInfo, id: string) {
    this.server = server;
    this.id = id;
    const localAddress = unmapIPv4(info.localAddress);
    this.connection = Object.freeze({
      sessionId: id, remoteAddress: unmapIPv4(info.remoteAddress), remotePort: info.remotePort,
      localAddress, localPort: info.localPort, isIPv6: localAddress.includes(':'),
    });
    this.events = new SessionEvents(server.events, id, this.connection.remoteAddress, () => this.state.user?.name);
    const { limits, timeouts } = server.options;
    // The session is the channel's owner itself (lineReceived() ... below): no closures per session.
    this.channel = new ControlChannel(socket, { maxLineLength: limits.maxLineLength, commandLineMs: timeouts.commandLineMs }, this.events, this);
    this.context = new SessionCommandContext(this, this.dataChannel);
    // The session is the dispatcher's host itself (table, transferRunning, beginTransfer... below).
    this.dispatcher = new Dispatcher(this);
  }

  get isClosed(): boolean { return this.closed; }

  /** The server's options and services (for the CommandContext). */
  get serverOptions(): ResolvedServerOptions { return this.server.options; }
  get services(): SessionServices { return this.server.services; }

  /** DispatcherHost: the server's command table. */
  get table(): CommandTable { return this.server.table; }

  /** DispatcherHost: while a transfer runs only rows marked duringTransfer may run. */
  get transferRunning(): boolean { return this.running !== undefined; }

  // ---- ControlChannelOwner: what the control channel tells its session -----------------------------

  lineReceived(): void { this.resetIdleDeadline(); }

  commandsQueued(): void { void this.dispatcher.pump(); }

  lineTimedOut(ms: number): void {
    this.closeWith421(`Command line not completed within ${Math.round(ms / 100) / 10} s, closing control connection`, 'command line not completed in time');
  }

  end(reason: string): void { this.close(reason); }

  /** The client's address (unmapped). */
  get remoteAddress(): string { return this.connection.remoteAddress; }

  /** What handleConnection() hands out: no way into the session beyond its facts, a snapshot and its end. */
  handle(): SessionHandle {
    return Object.freeze({
      ...this.connection, id: this.id, info: () => this.info(), closedPromise: () => this.closedPromise(),
    });
  }

  /** The running transfer, if any. */
  get transfer(): RunningTransfer | undefined { return this.running?.transfer; }

  /** Send the greeting and start reading commands. */
  start(): void {
    const { remotePort, localAddress, localPort } = this.connection;
    this.events.sessionOpen(remotePort, localAddress, localPort);
    this.server.deadlines.add(this);
    this.channel.start();
    this.resetIdleDeadline();
    this.startLoginDeadline();
    void this.send(reply(ReplyCode.ServiceReady, this.server.options.greeting));
  }

  /** Send a reply (the control channel's one writer). Resolves once handed to the socket. Never rejects. */
  send(r: Reply): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.channel.send(r);
  }

  info(): SessionInfo {
    return sessionInfo(this.connection, this.startedAt, this.state, this.running && { running: this.running.transfer, command: this.running.command });
  }

  /** DispatcherHost: hand a transfer request to the prepared data channel. */
  beginTransfer(req: TransferRequest, cmd: FtpCommand, started: number): void {
    const channel = this.dataChannel.take();
    if (!channel) {
      // The gate checked it; only a concurrent REIN/close could get here.
      req.source?.destroy();
      req.sink?.destroy();
      void req.limit?.settle({ ok: false, bytes: 0 });
      void this.send(reply(ReplyCode.CantOpenDataConnection, 'No data connection'));
      return;
    }
    this.clearIdleDeadline();
    const transfer = runTransfer(this.transferHost(), req, channel);
    this.running = { transfer, command: cmd.verb };
    void transfer.done.then(finalReply => {
      this.running = undefined;
      this.dispatcher.commandDone(cmd, finalReply.code, started);
      this.resetIdleDeadline();
      void this.dispatcher.pump();
    });
  }

  private transferHost(): TransferHost {
    const { events } = this;
    return {
      options: this.server.options,
      eventBase: () => ({
        sessionId: this.id, remoteAddress: this.connection.remoteAddress, user: this.state.user?.name ?? '',
        ...(this.state.user?.anonymous ? { anonymous: true } : {}),
      }),
      send: r => this.send(r),
      transferred: (kind, e) => events.transferred(kind, e),
      transferFailed: e => events.transferFailed(e),
      warn: (code, message) => events.warn(code, message),
      reportError: err => events.reportError(err),
      throttle: direction => this.server.bandwidth.throttle(this.state.user?.name ?? '', direction),
      modeSettings: () => ({ mode: this.state.mode, deflateLevel: this.state.deflateLevel }),
      compressedSlot: () => {
        const slots = this.server.services.compressedTransfers;
        return slots ? slots.take() : () => {};
      },
    };
  }

  // ---- login and REIN -----------------------------------------------------------------------------

  /** PASS succeeded (for the CommandContext). */
  completeLogin(user: AuthenticatedUser): void {
    const { state } = this;
    state.user = user;
    state.phase = 'logged-in';
    state.pendingUser = undefined;
    state.cwd = normalizePath(user.home ?? '/');
    this.server.services.userSessions.add(user.name);
    this.clearLoginDeadline();
    // A user with a quota: their root is measured at the first login (and again when the count is old).
    this.services.quotas.loggedIn(user);
    this.events.login(user.name);
  }

  /** REIN (RFC 959 s4.1.1): the state's one reset path, the prepared data connection, a new login deadline. */
  reinitialize(): void {
    this.dataChannel.install(undefined);
    this.leaveUserCount();
    this.state.reset();
    this.startLoginDeadline();
  }

  /** The logged-in user (if any) has one session less (limits.maxSessionsPerUser). */
  private leaveUserCount(): void {
    if (this.state.user) this.server.services.userSessions.remove(this.state.user.name);
  }

  // ---- lifetime ----------------------------------------------------------------------------------

  private resetIdleDeadline(): void {
    this.idleAt = this.closed || this.running ? Infinity : this.deadline(this.server.options.timeouts.idleMs);
  }

  private clearIdleDeadline(): void {
    this.idleAt = Infinity;
  }

  /** `ms` from now on the server's sweep (0 or Infinity: no deadline). */
  private deadline(ms: number): number {
    if (!(ms > 0) || !Number.isFinite(ms)) return Infinity;
    const at = Date.now() + ms;
    this.server.deadlines.schedule(at);
    return at;
  }

  /** The server's deadline sweep (session/timers.ts): close with 421 for what is due, return the next. */
  sweep(now: number): number {
    if (this.closed) return Infinity;
    if (this.loginAt <= now) {
      this.loginAt = this.idleAt = Infinity;
      this.closeWith421('Login timeout, closing control connection', 'login timeout');
    } else if (this.idleAt <= now) {
      this.loginAt = this.idleAt = Infinity;
      this.closeWith421('Idle timeout, closing control connection', 'idle timeout');
    }
    return Math.min(this.idleAt, this.loginAt);
  }

  /** 421 (RFC 959 s4.2: service closing the control connection), then close once it went out. */
  private closeWith421(text: string, reason: string): void {
    void this.send(reply(ReplyCode.ServiceNotAvailable, text)).then(() => this.close(reason, true));
  }

  /**
   * SECURITY: an absolute deadline for logging in, from the greeting (or REIN) on; completeLogin() clears
   * it. The idle timer alone does not bound a connection that never logs in: any line, NOOP included,
   * restarts it.
   */
  private startLoginDeadline(): void {
    this.loginAt = this.closed ? Infinity : this.deadline(this.server.options.timeouts.loginMs);
  }

  private clearLoginDeadline(): void {
    this.loginAt = Infinity;
  }

  /**
   * Close the session: abort a transfer, release the data channel, close the control connection.
   * `graceful` lets already written replies (221, 421) flush first.
   */
  close(reason: string, graceful = false): void {
    if (this.closed) return;
    this.closed = true;
    this.clearIdleDeadline();
    this.clearLoginDeadline();
    this.server.deadlines.delete(this);
    this.leaveUserCount();
    void this.running?.transfer.abort('session closed');
    this.dataChannel.close();
    this.channel.close(graceful);
    this.events.sessionClose(Date.now() - this.startedAt, reason);
    this.server.onSessionClosed?.(this);
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Resolves when the session has closed. */
  closedPromise(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise(resolve => this.closeWaiters.push(resolve));
  }
}

/**
 * What handlers get (commands/contract.ts): a narrow view of its session. A class, so that its getters and
 * methods live on the prototype: an object literal of closures cost every idle session about a kilobyte
 * (issue 10).
 */
class SessionCommandContext implements CommandContext {
  readonly state: SessionState;
  readonly connection: ConnectionFacts;
  readonly options: ResolvedServerOptions;
  readonly services: SessionServices;

  constructor(private readonly session: Session, readonly dataChannel: DataChannelSlot) {
    this.state = session.state;
    this.connection = session.connection;
    this.options = session.serverOptions;
    this.services = session.services;
  }

  get user(): AuthenticatedUser | undefined { return this.state.user; }

  get storage(): Storage {
    const user = this.state.user;
    if (!user) throw new FtpStorageError('permission', 'no user is logged in');
    return user.storage;
  }

  get transfer(): RunningTransfer | undefined { return this.session.transfer; }

  get events(): HandlerEvents { return this.session.events; }

  get control(): ControlSocketSwap { return this.session.channel; }

  get isClosed(): boolean { return this.session.isClosed; }

  completeLogin(user: AuthenticatedUser): void { this.session.completeLogin(user); }

  reinitialize(): void { this.session.reinitialize(); }

  close(reason: string): void { this.session.close(reason); }
}
