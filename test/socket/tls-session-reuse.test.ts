/**
 * Session-reuse enforcement and honouring, at the net level (src/server/tls/server-tls.ts + src/net/tls-client.ts), with
 * TLS 1.2 and TLS 1.3 forced: a data connection that resumes its own control connection's session is
 * accepted; a full handshake, a session from ANOTHER control connection, or a TLS 1.2 session id from
 * another control connection is refused with reason 'session-not-reused' (reply 522).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { constants as cryptoConstants } from 'node:crypto';
import { CertificateStore } from '../../src/server/tls/certificates.js';
import { ServerTls, dataTlsFailureReply } from '../../src/server/tls/server-tls.js';
import { ClientTls } from '../../src/net/tls-client.js';
import { FtpTlsError } from '../../src/errors.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';
import { startTlsNetServer, readLine, readAll, connectTcp, type TlsNetHarness } from '../support/tls-net.js';

let pki: TestPki;

test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

async function setup(t: { after(fn: () => Promise<void> | void): void }, version: 'TLSv1.2' | 'TLSv1.3', requireSessionReuse = true): Promise<TlsNetHarness> {
  // Force the version on the server side (maxVersion) ...
  const store = await CertificateStore.open({ certFile: pki.server.certFile, keyFile: pki.server.keyFile, maxVersion: version, minVersion: version });
  const h = await startTlsNetServer(new ServerTls(store, { requireSessionReuse, handshakeTimeoutMs: 5000 }));
  t.after(() => h.close());
  return h;
}

interface Conn { client: ClientTls; control: tls.TLSSocket; dataPort: number }

async function openControl(t: { after(fn: () => void): void }, h: TlsNetHarness, version: 'TLSv1.2' | 'TLSv1.3'): Promise<Conn> {
  // ... and on the client side.
  const client = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert, minVersion: version, maxVersion: version } });
  const raw = await connectTcp(h.port);
  const control = await client.upgradeControl(raw);
  t.after(() => { control.destroy(); });
  const line = await readLine(control);
  const m = /^PORT (\d+)$/.exec(line);
  assert.ok(m, `unexpected control line ${line}`);
  assert.equal((await h.controlOutcomes.next()).ok, true);
  assert.equal(control.getProtocol(), version);
  return { client, control, dataPort: Number(m[1]) };
}

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`${version}: data connections resume the control session and are accepted, repeatedly`, { timeout: 15_000 }, async (t) => {
    const h = await setup(t, version);
    const c = await openControl(t, h, version);
    const ctl = h.controls[0];
    for (let i = 0; i < 3; i++) {
      const { socket, resumed } = await c.client.secureData(await connectTcp(c.dataPort));
      t.after(() => { socket.destroy(); });
      assert.equal(resumed, true, `client: data connection ${i} resumed`);
      const body = await readAll(socket);
      assert.equal(body.toString(), 'hello over protected data\n');
      const outcome = await ctl.dataOutcomes.next();
      assert.deepEqual(outcome, { ok: true, reused: true, protocol: version });
    }
    if (version === 'TLSv1.3') assert.ok(c.client.sessionsReceived >= 1, 'TLS 1.3 tickets were received on the control connection');
  });

  test(`${version}: a data connection with a full handshake is refused (reuse required)`, { timeout: 15_000 }, async (t) => {
    const h = await setup(t, version);
    const c = await openControl(t, h, version);
    // A client that does not offer the session: a fresh ClientTls with the same trust.
    const naive = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert, minVersion: version, maxVersion: version } });
    const clientSide = naive.secureData(await connectTcp(c.dataPort)).then(
      async ({ socket }) => { socket.on('error', () => {}); return readAll(socket).catch(() => Buffer.alloc(0)); },
      () => Buffer.alloc(0));
    const outcome = await h.controls[0].dataOutcomes.next();
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && outcome.error instanceof FtpTlsError);
    assert.equal(!outcome.ok && outcome.error.reason, 'session-not-reused');
    assert.equal((await clientSide).length, 0, 'no payload reaches a refused data connection');
    const r = dataTlsFailureReply(!outcome.ok ? outcome.error : undefined);
    assert.equal(r.code, 522);
    assert.match(r.lines[0], /session reuse required/);
  });

  test(`${version}: a session of ANOTHER control connection does not resume (refused)`, { timeout: 15_000 }, async (t) => {
    const h = await setup(t, version);
    const a = await openControl(t, h, version);
    const b = await openControl(t, h, version);
    // Prove b's session is valid for b ...
    const own = await b.client.secureData(await connectTcp(b.dataPort));
    await readAll(own.socket);
    assert.equal(own.resumed, true);
    assert.equal((await h.controls[1].dataOutcomes.next()).ok, true);
    // ... then offer it on a's data port (an attacker racing to a's passive port with its own session).
    const clientSide = b.client.secureData(await connectTcp(a.dataPort)).then(({ socket, resumed }) => {
      socket.on('error', () => {});
      return resumed;
    }, () => false);
    const outcome = await h.controls[0].dataOutcomes.next();
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.error.reason, 'session-not-reused');
    assert.equal(await clientSide, false, 'the foreign session was not resumed');
  });

  test(`${version}: with requireSessionReuse off, a full handshake is accepted and reported`, { timeout: 15_000 }, async (t) => {
    const h = await setup(t, version, false);
    const c = await openControl(t, h, version);
    const naive = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert, minVersion: version, maxVersion: version } });
    const { socket, resumed } = await naive.secureData(await connectTcp(c.dataPort));
    assert.equal(resumed, false);
    assert.equal((await readAll(socket)).toString(), 'hello over protected data\n');
    assert.deepEqual(await h.controls[0].dataOutcomes.next(), { ok: true, reused: false, protocol: version });
  });
}

// TLS 1.2 clients without RFC 5077 tickets resume by session id: that path goes through the per-control
// session cache ('newSession'/'resumeSession'), which must be isolated per control connection too.
test('TLSv1.2 without tickets: session-id resumption is accepted for its own control connection only', { timeout: 15_000 }, async (t) => {
  const h = await setup(t, 'TLSv1.2');
  const noTicket = { ca: pki.ca.cert, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', secureOptions: cryptoConstants.SSL_OP_NO_TICKET } as const;
  async function control(): Promise<{ socket: tls.TLSSocket; session: Buffer; dataPort: number }> {
    const socket = tls.connect({ ...noTicket, socket: await connectTcp(h.port), host: '127.0.0.1' });
    t.after(() => { socket.destroy(); });
    let session: Buffer | undefined;
    socket.on('session', (s: Buffer) => { session = s; });
    const line = await readLine(socket);
    assert.equal((await h.controlOutcomes.next()).ok, true);
    assert.ok(session, 'a session was established');
    assert.equal(socket.getTLSTicket(), undefined, 'no ticket: this is the session-id path');
    return { socket, session, dataPort: Number(line.split(' ')[1]) };
  }
  async function data(port: number, session: Buffer): Promise<boolean> {
    const s = tls.connect({ ...noTicket, socket: await connectTcp(port), host: '127.0.0.1', session });
    s.on('error', () => {});
    t.after(() => { s.destroy(); });
    return new Promise<boolean>((resolve) => {
      s.once('secureConnect', () => resolve(s.isSessionReused()));
      s.once('close', () => resolve(false));
    });
  }
  const a = await control();
  const b = await control();
  assert.equal(await data(a.dataPort, a.session), true);
  assert.deepEqual(await h.controls[0].dataOutcomes.next(), { ok: true, reused: true, protocol: 'TLSv1.2' });
  assert.equal(await data(a.dataPort, b.session), false);
  const refused = await h.controls[0].dataOutcomes.next();
  assert.equal(!refused.ok && refused.error.reason, 'session-not-reused');
});

test('secureData before the control connection is protected is refused', { timeout: 15_000 }, async () => {
  const store = await CertificateStore.open({ certFile: pki.server.certFile, keyFile: pki.server.keyFile });
  const ctl = new ServerTls(store).forConnection();
  const { PassThrough } = await import('node:stream');
  await assert.rejects(ctl.secureData(new PassThrough()), (e: FtpTlsError) => e.code === 'ERR_FTP_TLS' && /AUTH TLS/.test(e.message));
});
