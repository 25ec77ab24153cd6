/**
 * Two server nodes on one PostgreSQL database (issue 13; docs/server.md#users-bans-and-quotas-in-postgresql):
 * two FtpServer instances in this process, each with its own pool and nothing shared in memory, real
 * sockets. A ban earned on one refuses the address on the other; a user's quota counts uploads through
 * both (552, never more than the documented reservation over); the database stopped mid-run gives 421 at
 * login, and logins work again once it is back.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { FtpServer, type FtpServerOptions } from '../../src/server/index.js';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { Database, UserRecords, migrate, nodeServices, type NodeServices, type UserRecord } from '../../src/server/db/index.js';
import { useService } from '../support/services/use-service.js';
import { createTestDatabase, databaseUrl, postgresService, startPostgres, type PostgresDetails, type PostgresInstance } from '../support/services/postgres.js';
import { RawControl, openPassive, writeAll } from '../support/server-harness.js';
import { REQUIRE_PEERS } from '../support/peers-common.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/until.js';

const MiB = 1024 * 1024;
const RESERVE = 4 * MiB;

async function prepare(t: TestContext, url: string, users: Array<Omit<UserRecord, 'passwordHash'> & { password: string }>): Promise<void> {
  const db = new Database({ url });
  try {
    await migrate(db);
    const records = new UserRecords(db);
    for (const { password, ...u } of users) await records.add({ ...u, passwordHash: await hashPassword(password, { ln: 10, r: 8, p: 1 }) });
  } finally {
    await db.close();
  }
  void t;
}

interface Node { server: FtpServer; port: number; services: NodeServices }

async function startNode(t: TestContext, url: string, options: Partial<FtpServerOptions> = {}): Promise<Node> {
  const services = await nodeServices({ url, banRefreshMs: 200, quotaReserveBytes: RESERVE, connectTimeoutMs: 2000, queryTimeoutMs: 5000 },
    { credentialCache: { ttlMs: 0 } });
  const server = new FtpServer({
    host: '127.0.0.1', port: 0, authenticator: services.users, passive: { portRange: { min: 1024, max: 65535 } },
    ...options, limits: { loginFailureDelayMs: 10, ...options.limits },
  }, services.extensions);
  services.attach(server);
  server.on('warning', () => {}); // database warnings are expected in the outage test
  const [addr] = await server.listen();
  t.after(async () => { await server.close({ timeoutMs: 1000 }); await services.close(); });
  return { server, port: addr!.port, services };
}

/** USER/PASS on a fresh connection from `localAddress`: the greeting's code, then PASS's (0 when refused at connect). */
async function loginFrom(port: number, user: string, password: string, localAddress = '127.0.0.1'): Promise<{ greeting: number; pass: number }> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  let buffer = '';
  const next = async (): Promise<number> => {
    for (;;) {
      const m = /^(\d{3}) .*\r\n/m.exec(buffer);
      if (m) { buffer = buffer.slice(m.index + m[0].length); return Number(m[1]); }
      const [chunk] = await Promise.race([once(socket, 'data'), once(socket, 'close').then(() => [undefined])]) as [string | undefined];
      if (chunk === undefined) return 0;
      buffer += chunk;
    }
  };
  try {
    const greeting = await next();
    if (greeting !== 220) return { greeting, pass: 0 };
    socket.write(`USER ${user}\r\n`);
    await next();
    socket.write(`PASS ${password}\r\n`);
    return { greeting, pass: await next() };
  } finally {
    socket.destroy();
  }
}

async function login(port: number, user: string, password: string): Promise<RawControl> {
  const c = await RawControl.connect('127.0.0.1', port);
  assert.equal((await c.send(`USER ${user}`)).code, 331);
  const r = await c.send(`PASS ${password}`);
  assert.equal(r.code, 230, r.text);
  await c.send('TYPE I');
  return c;
}

async function upload(c: RawControl, name: string, size: number): Promise<{ first: number; final?: number; text: string }> {
  const data = await openPassive(c);
  const first = await c.send(`STOR ${name}`);
  if (first.code !== 150) { data.destroy(); return { first: first.code, text: first.text }; }
  const sending = writeAll(data, Buffer.alloc(size, 0x62)).catch(() => undefined);
  const final = await c.read();
  await sending;
  data.destroy();
  return { first: first.code, final: final.code, text: final.text };
}

async function storedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(path.join(dir, f))).size;
  return total;
}

