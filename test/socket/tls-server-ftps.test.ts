/**
 * FTPS in FtpServer (src/server/tls/: commands, policies and the TLS machinery), over real sockets with
 * transcript-style checks of the reply codes: AUTH TLS/SSL (RFC 4217 s4), PBSZ (s8), PROT (s9), CCC,
 * FEAT, session reuse enforced on data connections (522), TLS policies (530 before login, 521 for
 * cleartext data, anonymous separately), implicit TLS on its own port, and the STARTTLS injection guard.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { once } from 'node:events';
import { MemoryStorage } from '../../src/server/index.js';
import type { FtpServerTlsOptions } from '../../src/server/tls/options.js';
import { startServer, type Harness } from '../support/server-harness.js';
import { makeTestPki, pemFilesToRotate, type TestPki } from '../support/tls-certs.js';
import { FtpsRawControl, readStream } from '../support/tls-raw-control.js';
import { ClientTls } from '../../src/net/tls-client.js';
import type { TlsSettings } from '../../src/client/options.js';

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

type T = { after(fn: () => unknown): void };

async function server(t: T, tls: Partial<FtpServerTlsOptions> = {}, anonymous = false): Promise<Harness & { storage: MemoryStorage }> {
  const storage = new MemoryStorage();
  const h = await startServer({
    storage,
    anonymous: anonymous ? { list: true, read: true, write: false, append: false, delete: false, rename: false, mkdir: false, rmdir: false, chmod: false } : false,
    options: { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, handshakeTimeoutMs: 2000, ...tls } },
  });
  t.after(() => h.close());
  return h as Harness & { storage: MemoryStorage };
}

async function control(t: T, h: Harness, settings: TlsSettings = {}, implicit = false): Promise<FtpsRawControl> {
  const port = implicit ? h.server.implicitAddress()!.port : h.port;
  const c = await FtpsRawControl.connect('127.0.0.1', port, { ca: pki.ca.cert, ...settings }, implicit);
  t.after(() => c.close());
  return c;
}

function sha256(b: Uint8Array): string { return createHash('sha256').update(b).digest('hex'); }

/** AUTH TLS, login, PBSZ 0, PROT P: data connections of this session must be protected. */
async function loginProtected(c: FtpsRawControl): Promise<void> {
  await c.authTls();
  await c.login();
  await c.send('PBSZ 0');
  await c.send('PROT P');
}

/** EPSV, then the transfer command (e.g. `RETR f.txt`) while the data connection does its TLS handshake. */
async function transferOverTls(c: FtpsRawControl, command: string) {
  const data = await c.epsv();
  c.write(`${command}\r\n`);
  const [d, pre] = await Promise.all([c.clientTls.secureData(data), c.read()]);
  return { d, pre };
}

test('FEAT lists AUTH TLS, PBSZ and PROT when TLS is configured, and not otherwise', async (t) => {
  const h = await server(t);
  const c = await control(t, h);
  const feat = await c.send('FEAT');
  assert.equal(feat.code, 211);
  for (const f of ['AUTH TLS', 'PBSZ', 'PROT']) assert.match(feat.text, new RegExp(`^ ${f}$`, 'm'));

  const plain = await startServer({});
  t.after(() => plain.close());
  const p = await FtpsRawControl.connect('127.0.0.1', plain.port, {});
  t.after(() => p.close());
  const feat2 = await p.send('FEAT');
  assert.doesNotMatch(feat2.text, /AUTH|PBSZ|PROT/);
  assert.equal((await p.send('AUTH TLS')).code, 502);
});

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`${version}: AUTH TLS, login, PBSZ 0, PROT P, upload and download over resumed TLS data connections`, { timeout: 20_000 }, async (t) => {
    const h = await server(t, { minVersion: version, maxVersion: version });
    const c = await control(t, h, { minVersion: version, maxVersion: version });
    const tlsSocket = await c.authTls();
    assert.equal(tlsSocket.getProtocol(), version);
    await c.login();
    assert.deepEqual(await c.send('PBSZ 0'), { code: 200, text: 'PBSZ=0' });
    assert.equal((await c.send('PROT P')).code, 200);
    assert.equal((await c.send('TYPE I')).code, 200);

    const body = randomBytes(3 * 1024 * 1024 + 17);
    const { d: secured, pre } = await transferOverTls(c, 'STOR big.bin');
    assert.equal(pre.code, 150);
    assert.equal(secured.resumed, true, 'the upload resumed the control session');
    secured.socket.end(body);
    assert.equal((await c.read()).code, 226);
    assert.equal(sha256(h.storage.readFile('/big.bin')), sha256(body));

    for (let i = 0; i < 2; i++) {
      const { d, pre: pre2 } = await transferOverTls(c, 'RETR big.bin');
      assert.equal(pre2.code, 150);
      assert.equal(d.resumed, true);
      assert.equal(sha256(await readStream(d.socket)), sha256(body));
      assert.equal((await c.read()).code, 226);
    }
  });
}

