/**
 * The typed event map of FtpServer: the server is observed through events, never through console output.
 *
 * Owns: the names and payloads of every event the server emits. The JSON-lines logger (src/server/log/)
 * and host applications subscribe to these. Per-session problems are reported as 'session-error' or
 * 'warning', never as the EventEmitter 'error' event, so an application that does not listen cannot be
 * crashed by a misbehaving client. Passwords never appear in any payload (PASS is masked as "****").
 */

/** Fields shared by events that concern one session. */
export interface SessionEventBase {
  sessionId: string;
  /** The client's address (IPv4-mapped addresses unmapped). */
  remoteAddress: string;
  /** The logged-in user, when there is one. */
  user?: string;
}

export interface SessionOpenEvent extends SessionEventBase {
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export interface SessionCloseEvent extends SessionEventBase {
  durationMs: number;
  /** Why it closed: the client quit, the peer vanished, idle timeout, server shutdown, too many login failures... */
  reason: string;
}

export interface LoginEvent extends SessionEventBase {
  user: string;
}

export interface LoginFailedEvent extends SessionEventBase {
  /** The name the client tried (never the password). */
  user: string;
  /** Failed logins in this session so far. */
  failures: number;
}

/** What PASV/EPSV advertised, and why (RFC 959 s4.1.2, RFC 2428 s3; NAT rules in docs/nat.md). */
export interface PassiveDecision {
  /** The IPv4 address in the 227 reply; absent for EPSV, whose 229 carries only the port. */
  address?: string;
  /** The port in the reply (after a listened -> advertised port map). */
  port: number;
  /** The port the server listens on. */
  listenPort: number;
  /** Which rule chose the address (or the port, for EPSV): "passive.address", "passive.addressMap[0] (...)", "local"... */
  rule: string;
}

/** Extra fields of a 'command' event, set by the commands they concern. */
export interface CommandEventDetail {
  /** PASV and EPSV: what was advertised and why. */
  passive?: PassiveDecision;
}

export interface CommandEvent extends SessionEventBase, CommandEventDetail {
  verb: string;
  /** The argument as received; "****" for PASS. */
  argument: string;
  /** Code of the (last) reply to this command; for a transfer command the final 226/426/451... */
  replyCode: number;
  durationMs: number;
}

export interface ReplyEvent extends SessionEventBase {
  code: number;
  lines: string[];
}

export interface TranscriptEvent {
  sessionId: string;
  /** 'in': a command line from the client (PASS masked); 'out': a reply line we sent. */
  direction: 'in' | 'out';
  line: string;
}

export interface TransferEvent extends SessionEventBase {
  user: string;
  /** Virtual path of the file (or directory, for listings). */
  path: string;
  /** Bytes moved over the data connection (after TYPE A conversion, on the wire). */
  bytes: number;
  durationMs: number;
  /** REST offset the transfer started at, 0 otherwise. */
  offset: number;
  /** 'passive' or 'active'. */
  dataMode: 'passive' | 'active';
  /** The representation type in force (TYPE A or I, RFC 959 s3.1.1); absent from events of older emitters: binary. */
  type?: 'ascii' | 'binary';
  /** true when the user logged in anonymously (RFC 1635); the xferlog's access mode. */
  anonymous?: boolean;
}

export interface TransferFailedEvent extends TransferEvent {
  direction: 'upload' | 'download' | 'list';
  /** Short reason: 'aborted', 'data connection lost', 'storage error: not-found', 'timeout' ... */
  reason: string;
}

export interface SessionErrorEvent {
  sessionId: string;
  remoteAddress: string;
  error: Error;
}

export interface WarningEvent {
  sessionId?: string;
  remoteAddress?: string;
  /**
   * Stable code: 'foreign-data-connection', 'passive-ports-exhausted', 'session-limit', 'user-session-limit',
   * 'command-rate', 'command-rate-exceeded', 'data-setup-churn', 'line-too-long', ... (docs/server.md#limits)
   */
  code: string;
  message: string;
}

/** The defender (security/defender.ts) banned an address or a user name for a while. */
export interface BanEvent {
  kind: 'address' | 'user';
  /** The banned address; for a user-name ban, the address whose attempt reached the threshold. */
  remoteAddress: string;
  /** The banned name (user-name bans only). */
  user?: string;
  /** When the ban ends (ISO 8601). */
  until: string;
  durationMs: number;
  /** The points that reached the threshold. */
  score: number;
  /** 1 for a first ban, 2 for the second (twice as long)... */
  count: number;
}

/** listen() removed temporary files of atomic uploads left by a process that died mid-upload (kill -9). */
export interface UploadsSweptEvent {
  /** The storage's root folder, when it has one (a LocalStorage). */
  root?: string;
  /** Temporary files removed (only names of our pattern whose writing process is gone). */
  removed: number;
}

export interface ListeningEvent {
  addresses: Array<{ address: string; family: string; port: number }>;
}

export interface FtpServerEvents {
  listening: [ListeningEvent];
  'session-open': [SessionOpenEvent];
  'session-close': [SessionCloseEvent];
  login: [LoginEvent];
  'login-failed': [LoginFailedEvent];
  command: [CommandEvent];
  reply: [ReplyEvent];
  transcript: [TranscriptEvent];
  upload: [TransferEvent];
  download: [TransferEvent];
  'transfer-failed': [TransferFailedEvent];
  'session-error': [SessionErrorEvent];
  warning: [WarningEvent];
  ban: [BanEvent];
  'uploads-swept': [UploadsSweptEvent];
  close: [];
}
