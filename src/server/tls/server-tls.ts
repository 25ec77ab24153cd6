/**
 * Server side of FTPS (RFC 4217): upgrading an accepted plain socket to TLS (explicit: after the 234 reply
 * to AUTH TLS; implicit: from the first byte), and protecting data connections, with session-reuse
 * enforcement.
 *
 * SESSION REUSE (like vsftpd require_ssl_reuse, proftpd's default): a data connection must resume the TLS
 * session of *its own* control connection. That proves the data connection comes from the client that
 * authenticated on the control connection, not from someone who raced to the passive port (RFC 4217 s10,
 * "data connection security"). `isSessionReused()` alone is not enough: it says the session was resumed,
 * not from where. Node gives no way to read the identity of the resumed session on the server side
 * (getTLSTicket() is client-only; getSession() returns an opaque blob), so we make resumption *possible*
 * only from this control connection:
 *   - every control connection gets its own SecureContext (~0.7 ms to build), hence its own random
 *     session-ticket keys (set explicitly with setTicketKeys). A TLS 1.3 PSK ticket or a TLS 1.2
 *     RFC 5077 ticket issued on another control connection cannot be decrypted, so it falls back to a
 *     full handshake, which we refuse;
 *   - TLS 1.2 session-ID resumption (clients without tickets) goes through the 'newSession' /
 *     'resumeSession' callbacks, which Node only invokes on the object passed as `server` to the
 *     TLSSocket. Each control connection passes its own small emitter with its own bounded cache, so a
 *     session id from another control connection is unknown here. Node disables OpenSSL's internal
 *     server cache, so there is no other way in;
 *   - the context also gets a unique sessionIdContext: OpenSSL refuses to resume a session (even from a
 *     valid ticket) whose sid_ctx differs, a second, independent guard.
 * The data connection's handshake therefore resumes iff the client presented a session of this control
 * connection, and `isSessionReused()` is then the whole check. The certificate reload of
 * certificates.ts fits the same scheme: a new control connection builds its context from the newest
 * files, while established ones keep theirs (their data connections must resume under the same keys),
 * so tls.Server#setSecureContext is not needed.
 *
 * Every handshake is bounded: garbage instead of a ClientHello fails at once ('not-tls'), silence fails
 * after handshakeTimeoutMs ('timeout'); both end as FtpTlsError and the sockets are destroyed.
 */
import { EventEmitter } from 'node:events';
import { constants, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { FtpTlsError, type ConnectionKind } from '../../errors.js';
import { reply, type Reply } from '../../protocol/reply.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import type { CertificateStore } from './certificates.js';
import { DetachableStream, beginClearTls } from '../../net/tls-ccc.js';
import { awaitTlsHandshake, DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS } from '../../net/tls-handshake.js';


export interface ServerTlsOptions {
  /**
   * SECURITY: refuse a protected data connection that does not resume the control connection's TLS
   * session (vsftpd require_ssl_reuse). Default true. Turn off only for clients that cannot resume
   * (stock Python ftplib FTP_TLS without `session=`).
   */
  requireSessionReuse?: boolean;
  /** Limit for a TLS handshake on a control or data connection. Default 10 s. */
  handshakeTimeoutMs?: number;
}

/** Facts about an established TLS connection, for logs and STAT. */
export interface TlsConnectionInfo {
  protocol: string | null;
  cipher: string;
  reused: boolean;
}

export function describeTls(socket: tls.TLSSocket): TlsConnectionInfo {
  return { protocol: socket.getProtocol(), cipher: socket.getCipher()?.name ?? '', reused: socket.isSessionReused() };
}

/** One per FtpServer (or per listening configuration): hands out per-control-connection TLS state. */
export class ServerTls {
  readonly requireSessionReuse: boolean;
  readonly handshakeTimeoutMs: number;

  constructor(readonly certificates: CertificateStore, options: ServerTlsOptions = {}) {
    this.requireSessionReuse = options.requireSessionReuse ?? true;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
  }

  /** TLS state for one new control connection. Cheap until the first upgrade. */
  forConnection(options: { requireSessionReuse?: boolean } = {}): ControlTls {
    return new ControlTls(this, options.requireSessionReuse ?? this.requireSessionReuse);
  }
}

/** Lifetime of the control connection's TLS session / tickets (seconds): 24 h, for long FTP sessions. */
export const SESSION_LIFETIME_S = 24 * 3600;

/** Bound on cached TLS 1.2 session ids per control connection (each data connection may add one). */
const SESSION_CACHE_LIMIT = 16;

/**
 * The 'server' object Node's TLSSocket emits 'newSession'/'resumeSession' on (see the header). Only these
 * two events and listenerCount()/emit() are used by TLSSocket when it is not created by a tls.Server.
 */
class SessionCache extends EventEmitter {
  private readonly sessions = new Map<string, Buffer>();
  constructor() {
    super();
    this.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      const key = id.toString('hex');
      this.sessions.delete(key);
      this.sessions.set(key, data);
      while (this.sessions.size > SESSION_CACHE_LIMIT) this.sessions.delete(this.sessions.keys().next().value!);
      done();
    });
    this.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
      done(null, this.sessions.get(id.toString('hex')) ?? null);
    });
  }
  clear(): void { this.sessions.clear(); }
}

