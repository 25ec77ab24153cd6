/**
 * SOCKS5 BIND (RFC 1928 s4, CMD 0x02), via the `socks` package: active-mode FTP through a SOCKS5 proxy.
 * The proxy listens for us; its first reply names the address and port it listens on (what PORT/EPRT
 * must advertise), its second reply names the peer that connected (RFC 1928 s6: "the second reply
 * occurs only after the anticipated incoming connection succeeds or fails"), and from then on the
 * socket to the proxy carries that connection's bytes.
 *
 * Failures are FtpNetworkError (connection 'data', phase 'listen' while binding, 'accept' while waiting),
 * so data.fallback treats them as data-connection failures; a refused BIND says which settings avoid it.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import type { FtpNetworkError } from '../../errors.js';
import { connectTcp, formatEndpoint, networkError } from '../connect.js';
import { handOver, socksFailure, type SocketOpener } from './proxy-connect.js';
import type { ProxyEndpoint } from './proxy-url.js';
import { socksClient } from './socks-package.js';

export interface SocksBinding {
  /** Where the proxy listens (first reply's BND.ADDR/BND.PORT; 0.0.0.0 means the proxy's own address). */
  readonly bound: { host: string; port: number };
  /**
   * The second reply: the data socket and the peer the proxy accepted, bounded by timeoutMs. SECURITY:
   * with `allowed`, a peer not in it is refused (RFC 2577 s3, port theft): FtpNetworkError 'permission'.
   */
  established(timeoutMs: number, allowed?: readonly string[], onRefused?: (peer: string) => void): Promise<{ socket: net.Socket; peer: { host: string; port: number } }>;
  close(): void;
}

const BIND_ADVICE = 'use passive mode (--passive, data.mode \'passive\') or reach this host without the proxy (--no-proxy, noProxy)';

/**
 * Ask `proxy` to BIND for a connection from `expectedPeer` (DST.ADDR/DST.PORT of the request: RFC 1928 s4
 * says the proxy may use them to evaluate the BIND; the port is unknown in FTP, so 0).
 */
export async function socksBind(proxy: ProxyEndpoint, expectedPeer: string, timeoutMs: number,
  direct: SocketOpener = connectTcp): Promise<SocksBinding> {
  // Before the proxy's socket is open: nothing waits on the import with a connection held.
  const SocksClient = await socksClient();
  const started = performance.now();
  const via = `SOCKS5 BIND through the proxy ${proxy.display}`;
  const fail = (phase: 'listen' | 'accept', e: unknown, advice: boolean): FtpNetworkError => networkError({
    connection: 'data', phase, failure: socksFailure(e), endpoint: formatEndpoint(proxy.host, proxy.port),
    elapsedMs: performance.now() - started, context: via,
    detail: `the proxy says ${(e as Error)?.message ?? String(e)}${advice ? `; ${BIND_ADVICE}` : ''}`, cause: e });
  const socket = await direct({ host: proxy.host, port: proxy.port, timeoutMs, connection: 'data',
    context: `the SOCKS5 proxy ${proxy.display}` });
  let peerHost = expectedPeer;
  if (proxy.protocol === 'socks5' && net.isIP(peerHost) === 0) peerHost = (await dns.lookup(peerHost).catch(() => ({ address: peerHost }))).address;
  const client = new SocksClient({
    command: 'bind',
    destination: { host: peerHost, port: 0 },
    proxy: { host: proxy.host, port: proxy.port, type: 5,
      ...(proxy.user !== undefined ? { userId: proxy.user, password: proxy.password ?? '' } : {}) },
    timeout: timeoutMs,
    existing_socket: socket,
  });
  // Both replies are listened for from the start: the second may follow the first in the same packet.
  let settled: { ok: true; peer: { host: string; port: number } } | { ok: false; error: unknown } | undefined;
  let wake: (() => void) | undefined;
  let handing: Promise<void> | undefined;
  // Between the second reply and the transfer's own listeners, a socket error is kept, not thrown.
  let lateError: Error | undefined;
  const keepError = (e: Error): void => { lateError ??= e; };
  const bound = new Promise<{ host: string; port: number }>((resolve, reject) => {
    client.once('bound', (info: { remoteHost?: { host: string; port: number } }) => resolve(info.remoteHost ?? { host: '', port: 0 }));
    client.once('established', (info: { remoteHost?: { host: string; port: number } }) => {
      settled = { ok: true, peer: info.remoteHost ?? { host: '', port: 0 } };
      // At once: the package resumes the socket on the next turn, and the server may send at once.
      socket.on('error', keepError);
      handing = handOver(socket);
      wake?.();
    });
    client.once('error', (e: unknown) => {
      settled = { ok: false, error: e };
      reject(e);
      wake?.();
    });
  });
  client.connect(socket);
  let address: { host: string; port: number };
  try {
    address = await bound;
  } catch (e) {
    socket.destroy();
    throw fail('listen', e, true);
  }
  // A proxy listening on all its addresses answers 0.0.0.0 (or ::): the server reaches it where we do.
  const host = !address.host || address.host === '0.0.0.0' || address.host === '::' ? proxy.host : address.host;
  const close = (): void => {
    client.removeAllListeners();
    if (!socket.destroyed) socket.destroy();
  };
  return {
    bound: { host, port: address.port },
    async established(waitMs, allowed, onRefused) {
      if (!settled) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, waitMs);
        });
        clearTimeout(timer);
      }
      if (!settled) {
        close();
        throw networkError({ connection: 'data', phase: 'accept', failure: 'timeout', endpoint: formatEndpoint(host, address.port),
          elapsedMs: performance.now() - started, context: `${via}: the server never connected to the proxy` });
      }
      if (!settled.ok) { close(); throw fail('accept', settled.error, false); }
      client.removeAllListeners();
      await handing;
      socket.off('error', keepError);
      if (lateError) {
        close();
        throw networkError({ connection: 'data', phase: 'accept', failure: 'reset', endpoint: formatEndpoint(host, address.port),
          elapsedMs: performance.now() - started, context: via, detail: lateError.message, cause: lateError });
      }
      const from = settled.peer.host.startsWith('::ffff:') ? settled.peer.host.slice(7) : settled.peer.host;
      if (allowed && !allowed.includes(from)) {
        onRefused?.(from);
        close();
        throw networkError({ connection: 'data', phase: 'accept', failure: 'permission', endpoint: formatEndpoint(host, address.port),
          elapsedMs: performance.now() - started, context: via,
          detail: `the proxy accepted a connection from ${from}, not from the server ${allowed.join(' or ')} (RFC 2577 s3, port theft)` });
      }
      return { socket, peer: { host: from, port: settled.peer.port } };
    },
    close,
  };
}