test('a data connection that does not resume the control session is refused with 522, nothing transferred', { timeout: 20_000 }, async (t) => {
  const h = await server(t);
  h.storage.writeFile('/secret.txt', 'top secret\n');
  const c = await control(t, h);
  await loginProtected(c);
  const data = await c.epsv();
  c.write('RETR secret.txt\r\n');
  // Stock-ftplib behaviour: a fresh TLS client for the data connection, no session offered.
  const stranger = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert } });
  const got = stranger.secureData(data).then(async (d) => { d.socket.on('error', () => {}); return readStream(d.socket).catch(() => Buffer.alloc(0)); }, () => Buffer.alloc(0));
  assert.equal((await c.read()).code, 150);
  const final = await c.read();
  assert.equal(final.code, 522);
  assert.match(final.text, /session reuse required/);
  assert.equal((await got).length, 0);
  // The session is still usable.
  assert.equal((await c.send('NOOP')).code, 200);
});

test('with requireSessionReuse off, a non-resuming data connection is accepted', { timeout: 20_000 }, async (t) => {
  const h = await server(t, { requireSessionReuse: false });
  h.storage.writeFile('/a.txt', 'hello\n');
  const c = await control(t, h);
  await loginProtected(c);
  const data = await c.epsv();
  c.write('RETR a.txt\r\n');
  const stranger = await ClientTls.create({ host: '127.0.0.1', settings: { ca: pki.ca.cert } });
  const [d] = await Promise.all([stranger.secureData(data), c.read()]);
  assert.equal(d.resumed, false);
  assert.equal((await readStream(d.socket)).toString(), 'hello\n');
  assert.equal((await c.read()).code, 226);
});

test('reply codes: PBSZ/PROT before AUTH, PROT before PBSZ, PROT S/E/X, AUTH twice or unknown, CCC', async (t) => {
  const h = await server(t);
  const c = await control(t, h);
  assert.equal((await c.send('PBSZ 0')).code, 503);
  assert.equal((await c.send('PROT P')).code, 503);
  assert.equal((await c.send('AUTH KERBEROS_V4')).code, 504);
  assert.equal((await c.send('AUTH')).code, 501);
  await c.authTls();
  assert.equal((await c.send('PROT P')).code, 503, 'PROT before PBSZ');
  assert.equal((await c.send('PBSZ x')).code, 501);
  assert.equal((await c.send('PBSZ 0')).code, 200);
  assert.equal((await c.send('PROT S')).code, 536);
  assert.equal((await c.send('PROT E')).code, 536);
  assert.equal((await c.send('PROT X')).code, 504);
  assert.equal((await c.send('AUTH TLS')).code, 503, 'already protected');
  await c.login();
  assert.equal((await c.send('CCC')).code, 534, 'CCC refused by policy');
  assert.equal((await c.send('PROT C')).code, 200);
  // REIN keeps the control connection protected but resets PBSZ/PROT.
  assert.equal((await c.send('REIN')).code, 220);
  assert.equal((await c.send('PROT P')).code, 503);
  assert.ok(c.tlsSocket && !c.tlsSocket.destroyed);
});

test('AUTH SSL is accepted (old clients, curl); AUTH TLS-P implies protected data', { timeout: 20_000 }, async (t) => {
  const h = await server(t);
  h.storage.writeFile('/x.txt', 'x\n');
  const c = await control(t, h);
  await c.authTls('AUTH SSL');
  await c.login();
  // AUTH SSL alone leaves data in cleartext (curl --ftp-ssl-control relies on it).
  const clear = await c.epsv();
  c.write('RETR x.txt\r\n');
  assert.equal((await c.read()).code, 150);
  assert.equal((await readStream(clear)).toString(), 'x\n');
  assert.equal((await c.read()).code, 226);

  const p = await control(t, h);
  await p.authTls('AUTH TLS-P');
  await p.login();
  const { d, pre } = await transferOverTls(p, 'RETR x.txt');
  assert.equal(pre.code, 150);
  assert.equal((await readStream(d.socket)).toString(), 'x\n');
  assert.equal((await p.read()).code, 226);
});

