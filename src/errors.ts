/**
 * The one error hierarchy of ftpkit (server, client, doctor, CLI).
 *
 * Every error has a stable string `code` (for scripts and tests) and may carry a `cause`.
 * An FTP refusal carries the reply; a network failure says which connection, which phase and
 * what happened, because that is what tells a user which setting to change.
 */

export type FtpErrorCode =
  | 'ERR_FTP_REPLY'          // the server answered with a 4xx/5xx (or unexpected) reply
  | 'ERR_FTP_PROTOCOL'       // the peer broke the protocol: malformed/over-long reply, bogus PASV numbers
  | 'ERR_FTP_NETWORK'        // TCP/TLS level failure on the control or data connection
  | 'ERR_FTP_TLS'            // TLS handshake / certificate / session-reuse failure
  | 'ERR_FTP_USAGE'          // the caller passed something invalid (CR/LF/NUL in an argument, bad URL, ...)
  | 'ERR_FTP_CONFIG'         // invalid configuration; names the bad key
  | 'ERR_FTP_STORAGE'        // server side storage failure, carries its FTP meaning
  | 'ERR_FTP_CLOSED'         // the client was closed while the operation ran
  | 'ERR_FTP_LOGIN_REFUSED'  // server: a login refused before any password check (banned address, busy)
  | 'ERR_FTP_DATABASE'       // server: the user/ban/quota database (PostgreSQL) refused or could not be reached
  | 'ERR_FTP_ABORTED'        // the operation was aborted on request
  | 'ERR_FTP_NO_MATCH'       // client: a wildcard matched nothing in the folder's listing
  | 'ERR_FTP_VERIFY';        // a transferred file does not match the server's (hash or size), or cannot be checked

