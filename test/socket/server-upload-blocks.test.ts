/**
 * The server's plain TYPE I uploads into a local file read the accepted data socket straight into the
 * pipeline's two 1 MiB blocks (net/socket-user-buffer.ts, net/wire-blocks.ts, storage/local-file-sink.ts).
 * Over real sockets: byte-exact at the block edges, with bytes sent before the STOR, for REST + STOR and
 * APPE, in active mode, under a bandwidth cap; ABOR and a client reset leave the old file and no
 * temporary one; TYPE A stays on the converting path. Over TLS (PROT P) the decrypted records are read into
 * the blocks too, byte-exact, and a cut leaves the old file. Every case checks which
 * path was taken (userBufferSwitches), so a silent fall back to the slow path fails here.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FtpServerOptions } from '../../src/server/index.js';
import { userBufferSwitches } from '../../src/net/socket-user-buffer.js';
import { localSession, openActive, openPassive, writeAll } from '../support/server-harness.js';
import type { Harness, RawControl } from '../support/server-harness.js';
import { makeTestPki } from '../support/tls-certs.js';
import { FtpsRawControl } from '../support/tls-raw-control.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/until.js';

const MiB = 1024 * 1024;
const OLD = Buffer.from('OLD CONTENT\n');

interface Setup { c: RawControl; root: string; h: Harness }

async function setup(t: TestContext, options: Partial<FtpServerOptions> = {}): Promise<Setup> {
  const root = await tempDir(t);
  await writeFile(join(root, 'victim.bin'), OLD);
  return { ...await localSession(t, root, options), root };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Upload `data` with `command` (a 226 expected); `early` bytes of it are sent before the command. */
async function upload(c: RawControl, command: string, data: Buffer, early = 0): Promise<void> {
  const d = await openPassive(c);
  if (early > 0) d.write(data.subarray(0, early));
  assert.equal((await c.send(command)).code, 150, command);
  await writeAll(d, data.subarray(early));
  assert.equal((await c.read()).code, 226, command);
}

/** Run `fn` and return how many sockets it switched to user-buffer reads. */
async function switches(fn: () => Promise<void>): Promise<number> {
  const before = userBufferSwitches.count;
  await fn();
  return userBufferSwitches.count - before;
}

for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 5 * MiB + 17]) {
  test(`STOR of ${size} bytes reads into blocks and stores them exactly`, async t => {
    const { c, root } = await setup(t);
    const data = randomBytes(size);
    assert.equal(await switches(() => upload(c, 'STOR victim.bin', data)), 1, 'the block path was taken');
    assert.equal(sha(await readFile(join(root, 'victim.bin'))), sha(data));
    assert.deepEqual(await readdir(root), ['victim.bin'], 'no temporary file left');
  });
}

test('bytes the client sent before STOR (queued in the accepted socket) come first, in order', async t => {
  const { c, root } = await setup(t);
  for (const [size, early] of [[3 * MiB + 5, 1000], [40_000, 40_000], [2 * MiB, 300_000]] as const) {
    const data = randomBytes(size);
    assert.equal(await switches(() => upload(c, 'STOR early.bin', data, early)), 1);
    assert.equal(sha(await readFile(join(root, 'early.bin'))), sha(data), `${size} bytes, ${early} early`);
  }
});

test('REST + STOR and APPE through blocks keep the bytes that were there', async t => {
  const { c, root } = await setup(t, { uploads: { mode: 'resumable' } });
  const first = randomBytes(MiB + 3);
  const rest = randomBytes(2 * MiB + 9);
  await upload(c, 'STOR r.bin', first);
  assert.equal((await c.send(`REST ${first.length - 100}`)).code, 350);
  assert.equal(await switches(() => upload(c, 'STOR r.bin', rest)), 1);
  const expected = Buffer.concat([first.subarray(0, first.length - 100), rest]);
  assert.equal(sha(await readFile(join(root, 'r.bin'))), sha(expected));
  const tail = randomBytes(3 * MiB + 1);
  assert.equal(await switches(() => upload(c, 'APPE r.bin', tail)), 1);
  assert.equal(sha(await readFile(join(root, 'r.bin'))), sha(Buffer.concat([expected, tail])));
});

test('atomic REST + STOR and APPE through blocks', async t => {
  const { c, root } = await setup(t);
  const rest = randomBytes(MiB + 1);
  assert.equal((await c.send('REST 4')).code, 350);
  assert.equal(await switches(() => upload(c, 'STOR victim.bin', rest)), 1);
  const expected = Buffer.concat([OLD.subarray(0, 4), rest]);
  assert.equal(sha(await readFile(join(root, 'victim.bin'))), sha(expected));
  const tail = randomBytes(2 * MiB);
  assert.equal(await switches(() => upload(c, 'APPE victim.bin', tail)), 1);
  assert.equal(sha(await readFile(join(root, 'victim.bin'))), sha(Buffer.concat([expected, tail])));
  assert.deepEqual(await readdir(root), ['victim.bin']);
});

test('active mode (EPRT): the connection the server opened reads into blocks too', async t => {
  const { c, root } = await setup(t);
  const data = randomBytes(2 * MiB + 3);
  assert.equal(await switches(async () => {
    const active = await openActive(c);
    t.after(() => active.close());
    assert.equal((await c.send('STOR active.bin')).code, 150);
    await writeAll(await active.accepted, data);
    assert.equal((await c.read()).code, 226);
  }), 1);
  assert.equal(sha(await readFile(join(root, 'active.bin'))), sha(data));
});

