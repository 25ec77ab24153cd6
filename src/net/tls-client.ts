/**
 * Client side of FTPS (RFC 4217): upgrading the control socket (after the 234 reply to AUTH TLS, or from
 * the first byte for implicit TLS), verifying the server certificate, client certificates, and protecting
 * data connections so that they RESUME the control connection's TLS session.
 *
 * Session reuse is what vsftpd (require_ssl_reuse), proftpd and FileZilla Server demand: the data
 * connection must present the control connection's session. With TLS 1.2 that is the session (id or
 * RFC 5077 ticket) of the control handshake; with TLS 1.3 there is no session until the server sends a
 * NewSessionTicket *after* the handshake (RFC 8446 s4.6.1), and servers may send several and renew them.
 * Node reports every ticket (and the TLS 1.2 session) as a 'session' event, so we keep the latest one
 * seen on the control socket and offer it on every data connection. Waiting for that ticket is not
 * needed: tickets arrive right after the handshake, before any reply we read afterwards.
 */
import type { X509Certificate } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { FtpConfigError, FtpTlsError, type ConnectionKind } from '../errors.js';
import { awaitTlsHandshake, DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS } from './tls-handshake.js';
import { formatPin, parsePins, peerCertificate } from './tls-pin.js';
import { DetachableStream, beginClearTls, type TlsClearing } from './tls-ccc.js';

/**
 * The client's FTPS settings (`FtpClientOptions.tls`, plain JSON). Declared here, below the client, because
 * this module applies most of them; src/client/options.ts re-exports it as part of the public API.
 */
