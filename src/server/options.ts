/**
 * Options of FtpServer (the library API; the CLI and config file map onto these).
 * Every option has a safe default; nothing here is global state.
 */
import type { Authenticator } from './auth/types.js';
import type { FtpServerTlsOptions } from './tls/options.js';
import type { ProxyProtocolOptions } from './proxy/options.js';
import type { DefenderOptions } from './security/defender-options.js';
import type { Storage, UploadMode } from './storage/types.js';
import type { BandwidthOptions } from './limits/bandwidth.js';

export interface PortRange {
  min: number;
  max: number;
}

export interface PassiveOptions {
  /**
   * Ports to listen on for passive data connections. Default 50000-50999 (as many ports as the default
   * maxSessions). A range with fewer ports than limits.maxSessions gets a 'warning' at listen().
   */
  portRange?: PortRange;
  /**
   * IPv4 address to advertise in the 227 reply instead of the control connection's local address
   * (server behind NAT). An IPv4 literal is used as is; a hostname (dynamic DNS) is resolved and
   * re-resolved every `addressRefreshMs`, keeping the last good address when a lookup fails.
   * Applies to IPv4 clients not matched by `addressMap`. EPSV (RFC 2428) carries no address and needs none.
   * Resolution lives in src/server/nat/passive-address.ts.
   */
  address?: string;
  /** How often a hostname `address` is re-resolved (lazily, on the next PASV after expiry). Default 300 s. */
  addressRefreshMs?: number;
  /**
   * Per client network rules, first match wins: clients whose address is in `networks` (CIDR, or the word
   * "private" = RFC 1918 + loopback + link-local + RFC 6598) get `address` ("local" = the address the client
   * connected to, an IPv4 literal, or a hostname). E.g. LAN clients get the local address, others `address`.
   */
  addressMap?: PassiveAddressRule[];
  /**
   * Ports to advertise in 227/229 when a port-mapping NAT (Docker, a load balancer) forwards them to
   * `portRange`: listened port portRange.min + i is advertised as advertisedPortRange.min + i.
   * Must have the same size as portRange.
   */
  advertisedPortRange?: PortRange;
  /**
   * Accept a passive data connection from another address than the control connection's: what FXP
   * (server-to-server copy, docs/client.md#fxp-server-to-server-copy) needs on the passive side, like
   * vsftpd pasv_promiscuous or proftpd AllowForeignAddress. Default false: a connection from any other
   * address is dropped (a third party must not steal the transfer, RFC 2577 s5).
   */
  allowForeignAddress?: boolean;
}

export interface PassiveAddressRule {
  networks: string[];
  address: string;
}

export interface ActiveOptions {
  /** RFC 2577 s3 bounce protection: refuse PORT/EPRT to another host than the client. Default true. */
  requireSameAddress?: boolean;
  /** Refuse PORT/EPRT to ports below 1024 (RFC 2577). Default true. */
  refusePrivilegedPorts?: boolean;
  /**
   * Local address to connect back from (multi-homed servers, or a firewall that only lets the server's
   * public address out). Default: the control connection's local address. See src/server/nat/active-source.ts.
   */
  sourceAddress?: string;
  /**
   * Local port to connect back from: 20 is RFC 959's default data port (L-1, s3.2), which some client
   * firewalls expect. Binding it needs root or CAP_NET_BIND_SERVICE. Default: any port.
   */
  sourcePort?: number;
}

export interface TimeoutOptions {
  /** Idle control connection (no command). Default 300 s (vsftpd's idle_session_timeout). */
  idleMs?: number;
  /**
   * From the greeting (or REIN) to a successful login, whatever the client sends meanwhile. Default 60 s
   * (proftpd's TimeoutLogin, shorter: a client logs in within seconds); 0 disables it.
   */
  loginMs?: number;
  /** Waiting for the client to open a passive connection, or for an active connect. Default 30 s. */
  dataConnectMs?: number;
  /** A data connection with no progress. Default 300 s. */
  dataIdleMs?: number;
  /**
   * A command line must be complete (end with CRLF) this long after its first byte; otherwise 421 and the
   * connection is closed. Bounds clients that trickle a line without ever ending it. Default 30 s.
   */
  commandLineMs?: number;
  /**
   * Under pressure (the passive range nearly used up), a passive listener that no transfer command has
   * claimed for this long is closed to make room for other sessions; that session's transfer command then
   * gets 425. Without pressure an unclaimed listener lasts dataConnectMs. Default 2 s.
   */
  passiveReclaimMs?: number;
}