/** Nodes A and B on `url`, and a user `name` (password "pw") with a 32 MiB quota whose root is returned. */
async function twoNodesWithQuota(t: TestContext, url: string, name: string): Promise<{ root: string; a: Node; b: Node }> {
  const root = await tempDir(t);
  await prepare(t, url, [{ name, password: 'pw', root, home: '/', quotaBytes: 32 * MiB }]);
  return { root, a: await startNode(t, url), b: await startNode(t, url) };
}

/** One node on a fresh database, and a session of user `name` (password "pw") with a byte quota, logged in. */
async function oneNodeWithQuota(t: TestContext, name: string, quotaBytes: number): Promise<{ url: string; root: string; c: RawControl; a: Node } | undefined> {
  const url = await sharedDatabase(t);
  if (!url) return undefined;
  const root = await tempDir(t);
  await prepare(t, url, [{ name, password: 'pw', root, home: '/', quotaBytes }]);
  const a = await startNode(t, url);
  const c = await login(a.port, name, 'pw');
  t.after(() => c.close());
  return { url, root, c, a };
}

/**
 * Another database session that holds the user's quota row (BEGIN; SELECT ... FOR UPDATE), as a slow or
 * busy database would: the node's writes to the row wait until `release()`. `bytes` is the row as locked.
 */
