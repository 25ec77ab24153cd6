/**
 * The control connection during a transfer: STAT, NOOP and ABOR (RFC 959 s4.1.3: 426 then 226), queued
 * commands, clients vanishing mid-transfer (server stays healthy, partial byte count reported), clients
 * closing the data connection right after the last byte (226, not 426), graceful server close waiting for
 * a running transfer.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import path from 'node:path';
import { LocalStorage } from '../../src/server/index.js';
import { tempDir } from '../support/temp-dir.js';
import { MemoryStorage, RawControl, openPassive, readAll, startServer } from '../support/server-harness.js';
import type { Harness } from '../support/server-harness.js';
import type { TransferFailedEvent } from '../../src/server/index.js';

// Larger than loopback socket buffers on both sides, so a client that does not read stalls the transfer.
const SIZE = 48 * 1024 * 1024;

async function setup(t: TestContext, host = '127.0.0.1'): Promise<{ h: Harness; storage: MemoryStorage; c: RawControl }> {
  const storage = new MemoryStorage();
  storage.writeFile('/big.bin', Buffer.alloc(SIZE, 0x61));
  const h = await startServer({ host, storage });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');
  return { h, storage, c };
}

function nextFailure(h: Harness): Promise<TransferFailedEvent> {
  return new Promise(resolve => h.server.once('transfer-failed', resolve));
}

for (const host of ['127.0.0.1', '::1']) {
  test(`[${host}] STAT and NOOP during a stalled download, then ABOR: 426 then 226`, async t => {
    const { h, c } = await setup(t, host);
    const data = await openPassive(c);
    t.after(() => data.destroy());
    data.pause(); // do not read: the server's transfer fills the buffers and waits
    assert.equal((await c.send('RETR big.bin')).code, 150);
    const stat = await c.send('STAT');
    assert.equal(stat.code, 213);
    assert.match(stat.text, /download of \/big\.bin in progress: \d+ bytes/);
    assert.equal((await c.send('NOOP')).code, 200);
    const failure = nextFailure(h);
    const r1 = await c.send('ABOR');
    const r2 = await c.read();
    assert.deepEqual([r1.code, r2.code], [426, 226]);
    const ev = await failure;
    assert.equal(ev.reason, 'aborted');
    assert.ok(ev.bytes > 0 && ev.bytes < SIZE, `partial byte count ${ev.bytes}`);
    data.resume(); // drain what was buffered, so the server's close is seen
    await once(data, 'close');
    assert.equal((await c.send('PWD')).code, 257, 'session usable after ABOR');
  });
}

test('ABOR during an upload: 426 then 226, the upload event does not fire', async t => {
  const { h, c } = await setup(t);
  let uploaded = false;
  h.server.on('upload', () => { uploaded = true; });
  const data = await openPassive(c);
  t.after(() => data.destroy());
  assert.equal((await c.send('STOR part.bin')).code, 150);
  data.write(Buffer.alloc(100_000, 1));
  const failure = nextFailure(h);
  const r1 = await c.send('ABOR');
  assert.equal(r1.code, 426);
  assert.equal((await c.read()).code, 226);
  assert.equal((await failure).direction, 'upload');
  assert.equal(uploaded, false);
});

test('commands other than ABOR/STAT/NOOP wait until the transfer is done, then run in order', async t => {
  const { c } = await setup(t);
  const data = await openPassive(c);
  data.pause();
  assert.equal((await c.send('RETR big.bin')).code, 150);
  c.write('PWD\r\nNOOP\r\n');
  // NOOP may run during the transfer, PWD must wait: the first reply is NOOP's.
  assert.equal((await c.read()).code, 200);
  data.resume();
  const body = await readAll(data);
  assert.equal(body.length, SIZE);
  assert.equal((await c.read()).code, 226);
  assert.equal((await c.read()).code, 257);
});

test('the client closes the data connection mid-download: 426, event with partial bytes', async t => {
  const { h, c } = await setup(t);
  const data = await openPassive(c);
  assert.equal((await c.send('RETR big.bin')).code, 150);
  let got = 0;
  const failure = nextFailure(h);
  await new Promise<void>(resolve => data.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (got > 1_000_000) { data.destroy(); resolve(); }
  }));
  assert.equal((await c.read()).code, 426);
  const ev = await failure;
  assert.match(ev.reason, /data connection lost/);
  assert.ok(ev.bytes >= 1_000_000 && ev.bytes < SIZE, String(ev.bytes));
  assert.equal((await c.send('NOOP')).code, 200);
});

test('a client vanishing mid-transfer leaves the server healthy', async t => {
  const { h } = await setup(t);
  const errors: unknown[] = [];
  h.server.on('session-error', e => errors.push(e.error));
  const c = await RawControl.login(h);
  await c.send('TYPE I');
  const data = await openPassive(c);
  data.pause();
  assert.equal((await c.send('RETR big.bin')).code, 150);
  const failure = nextFailure(h);
  const closed = once(h.server, 'session-close');
  c.close();
  data.destroy();
  const ev = await failure;
  assert.ok(ev.bytes > 0 && ev.bytes < SIZE);
  await closed;
  assert.equal(h.server.sessionCount, 1, 'only the setup session is left');
  // Another client is served normally.
  const c2 = await RawControl.login(h);
  t.after(() => c2.close());
  const d2 = await openPassive(c2);
  assert.equal((await c2.send('RETR big.bin')).code, 150);
  const [body, done] = await Promise.all([readAll(d2), c2.read()]);
  assert.equal(body.length, SIZE);
  assert.equal(done.code, 226);
  assert.deepEqual(errors, []);
});

test('graceful close: 421 at once to idle sessions, a running transfer finishes first', async t => {
  const { h, c } = await setup(t);
  const idle = await RawControl.login(h);
  t.after(() => idle.close());
  const data = await openPassive(c);
  data.pause();
  assert.equal((await c.send('RETR big.bin')).code, 150);
  const closing = h.server.close({ timeoutMs: 20_000 });
  assert.equal((await idle.read()).code, 421, 'the idle session is told while the transfer still runs');
  await idle.waitClosed();
  data.resume();
  const body = await readAll(data);
  assert.equal(body.length, SIZE);
  assert.equal((await c.read()).code, 226);
  assert.equal((await c.read()).code, 421);
  await closing;
});

test('graceful close cuts a transfer that outlasts the timeout', async t => {
  const { h, c } = await setup(t);
  const data = await openPassive(c);
  t.after(() => data.destroy());
  data.pause();
  assert.equal((await c.send('RETR big.bin')).code, 150);
  const failure = nextFailure(h);
  await h.server.close({ timeoutMs: 100 });
  assert.equal((await failure).reason, 'session closed');
  await c.waitClosed();
});

test('ABOR while the server still waits for the passive data connection: 426 then 226, port closed', async t => {
  const { h, c } = await setup(t);
  const r = await c.send('EPSV');
  const port = Number(/\|\|\|(\d+)\|/.exec(r.text)![1]);
  assert.equal((await c.send('RETR big.bin')).code, 150);
  const failure = nextFailure(h);
  assert.equal((await c.send('ABOR')).code, 426);
  assert.equal((await c.read()).code, 226);
  assert.equal((await failure).reason, 'aborted');
  const { connect } = await import('node:net');
  const s = connect({ host: '127.0.0.1', port });
  const err = await new Promise<NodeJS.ErrnoException | undefined>(resolve => { s.on('error', resolve); s.on('connect', () => { s.destroy(); resolve(undefined); }); });
  assert.equal(err?.code, 'ECONNREFUSED', 'the passive listener was released');
});

/**
 * Read a download to its known size, then close the data connection at once (FIN), or reset it (RST),
 * before the server's own end of file: all bytes arrived, so the reply must be 226 (not 426).
 */
