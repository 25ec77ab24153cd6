/**
 * Options of FtpServer (the library API; the CLI and config file map onto these).
 * Every option has a safe default; nothing here is global state.
 */
import type { Authenticator } from './auth/types.js';

export interface PortRange {
  min: number;
  max: number;
}

export interface PassiveOptions {
  /** Ports to listen on for passive data connections. Default 50000-50100. */
  portRange?: PortRange;
  /**
   * IPv4 address to advertise in the 227 reply instead of the control connection's local address
   * (server behind NAT). The NAT issue extends this (hostname re-resolution, per-network rules, port map).
   */
  address?: string;
}

export interface ActiveOptions {
  /** RFC 2577 s3 bounce protection: refuse PORT/EPRT to another host than the client. Default true. */
  requireSameAddress?: boolean;
  /** Refuse PORT/EPRT to ports below 1024 (RFC 2577). Default true. */
  refusePrivilegedPorts?: boolean;
}

export interface TimeoutOptions {
  /** Idle control connection (no command). Default 300 s (vsftpd's idle_session_timeout). */
  idleMs?: number;
  /** Waiting for the client to open a passive connection, or for an active connect. Default 30 s. */
  dataConnectMs?: number;
  /** A data connection with no progress. Default 300 s. */
  dataIdleMs?: number;
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
}
