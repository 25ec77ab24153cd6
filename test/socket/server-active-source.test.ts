/**
 * The active-mode connect-back runs through activeConnectOptions()/activeConnectError()
 * (src/server/nat/active-source.ts): a configured source address of the other family is not used, and a
 * failed connect-back tells the operator why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { MemoryStorage, RawControl, openActive, readAll, startServer } from '../support/server-harness.js';

test('active.sourceAddress of the other family: the connect-back comes from the control address', async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/f.txt', 'hello');
  const h = await startServer({ storage, options: { active: { sourceAddress: '::1' } } });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  const active = await openActive(c, 'PORT');
  t.after(() => active.close());
  const retr = c.send('RETR /f.txt');
  const socket = await active.accepted;
  assert.equal(socket.remoteAddress, '127.0.0.1');
  assert.equal((await readAll(socket)).toString(), 'hello');
  assert.equal((await retr).code, 150);
  assert.equal((await c.read()).code, 226);
});

test('a connect-back from an address this host does not have: 425 to the client, the cause to the operator', async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/f.txt', 'hello');
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this host, so binding it fails at once.
  const h = await startServer({ storage, options: { active: { sourceAddress: '192.0.2.1' } } });
  t.after(() => h.close());
  const warning = once(h.server, 'warning') as Promise<[{ code: string; message: string }]>;
  const c = await RawControl.login(h);
  t.after(() => c.close());
  const active = await openActive(c, 'PORT');
  t.after(() => active.close());
  assert.equal((await c.send('RETR /f.txt')).code, 150);
  const final = await c.read();
  assert.equal(final.code, 425);
  assert.doesNotMatch(final.text, /192\.0\.2\.1/, 'the host detail stays in the log');
  const [w] = await warning;
  assert.equal(w.code, 'active-connect-failed');
  assert.match(w.message, /not an address of this host/);
});
