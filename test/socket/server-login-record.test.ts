/**
 * The server-wide failed-login record (src/server/auth/failed-logins.ts): every session's failed and
 * successful logins reach it, a record passed as an extension replaces the in-memory one, and the
 * per-connection limit is unchanged by it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryFailedLoginRecord } from '../../src/server/index.js';
import type { FailedLoginRecord, LoginAttempt } from '../../src/server/index.js';
import { RawControl, startServer } from '../support/server-harness.js';

test('the in-memory record counts failures per address across sessions, forgets them after a success', async t => {
  const h = await startServer();
  t.after(() => h.close());
  const record = h.server.failedLogins;
  assert.ok(record instanceof MemoryFailedLoginRecord);
  for (let i = 0; i < 2; i++) {
    const c = await RawControl.connect(h.host, h.port);
    await c.send('USER test');
    assert.equal((await c.send('PASS wrong')).code, 530);
    c.close();
  }
  assert.equal(record.failuresFrom('127.0.0.1'), 2);
  const ok = await RawControl.login(h);
  ok.close();
  assert.equal(record.failuresFrom('127.0.0.1'), 0);
});

test('a record passed as an extension sees each attempt; the per-connection limit still closes at 3', async t => {
  const seen: string[] = [];
  const record: FailedLoginRecord = {
    recordFailure: async (a: LoginAttempt) => { seen.push(`fail ${a.user}@${a.remoteAddress}`); },
    recordSuccess: (a: LoginAttempt) => { seen.push(`ok ${a.user}@${a.remoteAddress}`); },
    failuresFrom: () => 0,
  };
  const h = await startServer({ extensions: { failedLoginRecord: record } });
  t.after(() => h.close());
  assert.equal(h.server.failedLogins, record);
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  for (const expected of [530, 530]) {
    await c.send('USER mallory');
    assert.equal((await c.send('PASS x')).code, expected);
  }
  await c.send('USER mallory');
  const last = await c.send('PASS x');
  assert.equal(last.code, 530);
  assert.match(last.text, /too many failures/);
  await c.waitClosed();
  const good = await RawControl.login(h);
  good.close();
  assert.deepEqual(seen, ['fail mallory@127.0.0.1', 'fail mallory@127.0.0.1', 'fail mallory@127.0.0.1', 'ok test@127.0.0.1']);
});

test('MemoryFailedLoginRecord: failures expire after the window; the number of addresses is bounded', () => {
  let now = 0;
  const r = new MemoryFailedLoginRecord({ windowMs: 1000, maxAddresses: 2, now: () => now });
  const at = (remoteAddress: string) => ({ sessionId: 's', remoteAddress, user: 'u' });
  r.recordFailure(at('192.0.2.1'));
  now = 500;
  r.recordFailure(at('192.0.2.1'));
  assert.equal(r.failuresFrom('192.0.2.1'), 2);
  now = 1200;
  assert.equal(r.failuresFrom('192.0.2.1'), 1, 'the first failure left the window');
  r.recordFailure(at('192.0.2.2'));
  r.recordFailure(at('192.0.2.3'));
  assert.equal(r.failuresFrom('192.0.2.1'), 0, 'the stalest address was forgotten');
  assert.equal(r.failuresFrom('192.0.2.3'), 1);
});
