/**
 * TCP connect with a deadline, classifying failures into FtpNetworkError.
 *
 * Owns the distinction the doctor relies on: refused (RST: something actively rejects), timeout (packets
 * silently dropped), reset, unreachable (ICMP), not-found (DNS) — each with the elapsed time, because a
 * fast refusal and a 10 s silence point at different culprits.
 */
import net from 'node:net';
import { FtpNetworkError, classifySocketError, type ConnectionKind, type NetworkFailure, type NetworkPhase } from '../errors.js';

export interface ConnectTarget {
  host: string;
  port: number;
  /** Deadline for the TCP handshake (and name resolution). */
  timeoutMs: number;
  connection: ConnectionKind;
  /** Local address to bind before connecting. */
  localAddress?: string;
  /** Words saying what this endpoint is, for messages, e.g. "PASV reply address". */
  context?: string;
  signal?: AbortSignal;
  /**
   * Read into the caller's buffers (net.connect's `onread`) instead of a Readable's chunks: net/wire-blocks.ts
   * for the client's plain downloads. A connector may ignore it (the pipeline then sees an ordinary socket).
   */
  readInto?: { onread: { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => boolean }; bind(socket: net.Socket): void };
}

/** "host:port", with IPv6 literals bracketed. */
export function formatEndpoint(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

const FAILURE_WORDS: Record<NetworkFailure, string> = {
  refused: 'was refused',
  timeout: 'timed out',
  stalled: 'was too slow',
  reset: 'was reset',
  closed: 'was closed',
  unreachable: 'failed: host or network unreachable',
  'not-found': 'failed: host name not found',
  'address-in-use': 'failed: address in use',
  permission: 'failed: permission denied',
  other: 'failed',
};

/** Build the standard message: "data connection to 10.0.20.2:30001 timed out after 3002 ms (PASV reply address)". */
export function networkError(init: {
  connection: ConnectionKind; phase: NetworkPhase; failure: NetworkFailure; endpoint?: string;
  elapsedMs?: number; context?: string; cause?: unknown; detail?: string; command?: string;
}): FtpNetworkError {
  const where = init.endpoint ? ` to ${init.endpoint}` : '';
  const after = init.elapsedMs !== undefined ? ` after ${Math.round(init.elapsedMs)} ms` : '';
  const ctx = init.context ? ` (${init.context})` : '';
  const detail = init.detail ? `: ${init.detail}` : '';
  const message = `${init.connection} connection${where} ${FAILURE_WORDS[init.failure]}${after}${ctx}${detail}`;
  return new FtpNetworkError({ ...init, message });
}

/** Connect, or reject with an FtpNetworkError (phase 'connect' or 'resolve'). */
export function connectTcp(target: ConnectTarget): Promise<net.Socket> {
  const started = performance.now();
  const endpoint = formatEndpoint(target.host, target.port);
  return new Promise((resolve, reject) => {
    if (target.signal?.aborted) {
      reject(networkError({ connection: target.connection, phase: 'connect', failure: 'other', endpoint,
        elapsedMs: 0, context: target.context, detail: 'aborted' }));
      return;
    }
    const socket = net.connect({ host: target.host, port: target.port, localAddress: target.localAddress,
      ...(target.readInto ? { onread: target.readInto.onread } : {}) });
    // Not read until the pipeline takes it (it resumes the socket): no bytes land before there is a place for them.
    if (target.readInto) { socket.pause(); target.readInto.bind(socket); }
    let settled = false;
    const finish = (err?: FtpNetworkError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('connect', onConnect);
      target.signal?.removeEventListener('abort', onAbort);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        resolve(socket);
      }
    };
    const onError = (e: Error): void => {
      const failure = classifySocketError(e);
      finish(networkError({ connection: target.connection, phase: failure === 'not-found' ? 'resolve' : 'connect',
        failure, endpoint, elapsedMs: performance.now() - started, context: target.context, cause: e,
        detail: failure === 'other' ? e.message : undefined }));
    };
    const onConnect = (): void => finish();
    const onAbort = (): void => finish(networkError({ connection: target.connection, phase: 'connect', failure: 'other',
      endpoint, elapsedMs: performance.now() - started, context: target.context, detail: 'aborted' }));
    const timer = setTimeout(() => finish(networkError({ connection: target.connection, phase: 'connect',
      failure: 'timeout', endpoint, elapsedMs: performance.now() - started, context: target.context })), target.timeoutMs);
    socket.once('error', onError);
    socket.once('connect', onConnect);
    target.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
