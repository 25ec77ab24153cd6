/**
 * Login limits that must hold per connection: REIN does not reset the failed-login count, and a connection
 * that never logs in is closed after timeouts.loginMs however busy it keeps the control connection.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RawControl, startServer } from '../support/server-harness.js';
import type { Harness, HarnessOptions } from '../support/server-harness.js';

async function setup(t: TestContext, options: HarnessOptions['options']): Promise<Harness> {
  const h = await startServer({ options });
  t.after(() => h.close());
  return h;
}

async function connect(t: TestContext, h: Harness): Promise<RawControl> {
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  return c;
}

test('REIN keeps the failed-login count: the limit closes the connection anyway', async t => {
  const h = await setup(t, { limits: { maxLoginFailures: 3 } });
  const c = await connect(t, h);
  for (let i = 1; i <= 2; i++) {
    assert.equal((await c.send('USER test')).code, 331);
    assert.equal((await c.send(`PASS wrong-${i}`)).code, 530);
    assert.equal((await c.send('REIN')).code, 220);
  }
  assert.equal((await c.send('USER test')).code, 331);
  const third = await c.send('PASS wrong-3');
  assert.equal(third.code, 530);
  assert.match(third.text, /too many failures/);
  await c.waitClosed();
});

test('a connection that never logs in is closed after the login deadline, NOOPs or not', async t => {
  const loginMs = 400;
  const h = await setup(t, { timeouts: { loginMs, idleMs: 60_000 } });
  // The server's deadline starts when it accepts, so the clock here starts before connecting.
  const started = Date.now();
  const c = await connect(t, h);
  let last = 0;
  // Keep the connection busy (each NOOP restarts the idle timer) until the server closes it; bounded.
  while (!c.closed && Date.now() - started < 20_000) {
    try { last = (await c.send('NOOP')).code; } catch { break; }
    if (last === 421) break;
  }
  await c.waitClosed();
  assert.equal(last, 421, 'the server said why it closed');
  assert.ok(Date.now() - started >= loginMs, 'not before the deadline');
});

test('the login deadline does not touch a logged-in session', async t => {
  const loginMs = 300;
  const h = await setup(t, { timeouts: { loginMs } });
  const c = await RawControl.login(h);
  t.after(() => c.close());
  const started = Date.now();
  while (Date.now() - started < loginMs * 4) assert.equal((await c.send('NOOP')).code, 200);
  assert.equal(c.closed, false);
});

test('after REIN the login deadline runs again', async t => {
  const h = await setup(t, { timeouts: { loginMs: 300, idleMs: 60_000 } });
  const c = await RawControl.login(h);
  t.after(() => c.close());
  assert.equal((await c.send('REIN')).code, 220);
  const started = Date.now();
  while (!c.closed && Date.now() - started < 20_000) {
    try { if ((await c.send('NOOP')).code === 421) break; } catch { break; }
  }
  await c.waitClosed();
});
