/**
 * Bad input around TLS, at the net level: garbage or cleartext instead of a handshake, a stalled
 * handshake, a peer that hangs up mid-handshake, on control and data connections, on both sides; and the
 * client's certificate checks (self-signed, unknown CA, wrong host, expired, --insecure, client
 * certificates). Each must end with a typed FtpTlsError (reason says which) within the timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { once } from 'node:events';
import { CertificateStore } from '../../src/server/tls/certificates.js';
import { ServerTls } from '../../src/server/tls/server-tls.js';
import { ClientTls } from '../../src/net/tls-client.js';
import { FtpTlsError } from '../../src/errors.js';
import { makeTestPki, type TestPki, type PemPair } from '../support/tls-certs.js';
import { startTlsNetServer, readLine, connectTcp, type TlsNetHarness } from '../support/tls-net.js';

const HANDSHAKE_MS = 400;
let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

type T = { after(fn: () => unknown): void };

/** `handshakeMs`: short for the stall tests; long where the failure must come from recognising the input. */
async function harness(t: T, handshakeMs = HANDSHAKE_MS): Promise<TlsNetHarness> {
  const store = await CertificateStore.open({ certFile: pki.server.certFile, keyFile: pki.server.keyFile });
  const h = await startTlsNetServer(new ServerTls(store, { handshakeTimeoutMs: handshakeMs }));
  t.after(() => h.close());
  return h;
}

function isTlsError(reason: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof FtpTlsError, `expected FtpTlsError, got ${String(e)}`);
    assert.equal(e.reason, reason, `reason of: ${e.message}`);
    return true;
  };
}

// --- server side: control connection --------------------------------------------------------------------

for (const [name, bytes] of [
  ['cleartext FTP command after AUTH', 'USER alice\r\n'],
  ['an HTTP request', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['binary garbage', Buffer.from('00ff13370000deadbeef'.repeat(8), 'hex')],
] as const) {
  test(`server: ${name} instead of a ClientHello fails fast with reason not-tls`, { timeout: 10_000 }, async (t) => {
    // A long handshake timeout: reason 'not-tls' (not 'timeout') proves the input itself was recognised.
    const h = await harness(t, 8000);
    const raw = await connectTcp(h.port);
    t.after(() => { raw.destroy(); });
    raw.write(bytes);
    const outcome = await h.controlOutcomes.next();
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && isTlsError('not-tls')(outcome.error));
    // The server hung up on the garbage sender.
    await once(raw, 'close');
  });
}

test('server: a stalled handshake ends with reason timeout, and the socket is closed', { timeout: 10_000 }, async (t) => {
  const h = await harness(t);
  const raw = await connectTcp(h.port);
  t.after(() => { raw.destroy(); });
  const started = Date.now();
  raw.resume();
  const outcome = await h.controlOutcomes.next();
  const elapsed = Date.now() - started;
  assert.ok(!outcome.ok && isTlsError('timeout')(outcome.error));
  assert.ok(elapsed >= HANDSHAKE_MS - 50 && elapsed < HANDSHAKE_MS + 5000, `timed out after ${elapsed} ms`);
  await once(raw, 'close');
});

test('server: a client that hangs up mid-handshake ends with reason closed', { timeout: 10_000 }, async (t) => {
  const h = await harness(t);
  const raw = await connectTcp(h.port);
  // The first bytes of a TLS record header (handshake, TLS 1.0 record version), then EOF.
  raw.end(Buffer.from([0x16, 0x03, 0x01, 0x00]));
  const outcome = await h.controlOutcomes.next();
  assert.ok(!outcome.ok && isTlsError('closed')(outcome.error));
});

// --- server side: data connection -----------------------------------------------------------------------

async function securedControl(t: T, h: TlsNetHarness): Promise<number> {
  const client = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert } });
  const control = await client.upgradeControl(await connectTcp(h.port));
  t.after(() => { control.destroy(); });
  const port = Number((await readLine(control)).split(' ')[1]);
  assert.equal((await h.controlOutcomes.next()).ok, true);
  return port;
}

test('server: a cleartext data connection while PROT P is in force is refused (not-tls), no data sent', { timeout: 10_000 }, async (t) => {
  const h = await harness(t, 8000);
  const dataPort = await securedControl(t, h);
  const raw = await connectTcp(dataPort);
  t.after(() => { raw.destroy(); });
  const received: Buffer[] = [];
  raw.on('data', (d: Buffer) => received.push(d));
  raw.write('plain upload bytes\n');
  const outcome = await h.controls[0].dataOutcomes.next();
  assert.ok(!outcome.ok && isTlsError('not-tls')(outcome.error));
  await once(raw, 'close');
  // Whatever came back is a TLS alert at most, never the payload.
  assert.ok(!Buffer.concat(received).toString('latin1').includes('hello over protected data'));
});

test('server: a stalled data handshake ends with reason timeout', { timeout: 10_000 }, async (t) => {
  const h = await harness(t);
  const dataPort = await securedControl(t, h);
  const raw = await connectTcp(dataPort);
  t.after(() => { raw.destroy(); });
  const outcome = await h.controls[0].dataOutcomes.next();
  assert.ok(!outcome.ok && isTlsError('timeout')(outcome.error));
  assert.equal(!outcome.ok && outcome.error.connection, 'data');
});

// --- client side ----------------------------------------------------------------------------------------