async function holdQuotaRow(t: TestContext, url: string, name: string): Promise<{ holder: pg.Client; bytes: number; lockWaiters: () => Promise<number>; release: () => Promise<void> }> {
  const holder = new pg.Client({ connectionString: url });
  holder.on('error', () => {}); // the test database is dropped at the end, holder or not
  await holder.connect();
  t.after(() => holder.end().catch(() => undefined));
  await holder.query('BEGIN');
  const { rows } = await holder.query<{ bytes: string }>('SELECT bytes FROM ftpkit_quota_usage WHERE user_name = $1 FOR UPDATE', [name]);
  return {
    holder,
    bytes: Number(rows[0]!.bytes),
    lockWaiters: async () => Number((await holder.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")).rows[0]!.n),
    release: async () => { await holder.query('COMMIT'); },
  };
}

async function sharedDatabase(t: TestContext): Promise<string | undefined> {
  const pg = await useService<PostgresDetails>(t, postgresService);
  return pg && createTestDatabase(pg, fn => t.after(fn));
}

test('a ban earned on node A refuses the address on node B: at PASS at once, at connect within the refresh', async t => {
  const url = await sharedDatabase(t);
  if (!url) return;
  const root = await tempDir(t);
  await prepare(t, url, [{ name: 'dave', password: 'right', root, home: '/' }]);
  const defender = { threshold: 3, banMs: 10 * 60_000 };
  const a = await startNode(t, url, { defender, limits: { maxLoginFailures: 10 } });
  const b = await startNode(t, url, { defender, limits: { maxLoginFailures: 10 } });
  const banned = once(a.server, 'ban');
  for (let i = 0; i < 3; i++) assert.equal((await loginFrom(a.port, 'dave', 'wrong', '127.0.0.21')).pass, 530);
  const [ban] = await banned as [{ kind: string; remoteAddress: string }];
  assert.equal(ban.kind, 'address');
  assert.equal(ban.remoteAddress, '127.0.0.21');
  // Node B has never seen this address: the database tells it.
  const onB = await loginFrom(b.port, 'dave', 'right', '127.0.0.21');
  assert.ok(onB.greeting === 421 || onB.pass === 421, `B must refuse the banned address: ${JSON.stringify(onB)}`);
  // At connect: B's cache of bans is read every 200 ms.
  const until = Date.now() + 15_000;
  let greeting = 0;
  while (Date.now() < until && (greeting = (await loginFrom(b.port, 'dave', 'right', '127.0.0.21')).greeting) !== 421) {
    await new Promise(r => setTimeout(r, 100));
  }
  assert.equal(greeting, 421, 'B turns the banned address away at connect');
  assert.deepEqual(await loginFrom(b.port, 'dave', 'right', '127.0.0.22'), { greeting: 220, pass: 230 }, 'another address logs in on B');
  // The failed-login record is shared too: B counts the failures made on A.
  assert.equal(await b.services.extensions.failedLoginRecord!.failuresFrom('127.0.0.21'), 3);
});

test('a quota shared by two nodes: an upload through B after one through A gets 552; DELE on A gives room back to B', async t => {
  const url = await sharedDatabase(t);
  if (!url) return;
  const { root, a, b } = await twoNodesWithQuota(t, url, 'erin');
  const ca = await login(a.port, 'erin', 'pw');
  t.after(() => ca.close());
  const cb = await login(b.port, 'erin', 'pw');
  t.after(() => cb.close());
  const first = await upload(ca, 'one.bin', 24 * MiB);
  assert.equal(first.final, 226, first.text);
  const second = await upload(cb, 'two.bin', 16 * MiB);
  assert.equal(second.final ?? second.first, 552, `B knows A's 24 MiB: ${JSON.stringify(second)}`);
  assert.ok(await storedBytes(root) <= 32 * MiB + 2 * RESERVE, `stored ${await storedBytes(root)} bytes`);
  assert.equal((await ca.send('DELE one.bin')).code, 250);
  const third = await upload(cb, 'three.bin', 16 * MiB);
  assert.equal(third.final, 226, `A's DELE gave the room back: ${JSON.stringify(third)}`);
});

test('DELE answers once the room it freed is in the shared row, even when the database is slow to take it', async t => {
  const node = await oneNodeWithQuota(t, 'hal', 32 * MiB);
  if (!node) return;
  const { url, root, c } = node;
  assert.equal((await upload(c, 'one.bin', 8 * MiB)).final, 226);
  const row = await holdQuotaRow(t, url, 'hal');
  let answered: { code: number; text: string } | undefined;
  const dele = c.send('DELE one.bin').then((r) => { answered = r; return r; });
  await until('the node\'s write of the DELE to wait for the row', async () => (await row.lockWaiters()) > 0 || undefined);
  // The node's write waits for the row: until it is in, another node's upload would not see the room.
  assert.equal(answered, undefined, `DELE answered ${JSON.stringify(answered)} before the freed room was in the database`);
  await row.release();
  assert.equal((await dele).code, 250);
  const after = Number((await row.holder.query<{ bytes: string }>("SELECT bytes FROM ftpkit_quota_usage WHERE user_name = 'hal'")).rows[0]!.bytes);
  assert.ok(after <= row.bytes - 8 * MiB, `the 8 MiB are freed in the row once DELE has answered: ${row.bytes} -> ${after}`);
  await stat(path.join(root, 'one.bin')).then(() => assert.fail('one.bin is still there'), () => undefined);
});

test('an upload that replaces a larger file answers 226 once the room it freed is in the shared row', async t => {
  const node = await oneNodeWithQuota(t, 'ida', 32 * MiB);
  if (!node) return;
  const { url, root, c } = node;
  assert.equal((await upload(c, 'big.bin', 8 * MiB)).final, 226);
  const data = await openPassive(c);
  // The node reserves before the 150; the 1 MiB replacing 8 MiB needs no more from the database after it.
  assert.equal((await c.send('STOR big.bin')).code, 150);
  const row = await holdQuotaRow(t, url, 'ida');
  let answered: { code: number; text: string } | undefined;
  const final = c.read().then((r) => { answered = r; return r; });
  await writeAll(data, Buffer.alloc(MiB, 0x69));
  data.end();
  await until('the node\'s write of the upload\'s end to wait for the row', async () => (await row.lockWaiters()) > 0 || undefined);
  assert.equal(answered, undefined, `${JSON.stringify(answered)} came before the room the upload freed was in the database`);
  await row.release();
  assert.equal((await final).code, 226);
  const after = Number((await row.holder.query<{ bytes: string }>("SELECT bytes FROM ftpkit_quota_usage WHERE user_name = 'ida'")).rows[0]!.bytes);
  assert.ok(after <= row.bytes - 7 * MiB, `the 7 MiB freed are in the row once 226 came: ${row.bytes} -> ${after}`);
  assert.equal((await stat(path.join(root, 'big.bin'))).size, MiB);
});

/**
 * An upload while another session holds the user's quota row: the node's top-up (SELECT ... FOR UPDATE)
 * waits for it, as it would for a slow or busy database. The quota has room: 226, every byte stored.
 */
async function uploadPastSlowTopUp(t: TestContext, type: 'I' | 'A'): Promise<void> {
  const node = await oneNodeWithQuota(t, 'gus', 100 * MiB);
  if (!node) return;
  const { url, root, c, a } = node;
  assert.equal((await c.send(`TYPE ${type}`)).code, 200);
  const data = await openPassive(c);
  assert.equal((await c.send('STOR slow.bin')).code, 150); // the node holds its first reservation now
  const row = await holdQuotaRow(t, url, 'gus');
  const size = 6 * RESERVE; // far beyond the reservation plus what may run ahead of it
  const sending = writeAll(data, Buffer.alloc(size, 0x67)).catch((err: unknown) => err);
  // The lock is held until the top-up waits on it and the upload stands still past its reservation and the
  // debt it may run up (2 x RESERVE in all, less one read of at most 1 MiB), or has ended (refused).
  const deadline = Date.now() + 20_000;
  let before = -1;
  for (;;) {
    const waiting = await row.lockWaiters();
    const transfer = a.server.sessions().find(s => s.transfer)?.transfer;
    const held = transfer !== undefined && transfer.bytes >= 2 * RESERVE - MiB && transfer.bytes === before;
    if (waiting > 0 && (!transfer || held)) break;
    before = transfer?.bytes ?? -1;
    assert.ok(Date.now() < deadline, `the node never waited for more quota (${transfer?.bytes ?? 'no'} bytes in)`);
    await new Promise(r => setTimeout(r, 20));
  }
  await row.release();
  await row.holder.end();
  const final = await c.read();
  const sent = await sending;
  data.destroy();
  assert.equal(final.code, 226, final.text);
  assert.equal(sent, undefined, 'the client sent every byte');
  assert.equal((await stat(path.join(root, 'slow.bin'))).size, size);
}

test('a top-up the database is slow to answer holds a binary upload back (blocks read from the socket) instead of refusing it', async t => {
  await uploadPastSlowTopUp(t, 'I');
});

test('a top-up the database is slow to answer holds a TYPE A upload back (the stages pipeline) instead of refusing it', async t => {
  await uploadPastSlowTopUp(t, 'A');
});

test('uploads through both nodes at once never store more than the quota plus one reservation per node', async t => {
  const url = await sharedDatabase(t);
  if (!url) return;
  const { root, a, b } = await twoNodesWithQuota(t, url, 'fay');
  // One login at a time: a node checks one password per client address at once (auth/address-gate.ts).
  const sessions: RawControl[] = [];
  for (const port of [a.port, b.port, a.port, b.port]) sessions.push(await login(port, 'fay', 'pw'));
  t.after(() => { for (const c of sessions) c.close(); });
  // Without sharing, each node would allow 32 MiB: all four (48 MiB) would be stored.
  const results = await Promise.all(sessions.map((c, i) => upload(c, `f${i}.bin`, 12 * MiB)));
  const codes = results.map(r => r.final ?? r.first);
  assert.ok(codes.includes(552), `4 x 12 MiB cannot all fit in 32 MiB: ${JSON.stringify(results)}`);
  assert.ok(codes.every(c => c === 226 || c === 552), JSON.stringify(results));
  const stored = await storedBytes(root);
  assert.ok(stored <= 32 * MiB + 2 * RESERVE, `stored ${stored} bytes: more than the quota plus one reservation per node`);
});

test('the database stopped mid-run: login gets 421, not a crash; once it is back, logins work again', async t => {
  const problem = postgresService.problem();
  if (problem) {
    if (REQUIRE_PEERS) throw new Error(`postgres unavailable (FTPKIT_REQUIRE_PEERS=1): ${problem}`);
    t.skip(problem);
    return;
  }
  const dir = await tempDir(t, 'ftpkit-pg-private-');
  // Its own temporary folder (not inside `dir`, which only root may enter): initdb runs as postgres.
  const pgDir = await mkdtemp(path.join(os.tmpdir(), 'ftpkit-pg-private-'));
  let pg: PostgresInstance | undefined;
  // Stopped before its folder goes: the stop reads the PID from the data folder.
  t.after(async () => { await pg?.stop(); await rm(pgDir, { recursive: true, force: true }); });
  pg = await startPostgres(pgDir);
  const url = databaseUrl(pg.details, 'postgres');
  const root = path.join(dir, 'root');
  await mkdir(root);
  await prepare(t, url, [{ name: 'gus', password: 'pw', root, home: '/' }]);
  const node = await startNode(t, url);
  const warnings: string[] = [];
  node.server.on('warning', w => warnings.push(w.code));
  const warningText: string[] = [];
  node.server.on('warning', w => warningText.push(w.message));
  node.server.on('session-error' as 'warning', (e: unknown) => warningText.push(String((e as {error?: Error}).error?.stack ?? JSON.stringify(e))));
  assert.deepEqual(await loginFrom(node.port, 'gus', 'pw'), { greeting: 220, pass: 230 });
  await pg.halt();
  const down = await loginFrom(node.port, 'gus', 'pw');
  assert.deepEqual(down, { greeting: 220, pass: 421 }, 'the user database cannot be asked: 421, service not available');
  assert.ok(warnings.includes('login-unavailable'), warnings.join(','));
  await pg.resume();
  const until = Date.now() + 30_000;
  let back = down;
  while (Date.now() < until && (back = await loginFrom(node.port, 'gus', 'pw')).pass !== 230) await new Promise(r => setTimeout(r, 200));
  assert.deepEqual(back, { greeting: 220, pass: 230 }, `the node reconnects by itself; warnings: ${warningText.join('\n')}`);
});
