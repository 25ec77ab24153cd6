/**
 * Waiting for a TLS handshake, the same way on both sides of FTPS: bounded by a timeout, and every way it
 * can fail (cleartext or garbage instead of TLS, the peer closing, a stall, a certificate or version
 * mismatch) ends in one FtpTlsError whose reason and message tell the user what to check.
 */
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { FtpTlsError, type ConnectionKind, type TlsFailure } from '../errors.js';

export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Map an OpenSSL/Node handshake error to a TlsFailure. */
export function classifyTlsError(err: unknown): TlsFailure {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code ?? '';
  if (/WRONG_VERSION_NUMBER|HTTP_REQUEST|HTTPS_PROXY_REQUEST|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE|PACKET_LENGTH_TOO_LONG|UNEXPECTED_RECORD|RECORD_TOO_LARGE/.test(code)) return 'not-tls';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_SOCKET_CLOSED') return 'closed';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT' || code === 'ETIMEDOUT') return 'timeout';
  if (/CERT|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED|ALTNAME|UNABLE_TO_DECRYPT_CERT/.test(code)) return 'certificate';
  return 'handshake';
}

/** A short human explanation of a handshake error (OpenSSL's raw message names source files). */
export function describeHandshakeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code ?? '';
  if (/UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW|VERSION_TOO_HIGH|PROTOCOL_VERSION/.test(code)) {
    return `no TLS protocol version in common (${e.reason ?? code}); check minVersion/maxVersion on both sides`;
  }
  if (/NO_SHARED_CIPHER|HANDSHAKE_FAILURE|NO_CIPHERS/.test(code)) return `no cipher in common (${e.reason ?? code}); check the cipher settings`;
  return e?.reason ?? e?.message ?? String(err);
}

export interface HandshakeWait {
  /** The TLS socket whose handshake is under way. */
  socket: tls.TLSSocket;
  /** The transport under it: destroyed on failure. */
  raw: Duplex;
  connection: ConnectionKind;
  /** 'secureConnect' for a client socket, 'secure' for a server socket. */
  secureEvent: 'secureConnect' | 'secure';
  /** Who is at the other end, for messages. */
  peer: 'client' | 'server';
  /** What to tell the user when the peer did not speak TLS at all. */
  notTlsDetail: string;
  timeoutMs: number;
  /** A full message for errors of this reason, when the caller knows better (certificate advice). */
  messageFor?: (reason: TlsFailure, err: NodeJS.ErrnoException) => string | undefined;
  /** Also treat errors on the raw transport as handshake failures (server side, JS stream adapter). */
  watchRaw?: boolean;
}

export function awaitTlsHandshake(w: HandshakeWait): Promise<tls.TLSSocket> {
  const { socket, raw, connection, peer } = w;
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const started = Date.now();
    let settled = false;
    const fail = (reason: TlsFailure, message: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      if (!raw.destroyed) raw.destroy();
      reject(new FtpTlsError(connection, message, { reason, cause }));
    };
    const onSecure = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(socket);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      const reason = classifyTlsError(err);
      const special = w.messageFor?.(reason, err);
      if (special !== undefined) return fail(reason, special, err);
      const detail = reason === 'not-tls'
        ? w.notTlsDetail
        : reason === 'closed'
          ? `the ${peer} closed the connection during the TLS handshake`
          : `TLS handshake failed: ${describeHandshakeError(err)}`;
      fail(reason, `${connection} connection: ${detail}`, err);
    };
    const onClose = (): void => fail('closed', `${connection} connection: the ${peer} closed the connection during the TLS handshake`);
    const timer = setTimeout(() => {
      fail('timeout', `${connection} connection: TLS handshake not completed within ${Date.now() - started} ms`);
    }, w.timeoutMs);
    timer.unref();
    function cleanup(): void {
      clearTimeout(timer);
      socket.off(w.secureEvent, onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (w.watchRaw) raw.off('error', onError);
      // After the handshake, errors are the owner's business; keep a no-op so a late one cannot crash us
      // before the owner attaches its own handler.
      socket.on('error', noop);
    }
    socket.once(w.secureEvent, onSecure);
    socket.on('error', onError);
    socket.once('close', onClose);
    if (w.watchRaw) raw.on('error', onError);
  });
}

function noop(): void {}