async function rawServer(t: T, onConnection: (s: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); onConnection(s); });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => { for (const s of sockets) s.destroy(); srv.close(); });
  return (srv.address() as net.AddressInfo).port;
}

test('client: a server that answers in cleartext (wrong mode/port) fails fast with reason not-tls', { timeout: 10_000 }, async (t) => {
  const port = await rawServer(t, (s) => { s.write('220 plain FTP server ready\r\n'); s.resume(); });
  const client = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert }, handshakeTimeoutMs: 5000 });
  const started = Date.now();
  await assert.rejects(client.upgradeControl(await connectTcp(port)), (e: FtpTlsError) => {
    isTlsError('not-tls')(e);
    assert.match(e.message, /explicit vs implicit/);
    return true;
  });
  assert.ok(Date.now() - started < 5000);
});

test('client: a server that never answers the ClientHello ends with reason timeout', { timeout: 10_000 }, async (t) => {
  const port = await rawServer(t, (s) => { s.resume(); });
  const client = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert }, handshakeTimeoutMs: HANDSHAKE_MS });
  await assert.rejects(client.upgradeControl(await connectTcp(port)), isTlsError('timeout'));
});

async function tlsServer(t: T, pair: PemPair, extra: tls.TlsOptions = {}): Promise<{ port: number; secured: Promise<tls.TLSSocket> }> {
  const sockets = new Set<net.Socket>();
  let resolveSecured!: (s: tls.TLSSocket) => void;
  const secured = new Promise<tls.TLSSocket>((r) => { resolveSecured = r; });
  const srv = tls.createServer({ cert: pair.cert, key: pair.key, ...extra }, (s) => { resolveSecured(s); s.end('ok\n'); });
  srv.on('connection', (s) => { sockets.add(s); });
  srv.on('tlsClientError', () => {});
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => { for (const s of sockets) s.destroy(); srv.close(); });
  return { port: (srv.address() as net.AddressInfo).port, secured };
}

for (const [name, pick, pattern] of [
  ['self-signed', (p: TestPki) => p.selfSigned, /self-signed.*--ca FILE.*--insecure/],
  ['wrong host', (p: TestPki) => p.wrongHost, /not valid for 127\.0\.0\.1/],
  ['expired', (p: TestPki) => p.expired, /has expired/],
] as const) {
  test(`client: a ${name} server certificate is rejected with a message saying what to do`, { timeout: 10_000 }, async (t) => {
    const { port } = await tlsServer(t, pick(pki));
    const client = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert } });
    await assert.rejects(client.upgradeControl(await connectTcp(port)), (e: FtpTlsError) => {
      isTlsError('certificate')(e);
      assert.match(e.message, pattern);
      return true;
    });
  });
}

test('client: a certificate from an unknown CA is rejected by default, accepted with the CA, and with --insecure', { timeout: 10_000 }, async (t) => {
  const { port } = await tlsServer(t, pki.server);
  const strict = await ClientTls.create({ host: 'localhost', settings: {} });
  await assert.rejects(strict.upgradeControl(await connectTcp(port)), (e: FtpTlsError) => {
    isTlsError('certificate')(e);
    assert.match(e.message, /unknown certificate authority/);
    return true;
  });
  const withCa = await ClientTls.create({ host: 'localhost', settings: { caFile: pki.ca.certFile } });
  const s1 = await withCa.upgradeControl(await connectTcp(port));
  assert.equal(s1.authorized, true);
  s1.destroy();
  const insecure = await ClientTls.create({ host: 'localhost', settings: { rejectUnauthorized: false } });
  const s2 = await insecure.upgradeControl(await connectTcp(port));
  assert.equal(s2.authorized, false, 'connected without verification');
  s2.destroy();
});

test('client: a client certificate is presented when configured (server requires one)', { timeout: 10_000 }, async (t) => {
  const { port, secured } = await tlsServer(t, pki.server, { requestCert: true, rejectUnauthorized: true, ca: [pki.ca.cert] });
  const without = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert } });
  // TLS 1.3: the server's refusal (an alert) may arrive after the client considers the handshake done,
  // so the proof is that the server's greeting never arrives.
  const got = await without.upgradeControl(await connectTcp(port)).then(async (s) => {
    s.on('error', () => {});
    let text = '';
    s.on('data', (d: Buffer) => { text += d.toString(); });
    await new Promise((r) => s.once('close', r));
    return text;
  }, (e: FtpTlsError) => `rejected: ${e.reason}`);
  assert.ok(!got.includes('ok'), `a client without certificate was served: ${got}`);
  const withCert = await ClientTls.create({
    host: '127.0.0.1', settings: { ca: pki.ca.cert, certFile: pki.client.certFile, keyFile: pki.client.keyFile },
  });
  const s = await withCert.upgradeControl(await connectTcp(port));
  t.after(() => { s.destroy(); });
  const serverSide = await secured;
  assert.equal(serverSide.authorized, true);
  assert.equal(await readLine(s), 'ok');
  assert.equal(serverSide.getPeerCertificate().subject?.CN, 'ftpkit test client');
});

test('client: bad CA or a certificate without its key is a config error naming the key', async () => {
  await assert.rejects(ClientTls.create({ host: 'h', settings: { caFile: '/nonexistent/ca.pem' } }), { code: 'ERR_FTP_CONFIG', key: 'tls.caFile' });
  await assert.rejects(ClientTls.create({ host: 'h', settings: { certFile: pki.client.certFile } }), { code: 'ERR_FTP_CONFIG', key: 'tls.key' });
});