test('policy login: USER in cleartext gets 530 saying to use AUTH TLS; anonymous can be exempt; over TLS it works', async (t) => {
  const h = await server(t, { require: 'login', requireAnonymous: 'none' }, true);
  const c = await control(t, h);
  const r = await c.send('USER test');
  assert.equal(r.code, 530);
  assert.match(r.text, /AUTH TLS/);
  assert.equal((await c.send('PASS test')).code, 530, 'no login without USER (and PASS never accepted in cleartext)');
  const anon = await c.send('USER anonymous');
  assert.equal(anon.code, 331, 'anonymous is exempt here');
  assert.equal((await c.send('PASS guest@')).code, 230);

  const c2 = await control(t, h);
  await c2.authTls();
  await c2.login();
});

test('policy per user: users map overrides the server default', async (t) => {
  const h = await server(t, { require: 'none', users: { test: 'login' } });
  const c = await control(t, h);
  assert.equal((await c.send('USER test')).code, 530);
  assert.equal((await c.send('USER someone')).code, 331);
});

test('policy data: a transfer under PROT C gets 521, PROT C after login gets 534, PROT P works', { timeout: 20_000 }, async (t) => {
  const h = await server(t, { require: 'data' });
  h.storage.writeFile('/f.txt', 'data\n');
  const c = await control(t, h);
  await c.authTls();
  await c.login();
  const data = await c.epsv();
  t.after(() => { data.destroy(); });
  const r = await c.send('RETR f.txt');
  assert.equal(r.code, 521);
  assert.match(r.text, /PROT P/);
  await c.send('PBSZ 0');
  assert.equal((await c.send('PROT C')).code, 534);
  assert.equal((await c.send('PROT P')).code, 200);
  const { d } = await transferOverTls(c, 'RETR f.txt');
  assert.equal((await readStream(d.socket)).toString(), 'data\n');
  assert.equal((await c.read()).code, 226);
});

test('PROT P with a cleartext data connection: the transfer fails with 425, no data leaks', { timeout: 20_000 }, async (t) => {
  const h = await server(t);
  h.storage.writeFile('/f.txt', 'never in clear\n');
  const c = await control(t, h);
  await loginProtected(c);
  const data = await c.epsv();
  const received: Buffer[] = [];
  data.on('data', (b: Buffer) => received.push(b));
  c.write('RETR f.txt\r\n');
  assert.equal((await c.read()).code, 150);
  data.write('this is not a ClientHello\r\n');
  const final = await c.read();
  assert.equal(final.code, 425);
  assert.match(final.text, /TLS/);
  assert.ok(!Buffer.concat(received).toString('latin1').includes('never in clear'));
});

test('implicit TLS on its own port: TLS from the first byte, data protected by default', { timeout: 20_000 }, async (t) => {
  const h = await server(t, { implicitPort: 0 });
  h.storage.writeFile('/i.txt', 'implicit\n');
  assert.ok(h.server.implicitAddress()!.port > 0);
  assert.notEqual(h.server.implicitAddress()!.port, h.port);
  const c = await control(t, h, {}, true);
  assert.equal(c.greeting.code, 220);
  assert.ok(c.tlsSocket, 'greeting arrived over TLS');
  await c.login();
  const { d, pre } = await transferOverTls(c, 'RETR i.txt');
  assert.equal(pre.code, 150);
  assert.equal(d.resumed, true);
  assert.equal((await readStream(d.socket)).toString(), 'implicit\n');
  assert.equal((await c.read()).code, 226);
  // Explicit AUTH on an implicit session: already protected.
  assert.equal((await c.send('AUTH TLS')).code, 503);
});

test('implicit port: a cleartext client is dropped, the server stays healthy', { timeout: 20_000 }, async (t) => {
  const h = await server(t, { implicitPort: 0 });
  const warnings: string[] = [];
  h.server.on('warning', (w) => warnings.push(w.message));
  const net = await import('node:net');
  const s = net.connect(h.server.implicitAddress()!.port, '127.0.0.1');
  s.on('error', () => {});
  s.write('USER test\r\n');
  await new Promise((r) => s.once('close', r));
  assert.ok(warnings.some((w) => /implicit FTPS/.test(w)), warnings.join('; '));
  const c = await control(t, h, {}, true);
  await c.login();
});

