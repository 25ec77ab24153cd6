/**
 * The contract between the dispatcher and the command handlers: what a handler receives (a narrow
 * CommandContext, its argument already parsed) and what it may answer (a reply, several, or a transfer).
 *
 * A handler never sees the Session, the control socket or the server: only the session state, the user and
 * their storage, the data-channel slot, a few events, the options and the server services named below. So a
 * handler runs in a unit test with a fake context and no socket (test/unit/server-handlers.test.ts).
 */
import type { Duplex } from 'node:stream';
import type { FtpCommand } from '../../protocol/commands.js';
import type { Reply } from '../../protocol/reply.js';
import type { AuthenticatedUser, Authenticator, Permission } from '../auth/types.js';
import type { FailedLoginRecord } from '../auth/failed-logins.js';
import type { PassiveAddressResolver } from '../data/passive-address-resolver.js';
import type { PassivePortPool } from '../data/passive-pool.js';
import type { ResolvedServerOptions } from '../resolved-options.js';
import type { DataChannelSlot } from '../session/data-slot.js';
import type { SessionState } from '../session/state.js';
import type { Storage } from '../storage/types.js';
import type { RunningTransfer, TransferRequest } from '../transfer.js';
import type { CommandEventDetail } from '../events.js';
import type { HookRunner } from '../hooks.js';
import type { QuotaBook } from '../quota/usage.js';
import type { UserSessionCount } from '../limits/user-sessions.js';
import type { ProxyGate } from '../proxy/gate.js';
import type { CompressedTransferSlots } from '../transfer-modes.js';

/** Argument rule checked by a gate: 'none' refuses an argument, 'required' refuses its absence (501). */
export type ArgumentRule = 'none' | 'required' | 'optional';

/** A parsed argument, or the reply that refuses the text. */
export type Parsed<A> = { value: A } | { refusal: Reply };

/** How a row reads its argument: once, before the handler, so handlers never parse text. */
export interface ArgumentSyntax<A> {
  /** Parse the argument text (the argument gate has passed). */
  parse(text: string, ctx: CommandContext): Parsed<A>;
  /**
   * The virtual path a failed storage operation of this command is reported with ("550 /a: No such file
   * or directory"); the dispatcher maps the storage error with it. Without it the reply names no path.
   */
  pathOf?(value: A): string | undefined;
  /**
   * The virtual path the command acts on, for per-path permissions (auth/path-permissions.ts), when it
   * differs from pathOf (LIST names no path in its failures but lists one). Default: pathOf, then the
   * working directory.
   */
  targetOf?(value: A): string | undefined;
}

/** A handler's answer when it is more than one reply. */
export interface Outcome {
  kind: 'outcome';
  replies: Reply[];
  /** Close the control connection after sending (QUIT, too many login failures). */
  close?: boolean;
  /** Why the session closes (the 'session-close' event's reason). */
  closeReason?: string;
  /** Run after the replies were written (e.g. start a TLS handshake after 234, RFC 4217 s4). */
  afterSend?: () => void | Promise<void>;
  /** Extra fields for this command's 'command' event (e.g. why PASV advertised its address). */
  detail?: CommandEventDetail;
}

export type { TransferRequest };

export type HandlerResult = Reply | Outcome | TransferRequest;

export type Handler<A = string> = (ctx: CommandContext, argument: A, command: FtpCommand) => HandlerResult | Promise<HandlerResult>;

export interface CommandSpec<A = string> {
  verb: string;
  /** Other verbs that run this row (RFC 775 X-commands: XPWD, XCWD, XCUP, XMKD, XRMD). */
  aliases?: string[];
  /** Default true: answered 530 before login (RFC 959 s4.2). */
  needsLogin?: boolean;
  argument: ArgumentRule;
  /** How the argument is parsed; without it the handler gets the argument text as received. */
  syntax?: ArgumentSyntax<A>;
  /** Permission the user must hold (550 otherwise). */
  permission?: Permission;
  /** Uses the data connection: refused with 425 when no PASV/PORT came before. */
  transfer?: boolean;
  /** May run while a transfer is in progress (ABOR, STAT, NOOP; RFC 959 s4.1.3, s5.4). */
  duringTransfer?: boolean;
  /** Refused with 503 after EPSV ALL (RFC 2428 s4: only EPSV may set up data connections then). */
  refusedAfterEpsvAll?: boolean;
  /** HELP text: syntax, e.g. "RETR <sp> pathname". */
  help: string;
  /** FEAT lines (RFC 2389 s3.2), without the leading space; a function when they depend on the session. */
  feat?: string[] | ((ctx: CommandContext) => string[]);
  /** OPTS <verb> <value> (RFC 2389 s4): the row's own options, e.g. OPTS MLST facts, OPTS HASH algorithm. */
  opts?: (ctx: CommandContext, value: string) => Reply;
  handler: Handler<A>;
}

/**
 * A row of any argument type, as the table holds them. `any` because a table mixes rows whose handlers take
 * different argument types; each row is type-checked where it is written, with command().
 */
