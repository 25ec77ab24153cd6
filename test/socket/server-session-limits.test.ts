/**
 * Limits on what one session or user may do (issue 12, "Limits"), over real sockets: sessions per user
 * (530 before the password is checked), the command rate (a flood is slowed, then closed with 421; a
 * normal client beside it is not), and PASV/PORT churn without transfers (421, scored by the defender).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { JsonLogger } from '../../src/server/index.js';
import type { Authenticator, WarningEvent } from '../../src/server/index.js';
import { MemoryStorage, RawControl, TestAuthenticator, openActive, startServer } from '../support/server-harness.js';
import type { Harness, HarnessOptions } from '../support/server-harness.js';

async function setup(t: TestContext, opts: HarnessOptions): Promise<{ h: Harness; warnings: WarningEvent[] }> {
  const h = await startServer(opts);
  t.after(() => h.close());
  const warnings: WarningEvent[] = [];
  h.server.on('warning', w => warnings.push(w));
  return { h, warnings };
}

async function login(t: TestContext, h: Harness, user = 'test', password = user): Promise<RawControl> {
  const c = await RawControl.login(h, user, password);
  t.after(() => c.close());
  return c;
}

test('maxSessionsPerUser: the login over the limit gets 530 before its password is checked; a per-user value overrides it', async t => {
  let verifications = 0;
  const users = new TestAuthenticator({ test: { password: 'test' }, vip: { password: 'vip' } }, new MemoryStorage(), false);
  const authenticator: Authenticator = {
    authenticate: (name, password) => { verifications++; return users.authenticate(name, password); },
  };
  const { h, warnings } = await setup(t, {
    options: { authenticator, limits: { maxSessionsPerUser: 2, maxSessionsByUser: { vip: 3 } } },
  });

  const a = await login(t, h);
  await login(t, h);
  const third = await RawControl.connect(h.host, h.port);
  t.after(() => third.close());
  assert.equal((await third.send('USER test')).code, 331);
  const before = verifications;
  const refused = await third.send('PASS wrong-or-right-does-not-matter');
  assert.equal(refused.code, 530);
  assert.match(refused.text, /Too many sessions for this user \(at most 2 at a time\)/);
  assert.equal(verifications, before, 'no password was checked');
  assert.ok(warnings.some(w => w.code === 'user-session-limit' && /"test"/.test(w.message)));
  // The connection stays usable: once a session of the user ends, the same connection logs in.
  const closed = once(h.server, 'session-close');
  a.close();
  await closed;
  assert.equal((await third.send('USER test')).code, 331);
  assert.equal((await third.send('PASS test')).code, 230);
  // REIN gives the place back too.
  assert.equal((await third.send('REIN')).code, 220);
  await login(t, h);

  for (let i = 0; i < 3; i++) await login(t, h, 'vip');
  assert.equal(await RawControl.loginCode(h.host, h.port, 'vip', 'vip'), 530);
});

test('command rate: a NOOP flood is slowed to the rate, then closed with 421; a normal session beside it is not', async t => {
  const rate = 40;
  const burst = 10;
  const { h, warnings } = await setup(t, { options: { limits: { commandsPerSecond: rate, commandBurst: burst, commandRateCloseMs: 1000 } } });
  const normal = await login(t, h);
  const flood = await login(t, h);
  const floodId = h.server.sessions().find(s => s.remotePort === flood.socket.localPort)!.id;
  let ok = 0;
  let final: number | undefined;
  // As fast as the server answers, with 8 NOOPs always in flight (fewer than the 64 queued commands that
  // close a session at once): the rate, not the queue bound, is what meets it.
  const send = (n: number): void => { if (!flood.socket.destroyed) flood.socket.write('NOOP\r\n'.repeat(n)); };
  flood.socket.on('data', (d: Buffer) => {
    for (const line of d.toString('latin1').split('\r\n')) {
      if (line.startsWith('200')) { ok++; send(1); } else if (line.startsWith('421')) final = 421;
    }
  });
  const started = performance.now();
  send(8);
  // Meanwhile a normal session runs a handful of commands without being slowed or closed.
  for (let i = 0; i < 5; i++) assert.equal((await normal.send('NOOP')).code, 200);
  await flood.waitClosed();
  const seconds = (performance.now() - started) / 1000;
  assert.equal(final, 421);
  // At most the burst plus the rate over the time it ran (with a little slack for the timers).
  assert.ok(ok <= burst + rate * seconds + 5, `${ok} NOOPs answered in ${seconds.toFixed(2)} s at ${rate}/s`);
  assert.ok(ok >= burst, `${ok} NOOPs answered`);
  const mine = warnings.filter(w => w.sessionId === floodId).map(w => w.code);
  // Slowed first (again, if a loaded machine let the bucket refill in between), closed last.
  assert.equal(mine[0], 'command-rate');
  assert.equal(mine.at(-1), 'command-rate-exceeded');
  assert.ok(mine.slice(0, -1).every(code => code === 'command-rate'), mine.join());
  assert.ok(h.server.defender.scoreOf('127.0.0.1') > 0, 'the defender scored it');
  assert.equal((await normal.send('NOOP')).code, 200, 'the normal session is still open');
});

test('PASV/PORT churn: set-ups without a transfer beyond the limit get 421 and a close; a transfer resets the count', async t => {
  const { h, warnings } = await setup(t, { options: { limits: { maxDataSetupsWithoutTransfer: 3 } } });
  const log = new PassThrough();
  let logged = '';
  log.on('data', (d: Buffer) => { logged += d.toString(); });
  t.after(new JsonLogger({ stream: log }).attach(h.server));
  const c = await login(t, h);
  for (let i = 0; i < 3; i++) assert.equal((await c.send('EPSV')).code, 229);
  // A transfer command resets the count (here one that fails: no such file).
  assert.equal((await c.send('RETR nothing-here')).code, 550);
  assert.equal((await c.send('PASV')).code, 227);
  const active = await openActive(c, 'PORT');
  active.close();
  assert.equal((await c.send('EPSV')).code, 229);
  const refused = await c.send('EPSV');
  assert.equal(refused.code, 421);
  assert.match(refused.text, /Too many data connection set-ups without a transfer/);
  await c.waitClosed();
  assert.ok(warnings.some(w => w.code === 'data-setup-churn' && /limits\.maxDataSetupsWithoutTransfer 3/.test(w.message)));
  assert.equal(h.server.defender.scoreOf('127.0.0.1'), 3, 'scored as limitExceeded');
  const line = logged.split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>).find(e => e.code === 'data-setup-churn');
  assert.ok(line, 'a line in the JSON log');
  assert.equal(line.level, 'warn');
});