export class FtpError extends Error {
  readonly code: FtpErrorCode;
  constructor(code: FtpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A reply from the server that the operation could not accept (RFC 959 s4.2). */
export class FtpReplyError extends FtpError {
  readonly replyCode: number;
  readonly replyText: string;
  /** The command that got this reply, with a password masked. */
  readonly command: string | undefined;
  constructor(replyCode: number, replyText: string, command?: string, options?: { cause?: unknown }) {
    super('ERR_FTP_REPLY', `${command ? `${command}: ` : ''}${replyCode} ${replyText}`, options);
    this.replyCode = replyCode;
    this.replyText = replyText;
    this.command = command;
  }
  /** 4xx: transient negative completion, worth retrying (RFC 959 s4.2.1). */
  get transient(): boolean { return this.replyCode >= 400 && this.replyCode < 500; }
}

export class FtpProtocolError extends FtpError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_FTP_PROTOCOL', message, options); }
}

/**
 * A folder's listing came back empty although the server shows that the folder is not (the parent's link
 * count, or SIZE of a file in it). Tree operations stop on it rather than miss or delete files.
 */
export class FtpEmptyListingError extends FtpProtocolError {
  /** The remote folder whose listing was empty. */
  readonly path: string;
  /** What shows it is not empty. */
  readonly evidence: string;
  constructor(path: string, evidence: string) {
    super(`the listing of ${path} came back empty, but ${evidence}: the server's listing cannot be trusted here `
      + '(a folder it may not read, or a name its LIST mishandles)');
    this.path = path;
    this.evidence = evidence;
  }
}

/** A wildcard (`get 'ftp://h/dir/*.csv'`) matched no file of the folder's listing (client/wildcard-select.ts). */
export class FtpNoMatchError extends FtpError {
  /** The last path segment, the pattern. */
  readonly pattern: string;
  /** The remote folder listed ('' for the login folder). */
  readonly folder: string;
  constructor(pattern: string, folder: string) {
    super('ERR_FTP_NO_MATCH', `no file matches ${pattern} in ${folder || 'the login folder'}`);
    this.pattern = pattern;
    this.folder = folder;
  }
}

export type ConnectionKind = 'control' | 'data';
/** When the failure happened. */
export type NetworkPhase = 'resolve' | 'connect' | 'listen' | 'accept' | 'greeting' | 'tls-handshake' | 'command' | 'transfer' | 'close';
/** What happened, as far as the socket can tell. */
export type NetworkFailure =
  | 'refused'       // RST on connect: something actively rejects (closed port, REJECT rule)
  | 'timeout'       // nothing answered: silently dropped packets, or a peer that never replies
  | 'stalled'       // data moves, but slower than the stall limit (timeouts.stall, curl --speed-limit)
  | 'reset'         // an established connection was reset
  | 'closed'        // the peer closed the connection early
  | 'unreachable'   // no route / host unreachable / network unreachable (ICMP)
  | 'not-found'     // name resolution failed
  | 'address-in-use'
  | 'permission'    // e.g. binding a privileged port
  | 'other';

export class FtpNetworkError extends FtpError {
  readonly connection: ConnectionKind;
  readonly phase: NetworkPhase;
  readonly failure: NetworkFailure;
  /** host:port that was being connected to / listened on, when known. */
  readonly endpoint: string | undefined;
  /** Milliseconds from the start of the phase to the failure, when known (the doctor reports it). */
  readonly elapsedMs: number | undefined;
  /**
   * The command whose reply a control-connection timeout waited for (PASS masked, e.g. "EPSV"); undefined
   * when the wait was for no command (the greeting) or the failure is not a wait for a reply.
   */
  readonly command: string | undefined;
  constructor(init: {
    connection: ConnectionKind; phase: NetworkPhase; failure: NetworkFailure;
    endpoint?: string; elapsedMs?: number; message?: string; cause?: unknown; command?: string;
  }) {
    const where = init.endpoint ? ` to ${init.endpoint}` : '';
    super('ERR_FTP_NETWORK',
      init.message ?? `${init.connection} connection${where} failed during ${init.phase}: ${init.failure}`,
      { cause: init.cause });
    this.connection = init.connection;
    this.phase = init.phase;
    this.failure = init.failure;
    this.endpoint = init.endpoint;
    this.elapsedMs = init.elapsedMs;
    this.command = init.command;
  }
}

/** What went wrong in TLS, so a caller (server reply, client retry, doctor) can tell causes apart. */
export type TlsFailure =
  | 'handshake'          // the handshake failed (protocol/version/cipher mismatch, alert from the peer)
  | 'not-tls'            // the peer sent something that is not TLS (cleartext after AUTH, garbage)
  | 'timeout'            // the handshake did not complete in time (stalled peer)
  | 'closed'             // the peer closed the connection during the handshake
  | 'certificate'        // certificate verification failed (self-signed, expired, wrong host, unknown CA)
  | 'session-not-reused'; // a data connection did not resume the control connection's TLS session

export class FtpTlsError extends FtpError {
  readonly connection: ConnectionKind;
  /** What went wrong; undefined when the cause is not classified. */
  readonly reason: TlsFailure | undefined;
  constructor(connection: ConnectionKind, message: string, options?: { cause?: unknown; reason?: TlsFailure }) {
    super('ERR_FTP_TLS', message, options);
    this.connection = connection;
    this.reason = options?.reason;
  }
}

/** Which transmission-mode codec found the data stream broken (RFC 959 s3.4), and how. */
export type StreamCodecFailure =
  | 'corrupt'     // bytes that are not valid deflate data, or a block header that makes no sense
  | 'truncated'   // the data connection ended before the end of the compressed stream or the EOF block
  | 'too-large';  // inflating would exceed the receiver's bound (limits.maxInflateRatio)

/** The peer's MODE Z (deflate) or MODE B (block) data stream could not be decoded. */
export class FtpStreamCodecError extends FtpProtocolError {
  readonly codec: 'deflate' | 'block';
  readonly failure: StreamCodecFailure;
  constructor(codec: 'deflate' | 'block', failure: StreamCodecFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.codec = codec;
    this.failure = failure;
  }
}

export class FtpUsageError extends FtpError {
  constructor(message: string, options?: { cause?: unknown }) { super('ERR_FTP_USAGE', message, options); }
}

export class FtpConfigError extends FtpError {
  /** Dotted path of the offending key, e.g. `users.0.permissions.write`. */
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('ERR_FTP_CONFIG', key ? `${key}: ${message}` : message, options);
    this.key = key;
  }
}

/**
 * A `--settings` file that is a doctor finding in which nothing worked (no recommended settings): not a
 * usage error but the doctor's verdict, which decides the exit code as it did for `ftpkit doctor`.
 */
export class FtpFindingError extends FtpConfigError {
  /** What the doctor found in the way: the credentials, the server's certificate, or the network path. */
  readonly verdict: 'login-failed' | 'tls' | 'network';
  constructor(verdict: 'login-failed' | 'tls' | 'network', message: string) {
    super('recommended', message);
    this.verdict = verdict;
  }
}

/**
 * What a storage failure means to an FTP client (RFC 959 s4.2 reply classes). The server maps the kind
 * to a reply code in one place; raw OS error text never reaches the wire.
 */
export type StorageFailure =
  | 'not-found'        // 550
  | 'exists'           // 550 (553 for a name that cannot be created)
  | 'not-a-directory'  // 550
  | 'is-a-directory'   // 550
  | 'not-empty'        // 550
  | 'permission'       // 550
  | 'invalid-name'     // 553
  | 'no-space'         // 452 (RFC 959: insufficient storage space)
  | 'quota'            // 552 (exceeded storage allocation)
  | 'transient'        // 450 / 451
  | 'not-supported'    // 502/504
  | 'io';              // 451 local error in processing

