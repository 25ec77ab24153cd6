/**
 * FtpServer.sessions(): read-only snapshots of the open sessions over real sockets: addresses, the user
 * after login, the TLS state, and a running transfer with its command and the bytes moved so far.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { RawControl, openPassive, startServer } from '../support/server-harness.js';

async function until<T>(what: string, get: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = get();
    if (v !== undefined) return v;
    await delay(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('sessions(): a logged-in session and one mid-upload, with their fields', async t => {
  const h = await startServer();
  t.after(() => h.close());
  const before = Date.now();
  const idle = await RawControl.login(h);
  t.after(() => idle.close());
  const uploading = await RawControl.login(h);
  t.after(() => uploading.close());
  assert.equal((await uploading.send('TYPE I')).code, 200);
  const data = await openPassive(uploading);
  t.after(() => data.destroy());
  assert.equal((await uploading.send('STOR big.bin')).code, 150);
  data.write(Buffer.alloc(100_000, 7));

  const byPort = (port: number) => h.server.sessions().find(s => s.remotePort === port);
  const moving = await until('the upload to show its bytes', () => {
    const s = byPort(uploading.socket.localPort!);
    return s?.transfer && s.transfer.bytes >= 100_000 ? s : undefined;
  });
  assert.equal(h.server.sessions().length, 2);
  assert.equal(moving.user, 'test');
  assert.equal(moving.remoteAddress, '127.0.0.1');
  assert.equal(moving.localAddress, '127.0.0.1');
  assert.equal(moving.localPort, h.port);
  assert.ok(moving.startedAt.getTime() >= before - 5 && moving.startedAt.getTime() <= Date.now());
  assert.deepEqual(moving.tls, { control: 'cleartext', implicit: false, prot: 'C' });
  const { transfer } = moving;
  assert.ok(transfer);
  assert.deepEqual({ ...transfer, startedAt: undefined },
    { command: 'STOR', direction: 'upload', path: '/big.bin', bytes: transfer.bytes, offset: 0, dataMode: 'passive', startedAt: undefined });
  assert.equal(transfer.bytes, 100_000);
  assert.ok(Object.isFrozen(moving) && Object.isFrozen(transfer), 'a snapshot, not a handle on the session');

  const quiet = byPort(idle.socket.localPort!);
  assert.ok(quiet);
  assert.equal(quiet.user, 'test');
  assert.equal(quiet.transfer, undefined);
  assert.notEqual(quiet.id, moving.id);

  data.end();
  assert.equal((await uploading.read()).code, 226);
  assert.equal(byPort(uploading.socket.localPort!)?.transfer, undefined, 'the transfer is gone once it ended');
});

test('sessions(): before login there is no user; a closed session is gone', async t => {
  const h = await startServer();
  t.after(() => h.close());
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  assert.equal((await c.send('USER test')).code, 331);
  const [s] = h.server.sessions();
  assert.equal(s.user, undefined);
  assert.equal((await c.send('QUIT')).code, 221);
  await c.waitClosed();
  await until('the session to close', () => (h.server.sessions().length === 0 ? true : undefined));
});
