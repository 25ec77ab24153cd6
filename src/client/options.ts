/**
 * Settings of FtpClient. Every data-connection setting says which situation it fixes, because choosing
 * them is what users of FTP fight with. The doctor produces a `ClientSettings` object that the library and
 * `ftpkit get|put|ls|mirror --settings FILE` accept as is, so keep it plain JSON.
 *
 * The two seams that are not JSON (`connector`, `hooks`) are typed at the end; transport.ts registers the
 * FTPS module's hooks.
 */
import type net from 'node:net';
import type { TlsSettings } from '../net/tls-client.js';
import type { ConnectTarget } from '../net/connect.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import type { ControlConnection, SocketLike } from './control-connection.js';

export type { TlsSettings };

export type SecureMode = 'none' | 'explicit' | 'implicit';

/** Which passive command to use. */
export type PassiveCommand =
  | 'auto'        // EPSV first, PASV if EPSV is refused or its reply is unusable; the winner is remembered
  | 'epsv'        // EPSV only (IPv6, or a middlebox that breaks PASV replies)
  | 'pasv';       // PASV only (servers or middleboxes that reject/eat EPSV)

/** What to do with the address in a 227 reply. */
export type PasvAddressPolicy =
  | 'reply'       // use the address the server sends (needed when data is served from another host)
  | 'control'     // connect to the control connection's host (Chilkat PassiveUseHostAddr, curl >= 7.74); default:
                  // a hostile server cannot point our data connection at another host (CVE-2020-8284)
  | 'auto';       // use the reply's address unless it is unroutable/private while the control host is not,
                  // then use the control host (FileZilla "replace unroutable PASV address")

/** Which active command to use. */
export type ActiveCommand =
  | 'auto'        // EPRT first, PORT if EPRT is refused with 500/502
  | 'eprt'
  | 'port';

export interface ActiveSettings {
  command?: ActiveCommand;
  /** Local port range for the listening socket (a client firewall that opens only these ports). */
  portRange?: { min: number; max: number };
  /**
   * Address to advertise in PORT/EPRT: a fixed IP (client behind NAT with ports forwarded:
   * Chilkat ForcePortIpAddress), or 'local' = the control connection's local address (default).
   */
  advertiseAddress?: string | 'local';
  /**
   * Local address to bind the listening socket to (default: the control connection's local address): a host
   * with several interfaces, or '0.0.0.0'/'::' to listen on all. A specific address is also what PORT/EPRT
   * advertise unless advertiseAddress is set.
   */
  bindAddress?: string;
}

export interface PassiveSettings {
  command?: PassiveCommand;
  addressPolicy?: PasvAddressPolicy;
}

export interface DataConnectionSettings {
  /** 'passive' (default): the client connects; 'active': the server connects back to the client. */
  mode?: 'passive' | 'active';
  passive?: PassiveSettings;
  active?: ActiveSettings;
  /**
   * When a data connection cannot be established, retry the transfer once in the other mode
   * (FileZilla "fall back to the other mode"). Off by default: a fallback hides the real problem.
   */
  fallback?: boolean;
}

export interface TimeoutSettings {
  /** TCP connect of the control connection. Default 10 s. */
  connectMs?: number;
  /** From connect to the 220 greeting. Default 10 s. */
  greetingMs?: number;
  /** Waiting for a reply to a command. Default 30 s. */
  commandMs?: number;
  /** Opening a data connection, and a transfer making no progress. Default 30 s. */
  dataMs?: number;
  /** Send NOOP when the connection is idle this long (0 = no keepalive). Default 0. */
  keepaliveMs?: number;
  /**
   * A transfer moving data slower than `minBytesPerSecond` on average over the last `seconds` fails
   * (FtpNetworkError, failure 'stalled'), like curl's --speed-limit/--speed-time. The idle timeout (dataMs)
   * only catches a transfer that moves nothing; a server trickling one byte every few seconds keeps it
   * alive forever. Default 10 B/s over 60 s: slower than a 300-baud modem (30 B/s), so no working link
   * is cut, while a trickle ends within a minute. `minBytesPerSecond: 0` turns it off.
   */
  stall?: StallLimit;
  /**
   * Longest a single transfer (data connection, command, data and final reply) may take, in ms
   * (FtpNetworkError, failure 'timeout'). Default 0 = no limit: big files legitimately take hours.
   */
  maxTimeMs?: number;
}

