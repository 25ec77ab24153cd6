/**
 * limitRate / `--limit-rate` (curl's syntax) caps each transfer: downloads into a file (the path that
 * otherwise reads the socket into blocks, net/wire-blocks.ts), into a stream, and uploads. Measured only
 * loosely, from below: a capped transfer takes at least most of size/rate (never an upper bound on speed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { FtpClient } from '../../src/client/index.js';
import { FtpUsageError } from '../../src/errors.js';
import { parseByteRate } from '../../src/cli/limit-rate.js';
import { ftpkit, ok, server } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';

const MiB = 1024 * 1024;

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

test('library: limitRate caps a download into a file, into a stream, and an upload', async t => {
  const { root, base } = await server(t);
  const work = await tempDir(t, 'ftpkit-rate-');
  const data = randomBytes(2 * MiB);
  await writeFile(path.join(root, 'two.bin'), data);
  const c = new FtpClient({ host: '127.0.0.1', port: Number(new URL(base).port), user: 'test', password: 's3cr=t', limitRate: MiB });
  t.after(() => c.destroy());
  await c.connect();

  const file = await timed(() => c.download('two.bin', path.join(work, 'two.bin')));
  assert.deepEqual(await readFile(path.join(work, 'two.bin')), data);
  assert.ok(file.seconds > 1.2, `2 MiB at 1 MiB/s into a file took ${file.seconds.toFixed(2)} s`);

  const chunks: Buffer[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { chunks.push(chunk); cb(); } });
  const stream = await timed(() => c.download('two.bin', sink));
  assert.equal(Buffer.concat(chunks).length, data.length);
  assert.ok(stream.seconds > 1.2, `2 MiB at 1 MiB/s into a stream took ${stream.seconds.toFixed(2)} s`);

  const up = await timed(() => c.upload(path.join(work, 'two.bin'), 'up.bin'));
  assert.deepEqual(await readFile(path.join(root, 'up.bin')), data);
  assert.ok(up.seconds > 1.2, `a 2 MiB upload at 1 MiB/s took ${up.seconds.toFixed(2)} s`);
  await c.close();
});

test('library: a limitRate that is not a positive number is refused before connecting', () => {
  for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, '1M' as unknown as number]) {
    assert.throws(() => new FtpClient({ host: '127.0.0.1', limitRate: bad }), FtpUsageError);
  }
});

test('curl syntax: plain bytes and 1024-based K, M, G, T suffixes; anything else is a usage error', () => {
  assert.equal(parseByteRate('65536'), 65536);
  assert.equal(parseByteRate('100K'), 102_400);
  assert.equal(parseByteRate('2m'), 2 * MiB);
  assert.equal(parseByteRate('1.5G'), 1.5 * 1024 * MiB);
  assert.equal(parseByteRate('1T'), 1024 ** 4);
  for (const bad of ['', '0', '0.1', '-1K', '1KB', '1 M', 'fast', '1e6']) assert.throws(() => parseByteRate(bad), FtpUsageError, bad);
});

test('CLI: get, put and mirror --limit-rate take their time; a bad rate exits 2 before connecting', async t => {
  const { root, base } = await server(t);
  const work = await tempDir(t, 'ftpkit-rate-cli-');
  const data = randomBytes(MiB);
  await writeFile(path.join(root, 'one.bin'), data);
  const u = base.replace('ftp://', 'ftp://test:s3cr%3Dt@');
  const get = await timed(() => ftpkit(['get', '--limit-rate', '512K', `${u}/one.bin`, path.join(work, 'one.bin')]));
  ok(get.value);
  assert.deepEqual(await readFile(path.join(work, 'one.bin')), data);
  assert.ok(get.seconds > 1.2, `1 MiB at 512 KiB/s took ${get.seconds.toFixed(2)} s`);
  const put = await timed(() => ftpkit(['put', '--limit-rate', '512k', path.join(work, 'one.bin'), `${u}/back.bin`]));
  ok(put.value);
  assert.deepEqual(await readFile(path.join(root, 'back.bin')), data);
  assert.ok(put.seconds > 1.2, `a 1 MiB upload at 512 KiB/s took ${put.seconds.toFixed(2)} s`);
  const mirrorDir = path.join(work, 'mirror');
  const mirrored = await timed(() => ftpkit(['mirror', '--limit-rate', '512K', `${u}/`, mirrorDir]));
  ok(mirrored.value);
  assert.deepEqual(await readFile(path.join(mirrorDir, 'one.bin')), data);
  assert.ok(mirrored.seconds > 1.2, `mirror of 2 MiB at 512 KiB/s took ${mirrored.seconds.toFixed(2)} s`);
  const bad = await ftpkit(['get', '--limit-rate', 'fast', `${u}/one.bin`, path.join(work, 'x.bin')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--limit-rate needs bytes per second like 100K/);
});