for (const how of ['ABOR', 'client reset'] as const) {
  test(`a STOR cut by ${how} after blocks were written leaves the old file and no temporary one`, async t => {
    const s = await setup(t);
    const sent = 3 * MiB;
    const before = userBufferSwitches.count;
    const d = await openPassive(s.c);
    t.after(() => d.destroy());
    assert.equal((await s.c.send('STOR victim.bin')).code, 150);
    d.write(randomBytes(sent));
    await until('the server to receive the bytes', () => ((s.h.server.sessions()[0]?.transfer?.bytes ?? 0) >= sent ? true : undefined));
    assert.equal(userBufferSwitches.count - before, 1, 'the block path was taken');
    if (how === 'ABOR') {
      const r1 = await s.c.send('ABOR');
      const r2 = await s.c.read();
      assert.deepEqual([r1.code, r2.code], [426, 226]);
    } else {
      d.resetAndDestroy();
      await once(d, 'close');
      assert.equal((await s.c.read()).code, 426);
    }
    assert.deepEqual(await readFile(join(s.root, 'victim.bin')), OLD, 'the old content is intact');
    assert.deepEqual(await readdir(s.root), ['victim.bin'], 'the temporary file was removed');
  });
}

test('TYPE A stays on the converting path (no blocks)', async t => {
  const { c, root } = await setup(t);
  assert.equal((await c.send('TYPE A')).code, 200);
  const lines = Buffer.from('one\r\ntwo\r\n'.repeat(100_000));
  assert.equal(await switches(() => upload(c, 'STOR a.txt', lines)), 0);
  assert.equal(await readFile(join(root, 'a.txt'), 'utf8'), 'one\ntwo\n'.repeat(100_000));
});

test('a capped upload (bandwidth) reads into blocks too, paced by the cap, byte-exact', async t => {
  const { c, root } = await setup(t, { limits: { bandwidth: { upload: 16 * MiB } } } as Partial<FtpServerOptions>);
  const data = randomBytes(3 * MiB + 7);
  assert.equal(await switches(() => upload(c, 'STOR capped.bin', data)), 1);
  assert.equal(sha(await readFile(join(root, 'capped.bin'))), sha(data));
});

/** A logged-in FTPS session with PROT P and TYPE I, over a server with an old victim.bin. */
async function tlsSetup(t: TestContext): Promise<{ c: FtpsRawControl; root: string; h: Harness }> {
  const pki = await makeTestPki();
  t.after(() => pki.cleanup());
  const root = await tempDir(t);
  await writeFile(join(root, 'victim.bin'), OLD);
  const { h } = await localSession(t, root, { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile } });
  const c = await FtpsRawControl.connect('127.0.0.1', h.port, { ca: pki.ca.cert });
  t.after(() => c.close());
  await c.authTls();
  await c.login();
  await c.send('PBSZ 0');
  assert.equal((await c.send('PROT P')).code, 200);
  assert.equal((await c.send('TYPE I')).code, 200);
  return { c, root, h };
}

for (const size of [0, MiB - 1, 3 * MiB + 17]) {
  test(`an upload of ${size} bytes over a TLS data connection (PROT P) reads the decrypted records into blocks, byte-exact`, { timeout: 20_000 }, async t => {
    const { c, root } = await tlsSetup(t);
    const body = randomBytes(size);
    assert.equal(await switches(async () => {
      const data = await c.epsv();
      c.write('STOR tls.bin\r\n');
      const [secured, pre] = await Promise.all([c.clientTls.secureData(data), c.read()]);
      assert.equal(pre.code, 150);
      secured.socket.end(body);
      assert.equal((await c.read()).code, 226);
    }), 1, 'the block path was taken');
    assert.equal(sha(await readFile(join(root, 'tls.bin'))), sha(body));
  });
}

test('a TLS upload cut by a client reset after blocks were written leaves the old file and no temporary one', { timeout: 20_000 }, async t => {
  const { c, root, h } = await tlsSetup(t);
  const sent = 3 * MiB;
  const before = userBufferSwitches.count;
  const data = await c.epsv();
  c.write('STOR victim.bin\r\n');
  const [secured, pre] = await Promise.all([c.clientTls.secureData(data), c.read()]);
  assert.equal(pre.code, 150);
  secured.socket.write(randomBytes(sent));
  // sessions()[0] is the harness's own cleartext session; the FTPS one is the one transferring.
  await until('the server to receive the bytes', () => ((h.server.sessions().find(s => s.transfer)?.transfer?.bytes ?? 0) >= sent ? true : undefined));
  assert.equal(userBufferSwitches.count - before, 1, 'the block path was taken');
  // A TCP reset under the TLS layer (a FIN without close_notify Node reports as a clean end: RFC 4217 leaves it to the server).
  data.resetAndDestroy();
  assert.equal((await c.read()).code, 426);
  assert.deepEqual(await readFile(join(root, 'victim.bin')), OLD, 'the old content is intact');
  assert.deepEqual(await readdir(root), ['victim.bin'], 'the temporary file was removed');
});