export interface TlsSettings {
  /** AUTH verb for explicit TLS. Default 'TLS' (RFC 4217); 'SSL' for old servers. */
  authCommand?: 'TLS' | 'SSL';
  /** PROT P (default) protects data connections; 'C' leaves them in cleartext (RFC 4217 s9). */
  protectData?: boolean;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  /**
   * Trust the server by the SHA-256 fingerprint of its leaf certificate (`sha256:AB:CD:...`, one or more;
   * src/net/tls-pin.ts): the chain is then not verified against CAs and the host name need not match, but
   * every connection, control and data, must present a pinned certificate.
   */
  pin?: string | string[];
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

export interface ClientTlsOptions {
  /** The host as the user named it: checked against the certificate, and sent as SNI when a name. */
  host: string;
  settings?: TlsSettings;
  /** Limit for each handshake. Default 10 s. */
  handshakeTimeoutMs?: number;
}

/** How the server's certificate is trusted: by a CA (default), by a pinned fingerprint, or not at all. */
export type CertificateTrust = 'ca' | 'pin' | 'none';

export interface SecuredData {
  socket: tls.TLSSocket;
  /** Whether the data connection resumed the control connection's session (the transcript reports it). */
  resumed: boolean;
}

function isPem(s: string): boolean {
  return s.includes('-----BEGIN ');
}

async function pemOrFile(value: string, key: string): Promise<string> {
  if (isPem(value)) return value;
  try {
    return await fsp.readFile(value, 'utf8');
  } catch (err) {
    throw new FtpConfigError(key, `cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** Explain a certificate failure in the user's words, with the option that fixes it. */
function certificateMessage(err: NodeJS.ErrnoException, host: string): string {
  switch (err.code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `the server certificate of ${host} is self-signed; trust it by its fingerprint with --pin sha256:... (tls.pin; ftpkit doctor shows it), or with --ca FILE (tls.ca), or skip verification with --insecure`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
      return `the server certificate of ${host} is issued by an unknown certificate authority; pass its CA with --ca FILE (tls.ca)`;
    case 'CERT_HAS_EXPIRED':
      return `the server certificate of ${host} has expired`;
    case 'CERT_NOT_YET_VALID':
      return `the server certificate of ${host} is not valid yet (check the clocks)`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the server certificate is not valid for ${host}: ${err.message}; connect by a name it lists, or set tls.servername`;
    default:
      return `the server certificate of ${host} was rejected: ${err.message}`;
  }
}

/** TLS state of one FtpClient connection: options, the control socket's latest session, data wrapping. */
export class ClientTls {
  private latestSession: Buffer | undefined;
  private sessionCount = 0;
  private control: tls.TLSSocket | undefined;
  private detachable: DetachableStream | undefined;
  /** The certificate the control connection's server presented, read at the end of its handshake. */
  private controlCert: X509Certificate | undefined;
  /** The pin the control connection's certificate matched (what a resumed data session stands for). */
  private controlPin: string | undefined;
  readonly handshakeTimeoutMs: number;

  private constructor(
    readonly host: string,
    private readonly base: tls.ConnectionOptions,
    handshakeTimeoutMs: number | undefined,
    /** Canonical pins (empty: no pinning). */
    private readonly pins: readonly string[],
  ) {
    this.handshakeTimeoutMs = handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
  }

  /** How the server certificate is trusted (the transcript says so on every connection). */
  get trust(): CertificateTrust {
    return this.pins.length ? 'pin' : this.base.rejectUnauthorized === false ? 'none' : 'ca';
  }

  /** Read CA/cert/key files and validate the settings. Throws FtpConfigError naming the bad key. */
  static async create(options: ClientTlsOptions): Promise<ClientTls> {
    const s = options.settings ?? {};
    const pins = parsePins(s.pin);
    const base: tls.ConnectionOptions = {
      // SECURITY: verify the server certificate unless the user explicitly opted out (--insecure), or
      // pinned it: then the fingerprint check after each handshake (checkPin) is the verification.
      rejectUnauthorized: pins.length ? false : s.rejectUnauthorized ?? true,
      minVersion: s.minVersion ?? 'TLSv1.2',
      maxVersion: s.maxVersion,
    };
    const cas: string[] = [];
    for (const c of s.ca === undefined ? [] : Array.isArray(s.ca) ? s.ca : [s.ca]) cas.push(await pemOrFile(c, 'tls.ca'));
    if (s.caFile) cas.push(await pemOrFile(s.caFile, 'tls.caFile'));
    if (cas.length) base.ca = cas;
    const cert = s.cert !== undefined ? await pemOrFile(s.cert, 'tls.cert') : s.certFile ? await pemOrFile(s.certFile, 'tls.certFile') : undefined;
    const key = s.key !== undefined ? await pemOrFile(s.key, 'tls.key') : s.keyFile ? await pemOrFile(s.keyFile, 'tls.keyFile') : cert && isPem(cert) && cert.includes('PRIVATE KEY') ? cert : undefined;
    if ((cert === undefined) !== (key === undefined)) {
      throw new FtpConfigError(cert === undefined ? 'tls.cert' : 'tls.key', 'a client certificate needs both cert and key');
    }
    if (cert !== undefined) { base.cert = cert; base.key = key; }
    const servername = s.servername ?? (net.isIP(options.host) ? undefined : options.host);
    // RFC 6066 s3: SNI carries host names only, never IP literals.
    if (servername !== undefined && !net.isIP(servername)) base.servername = servername;
    try {
      // Fail now, with the option named, on a bad CA/cert/key rather than at the first handshake.
      tls.createSecureContext({ ca: base.ca, cert: base.cert, key: base.key, minVersion: base.minVersion, maxVersion: base.maxVersion });
    } catch (err) {
      throw new FtpConfigError(base.cert ? 'tls.cert' : 'tls.ca', (err as Error).message, { cause: err });
    }
    return new ClientTls(options.host, base, options.handshakeTimeoutMs, pins);
  }

  /** The session the next data connection will offer (undefined before the control handshake). */
  get session(): Buffer | undefined { return this.latestSession; }
  /** How many sessions/tickets the control connection received (TLS 1.3 servers send several). */
  get sessionsReceived(): number { return this.sessionCount; }
  get controlSocket(): tls.TLSSocket | undefined { return this.control; }
  /** The server certificate of the control connection (undefined before its handshake). */
  get controlCertificate(): X509Certificate | undefined { return this.controlCert; }

  /**
   * Upgrade the control connection: after reading the 234 reply to AUTH (the caller must have stopped
   * reading the plain socket and must not have buffered bytes past the reply), or right after connect for
   * implicit TLS. `onSocket` receives the TLS socket synchronously, before the handshake runs.
   */
  async upgradeControl(
    raw: Duplex, options: { onSocket?: (s: tls.TLSSocket) => void; detachable?: boolean } = {},
  ): Promise<tls.TLSSocket> {
    this.latestSession = undefined;
    this.controlPin = undefined;
    this.controlCert = undefined;
    // CCC later needs the TCP socket back: layer TLS on a DetachableStream (tls-ccc.ts) in that case.
    this.detachable = options.detachable && raw instanceof net.Socket ? new DetachableStream(raw) : undefined;
    const socket = await this.handshake(this.detachable ?? raw, 'control', undefined, (s) => {
      // Lets the caller put the TLS socket in place before the first TLS byte arrives (ControlConnection).
      options.onSocket?.(s);
      // Keep the newest session: TLS 1.2 reports it during the handshake, TLS 1.3 servers send tickets
      // after it and may renew them later; listening from the start misses none.
      s.on('session', (session: Buffer) => {
        this.latestSession = session;
        this.sessionCount++;
      });
    });
    this.control = socket;
    return socket;
  }

  /**
   * Protect a data connection (PROT P), offering the control connection's latest session. The client is
   * the TLS client in passive and in active mode (RFC 4217 s7). Call right after the TCP connection is
   * established (passive) or accepted (active).
   */
  async secureData(raw: Duplex): Promise<SecuredData> {
    const socket = await this.handshake(raw, 'data', this.latestSession);
    return { socket, resumed: socket.isSessionReused() };
  }

  /**
   * CCC (RFC 4217 s6): call before sending CCC; `complete()` after the 200 returns the TCP socket for
   * cleartext commands, `cancel()` after a refusal. Data connections keep resuming the session kept here.
   * Needs upgradeControl(..., { detachable: true }).
   */
  beginClearControl(): TlsClearing & { complete(timeoutMs?: number): Promise<net.Socket> } {
    const control = this.control;
    const stream = this.detachable;
    if (!control || !stream) {
      throw new FtpTlsError('control', 'CCC: the control connection was not set up to return to cleartext', { reason: 'handshake' });
    }
    const clearing = beginClearTls(control, stream);
    return {
      cancel: () => clearing.cancel(),
      complete: async (timeoutMs = this.handshakeTimeoutMs) => {
        const raw = await clearing.complete(timeoutMs);
        this.control = undefined;
        this.detachable = undefined;
        return raw;
      },
    };
  }

  /** Forget the control session (the control connection closed, or REIN). */
  reset(): void {
    this.controlPin = undefined;
    this.controlCert = undefined;
    this.control = undefined;
    this.detachable = undefined;
    this.latestSession = undefined;
    this.sessionCount = 0;
  }

  private async handshake(
    raw: Duplex, connection: ConnectionKind, session: Buffer | undefined, onSocket?: (s: tls.TLSSocket) => void,
  ): Promise<tls.TLSSocket> {
    const socket = tls.connect({ ...this.base, socket: raw, host: this.host, session });
    onSocket?.(socket);
    const secured = await awaitTlsHandshake({
      socket, raw, connection, secureEvent: 'secureConnect', peer: 'server', timeoutMs: this.handshakeTimeoutMs,
      notTlsDetail: 'the server did not answer with TLS (it sent cleartext or garbage); is this the right port and mode (explicit vs implicit)?',
      messageFor: (reason, err) => (reason === 'certificate' ? certificateMessage(err, this.host) : undefined),
    });
    const cert = peerCertificate(secured);
    if (connection === 'control') this.controlCert = cert;
    if (this.pins.length) this.checkPin(cert, secured, raw, connection);
    return secured;
  }

  /**
   * With pins, the leaf certificate of every connection must be a pinned one, checked before any byte of
   * ours (a command, a password, file data) goes over it. A data connection that resumed the control
   * session reports the certificate of that session.
   */
  private checkPin(cert: X509Certificate | undefined, socket: tls.TLSSocket, raw: Duplex, connection: ConnectionKind): void {
    // A resumed session may carry no certificate (RFC 8446 s2.2; Node then reports none): resuming proves
    // the peer holds the secrets of the control handshake, whose certificate was checked here.
    const presented = cert ? formatPin(cert.fingerprint256)
      : connection === 'data' && socket.isSessionReused() ? this.controlPin : undefined;
    if (presented !== undefined && this.pins.includes(presented)) {
      if (connection === 'control') this.controlPin = presented;
      return;
    }
    socket.destroy();
    if (!raw.destroyed) raw.destroy();
    const expected = this.pins.length === 1 ? this.pins[0] : `one of ${this.pins.join(', ')}`;
    throw new FtpTlsError(connection, `${connection} connection: the server certificate of ${this.host} does not match the pinned `
      + `fingerprint: it presented ${presented ?? 'no certificate'}, expected ${expected} (--pin, tls.pin). The certificate was replaced, `
      + 'or something between you and the server presents its own: confirm the new fingerprint with the server\'s admin before pinning it.',
    { reason: 'certificate' });
  }
}

