/**
 * Connecting through a proxy: the one place a client TCP connection (control and every passive data
 * connection; active mode's SOCKS5 BIND is socks-bind.ts) is opened through SOCKS5 (RFC 1928, user/password RFC 1929, via the `socks` package) or an
 * HTTP CONNECT tunnel (RFC 9110 s9.3.6, our own bounded exchange). The proxy gives back a plain socket
 * carrying the tunnel; TLS (implicit or AUTH TLS) is layered on it as on a direct one.
 *
 * Failures are FtpNetworkError like a direct connect's, naming the proxy: "control connection to
 * ftp.example.com:21 was refused ... (through SOCKS5 proxy socks5h://127.0.0.1:1080: the proxy says
 * connection refused)". The tunnel's far end is remembered (tunnelTarget) because the socket's own
 * remoteAddress is the proxy's: EPSV and PASV's 'control' policy need the server's.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import type { SocksClient as SocksClientClass } from 'socks';
import type { NetworkFailure } from '../../errors.js';
import { connectTcp, formatEndpoint, networkError, type ConnectTarget } from '../connect.js';
import { httpConnect } from './http-connect.js';
import { bypassesProxy, type ProxyEndpoint } from './proxy-url.js';
import { socksClient } from './socks-package.js';

export type SocketOpener = (target: ConnectTarget) => Promise<net.Socket>;

const tunnels = new WeakMap<object, { host: string; port: number }>();

/** The host and port a proxied socket reaches (undefined for a direct one). */
export function tunnelTarget(socket: object): { host: string; port: number } | undefined {
  return tunnels.get(socket);
}

/**
 * A connector that goes through `proxy` except for hosts matched by `noProxy` (curl's rules). `direct`
 * opens the TCP connection to the proxy itself (and to bypassed hosts).
 */
export function proxyConnector(proxy: ProxyEndpoint, noProxy: string | undefined, direct: SocketOpener = connectTcp): SocketOpener {
  return async (target) => {
    if (bypassesProxy(target.host, noProxy)) return direct(target);
    // Loaded before the proxy's socket is open: nothing waits on the import with a connection held.
    const SocksClient = proxy.protocol === 'http' ? undefined : await socksClient();
    const started = performance.now();
    const endpoint = formatEndpoint(target.host, target.port);
    const via = `through ${proxy.protocol === 'http' ? 'HTTP' : 'SOCKS5'} proxy ${proxy.display}`;
    const fail = (failure: NetworkFailure, detail: string, cause?: unknown): never => {
      throw networkError({ connection: target.connection, phase: 'connect', failure, endpoint,
        elapsedMs: performance.now() - started, context: target.context ? `${target.context}, ${via}` : via, detail, cause });
    };
    // The TCP connection to the proxy: its failures say they are about the proxy.
    const socket = await direct({ host: proxy.host, port: proxy.port, timeoutMs: target.timeoutMs, connection: target.connection,
      context: `the ${proxy.protocol === 'http' ? 'HTTP' : 'SOCKS5'} proxy ${proxy.display}`, ...(target.signal ? { signal: target.signal } : {}) });
    const remainingMs = Math.max(1, target.timeoutMs - (performance.now() - started));
    const onAbort = (): void => { socket.destroy(new Error('aborted')); };
    target.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (proxy.protocol === 'http') {
        const outcome = await httpConnect(socket, target.host, target.port, proxy, remainingMs);
        if (!outcome.ok) fail(outcome.failure, outcome.detail);
      } else {
        await socksConnect(socket, target, proxy, remainingMs, SocksClient!).catch((e: unknown) => {
          if (target.signal?.aborted) fail('other', 'aborted', e);
          fail(socksFailure(e), `the proxy says ${(e as Error).message}`, e);
        });
      }
      await handOver(socket);
    } catch (e) {
      socket.destroy();
      throw e;
    } finally {
      target.signal?.removeEventListener('abort', onAbort);
    }
    tunnels.set(socket, { host: target.host, port: target.port });
    return socket;
  };
}

/**
 * Hand the tunnel's socket over as a fresh net.connect() socket would be: not flowing until its reader
 * attaches (flowing null), with the bytes that arrived during the handshake (a greeting sent at once) in
 * front. The `socks` package resumes the socket and re-emits early bytes as 'data' on the next
 * setImmediate; a reader that attaches later (a data socket waits for the 150 reply) would lose them.
 */
export async function handOver(socket: net.Socket): Promise<void> {
  const early: Buffer[] = [];
  const collect = (chunk: Buffer): void => { early.push(chunk); };
  socket.on('data', collect);
  // Queued after the package's own setImmediate: its re-emit and resume() have happened when this runs.
  await new Promise(resolve => setImmediate(resolve));
  socket.off('data', collect);
  socket.pause();
  if (early.length > 0) socket.unshift(Buffer.concat(early));
  // A 'readable' listener added and removed resets the stream's flowing state to null (Node's
  // updateReadableListening): the next 'data' listener starts it, as on a new socket.
  const noop = (): void => {};
  socket.on('readable', noop);
  socket.off('readable', noop);
  await new Promise(resolve => process.nextTick(resolve));
}

async function socksConnect(socket: net.Socket, target: ConnectTarget, proxy: ProxyEndpoint, timeoutMs: number, SocksClient: typeof SocksClientClass): Promise<void> {
  // socks5:// resolves the name here (the proxy gets an address); socks5h:// lets the proxy resolve it.
  let host = target.host;
  if (proxy.protocol === 'socks5' && net.isIP(host) === 0) host = (await dns.lookup(host)).address;
  await SocksClient.createConnection({
    command: 'connect',
    destination: { host, port: target.port },
    proxy: { host: proxy.host, port: proxy.port, type: 5,
      ...(proxy.user !== undefined ? { userId: proxy.user, password: proxy.password ?? '' } : {}) },
    timeout: timeoutMs,
    existing_socket: socket,
  });
}

/** The SOCKS5 reply (RFC 1928 s6) as a failure class; the `socks` package names it in its message. */
export function socksFailure(e: unknown): NetworkFailure {
  const m = (e as Error)?.message ?? '';
  if (/ConnectionRefused/i.test(m)) return 'refused';
  if (/HostUnreachable|NetworkUnreachable/i.test(m)) return 'unreachable';
  if (/TTLExpired|timed out|timeout/i.test(m)) return 'timeout';
  if (/NotAllowed|Authentication/i.test(m)) return 'permission';
  if (/closed/i.test(m)) return 'closed';
  return 'other';
}