export interface StallLimit {
  minBytesPerSecond: number;
  seconds: number;
}

/** The part of the client's options that the doctor recommends and `--settings` accepts. */
export interface ClientSettings {
  secure?: SecureMode;
  tls?: TlsSettings;
  data?: DataConnectionSettings;
  /** Transfer type default: 'binary' (TYPE I) or 'ascii' (TYPE A). */
  transferType?: 'binary' | 'ascii';
  /** Transmission mode default (client/transfer-mode.ts): 'S' (default), 'Z' deflate, 'B' block, 'auto' (Z when offered). */
  transferMode?: TransferModeChoice;
  /**
   * Retries after a dropped connection, used by Retrier (retry.ts) and the CLI's get/put/mirror: how many,
   * and the first backoff delay (doubled each time, at most maxDelayMs). docs/client.md#retries.
   */
  retry?: { retries?: number; delayMs?: number; maxDelayMs?: number };
}

/** MODE S stream, Z deflate, B block (RFC 959 s3.4), or 'auto': Z when the server's FEAT offers it. */
export type TransferModeChoice = 'S' | 'Z' | 'B' | 'auto';

export interface FtpClientOptions extends ClientSettings {
  /** Seam for tests and embedding: how TCP sockets are opened (default: src/net/connect.ts). Not JSON. */
  connector?: Connector;
  /** Session hooks (TLS); default: those registered by the FTPS module when `secure` is not 'none'. Not JSON. */
  hooks?: SessionHooks;
  host: string;
  /** Default 21, or 990 for secure 'implicit'. */
  port?: number;
  /** Default 'anonymous'. */
  user?: string;
  /** Default 'anonymous@' for anonymous. */
  password?: string;
  timeouts?: TimeoutSettings;
  /**
   * Cap each download and upload at this many bytes per second (curl's --limit-rate; rate-limit.ts).
   * Absent: no cap.
   */
  limitRate?: number;
  /**
   * Hold each binary download to the size known for it beforehand (SIZE, a listing, the 150 reply's
   * "(N bytes)"), so a data connection cut short while the server still answers 226 is an error
   * (docs/client.md#short-downloads). Default true; false for servers whose sizes are not what RETR sends
   * (files under /proc or /sys). A download's own `sizeCheck` overrides it.
   */
  sizeCheck?: boolean;
  /**
   * Connect through this proxy (docs/client.md#proxies): `socks5h://[user:pass@]host:port` (the proxy
   * resolves the server's name), `socks5://` (resolved here), `http://` (HTTP CONNECT). The control
   * connection and every passive data connection go through it; active mode uses SOCKS5 BIND
   * (client/active-socks.ts), and is an FtpUsageError through an HTTP proxy.
   */
  proxy?: string;
  /** Hosts reached directly although `proxy` is set: curl's NO_PROXY syntax (`*`, host suffixes, IPs, CIDR). */
  noProxy?: string;
}

// ---------------------------------------------------------------- the seams (not JSON)
// Declared here, beside the options that carry them, because a hook sees the options again: keeping both
// in one module is what keeps the import graph free of circles. transport.ts registers the FTPS hooks.

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
  /**
   * Report how the data connection's TLS handshake went: published as the client's 'dataTls' event (and
   * the transcript line that says whether the control session was resumed).
   */
  reportTls(outcome: { protocol: string; resumed: boolean; sessionOffered: boolean }): void;
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
  /**
   * Whether wrapDataSocket would replace the next data socket (PROT P). Absent while wrapDataSocket is
   * there: assumed yes. A data socket that is not replaced may read into the transfer's own buffers
   * (net/wire-blocks.ts), which a TLS layer on top of it could not.
   */
  wrapsDataSockets?(): boolean;
}
