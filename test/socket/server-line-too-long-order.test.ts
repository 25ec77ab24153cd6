/**
 * The 500 for an over-long command line (RFC 959 s4.2) comes in its turn, after the replies to the
 * commands before it: found by the fuzz run, where a too-long line sent while a STOR waited for its data
 * connection was answered between the STOR's 150 and its final reply, so a client reading replies in order
 * took "500 Command line too long" for the STOR's result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawControl, startServer } from '../support/server-harness.js';

test('an over-long line sent while a transfer command runs is answered after that command, in order', async (t) => {
  const h = await startServer({ options: { limits: { maxLineLength: 256 }, timeouts: { dataConnectMs: 300 } } });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  assert.equal((await c.send('PASV')).code, 227);
  // Nobody connects: the STOR fails with 425 after the data-connect timeout.
  // (PWD, unlike NOOP, STAT and ABOR, is no command a client may send during a transfer: it waits too.)
  c.write(`STOR x.bin\r\nNOOP ${'x'.repeat(400)}\r\nPWD\r\n`);
  const replies = [];
  for (let i = 0; i < 4; i++) { const r = await c.read(); replies.push(`${r.code} ${r.text}`); }
  assert.match(replies[0]!, /^150 /);
  assert.match(replies[1]!, /^425 /, replies.join(' | '));
  assert.match(replies[2]!, /^500 Command line too long/, replies.join(' | '));
  assert.match(replies[3]!, /^257 /, replies.join(' | '));
});

test('an over-long line between commands still gets its one 500, and the session goes on', async (t) => {
  const h = await startServer({ options: { limits: { maxLineLength: 256 } } });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  c.write(`PWD\r\n${'A'.repeat(1000)}\r\nNOOP\r\n`);
  const codes = [(await c.read()).code, (await c.read()).code, (await c.read()).code];
  assert.deepEqual(codes, [257, 500, 200]);
});