export type AnyCommandSpec = CommandSpec<any>;

/** Write a row with its argument type inferred from its syntax (string when it has none). */
export function command<A = string>(spec: CommandSpec<A>): AnyCommandSpec {
  return spec;
}

/** A cross-cutting rule applied before handlers; returns a refusal or undefined to let the command pass. */
export type Gate = (ctx: CommandContext, spec: AnyCommandSpec, command: FtpCommand) => Reply | undefined;

export interface CommandModule {
  name: string;
  commands: AnyCommandSpec[];
  /** Gates this module adds (run after the default gates, in module order). */
  gates?: Gate[];
}

/** The rows of the server's table, as FEAT, HELP and OPTS read them. */
export interface CommandDirectory {
  /** Rows in definition order. */
  readonly specs: readonly AnyCommandSpec[];
  lookup(verb: string): AnyCommandSpec | undefined;
  /** All verbs with their aliases. */
  verbs(): string[];
}

/** Facts about the control connection, fixed for the session (IPv4-mapped addresses unmapped). */
export interface ConnectionFacts {
  readonly sessionId: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The control connection is IPv6 (not an IPv4-mapped address). */
  readonly isIPv6: boolean;
}

/** Server-wide services a command may use; the same objects for every session of one server. */
export interface SessionServices {
  readonly authenticator: Authenticator;
  /** The server-wide record of failed logins (auth/failed-logins.ts). */
  readonly failedLogins: FailedLoginRecord;
  /** What PASV advertises (data/passive-address-resolver.ts, NAT rules in nat/). */
  readonly passiveAddressResolver: PassiveAddressResolver;
  /** The server's passive listeners; none: each listener on its own. */
  readonly passivePool: PassivePortPool | undefined;
  readonly commands: CommandDirectory;
  /** The host application's veto hooks (hooks.ts); absent when none is registered. */
  readonly hooks?: HookRunner;
  /** Quota usage of every user with a quota, shared by their sessions (server/quota/usage.ts). */
  readonly quotas: QuotaBook;
  /** Sessions logged in per user, against limits.maxSessionsPerUser (limits/user-sessions.ts). */
  readonly userSessions: UserSessionCount;
  /** The PROXY protocol (proxy/gate.ts): the real client of a passive data connection behind a load balancer. */
  readonly proxyGate?: ProxyGate;
  /** MODE Z transfers running on the server, against limits.maxCompressedTransfers (transfer-modes.ts). */
  readonly compressedTransfers?: CompressedTransferSlots;
}

/** Events a handler may emit; the session fills in its id, the client's address and the user. */
export interface HandlerEvents {
  /** A 'warning' for the operator (stable code, message). */
  warn(code: string, message: string): void;
  /** A 'session-error': something unexpected that is not the client's fault. */
  reportError(err: unknown): void;
  /** A 'login-failed' with the name tried and this connection's failure count. */
  loginFailed(user: string, failures: number): void;
}

/**
 * The control socket, for the one module that must swap it: FTPS (AUTH TLS puts a TLS socket in its
 * place, RFC 4217 s4; CCC takes it off again, s6).
 */
export interface ControlSocketSwap {
  /** The current control socket. */
  readonly socket: Duplex;
  /** Stop reading the control socket without closing it (before a TLS layer starts reading it). */
  detach(): Duplex;
  /** Read commands from this socket from now on. */
  replace(socket: Duplex): void;
  /**
   * SECURITY: forget commands queued and any partial line: commands pipelined in cleartext behind AUTH TLS
   * must not run once TLS is up (the STARTTLS command-injection flaw, CVE-2011-0411).
   */
  discardPendingInput(): void;
}

/** What a handler (and a gate) may touch. */
export interface CommandContext {
  /** The session's protocol state (session/state.ts); handlers change it. */
  readonly state: SessionState;
  readonly connection: ConnectionFacts;
  readonly options: ResolvedServerOptions;
  readonly services: SessionServices;
  /** The logged-in user, if any (the same as state.user). */
  readonly user: AuthenticatedUser | undefined;
  /** The logged-in user's storage; throws an FtpStorageError ('permission') before login (handlers behind the login gate only). */
  readonly storage: Storage;
  /** The data connection prepared by PASV/EPSV/PORT/EPRT for the next transfer command. */
  readonly dataChannel: DataChannelSlot;
  /** The transfer running now, if any (ABOR, STAT and AUTH look at it). */
  readonly transfer: RunningTransfer | undefined;
  readonly events: HandlerEvents;
  readonly control: ControlSocketSwap;
  /** The session has closed (the client left while a handler awaited something). */
  readonly isClosed: boolean;
  /** PASS succeeded: the user's session begins (working directory = home, 'login' event). */
  completeLogin(user: AuthenticatedUser): void;
  /** REIN: the state's reset(), the prepared data connection dropped, the login deadline restarted. */
  reinitialize(): void;
  /** Close the session now (a failed TLS handshake leaves nothing to say). */
  close(reason: string): void;
}