export interface LimitOptions {
  /** Longest command line accepted, bytes including CRLF. Default 4096. */
  maxLineLength?: number;
  /** Delay before answering a failed login with 530. Default 1000 ms. */
  loginFailureDelayMs?: number;
  /** Close the session after this many failed logins. Default 3. */
  maxLoginFailures?: number;
  /** Concurrent sessions. Default 1000. */
  maxSessions?: number;
  /**
   * Concurrent sessions from one client address (every input is bounded); one more is answered 421.
   * Default 20 (like SFTPGo); 0 means no per-address limit.
   */
  maxSessionsPerAddress?: number;
  /**
   * Largest single upload in bytes (a user's own maxUploadBytes overrides it); the byte past it is refused
   * with 552 (RFC 959 s4.2), as is an ALLO announcing more, before the 150. Default: no limit.
   */
  maxUploadBytes?: number;
  /**
   * Quotas (server/quota/): a user's root is scanned at their first login; a login this long after the
   * last scan rescans it (files changed behind the server's back). 0: never rescan. Default 15 minutes.
   */
  quotaRescanMs?: number;
  /**
   * Sessions one user may have logged in at once; the login over it is answered 530 (like SFTPGo's
   * max_sessions), before its password is checked, and the session stays open. Default 0: no limit.
   */
  maxSessionsPerUser?: number;
  /** Per user name: replaces maxSessionsPerUser for that user (0: no limit). */
  maxSessionsByUser?: Record<string, number>;
  /**
   * Commands one session may run per second, on average (a token bucket with `commandBurst`). Over it the
   * session is slowed: its next command waits, and its control socket is not read meanwhile. Default 500
   * (a fast mirror of small files sends far fewer); 0: no limit.
   */
  commandsPerSecond?: number;
  /** Commands a session may send at once before commandsPerSecond applies. Default 2 x commandsPerSecond. */
  commandBurst?: number;
  /** A session slowed by commandsPerSecond without a break for this long gets 421 and is closed. Default 10 s. */
  commandRateCloseMs?: number;
  /**
   * PASV/EPSV/PORT/EPRT a session may send in a row without a transfer command; the next is answered 421
   * and the session is closed (each passive one takes a port of the shared range). Default 50; 0: no limit.
   */
  maxDataSetupsWithoutTransfer?: number;
  /**
   * MODE Z transfers the server runs at once (deflate costs CPU, docs/server.md#transfer-modes); the next
   * is refused with 450 before its 150. Default 8; 0: no limit.
   */
  maxCompressedTransfers?: number;
  /**
   * A MODE Z upload whose data inflates to more than this many times its compressed size (after its first
   * MiB) is ended with 552 and nothing is kept. Default 0: no ratio bound (the upload size limit and quotas
   * still count the inflated bytes).
   */
  maxInflateRatio?: number;
  /**
   * Bandwidth caps in bytes per second: `upload`/`download` per session, `user` shared by a user's
   * sessions, `global` for the server, `users` per user name. Default: none. Changed at run time with
   * FtpServer.setBandwidth().
   */
  bandwidth?: BandwidthOptions;
}

/** How uploads reach their final name (docs/server.md#uploads-atomic-resumable-or-direct). */
export interface UploadOptions {
  /**
   * 'atomic' (default): a hidden temporary file renamed over the final name once complete, removed on
   * failure; 'resumable': in place, a partial file kept for REST + STOR / APPE; 'direct': in place,
   * truncated at once (before 0.x). A user's own `uploadMode` (AuthenticatedUser) wins.
   */
  mode?: UploadMode;
  /**
   * Atomic mode: fsync each completed upload (and its folder after the rename) before 226, so it survives
   * an operating-system crash or power loss. Default false, as vsftpd, proftpd and pure-ftpd (none of them
   * fsyncs): the rename still makes uploads all-or-nothing for the server's own failures (kill -9, reset,
   * ABOR, disk full), and the kernel flushes when it will. True costs a disk flush per upload (about 0.35 s
   * per GiB on the bench machine's disk).
   */
  fsync?: boolean;
  /**
   * Storages whose leftover temporary uploads (a kill -9 mid-upload) are removed by listen(), each reported
   * as an 'uploads-swept' event. `ftpkit serve` passes every root someone may upload to.
   */
  sweep?: Storage[];
}

export interface FtpServerOptions {
  /** Address to listen on. Default "::" with IPv4 mapped (both families); falls back to 0.0.0.0 without IPv6. */
  host?: string;
  /** Control port; 0 picks a free port (see server.address()). Default 2121. */
  port?: number;
  authenticator: Authenticator;
  passive?: PassiveOptions;
  active?: ActiveOptions;
  timeouts?: TimeoutOptions;
  limits?: LimitOptions;
  /** Text of the 220 greeting. */
  greeting?: string;
  /**
   * Offer MODE Z (deflate, docs/server.md#transfer-modes) in FEAT and accept it. Default true. Some clients
   * (lftp) switch to MODE Z by themselves when FEAT offers it: on a fast LAN deflate costs more than it saves.
   */
  modeZ?: boolean;
  /** FTPS (RFC 4217): certificates, explicit/implicit TLS, TLS policies. Default: no TLS. */
  tls?: FtpServerTlsOptions;
  /**
   * Scores, temporary bans, allow and deny lists (src/server/security/). Default: on, an address banned
   * after 15 points in 5 minutes, first for 15 minutes, doubling up to a day.
   */
  defender?: DefenderOptions;
  /** Upload modes and the start-up sweep of temporary uploads. Default: atomic. */
  uploads?: UploadOptions;
  /**
   * Behind a load balancer (HAProxy's PROXY protocol v1/v2, src/server/proxy/): per listener off, optional
   * or required, accepted only from `from`; the real client's address is then used everywhere. Default: off.
   */
  proxyProtocol?: ProxyProtocolOptions;
}
