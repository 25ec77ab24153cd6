/**
 * The admin listener (src/server/admin/, docs/server.md#admin-page) over real sockets: /metrics parsed by
 * a Prometheus text-format parser (parse-prometheus-text-format) with the counters checked against what the
 * test did; authentication (token, an operator's hashed password) refused without it; actions (ban, unban,
 * disconnect) with who did them; CSRF guards; /health ready, then draining during a graceful close; a
 * non-loopback listener without authentication refused at start.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheus from 'parse-prometheus-text-format';
import type { PrometheusFamily } from 'parse-prometheus-text-format';
import { AdminServer, FtpConfigError, MemoryStorage } from '../../src/server/index.js';
import type { AdminAction, StatusDocument } from '../../src/server/index.js';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { RawControl, openPassive, readAll, startServer, writeAll } from '../support/server-harness.js';
import type { Harness } from '../support/server-harness.js';
import { until } from '../support/until.js';

const TOKEN = 'test-token-0123456789abcdef';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

async function setup(t: TestContext, opts: { bandwidth?: number } = {}): Promise<{ h: Harness; admin: AdminServer; base: string; actions: AdminAction[] }> {
  const storage = new MemoryStorage();
  storage.writeFile('/hello.txt', 'hello, world\n');
  storage.writeFile('/big.bin', Buffer.alloc(2_000_000, 7));
  const h = await startServer({ storage, options: opts.bandwidth ? { limits: { bandwidth: { download: opts.bandwidth } } } : {} });
  t.after(() => h.close());
  const admin = new AdminServer(h.server, { host: '127.0.0.1', port: 0, token: TOKEN }, { updateMs: 200 });
  const actions: AdminAction[] = [];
  admin.on('action', a => actions.push(a));
  const address = await admin.listen();
  t.after(() => admin.close());
  return { h, admin, base: `http://127.0.0.1:${address.port}`, actions };
}

function family(families: PrometheusFamily[], name: string): PrometheusFamily {
  const f = families.find(x => x.name === name);
  assert.ok(f, `metric ${name} in ${families.map(x => x.name).join(', ')}`);
  return f;
}

function sample(families: PrometheusFamily[], name: string, labels: Record<string, string> = {}): number {
  const f = family(families, name);
  const m = f.metrics.find(x => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m?.value === undefined ? 0 : Number(m.value);
}

async function metrics(base: string): Promise<PrometheusFamily[]> {
  const res = await fetch(`${base}/metrics`, { headers: AUTH });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parsePrometheus(await res.text());
}

test('/metrics: counters match what the clients did (logins, commands by verb and class, bytes, durations)', async t => {
  const { h, base } = await setup(t);
  const before = await metrics(base);
  assert.equal(sample(before, 'ftpkit_logins_total', { result: 'ok' }), 0);

  const a = await RawControl.login(h, 'test', 'test');
  t.after(() => a.close());
  assert.equal(await RawControl.loginCode(h.host, h.port, 'test', 'wrong'), 530);
  assert.equal((await a.send('TYPE I')).code, 200);
  // A download of a known size.
  let data = await openPassive(a);
  const got = readAll(data);
  assert.equal((await a.send('RETR hello.txt')).code, 150);
  assert.equal((await got).toString(), 'hello, world\n');
  assert.equal((await a.read()).code, 226);
  // An upload.
  data = await openPassive(a);
  assert.equal((await a.send('STOR up.bin')).code, 150);
  await writeAll(data, Buffer.alloc(5000, 1));
  data.end();
  assert.equal((await a.read()).code, 226);
  // A verb the table does not know, twice (one label, not one per spelling), and a refused command.
  assert.match(String((await a.send('XYZZY')).code), /^50/);
  assert.match(String((await a.send('FROB now')).code), /^50/);
  assert.equal((await a.send('DELE missing.txt')).code, 550);

  const m = await until('the counters', async () => {
    const f = await metrics(base);
    return sample(f, 'ftpkit_commands_total', { verb: 'DELE', class: '5xx' }) === 1 ? f : undefined;
  });
  assert.equal(sample(m, 'ftpkit_logins_total', { result: 'ok' }), 1);
  assert.equal(sample(m, 'ftpkit_logins_total', { result: 'failed' }), 1);
  assert.equal(sample(m, 'ftpkit_commands_total', { verb: 'RETR', class: '2xx' }), 1);
  assert.equal(sample(m, 'ftpkit_commands_total', { verb: 'STOR', class: '2xx' }), 1);
  assert.equal(sample(m, 'ftpkit_commands_total', { verb: 'OTHER', class: '5xx' }), 2);
  assert.ok(!family(m, 'ftpkit_commands_total').metrics.some(x => /XYZZY|FROB/.test(x.labels?.verb ?? '')), 'unknown verbs are one label');
  assert.equal(sample(m, 'ftpkit_transfer_bytes_total', { direction: 'download' }), 13);
  assert.equal(sample(m, 'ftpkit_transfer_bytes_total', { direction: 'upload' }), 5000);
  assert.equal(sample(m, 'ftpkit_transfers_total', { direction: 'download', result: 'ok' }), 1);
  const histogram = family(m, 'ftpkit_transfer_duration_seconds');
  assert.equal(histogram.type, 'HISTOGRAM');
  // parse-prometheus-text-format 1.1.1 folds the label sets of a histogram into one (its flattenMetrics):
  // the per-direction counts are read from the text itself.
  const text = await (await fetch(`${base}/metrics`, { headers: AUTH })).text();
  assert.match(text, /^ftpkit_transfer_duration_seconds_count\{direction="download"\} 1$/m);
  assert.match(text, /^ftpkit_transfer_duration_seconds_bucket\{le="\+Inf",direction="upload"\} 1$/m);
  // Gauges read when scraped: the session `a` is open (the failed login's session closed).
  assert.equal(sample(m, 'ftpkit_sessions'), 1);
  assert.equal(sample(m, 'ftpkit_sessions_opened_total'), 2);
  assert.equal(sample(m, 'ftpkit_bans_active', { kind: 'address' }), 0);
  for (const name of ['ftpkit_passive_ports_in_use', 'ftpkit_tls_handshakes_total', 'ftpkit_storage_errors_total', 'ftpkit_bans_total']) family(m, name);
});

test('authentication: no token, a wrong token, a wrong password: 401; the page itself needs none; an operator by password', async t => {
  const { h, base } = await setup(t);
  for (const path of ['/metrics', '/api/status', '/api/events']) {
    assert.equal((await fetch(`${base}${path}`)).status, 401, path);
    assert.equal((await fetch(`${base}${path}`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status, 401, path);
  }
  const unauthorised = await fetch(`${base}/api/status`);
  assert.equal(unauthorised.headers.get('www-authenticate'), null, 'no Basic challenge: browsers keep no password');
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
  assert.match(await page.text(), /<script src="\/status.js" defer><\/script>/);
  assert.equal((await fetch(`${base}/status.js`)).status, 200);

  const hash = await hashPassword('correct horse', { ln: 10, r: 8, p: 1 });
  const admin = new AdminServer(h.server, { host: '127.0.0.1', port: 0, users: [{ name: 'ops', password: hash }] });
  const { port } = await admin.listen();
  t.after(() => admin.close());
  const basic = (user: string, pw: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });
  assert.equal((await fetch(`http://127.0.0.1:${port}/api/status`, { headers: basic('ops', 'wrong') })).status, 401);
  assert.equal((await fetch(`http://127.0.0.1:${port}/api/status`, { headers: basic('nobody', 'correct horse') })).status, 401);
  // Each wrong credential (not a missing one) scored as a failed login: 3 wrong tokens, 2 wrong passwords.
  assert.equal(h.server.defender.scoreOf('127.0.0.1'), 5);
  const ok = await fetch(`http://127.0.0.1:${port}/api/status`, { headers: basic('ops', 'correct horse') });
  assert.equal(ok.status, 200);
  const doc = await ok.json() as StatusDocument;
  assert.equal(doc.health, 'ready');
  // A banned address gets nothing but the page and /health, even with the right token.
  h.server.defender.ban('address', '127.0.0.1', 60_000);
  assert.equal((await fetch(`${base}/api/status`, { headers: AUTH })).status, 403);
  assert.equal((await fetch(`${base}/health`)).status, 200);
  assert.equal((await fetch(`${base}/`)).status, 200);
});

test('a non-loopback admin listener without authentication is refused at start', async t => {
  const h = await startServer();
  t.after(() => h.close());
  for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
    assert.throws(() => new AdminServer(h.server, { host, port: 0 }), (err: unknown) =>
      err instanceof FtpConfigError && err.key === 'admin.host' && /not a loopback address/.test(err.message), host);
  }
  assert.throws(() => new AdminServer(h.server, { host: '127.0.0.1', port: 0, token: 'short' }), /admin\.token/);
  // Loopback without authentication, and any address with a token, are accepted.
  const local = new AdminServer(h.server, { host: '::1', port: 0 });
  await local.close();
  const open = new AdminServer(h.server, { host: '0.0.0.0', port: 0, token: TOKEN });
  await open.close();
});

test('actions: ban and unban an address, disconnect a session, reload without a host; who did it; CSRF guards', async t => {
  const { h, base, actions } = await setup(t);
  const post = (name: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/actions/${name}`, { method: 'POST', headers: { ...AUTH, 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

  // A form post (no JSON), another origin, or no credentials: refused before anything happens.
  assert.equal((await fetch(`${base}/api/actions/ban`, { method: 'POST', headers: { ...AUTH, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'address=192.0.2.1' })).status, 415);
  assert.equal((await post('ban', { address: '192.0.2.1' }, { Origin: 'https://evil.example' })).status, 403);
  assert.equal((await fetch(`${base}/api/actions/ban`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"address":"192.0.2.1"}' })).status, 401);
  assert.equal(h.server.defender.bans().length, 0);

  let res = await post('ban', { address: '192.0.2.1', minutes: 5 });
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(h.server.defender.bans().map(b => b.key), ['192.0.2.1']);
  const status = await (await fetch(`${base}/api/status`, { headers: AUTH })).json() as StatusDocument;
  assert.equal(status.bans[0]?.key, '192.0.2.1');
  assert.ok(status.bans[0]!.leftMs > 4 * 60_000 && status.bans[0]!.leftMs <= 5 * 60_000);
  assert.equal((await post('ban', { address: 'not-an-address' })).status, 400);
  res = await post('unban', { kind: 'address', key: '192.0.2.1' });
  assert.equal(res.status, 200);
  assert.equal(h.server.defender.bans().length, 0);

  const c = await RawControl.login(h, 'test', 'test');
  const id = await until('the session', async () => h.server.sessions().find(s => s.user === 'test')?.id);
  const closed = new Promise<void>(resolve => c.socket.once('close', () => resolve()));
  res = await post('disconnect', { session: id });
  assert.equal(res.status, 200);
  assert.equal((await c.read()).code, 421);
  await closed;
  assert.equal((await post('disconnect', { session: id })).status, 404);
  assert.equal((await post('reload', {})).status, 501);

  assert.deepEqual(actions.map(a => [a.action, a.by, a.ok, a.target]), [
    ['ban', 'token', true, '192.0.2.1'],
    ['ban', 'token', false, 'not-an-address'],
    ['unban', 'token', true, '192.0.2.1'],
    ['disconnect', 'token', true, id],
    ['disconnect', 'token', false, id],
    ['reload', 'token', false, undefined],
  ]);
});

test('/health: 200 ready, then 503 draining while a transfer finishes during close()', async t => {
  // 2 MB at 200 kB/s: the download runs for about 10 s, long enough to see the drain.
  const { h, base } = await setup(t, { bandwidth: 200_000 });
  let res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.equal((await res.json() as { status: string }).status, 'ready');

  const c = await RawControl.login(h, 'test', 'test');
  t.after(() => c.close());
  const data = await openPassive(c);
  data.resume();
  assert.equal((await c.send('RETR big.bin')).code, 150);
  const closing = h.server.close({ timeoutMs: 30_000 });
  res = await fetch(`${base}/health`);
  assert.equal(res.status, 503);
  assert.equal((await res.json() as { status: string }).status, 'draining');
  data.destroy();
  await closing;
});
