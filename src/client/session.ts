/**
 * The client session: everything one FtpClient knows about its connection, in one object that the helpers
 * (listings, remote-ops, file-transfers), the data channel and the transfers take. FtpClient itself is the
 * queue and the public methods on top of it (docs/client.md, "Inside the client").
 *
 * State, field by field:
 * - `control`: the control connection (undefined before connect()); `lifetime`: aborted by destroy(), it
 *   stops connects in progress (control or data).
 * - `features`: the FEAT reply (RFC 2389); `type`: the TYPE last set (RFC 959 s3.1.1), so it is sent only
 *   when it changes; `memory`: what worked in this session ("the winner is remembered").
 * - `hooks`: the TLS layer's hooks for this connection; `transfer`: the transfer in progress (for abort()).
 * - `events`: where decisions go (diagnostics.ts); the transcript is one of their subscribers.
 * `reset()` starts a new connection: features, TYPE and memory are per connection, since a new one may
 * reach another server behind the same name.
 */
import { FtpClosedError, FtpProtocolError, FtpReplyError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { isPreliminary, type FtpResponse } from '../protocol/reply-parser.js';
import { unquotePath } from '../protocol/reply.js';
import { maskOutgoingCommand } from '../protocol/masking.js';
import type { ConnectTarget } from '../net/connect.js';
import type net from 'node:net';
import type { ControlConnection } from './control-connection.js';
import type { ClientEventPublisher } from './diagnostics.js';
import type { Connector, DataConnectionSettings, FtpClientOptions, SessionContext, SessionHooks, TimeoutSettings } from './options.js';

/** What a session remembers between data connections and listings; cleared on every new connect. */
export interface SessionMemory {
  /** The passive command that worked (data.passive.command 'auto'). */
  passive?: 'EPSV' | 'PASV';
  /** The active command that worked (data.active.command 'auto'). */
  active?: 'EPRT' | 'PORT';
  /** MLSD was refused although FEAT lists MLST: LIST for the rest of the session. */
  mlsdRefused?: boolean;
}

/** What the session needs of a running transfer: a way to abort it and to wait for it. */
export interface AbortableTransfer {
  abort(reason?: string): void;
  readonly promise: Promise<unknown>;
}

export type FtpType = 'A' | 'I';

export class ClientSession implements SessionContext {
  readonly host: string;
  /** FEAT result: upper-case feature name -> parameters (RFC 2389). */
  readonly features = new Map<string, string>();
  readonly memory: SessionMemory = {};
  hooks: SessionHooks | undefined;
  /** Where the control connection's proxy tunnel leads (the server's host as given); undefined when direct. */
  tunnel: { host: string; port: number } | undefined;
  transfer: AbortableTransfer | undefined;
  private controlConnection: ControlConnection | undefined;
  private currentType: FtpType | undefined;
  private lifetimeController = new AbortController();

  constructor(
    private currentOptions: Readonly<FtpClientOptions>,
    readonly timeouts: Required<TimeoutSettings>,
    private readonly connector: Connector,
    readonly events: ClientEventPublisher,
  ) {
    this.host = currentOptions.host;
  }

  get options(): Readonly<FtpClientOptions> { return this.currentOptions; }

  /**
   * Data-connection settings for the next transfers of this connection (FtpClient.setDataSettings). What
   * 'auto' remembered is forgotten: it was learned with the previous settings.
   */
  setDataSettings(data: DataConnectionSettings | undefined): void {
    const { data: _old, ...rest } = this.currentOptions;
    this.currentOptions = data ? { ...rest, data } : rest;
    delete this.memory.passive;
    delete this.memory.active;
  }

  /** Start a new connection: forget what the last one learned. */
  reset(): void {
    this.currentType = undefined;
    this.features.clear();
    for (const key of Object.keys(this.memory)) delete this.memory[key as keyof SessionMemory];
    this.events.newSession();
  }

  // ---------------------------------------------------------------- lifetime

  /** Aborted by destroy(): stops connects in progress at once. */
  get lifetime(): AbortSignal { return this.lifetimeController.signal; }

  /** A new lifetime for a connect after destroy(); returns the signal that a later destroy() aborts. */
  renewLifetime(): AbortSignal {
    if (this.lifetimeController.signal.aborted) this.lifetimeController = new AbortController();
    return this.lifetimeController.signal;
  }

  /** Close at once: connects in progress stop, the running operation rejects with FtpClosedError. */
  destroy(): void {
    this.lifetimeController.abort();
    this.controlConnection?.fail(new FtpClosedError('the client was destroyed'));
  }

  /** Open a TCP socket, stopped by destroy(). */
  connect(target: ConnectTarget): Promise<net.Socket> {
    const lifetime = this.lifetimeController.signal;
    return this.connector({ ...target, signal: target.signal ? AbortSignal.any([target.signal, lifetime]) : lifetime });
  }

  // ---------------------------------------------------------------- control connection

  attach(control: ControlConnection): void {
    this.controlConnection = control;
  }

  get connected(): boolean { return this.controlConnection !== undefined && !this.controlConnection.closed; }

  /** The control connection, or undefined before connect(). */
  get controlOrUndefined(): ControlConnection | undefined { return this.controlConnection; }

  /** The usable control connection; throws when there is none (never connected, closed, or failed). */
  get control(): ControlConnection {
    const c = this.controlConnection;
    if (!c) throw new FtpClosedError('not connected: call connect() first');
    if (c.closed) {
      // A server that says goodbye first (421 on idle timeout or shutdown) is reported by its words.
      const bye = c.takeUnsolicited().find(r => r.code === ReplyCode.ServiceNotAvailable);
      if (bye) throw new FtpReplyError(bye.code, bye.message, 'the server closed the session', { cause: c.closedReason });
      throw c.closedReason ?? new FtpClosedError();
    }
    return c;
  }

  /**
   * One command and its final reply (preliminary 1xx replies are read past); callers hold the queue.
   * Throws only on network errors and timeouts, and FtpUsageError for CR/LF/NUL in the command.
   */
  async command(line: string): Promise<FtpResponse> {
    const control = this.control;
    for (const stray of control.takeUnsolicited()) {
      this.status(`ignoring an unsolicited reply: ${stray.code} ${stray.message}`);
      if (stray.code === ReplyCode.ServiceNotAvailable) {
        const err = new FtpReplyError(stray.code, stray.message, 'the server closed the session');
        control.fail(err);
        throw err;
      }
    }
    control.write(line);
    const verb = line.split(' ')[0];
    const masked = maskOutgoingCommand(line);
    let r = await control.nextReply(this.timeouts.commandMs, 'command', verb, masked);
    while (isPreliminary(r.code)) r = await control.nextReply(this.timeouts.commandMs, 'command', verb, masked);
    return r;
  }

  /** Send and expect a reply code; FtpReplyError otherwise. */
  async expect(line: string, ...codes: number[]): Promise<FtpResponse> {
    const r = await this.command(line);
    if (!codes.includes(r.code)) throw new FtpReplyError(r.code, r.message, line);
    return r;
  }

  /** TYPE A or I (RFC 959 s3.1.1), sent only when it changes. */
  async ensureType(t: FtpType): Promise<void> {
    if (this.currentType === t) return;
    await this.expect(`TYPE ${t}`, ReplyCode.Ok);
    this.currentType = t;
  }

  /** PWD (RFC 959 s4.1.3): the quoted path of the 257 reply. */
  async pwd(): Promise<string> {
    const r = await this.expect('PWD', ReplyCode.PathCreated);
    const p = unquotePath(r.message);
    if (p === undefined) throw new FtpProtocolError(`PWD reply without a quoted path: ${r.message}`);
    return p;
  }

  /** A 'status' transcript line: a decision that is only words. */
  status(text: string, connection: 'control' | 'data' = 'control'): void {
    this.events.status(text, connection);
  }
}
