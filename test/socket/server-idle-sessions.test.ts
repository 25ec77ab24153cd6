/**
 * Idle sessions stay small (issue 10): the idle and login deadlines of all sessions share the server's one
 * timer (session/timers.ts DeadlineSweep) instead of a setTimeout per session re-armed on every command,
 * and they still close the sessions that are due, each at its own time. scripts/idle-sessions.ts measures
 * the bytes per session; this test only counts timers, never time.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { RawControl, startServer } from '../support/server-harness.js';

test('logging in 40 sessions and sending commands arms no timer per session', async (t) => {
  const h = await startServer({ options: { timeouts: { idleMs: 60_000, loginMs: 60_000 }, limits: { maxSessionsPerAddress: 100 } } });
  t.after(() => h.close());
  const warm = await RawControl.login(h);
  warm.close();
  const timers = mock.method(globalThis, 'setTimeout');
  t.after(() => timers.mock.restore());
  const sessions: RawControl[] = [];
  t.after(() => { for (const s of sessions) s.close(); });
  for (let i = 0; i < 40; i++) {
    const c = await RawControl.login(h);
    sessions.push(c);
    assert.equal((await c.send('NOOP')).code, 200);
  }
  const armed = timers.mock.callCount();
  timers.mock.restore();
  // 40 sessions x (greeting, USER, PASS, NOOP) re-armed a per-session timer 160+ times before.
  assert.ok(armed < 10, `setTimeout called ${armed} times for 40 sessions`);
  assert.equal(h.server.sessionCount, 40);
});

test('the shared deadlines close each session when its own deadline is due', async (t) => {
  const h = await startServer({ options: { timeouts: { idleMs: 300, loginMs: 60_000 } } });
  t.after(() => h.close());
  const early = await RawControl.login(h);
  t.after(() => early.close());
  const late = await RawControl.login(h);
  t.after(() => late.close());
  // `late` stays active (a command now and then) past the idle deadline of `early`: only `early` is closed.
  const started = Date.now();
  let earlyReply: number | undefined;
  const earlyClosed = early.read().then(r => { earlyReply = r.code; });
  while (earlyReply === undefined) assert.equal((await late.send('NOOP')).code, 200);
  await earlyClosed;
  assert.equal(earlyReply, 421);
  assert.ok(Date.now() - started >= 250, 'not before its idle deadline');
  assert.equal((await late.send('NOOP')).code, 200, 'the active session is still open');
  assert.equal((await late.read()).code, 421, 'closed at its own, later deadline');
  await early.waitClosed();
  await late.waitClosed();
});
