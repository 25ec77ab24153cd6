/**
 * Settings of FtpClient. Every data-connection setting says which situation it fixes, because choosing
 * them is what users of FTP fight with (seeds 000-004). The doctor produces a `ClientSettings` object that
 * the library and `ftpkit get|put|ls|mirror --settings FILE` accept as is, so keep it plain JSON.
 */

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

export interface TlsSettings {
  /** AUTH verb for explicit TLS. Default 'TLS' (RFC 4217); 'SSL' for old servers. */
  authCommand?: 'TLS' | 'SSL';
  /** PROT P (default) protects data connections; 'C' leaves them in cleartext (RFC 4217 s9). */
  protectData?: boolean;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  /** PEM CA certificate(s) or a path, for servers with private CAs. */
  ca?: string | string[];
  caFile?: string;
  /** Client certificate and key (PEM text or paths). */
  cert?: string;
  key?: string;
  certFile?: string;
  keyFile?: string;
  /** Server name for SNI and certificate checks (default: host). */
  servername?: string;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Send CCC after login to return the control connection to cleartext (RFC 4217 s6; for NAT ALGs). */
  clearCommandChannel?: boolean;
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
}

export interface FtpClientOptions extends ClientSettings {
  /** Seam for tests and embedding: how TCP sockets are opened (default: src/net/connect.ts). Not JSON. */
  connector?: import('./transport.js').Connector;
  /** Session hooks (TLS); default: those registered by the FTPS module when `secure` is not 'none'. Not JSON. */
  hooks?: import('./transport.js').SessionHooks;
  host: string;
  /** Default 21, or 990 for secure 'implicit'. */
  port?: number;
  /** Default 'anonymous'. */
  user?: string;
  /** Default 'anonymous@' for anonymous. */
  password?: string;
  timeouts?: TimeoutSettings;
}