/**
 * TLS state of one control connection: its SecureContext (own ticket keys and sid_ctx), its session
 * cache, and whether the control connection is protected.
 */
export class ControlTls {
  private context: tls.SecureContext | undefined;
  private readonly cache = new SessionCache();
  private control: tls.TLSSocket | undefined;
  private detachable: DetachableStream | undefined;
  private cleared = false;

  constructor(private readonly owner: ServerTls, readonly requireSessionReuse: boolean) {}

  /** True once the control connection completed its handshake. */
  get secured(): boolean { return this.control !== undefined && !this.control.destroyed && !this.cleared; }
  get controlSocket(): tls.TLSSocket | undefined { return this.control; }
  /** Info about the control connection's TLS, when secured. */
  get info(): TlsConnectionInfo | undefined { return this.control ? describeTls(this.control) : undefined; }

  private ensureContext(): tls.SecureContext {
    if (!this.context) {
      const ctx = this.owner.certificates.createSecureContext({
        // 32 bytes is OpenSSL's SSL_MAX_SID_CTX_LENGTH.
        sessionIdContext: randomBytes(16).toString('hex'),
        // The default lifetime (OpenSSL's 2 h here; 300 s in a tls.Server) would make a data connection
        // after a long idle time or a long transfer unable to resume, hence refused. This context (and its
        // ticket keys) dies with the control connection anyway, so a long lifetime opens no window beyond
        // the session itself.
        sessionTimeout: SESSION_LIFETIME_S,
        // SECURITY: refuse client-initiated TLS 1.2 renegotiation (OpenSSL answers a no_renegotiation alert,
        // RFC 5246 s7.2.2) on the control and data connections alike: each one costs the server a full
        // handshake, so a client could keep a core busy on one connection (CVE-2011-1473). Node's own limit
        // (tls.CLIENT_RENEG_LIMIT) only works for sockets of a tls.Server; ours are standalone TLSSockets.
        // FTPS needs no renegotiation (RFC 4217 has none; TLS 1.3 removed it).
        secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
      });
      // Own ticket keys (name 16 + HMAC 16 + AES 16 bytes) so no other control connection's ticket decrypts.
      (ctx.context as { setTicketKeys(keys: Buffer): void }).setTicketKeys(randomBytes(48));
      this.context = ctx;
    }
    return this.context;
  }

  /**
   * Upgrade the control connection. Explicit TLS: call after the 234 reply to AUTH TLS has been written
   * (RFC 4217 s4: the handshake starts after the 234); the caller must have stopped reading the plain
   * socket. Implicit TLS: call right after accept, before the greeting.
   */
  async upgradeControl(raw: Duplex, options: { detachable?: boolean } = {}): Promise<tls.TLSSocket> {
    if (this.control) throw new FtpTlsError('control', 'the control connection is already protected by TLS', { reason: 'handshake' });
    // CCC later needs the TCP socket back: layer TLS on a DetachableStream (tls-ccc.ts) in that case.
    this.detachable = options.detachable && raw instanceof net.Socket ? new DetachableStream(raw) : undefined;
    const socket = await serverHandshake(this.detachable ?? raw, {
      secureContext: this.ensureContext(),
      sessions: this.cache,
      timeoutMs: this.owner.handshakeTimeoutMs,
      connection: 'control',
    });
    this.control = socket;
    return socket;
  }

  /**
   * Protect a data connection (PROT P). Call as soon as the data connection is established (accepted in
   * passive mode, connected in active mode): clients such as curl start the handshake before sending
   * RETR/STOR. The server is the TLS server in both modes (RFC 4217 s7). Rejects with FtpTlsError:
   * reason 'session-not-reused' when reuse is required and the client did a full handshake.
   */
  async secureData(raw: Duplex): Promise<tls.TLSSocket> {
    if (!this.control) {
      destroyQuietly(raw);
      throw new FtpTlsError('data', 'PROT P requires TLS on the control connection first (AUTH TLS)', { reason: 'handshake' });
    }
    const socket = await serverHandshake(raw, {
      secureContext: this.ensureContext(),
      sessions: this.cache,
      timeoutMs: this.owner.handshakeTimeoutMs,
      connection: 'data',
    });
    // SECURITY: a full handshake on a data connection means the client did not (or could not) present a
    // session of this control connection: it may not be the authenticated client at all.
    if (this.requireSessionReuse && !socket.isSessionReused()) {
      socket.destroy();
      destroyQuietly(raw);
      throw new FtpTlsError('data', 'TLS session of data connection not resumed; session reuse required', { reason: 'session-not-reused' });
    }
    return socket;
  }