test('SECURITY: commands pipelined in cleartext behind AUTH TLS are discarded, not run after the upgrade', async (t) => {
  const h = await server(t);
  const c = await control(t, h);
  // One write: AUTH TLS and an injected USER; a man in the middle could append the latter.
  c.write('AUTH TLS\r\nUSER test\r\n');
  const r = await c.read();
  assert.equal(r.code, 234);
  (c as unknown as { detach(): void }).detach();
  const s = await c.clientTls.upgradeControl(c.raw);
  (c as unknown as { socket: unknown }).socket = s;
  (c as unknown as { attach(x: unknown): void }).attach(s);
  // If the injected USER had run, PASS would be accepted (331 -> 230); it must be a bad sequence.
  assert.equal((await c.send('PASS test')).code, 503);
});

test('garbage after 234 closes that session only', { timeout: 20_000 }, async (t) => {
  const h = await server(t);
  const c = await control(t, h);
  assert.equal((await c.send('AUTH TLS')).code, 234);
  c.write('USER test\r\n');
  await new Promise((r) => c.raw.once('close', r));
  const c2 = await control(t, h);
  await c2.authTls();
  await c2.login();
});

test('a half-done certificate rotation is reported as a server warning; the old certificate keeps serving', { timeout: 20_000 }, async (t) => {
  const fsp = await import('node:fs/promises');
  const { certFile, keyFile } = await pemFilesToRotate(t, pki.server, 'ftpkit-rotate-');
  const h = await server(t, { certFile, keyFile });
  const warnings: string[] = [];
  h.server.on('warning', (w) => warnings.push(`${w.code}: ${w.message}`));
  await fsp.writeFile(certFile, pki.server2.cert); // key not rotated yet
  const c = await control(t, h);
  await c.authTls();
  await c.login();
  assert.ok(warnings.some((w) => /^tls-certificate-reload: /.test(w)), warnings.join('\n'));
});

test('CCC on a cleartext control connection: 533', async (t) => {
  const h = await server(t, { allowCcc: true });
  const c = await control(t, h);
  await c.login();
  assert.equal((await c.send('CCC')).code, 533);
});

test('implicit port: connections still in their handshake count toward the session limit', { timeout: 20_000 }, async (t) => {
  const storage = new MemoryStorage();
  const h = await startServer({
    storage,
    options: {
      limits: { maxSessions: 1 },
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, implicitPort: 0, handshakeTimeoutMs: 5000 },
    },
  });
  t.after(() => h.close());
  const warnings: string[] = [];
  h.server.on('warning', (w) => warnings.push(w.code));
  const net = await import('node:net');
  const port = h.server.implicitAddress()!.port;
  const silent = net.connect(port, '127.0.0.1');
  silent.on('error', () => {});
  t.after(() => { silent.destroy(); });
  await once(silent, 'connect');
  // Wait until the server has accepted it (its handshake is pending), then a second client is refused.
  const second = net.connect(port, '127.0.0.1');
  second.on('error', () => {});
  await once(second, 'close');
  assert.ok(warnings.includes('session-limit'), warnings.join(', '));
  assert.equal(silent.destroyed, false, 'the first connection is still waiting in its handshake');
});

test('security.describe() says how a session is protected', async (t) => {
  const h = await server(t);
  const c = await control(t, h);
  await loginProtected(c);
  const session = h.server.sessions()[0];
  assert.match(h.server.security!.describe(session), /^control connection protected \(TLSv1\.3, .*\); data protected \(PROT P\)$/);
});

test('close() drops implicit-FTPS connections still in their handshake', { timeout: 20_000 }, async (t) => {
  const h = await server(t, { implicitPort: 0, handshakeTimeoutMs: 60_000 });
  const net = await import('node:net');
  // Listen after FtpServer's own handler: when this fires, the server holds the connection in its handshake.
  const listener = (h.server as unknown as { implicitServer: import('node:net').Server }).implicitServer;
  const accepted = once(listener, 'connection');
  const silent = net.connect(h.server.implicitAddress()!.port, '127.0.0.1');
  silent.on('error', () => {});
  t.after(() => { silent.destroy(); });
  await Promise.all([once(silent, 'connect'), accepted]);
  // A session-less connection must not keep the server (or the process) waiting for the 60 s timeout.
  const started = Date.now();
  await Promise.all([h.close(), once(silent, 'close')]);
  assert.ok(Date.now() - started < 5000);
});