export class FtpStorageError extends FtpError {
  readonly failure: StorageFailure;
  /** Virtual path concerned (never a host file system path). */
  readonly path: string | undefined;
  /**
   * A client-safe sentence that replaces the kind's fixed reply text (storage-replies.ts), for a refusal
   * whose reason the client needs (a rename between two virtual folders). Never OS error text.
   */
  readonly replyText: string | undefined;
  constructor(failure: StorageFailure, message: string, path?: string, options?: { cause?: unknown; replyText?: string }) {
    super('ERR_FTP_STORAGE', message, options);
    this.failure = failure;
    this.path = path;
    this.replyText = options?.replyText;
  }
}

/**
 * Server side: a login refused before its password was checked, because of who asks rather than what
 * they typed: the address is banned, or it already has its share of password verifications running
 * (auth/address-gate.ts). The PASS handler answers 421 and closes (RFC 959 s4.2), not 530: the password
 * was not judged.
 */
export class FtpLoginRefusedError extends FtpError {
  /** 'unavailable': the user database cannot be reached (src/server/db/), answered 421 like the others. */
  readonly reason: 'address-banned' | 'busy' | 'unavailable';
  constructor(reason: 'address-banned' | 'busy' | 'unavailable', message: string) {
    super('ERR_FTP_LOGIN_REFUSED', message);
    this.reason = reason;
  }
}

/**
 * The database behind users, bans and quota usage (src/server/db/): 'unreachable' (connect or query failed
 * for want of a server), 'exists' / 'not-found' (a user added twice, or changed that is not there),
 * 'schema' (migrations not run, or newer than this ftpkit), 'query' (anything else it refused).
 */
export class FtpDatabaseError extends FtpError {
  readonly failure: 'unreachable' | 'exists' | 'not-found' | 'schema' | 'query';
  constructor(failure: FtpDatabaseError['failure'], message: string, options?: { cause?: unknown }) {
    super('ERR_FTP_DATABASE', message, options);
    this.failure = failure;
  }
}

export class FtpClosedError extends FtpError {
  constructor(message = 'the connection was closed', options?: { cause?: unknown }) { super('ERR_FTP_CLOSED', message, options); }
}

export class FtpAbortedError extends FtpError {
  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) { super('ERR_FTP_ABORTED', message, options); }
}

/**
 * Client: a transfer checked after it ended (--verify, segmented downloads) does not match: the server's
 * hash (HASH, XSHA256...) or size differs from the local file's, or the server offers no way to check
 * (`reason: 'unverifiable'`). docs/client.md#verification says what is left of the file.
 */
export class FtpVerifyError extends FtpError {
  readonly reason: 'mismatch' | 'unverifiable';
  /** The remote path checked. */
  readonly path: string;
  /** How it was checked: 'SHA-256' (HASH), 'XSHA256', 'XCRC', 'SIZE'... */
  readonly method: string | undefined;
  readonly expected: string | undefined;
  readonly actual: string | undefined;
  constructor(fields: { reason: 'mismatch' | 'unverifiable'; path: string; method?: string; expected?: string; actual?: string; message: string }) {
    super('ERR_FTP_VERIFY', fields.message);
    this.reason = fields.reason;
    this.path = fields.path;
    this.method = fields.method;
    this.expected = fields.expected;
    this.actual = fields.actual;
  }
}

/**
 * Client, FXP (server-to-server copy): one server refused its part because the data connection is
 * between the two servers, not with the client, which most servers forbid (RFC 2577 bounce protection).
 * `side` says which: 'active' refused PORT/EPRT to the other server's address, 'passive' did not let the
 * other server's connection in. The message names the setting of each server that allows it.
 */
export class FtpFxpRefusedError extends FtpReplyError {
  readonly side: 'active' | 'passive';
  /** Which server of the copy refused: the one read from or the one written to. */
  readonly server: 'source' | 'target';
  constructor(fields: { side: 'active' | 'passive'; server: 'source' | 'target'; replyCode: number; replyText: string; command: string; hint: string }) {
    super(fields.replyCode, fields.replyText, fields.command);
    this.message = `${this.message}: ${fields.hint}`;
    this.side = fields.side;
    this.server = fields.server;
  }
}

/** Map a Node socket error to a NetworkFailure. */
export function classifySocketError(err: unknown): NetworkFailure {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED': return 'refused';
    case 'ETIMEDOUT': return 'timeout';
    case 'ECONNRESET': case 'EPIPE': case 'ECONNABORTED': return 'reset';
    case 'EHOSTUNREACH': case 'ENETUNREACH': case 'EHOSTDOWN': case 'ENETDOWN': return 'unreachable';
    case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_NONAME': return 'not-found';
    case 'EADDRINUSE': return 'address-in-use';
    case 'EACCES': case 'EPERM': return 'permission';
    default: return 'other';
  }
}