function readSizeThenClose(data: Socket, size: number, how: 'close' | 'reset'): Promise<number> {
  return new Promise(resolve => {
    let got = 0;
    data.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got < size) return;
      if (how === 'reset') data.resetAndDestroy(); else data.destroy();
      resolve(got);
    });
    data.on('close', () => resolve(got));
  });
}

test('a client closing or resetting the data connection right after the last byte gets 226 (30 tries each, LocalStorage)', { timeout: 120_000 }, async t => {
  // LocalStorage: a file stream reports its end of file only after the last chunk went out, which is the
  // window the client's close falls into.
  const root = await tempDir(t);
  const files = { 'big.bin': 4 * 1024 * 1024, 'small.bin': 100 };
  for (const [name, size] of Object.entries(files)) await writeFile(path.join(root, name), Buffer.alloc(size, 0x62));
  const h = await startServer({ storage: await LocalStorage.open(root) });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');
  const finals: Record<string, number[]> = {};
  for (const [name, size] of Object.entries(files)) {
    for (const how of ['close', 'reset'] as const) {
      const codes: number[] = [];
      for (let i = 0; i < 30; i++) {
        const data = await openPassive(c);
        const received = readSizeThenClose(data, size, how);
        assert.equal((await c.send(`RETR ${name}`)).code, 150);
        assert.equal(await received, size, 'every byte arrived');
        codes.push((await c.read()).code);
      }
      finals[`${name} ${how}`] = codes;
    }
  }
  const count426 = Object.fromEntries(Object.entries(finals).map(([k, codes]) => [k, codes.filter(x => x !== 226).length]));
  assert.deepEqual(count426, { 'big.bin close': 0, 'big.bin reset': 0, 'small.bin close': 0, 'small.bin reset': 0 });
});