  /**
   * CCC (RFC 4217 s6): call when CCC is accepted, before the 200 goes out; `complete()` afterwards
   * exchanges close_notify and returns the TCP socket for cleartext commands. The context and session
   * cache stay: data connections keep resuming this control connection's session. Needs
   * upgradeControl({ detachable: true }).
   */
  beginClearControl(): { complete(): Promise<net.Socket> } {
    if (!this.control || !this.detachable) {
      throw new FtpTlsError('control', 'CCC: the control connection was not set up to return to cleartext', { reason: 'handshake' });
    }
    const clearing = beginClearTls(this.control, this.detachable);
    return {
      complete: async () => {
        const raw = await clearing.complete(this.owner.handshakeTimeoutMs);
        this.detachable = undefined;
        this.cleared = true;
        return raw;
      },
    };
  }

  /** True after CCC: the control connection is in cleartext again, data connections can still resume. */
  get clearedByCcc(): boolean { return this.cleared; }

  /** Forget the control connection's TLS (REIN, or the control socket closed). */
  reset(): void {
    this.control = undefined;
    this.detachable = undefined;
    this.cleared = false;
    this.context = undefined;
    this.cache.clear();
  }
}

/**
 * The reply for a protected data connection that failed (sent on the control connection).
 * 522 for session reuse, like vsftpd ("522 SSL connection failed: session reuse required"), which users
 * and client authors recognise; 425 (RFC 959 s4.2, can't open data connection) for other TLS failures.
 */
export function dataTlsFailureReply(err: unknown): Reply {
  if (err instanceof FtpTlsError && err.reason === 'session-not-reused') {
    return reply(ReplyCode.TlsSessionReuseRequired, 'TLS session of data connection not resumed; session reuse required');
  }
  const what = err instanceof FtpTlsError ? err.message : 'TLS handshake failed';
  return reply(ReplyCode.CantOpenDataConnection, `Data connection TLS failed: ${what}`);
}

interface HandshakeOptions {
  secureContext: tls.SecureContext;
  sessions: EventEmitter;
  timeoutMs: number;
  connection: ConnectionKind;
}

function destroyQuietly(s: Duplex): void {
  if (!s.destroyed) s.destroy();
}

function serverHandshake(raw: Duplex, o: HandshakeOptions): Promise<tls.TLSSocket> {
  // A connection the client already closed (a passive data connection accepted, then ended before the
  // transfer command came) can never complete a handshake, and a TLSSocket laid over it would report
  // nothing: the transfer would wait for the whole handshake timeout. Refuse it at once.
  if (raw.destroyed || raw.readableEnded) {
    destroyQuietly(raw);
    return Promise.reject(new FtpTlsError(o.connection, `${o.connection} connection: the client closed the connection before the TLS handshake`, { reason: 'closed' }));
  }
  // A net.Socket is wrapped at the handle level (fast path); any other Duplex goes through Node's
  // JS stream adapter, which is what lets tests run a session over an in-memory pair.
  const socket = new tls.TLSSocket(raw as net.Socket, {
    isServer: true,
    secureContext: o.secureContext,
    // See the header: per-control-connection session-id cache (Node types this as net.Server).
    server: o.sessions as unknown as net.Server,
  });
  surfaceTlsErrorsAfterHandshake(socket);
  return awaitTlsHandshake({
    socket, raw, connection: o.connection, secureEvent: 'secure', peer: 'client', timeoutMs: o.timeoutMs,
    notTlsDetail: 'the client did not start a TLS handshake (cleartext or garbage received)',
    watchRaw: true,
  });
}


/**
 * A TLSSocket made without a tls.Server never "releases control", so Node reports a TLS error that comes
 * after the handshake (a fatal alert from the client, e.g. after a refused renegotiation) only as the
 * internal '_tlsError' event, which tls.Server listens to, and leaves the socket open with its writes
 * stuck. The session would then never see the error and hang on its next reply. Destroying the socket
 * with the error turns it into the usual 'error' + 'close' its owner handles.
 */
function surfaceTlsErrorsAfterHandshake(socket: tls.TLSSocket): void {
  socket.on('_tlsError', (err: Error) => {
    // During the handshake Node destroys the socket itself and awaitTlsHandshake reports the failure.
    if (!socket.destroyed) socket.destroy(err);
  });
}
