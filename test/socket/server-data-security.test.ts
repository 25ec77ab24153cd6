/**
 * Data-connection security (RFC 2577) and failure handling: PORT/EPRT bounce protection, foreign passive
 * connections dropped, data connections that never open or fail to connect.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { MemoryStorage, RawControl, readAll, startServer } from '../support/server-harness.js';
import type { Harness, HarnessOptions } from '../support/server-harness.js';
import { parseEpsvReply } from '../../src/protocol/hostport.js';

async function setup(t: TestContext, opts: HarnessOptions = {}): Promise<{ h: Harness; storage: MemoryStorage; c: RawControl }> {
  const storage = new MemoryStorage();
  const h = await startServer({ storage, ...opts });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  return { h, storage, c };
}

test('PORT/EPRT to another host than the client is refused (bounce attack, RFC 2577)', async t => {
  const { c } = await setup(t);
  let r = await c.send('PORT 127,0,0,2,156,64');
  assert.equal(r.code, 504, 'one code for both refusals (RFC 2577 s3)');
  assert.match(r.text, /127\.0\.0\.2.*only to 127\.0\.0\.1/);
  assert.equal((await c.send('PORT 10,0,0,1,156,64')).code, 504);
  assert.equal((await c.send('EPRT |1|192.0.2.1|40000|')).code, 504);
  r = await c.send('PORT 127,0,0,1,0,25');
  assert.equal(r.code, 504, 'privileged port');
  assert.match(r.text, /below 1024/);
  assert.equal((await c.send('EPRT |1|127.0.0.1|1023|')).code, 504);
  // Nothing was set up: a transfer still has no data channel.
  assert.equal((await c.send('LIST')).code, 425);
  assert.equal((await c.send('EPRT |1|127.0.0.1|40000|')).code, 200, 'the client itself on a high port is fine');
});

test('EPRT to another IPv6 host is refused', async t => {
  const { c } = await setup(t, { host: '::1' });
  assert.equal((await c.send('EPRT |2|::2|40000|')).code, 504);
  assert.equal((await c.send('EPRT |2|0:0:0:0:0:0:0:1|40000|')).code, 200, 'another spelling of the client address');
});

test('EPRT/PORT with the unspecified address (lftp on IPv6 sends "::") connect back to the client', async t => {
  for (const host of ['::1', '127.0.0.1']) {
    const { storage, c } = await setup(t, { host });
    storage.writeFile('/f.txt', 'x');
    const srv = createServer().listen(0, host);
    t.after(() => srv.close());
    await once(srv, 'listening');
    const port = (srv.address() as AddressInfo).port;
    const accepted = once(srv, 'connection') as Promise<[Socket]>;
    const arg = host === '::1' ? `EPRT |2|::|${port}|` : `PORT 0,0,0,0,${port >> 8},${port & 255}`;
    assert.equal((await c.send(arg)).code, 200);
    assert.equal((await c.send('RETR f.txt')).code, 150);
    const [sock] = await accepted;
    const [data, done] = await Promise.all([readAll(sock), c.read()]);
    assert.equal(data.toString(), 'x');
    assert.equal(done.code, 226);
  }
});

test('bounce protection can be relaxed by configuration', async t => {
  const { c } = await setup(t, { options: { active: { requireSameAddress: false, refusePrivilegedPorts: false } } });
  assert.equal((await c.send('PORT 127,0,0,2,0,80')).code, 200);
});

test('a passive connection from a foreign address is dropped; the real client still gets its data', async t => {
  const { h, storage, c } = await setup(t);
  storage.writeFile('/f.txt', 'payload');
  const warnings: string[] = [];
  h.server.on('warning', w => warnings.push(w.code));
  const r = await c.send('EPSV');
  const port = parseEpsvReply(r.text);
  // 127.0.0.2 is another address of the loopback interface: a "foreign host" that can reach the port.
  const intruder = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
  intruder.on('error', () => {});
  const intruderData = readAll(intruder).catch(() => Buffer.alloc(0));
  await once(intruder, 'connect');
  await once(intruder, 'close');
  assert.equal((await intruderData).length, 0);
  assert.deepEqual(warnings, ['foreign-data-connection']);
  const good = connect({ host: '127.0.0.1', port });
  await once(good, 'connect');
  assert.equal((await c.send('RETR f.txt')).code, 150);
  const [data, done] = await Promise.all([readAll(good), c.read()]);
  assert.equal(data.toString(), 'payload');
  assert.equal(done.code, 226);
});

test('a passive data connection that never comes: 150 then 425 after dataConnectMs, session usable', async t => {
  const { h, storage, c } = await setup(t, { options: { timeouts: { dataConnectMs: 200 } } });
  storage.writeFile('/f.txt', 'x');
  const failed: string[] = [];
  h.server.on('transfer-failed', e => failed.push(e.reason));
  assert.equal((await c.send('EPSV')).code, 229);
  assert.equal((await c.send('RETR f.txt')).code, 150);
  assert.equal((await c.read()).code, 425);
  assert.deepEqual(failed, ['data connection timed out']);
  assert.equal((await c.send('NOOP')).code, 200);
});

test('an active connection that is refused: 150 then 425', async t => {
  const { storage, c } = await setup(t);
  storage.writeFile('/f.txt', 'x');
  // A port that was just free: listen, note it, close.
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as AddressInfo).port;
  await new Promise(resolve => srv.close(resolve));
  assert.equal((await c.send(`EPRT |1|127.0.0.1|${port}|`)).code, 200);
  assert.equal((await c.send('RETR f.txt')).code, 150);
  assert.equal((await c.read()).code, 425);
  assert.equal((await c.send('NOOP')).code, 200);
});

test('active mode connects from the control connection local address', async t => {
  const { storage, c } = await setup(t);
  storage.writeFile('/f.txt', 'x');
  const srv = createServer().listen(0, '127.0.0.1');
  t.after(() => srv.close());
  await once(srv, 'listening');
  const port = (srv.address() as AddressInfo).port;
  const accepted = once(srv, 'connection') as Promise<[Socket]>;
  assert.equal((await c.send(`PORT 127,0,0,1,${port >> 8},${port & 255}`)).code, 200);
  assert.equal((await c.send('RETR f.txt')).code, 150);
  const [sock] = await accepted;
  assert.equal(sock.remoteAddress, '127.0.0.1');
  const [data, done] = await Promise.all([readAll(sock), c.read()]);
  assert.equal(data.toString(), 'x');
  assert.equal(done.code, 226);
});

test('all passive ports busy: 425 and a warning', async t => {
  // Occupy a one-port range ourselves.
  const blocker = createServer().listen(0, '127.0.0.1');
  t.after(() => blocker.close());
  await once(blocker, 'listening');
  const port = (blocker.address() as AddressInfo).port;
  const { h, c } = await setup(t, { options: { passive: { portRange: { min: port, max: port } } } });
  const warnings: string[] = [];
  h.server.on('warning', w => warnings.push(w.code));
  assert.equal((await c.send('EPSV')).code, 425);
  assert.equal((await c.send('PASV')).code, 425);
  assert.deepEqual(warnings, ['passive-ports-exhausted', 'passive-ports-exhausted']);
});

test('a data connection without progress for dataIdleMs is cut: 426, transfer-failed', async t => {
  const { h, c } = await setup(t, { options: { timeouts: { dataIdleMs: 200 } } });
  const failures: string[] = [];
  h.server.on('transfer-failed', e => failures.push(`${e.reason} ${e.bytes}`));
  const r = await c.send('EPSV');
  const data = connect({ host: '127.0.0.1', port: parseEpsvReply(r.text) });
  data.on('error', () => {});
  t.after(() => data.destroy());
  await once(data, 'connect');
  assert.equal((await c.send('STOR slow.bin')).code, 150);
  const bytes = Buffer.from('some bytes, then silence');
  data.write(bytes);
  const done = await c.read();
  assert.equal(done.code, 426);
  assert.deepEqual(failures, [`data connection idle timeout ${bytes.length}`]);
  assert.equal((await c.send('NOOP')).code, 200);
});

test('a passive port not claimed by a transfer command within dataConnectMs is given back', async t => {
  const { storage, c } = await setup(t, { options: { timeouts: { dataConnectMs: 1000 } } });
  storage.writeFile('/f.txt', 'x');
  const r = await c.send('EPSV');
  const port = parseEpsvReply(r.text);
  const early = connect({ host: '127.0.0.1', port });
  early.on('error', () => {});
  await once(early, 'connect');
  await once(early, 'close'); // the accepted but unclaimed connection is closed after the time
  const again = connect({ host: '127.0.0.1', port });
  const err = await new Promise<NodeJS.ErrnoException | undefined>(resolve => { again.on('error', resolve); again.on('connect', () => { again.destroy(); resolve(undefined); }); });
  assert.equal(err?.code, 'ECONNREFUSED', 'the listener is closed');
  const retr = await c.send('RETR f.txt');
  assert.equal(retr.code, 425, 'no data channel any more: refused before 150');
  assert.match(retr.text, /PASV/);
  assert.equal((await c.send('NOOP')).code, 200);
});
