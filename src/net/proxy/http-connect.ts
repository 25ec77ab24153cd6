/**
 * An HTTP CONNECT tunnel (RFC 9110 s9.3.6): "CONNECT host:port", Basic credentials when the proxy URL has
 * them (RFC 7617), and the proxy's answer read up to the blank line, bounded in size and time. A 2xx
 * opens the tunnel; bytes that came after the header (a server greeting sent at once) are put back.
 */
import type net from 'node:net';
import type { NetworkFailure } from '../../errors.js';
import { formatEndpoint } from '../connect.js';
import type { ProxyEndpoint } from './proxy-url.js';

/** A proxy's answer header is a few hundred bytes; more is not a proxy we understand. */
const MAX_HEADER_BYTES = 16 * 1024;

export type ConnectOutcome = { ok: true } | { ok: false; failure: NetworkFailure; detail: string };

export function httpConnect(socket: net.Socket, host: string, port: number, proxy: ProxyEndpoint,
  timeoutMs: number): Promise<ConnectOutcome> {
  const authority = formatEndpoint(host, port);
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxy.user !== undefined) {
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(`${proxy.user}:${proxy.password ?? ''}`).toString('base64')}`);
  }
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const done = (outcome: ConnectOutcome, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      if (outcome.ok) socket.pause();
      socket.off('error', onError);
      socket.off('close', onClose);
      // The bytes after the header (the server's greeting) wait for the next reader (proxy-connect.ts handOver).
      if (outcome.ok && rest && rest.length > 0) socket.unshift(rest);
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) {
        if (received.length > MAX_HEADER_BYTES) done({ ok: false, failure: 'other', detail: `the HTTP proxy's answer is over ${MAX_HEADER_BYTES} bytes` });
        return;
      }
      const statusLine = received.subarray(0, received.indexOf('\r\n')).toString('latin1');
      const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(statusLine);
      if (!m) { done({ ok: false, failure: 'other', detail: `not an HTTP answer: ${JSON.stringify(statusLine.slice(0, 80))}` }); return; }
      const status = Number(m[1]);
      if (status >= 200 && status < 300) { done({ ok: true }, received.subarray(end + 4)); return; }
      done({ ok: false, failure: httpFailure(status), detail: `the HTTP proxy answered ${statusLine.trim()}` });
    };
    const onError = (e: Error): void => done({ ok: false, failure: 'reset', detail: `the HTTP proxy connection failed: ${e.message}` });
    const onClose = (): void => done({ ok: false, failure: 'closed', detail: 'the HTTP proxy closed the connection before answering CONNECT' });
    const timer = setTimeout(() => done({ ok: false, failure: 'timeout', detail: `the HTTP proxy did not answer CONNECT within ${Math.round(timeoutMs)} ms` }), timeoutMs);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

function httpFailure(status: number): NetworkFailure {
  if (status === 407 || status === 403) return 'permission';
  if (status === 504) return 'timeout';
  return 'refused';
}
