/**
 * TLS 1.2 renegotiation is refused by the FTPS server on the control and on data connections: each
 * client-initiated renegotiation costs the server a full handshake, so an unlimited number of them on one
 * connection is a cheap way to burn its CPU (CVE-2011-1473). TLS 1.3 has no renegotiation at all.
 * The client here is Node's own TLS client, renegotiating with tlsSocket.renegotiate().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type * as tls from 'node:tls';
import { MemoryStorage } from '../../src/server/index.js';
import { startServer, type Harness } from '../support/server-harness.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';
import { FtpsRawControl } from '../support/tls-raw-control.js';

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

const TLS12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
const ATTEMPTS = 12;

async function server(t: { after(fn: () => unknown): void }): Promise<Harness> {
  const h = await startServer({
    storage: new MemoryStorage(),
    options: { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, handshakeTimeoutMs: 5000, ...TLS12 } },
  });
  t.after(() => h.close());
  return h;
}

/** One renegotiation attempt: 'completed' when the second handshake finished, 'refused' when it failed or the connection ended. */
function renegotiate(socket: tls.TLSSocket): Promise<'completed' | 'refused'> {
  return new Promise((resolve) => {
    const refused = (): void => resolve('refused');
    socket.once('close', refused);
    socket.once('error', refused);
    const started = socket.renegotiate({ rejectUnauthorized: false }, (err) => {
      socket.off('close', refused);
      socket.off('error', refused);
      resolve(err ? 'refused' : 'completed');
    });
    if (!started) refused();
  });
}

/** Renegotiations the server completed out of ATTEMPTS (stops at the first refusal: the connection is gone). */
async function handshakesServedAfterTheFirst(socket: tls.TLSSocket): Promise<number> {
  let served = 0;
  for (let i = 0; i < ATTEMPTS; i++) {
    if ((await renegotiate(socket)) === 'refused') break;
    served++;
  }
  return served;
}

test('TLS 1.2: client-initiated renegotiation on the control connection is refused', { timeout: 30_000 }, async (t) => {
  const h = await server(t);
  const c = await FtpsRawControl.connect('127.0.0.1', h.port, { ca: pki.ca.cert, ...TLS12 });
  t.after(() => c.close());
  const control = await c.authTls();
  assert.equal(control.getProtocol(), 'TLSv1.2');
  const sessionClosed = once(h.server, 'session-close');
  assert.equal(await handshakesServedAfterTheFirst(control), 0);
  // The client gives up on its refused handshake with a fatal alert: the server notices and ends the session
  // (instead of keeping a dead TLS connection whose replies never flush).
  const [closed] = await sessionClosed;
  assert.match(closed.reason, /control connection error/);
  // The server itself is unharmed: a new session logs in.
  const other = await FtpsRawControl.connect('127.0.0.1', h.port, { ca: pki.ca.cert, ...TLS12 });
  t.after(() => other.close());
  await other.authTls();
  await other.login();
});

test('TLS 1.2: client-initiated renegotiation on a protected data connection is refused', { timeout: 30_000 }, async (t) => {
  const h = await server(t);
  const c = await FtpsRawControl.connect('127.0.0.1', h.port, { ca: pki.ca.cert, ...TLS12 });
  t.after(() => c.close());
  await c.authTls();
  await c.login();
  assert.equal((await c.send('PBSZ 0')).code, 200);
  assert.equal((await c.send('PROT P')).code, 200);
  const data = await c.epsv();
  c.write('STOR upload.bin\r\n');
  const [secured, opening] = await Promise.all([c.clientTls.secureData(data), c.read()]);
  assert.equal(opening.code, 150);
  assert.equal(await handshakesServedAfterTheFirst(secured.socket), 0);
  secured.socket.destroy();
  // The upload was cut, and the control connection still works.
  assert.equal((await c.read()).code, 426);
  assert.equal((await c.send('NOOP')).code, 200);
});
