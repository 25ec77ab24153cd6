/**
 * Seams of FtpClient: how sockets are made (the connector, for tests) and the session hooks the TLS layer
 * plugs into (implicit TLS right after connect, AUTH TLS before login, PBSZ/PROT after login, wrapping every
 * data socket so it resumes the control connection's TLS session — RFC 4217).
 *
 * FtpClient calls the hooks; it knows nothing about TLS itself. The FTPS module registers its hooks with
 * `registerSecureHooks()`; `options.hooks` overrides them per client.
 */
import type net from 'node:net';
import type { ConnectTarget } from '../net/connect.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import type { ControlConnection, SocketLike } from './control-connection.js';
import type { FtpClientOptions } from './options.js';

/** Opens a TCP socket (default: connectTcp from src/net/connect.ts). Must reject with FtpNetworkError. */
export type Connector = (target: ConnectTarget) => Promise<net.Socket>;

/** What a hook may use of the session. */
export interface SessionContext {
  readonly options: Readonly<FtpClientOptions>;
  /** The control connection; `replaceSocket()` swaps in a TLS socket after AUTH TLS. */
  readonly control: ControlConnection;
  /** FEAT result (upper-case keys). */
  readonly features: Map<string, string>;
  /** Host name given by the user (for SNI / certificate checks). */
  readonly host: string;
  /** Send a command and read its final reply (bounded by the command timeout). Never throws on 4xx/5xx. */
  command(line: string): Promise<FtpResponse>;
  /** Emit a 'status' transcript line. */
  status(text: string, connection?: 'control' | 'data'): void;
}

export interface DataSocketInfo {
  readonly session: SessionContext;
  /** 'download' | 'upload' | 'list'. */
  readonly direction: 'download' | 'upload' | 'list';
  /** Resolves when the server's preliminary reply (125/150) to the transfer command has arrived. */
  readonly preliminary: Promise<void>;
  readonly mode: 'passive' | 'active';
}

export interface SessionHooks {
  /** Right after the TCP connect, before the greeting (implicit TLS). Returns the socket to use. */
  onControlConnected?(socket: net.Socket, session: Omit<SessionContext, 'control' | 'command'>): Promise<SocketLike>;
  /** After the greeting and FEAT, before USER (explicit TLS: AUTH TLS, then control.replaceSocket()). */
  beforeLogin?(session: SessionContext): Promise<void>;
  /** After a successful login (PBSZ 0 / PROT P). */
  afterLogin?(session: SessionContext): Promise<void>;
  /**
   * Each data socket once connected (passive) or accepted (active): return the socket to transfer on, e.g. a
   * TLS socket resuming the control session. Called before the transfer's data is read or written.
   */
  wrapDataSocket?(socket: net.Socket, info: DataSocketInfo): Promise<SocketLike>;
}

let secureHooksFactory: ((options: Readonly<FtpClientOptions>) => SessionHooks) | undefined;

/** The FTPS module registers how to make hooks for `secure: 'explicit' | 'implicit'`. */
export function registerSecureHooks(factory: (options: Readonly<FtpClientOptions>) => SessionHooks): void {
  secureHooksFactory = factory;
}

export function secureHooksFor(options: Readonly<FtpClientOptions>): SessionHooks | undefined {
  return secureHooksFactory?.(options);
}
