/**
 * The doctor against servers on loopback: our own FtpServer (healthy, and with a port map that advertises
 * closed ports), a closed control port, a silent server, a server without EPSV/EPRT, a refused login.
 * Fast and deterministic; the real NAT/firewall situations are in test/lab/doctor.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { diagnose, renderReport } from '../../src/doctor/index.js';
import { FtpClient } from '../../src/client/index.js';
import { MemoryStorage, READ_WRITE } from '../../src/server/index.js';
import { startServer } from '../support/server-harness.js';
import { closedPort, startFakeServer } from '../support/fake-server.js';

async function seeded(): Promise<MemoryStorage> {
  const storage = new MemoryStorage();
  storage.writeFile('/hello.txt', 'hello from ftpkit\n');
  return storage;
}

test('healthy server: every cell works, upload/download/delete checked, recommendation usable as is', async t => {
  const h = await startServer({ storage: await seeded() });
  t.after(() => h.close());
  const f = await diagnose(h.url, { connectTimeoutMs: 2000, budgetMs: 10_000 });
  assert.deepEqual(f.causes, []);
  assert.ok(f.elapsedMs < 5000, `took ${f.elapsedMs} ms`);
  for (const id of ['epsv', 'pasv-reply', 'pasv-control', 'eprt-local', 'port-local']) assert.ok(f.works.includes(id), id);
  const cell = f.matrix.find(r => r.spec.id === 'epsv')!;
  assert.deepEqual(cell.transfer, { upload: 'ok', download: 'ok', delete: 'ok' });
  assert.equal(f.recommended?.probeId, 'epsv');
  // The JSON round trip of the recommendation is accepted by the library as is.
  const settings = JSON.parse(JSON.stringify(f)).recommended.settings;
  const client = new FtpClient({ host: h.host, port: h.port, user: 'test', password: 'test', ...settings });
  t.after(() => client.destroy());
  await client.connect();
  const chunks: Buffer[] = [];
  await client.download('hello.txt', new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } }));
  assert.equal(Buffer.concat(chunks).toString(), 'hello from ftpkit\n');
  await client.close();
  const text = renderReport(f);
  assert.match(text, /What works: cleartext: EPSV, PASV \(reply address\), PASV \(control host\), EPRT, PORT\n/);
  assert.match(text, /Recommended: EPSV/);
  // A server without FTPS is reported as such, not as a failed step, when cleartext works.
  assert.match(text, /\[  no\] AUTH TLS \+ login: TLS not available/);
  assert.doesNotMatch(text, /FAIL/);
  assert.match(text, /curl \(shell\):\n +curl --ftp-pasv ftp:\/\/127\.0\.0\.1:\d+\//);
});

test('passive ports advertised through a port map that points nowhere: refused at once, active recommended', async t => {
  const listen = await closedPort();
  const advertised = await closedPort();
  const h = await startServer({ options: { passive: { portRange: { min: listen, max: listen }, advertisedPortRange: { min: advertised, max: advertised } } } });
  t.after(() => h.close());
  const f = await diagnose(h.url, { connectTimeoutMs: 2000, budgetMs: 10_000 });
  assert.deepEqual(f.causes.map(c => c.code), ['server-passive-ports-refused']);
  assert.match(f.causes[0]!.title, new RegExp(`ports tried: ${advertised}`));
  assert.equal(f.recommended?.settings.data?.mode, 'active');
  assert.ok(f.elapsedMs < 5000, `took ${f.elapsedMs} ms`);
});

test('closed control port: refused, told apart from a drop, in well under a second', async () => {
  const port = await closedPort();
  const f = await diagnose(`ftp://127.0.0.1:${port}/`, { connectTimeoutMs: 2000 });
  assert.deepEqual(f.causes.map(c => c.code), ['control-port-refused']);
  assert.equal(f.steps.find(s => s.id === 'tcp')?.outcome.kind, 'refused');
  assert.ok(f.elapsedMs < 1000, `took ${f.elapsedMs} ms`);
  assert.equal(f.recommended, undefined);
  assert.match(renderReport(f), /none - no FTP session could be set up/);
});

test('a server that accepts but never greets: no greeting, implicit TLS tried, bounded', async t => {
  const fake = await startFakeServer({ greeting: { never: true } });
  t.after(() => fake.close());
  const f = await diagnose(`ftp://127.0.0.1:${fake.port}/`, { connectTimeoutMs: 800, budgetMs: 5000 });
  assert.deepEqual(f.causes.map(c => c.code), ['no-greeting']);
  assert.ok(f.steps.some(s => s.id === 'implicit-tls'), 'implicit TLS was tried');
  assert.ok(f.elapsedMs < 3000, `took ${f.elapsedMs} ms`);
});

test('EPSV and EPRT answered 500: PASV recommended', async t => {
  const fake = await startFakeServer({
    commands: { EPSV: '500 Command "EPSV" not understood.', EPRT: '500 Command "EPRT" not understood.' },
    listing: '-rw-r--r-- 1 ftp ftp 5 Jan 01 00:00 a.txt\r\n',
  });
  t.after(() => fake.close());
  const f = await diagnose(`ftp://u:p@127.0.0.1:${fake.port}/`, { connectTimeoutMs: 2000, writeCheck: false });
  assert.deepEqual(f.causes.map(c => c.code), ['epsv-unsupported']);
  assert.equal(f.recommended?.settings.data?.passive?.command, 'pasv');
});

test('a refused login is named as such and nothing else is tried', async t => {
  const h = await startServer();
  t.after(() => h.close());
  const f = await diagnose(`ftp://test:wrong@127.0.0.1:${h.port}/`, { connectTimeoutMs: 2000 });
  assert.deepEqual(f.causes.map(c => c.code), ['login-failed']);
  assert.equal(f.matrix.length, 0);
});

test('READ_WRITE is not required: a read-only login is reported, not an error', async t => {
  const h = await startServer({ users: { ro: { password: 'ro', permissions: { ...READ_WRITE, write: false, delete: false, mkdir: false, rename: false, append: false } } } });
  t.after(() => h.close());
  const f = await diagnose(`ftp://ro:ro@127.0.0.1:${h.port}/`, { connectTimeoutMs: 2000 });
  assert.deepEqual(f.causes.map(c => c.code), []);
  assert.deepEqual(f.notes?.map(n => n.code), ['readonly']);
  assert.equal(f.recommended?.probeId, 'epsv');
  // A note, never under "Diagnosis" (it is no connection problem).
  assert.match(renderReport(f), /Diagnosis: no problem found\.[\s\S]*Notes\n {2}\* you can read but not write here/);
});

test('dual-stack name with a dead IPv6 address: goes on over IPv4 and names the broken address', async t => {
  const h = await startServer();   // listens on 127.0.0.1 only: [::1] refuses
  t.after(() => h.close());
  const f = await diagnose(`ftp://test:test@dual.invalid:${h.port}/`, {
    connectTimeoutMs: 2000, writeCheck: false, resolver: async () => ['::1', '127.0.0.1'],
  });
  assert.deepEqual(f.causes.map(c => c.code), ['address-family-broken']);
  assert.match(f.causes[0]!.title, /IPv6 address ::1 does not work/);
  assert.equal(f.recommended?.probeId, 'epsv');
});

test('the budget is a hard stop: stalled transfers are cut and the finding says so', async t => {
  const fake = await startFakeServer({ listing: 'x\r\n', data: { onConnect: 'hold' } });
  t.after(() => fake.close());
  const t0 = performance.now();
  const f = await diagnose(`ftp://u:p@127.0.0.1:${fake.port}/`, { connectTimeoutMs: 5000, budgetMs: 1500, writeCheck: false });
  const took = performance.now() - t0;
  assert.ok(took < 2500, `took ${took} ms with a 1500 ms budget`);
  assert.equal(f.truncated, true);
  assert.ok(f.matrix.some(r => r.outcome.kind === 'skipped'), f.matrix.map(r => r.outcome.kind).join(','));
});

test('a folder in the URL that does not exist is named, and the matrix runs in the login folder', async t => {
  const h = await startServer();
  t.after(() => h.close());
  const f = await diagnose(`${h.url}no/such/folder/`, { connectTimeoutMs: 2000, writeCheck: false });
  assert.deepEqual(f.causes.map(c => c.code), ['path-unusable']);
  assert.ok(f.works.includes('epsv') && f.works.includes('eprt-local'), f.works.join(','));
});

test('blind spot: a PASV address other than the one connected to (both loopback) is named, not "no problem found"', async t => {
  // Reached at 127.0.0.1, the server advertises 127.0.0.2 where nothing listens: a two-interface LAN server.
  const fake = await startFakeServer({ pasv: { host: '127.0.0.2' }, listing: '-rw-r--r-- 1 ftp ftp 5 Jan 01 00:00 a.txt\r\n' });
  t.after(() => fake.close());
  const f = await diagnose(`ftp://u:p@127.0.0.1:${fake.port}/`, { connectTimeoutMs: 2000, writeCheck: false, noActive: true });
  const summary = f.matrix.map(r => `${r.spec.id}=${r.outcome.kind}`).join(' ');
  assert.ok(f.works.includes('pasv-control') && !f.works.includes('pasv-reply'), summary);
  assert.deepEqual(f.causes.map(c => c.code), ['pasv-address-unusable'], summary);
  const text = renderReport(f);
  assert.match(text, /advertised address differs from the address you connected to: the PASV reply names 127\.0\.0\.2, you reached the server at 127\.0\.0\.1/);
  assert.doesNotMatch(text, /no problem found/);
});

test('an EPSV that never gets an answer is told as that command unanswered, not a dropped connection', async t => {
  const fake = await startFakeServer({ commands: { EPSV: { never: true } }, listing: '-rw-r--r-- 1 ftp ftp 5 Jan 01 00:00 a.txt\r\n' });
  t.after(() => fake.close());
  const f = await diagnose(`ftp://u:p@127.0.0.1:${fake.port}/`, { connectTimeoutMs: 1000, writeCheck: false, noActive: true });
  const epsv = f.matrix.find(r => r.spec.id === 'epsv')!;
  assert.equal(epsv.outcome.command, 'EPSV');
  assert.deepEqual(f.causes.map(c => c.code), ['command-unanswered']);
  const text = renderReport(f);
  assert.match(text, /EPSV +no reply to EPSV within \d\.\d s \(setting up the data connection, EPSV only\)/);
  assert.doesNotMatch(text, /silently dropped/);
  // The advice names what worked.
  assert.match(f.causes[0]!.userFix ?? '', /avoid EPSV: use PASV/);
});

test('a server that takes every data connection and then goes silent is not named as a blocked path', async t => {
  // The data connections open (passive: we connect; active: it connects back) and nothing moves: the path
  // works, the server stalls (pyftpdlib under a burst of TLS handshakes did, in the lab's S8).
  const fake = await startFakeServer({ listing: 'x\r\n', data: { onConnect: 'hold' } });
  t.after(() => fake.close());
  const f = await diagnose(`ftp://u:p@127.0.0.1:${fake.port}/`, { connectTimeoutMs: 1000, writeCheck: false });
  const summary = f.matrix.map(r => `${r.spec.id}=${r.outcome.kind}/${r.outcome.dataOpened}`).join(' ');
  assert.ok(f.matrix.length >= 4 && f.matrix.every(r => r.outcome.kind === 'timeout' && r.outcome.dataOpened === true), summary);
  assert.deepEqual(f.causes.map(c => c.code), ['nothing-works'], summary);
});
