// A server that trickles data (issue 8 item 9): the idle timeout never fires when one byte arrives every
// few hundred ms. The stall limit (timeouts.stall, curl's --speed-limit/--speed-time) and the maximum time
// (timeouts.maxTimeMs, the CLI's --max-time) end such a transfer with a typed error, exit 5 in the CLI, and
// no file under the final name. Small configured values keep the tests short: no long sleeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { startFakeServer } from '../support/fake-server.js';
import { FtpClient } from '../../src/client/index.js';
import { FtpNetworkError } from '../../src/errors.js';
import { describeCli } from '../support/ftpkit-cli.js';
import { ftpkit } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';
import { startServer } from '../support/server-harness.js';
import type { TestContext } from 'node:test';

const TRICKLE = 'x'.repeat(100);

/** RETR of `slow.bin` sends `size` bytes, `bytes` at a time every `everyMs` (10 B/s by default). */
async function trickling(t: TestContext, size = 100, bytes = 1, everyMs = 100) {
  const data = 'x'.repeat(size);
  const fake = await startFakeServer({
    files: { 'slow.bin': data },
    commands: { RETR: c => c.arg === 'slow.bin' ? { transfer: { send: data, trickle: { bytes, everyMs } } } : '550 No such file.' },
  });
  t.after(() => fake.close());
  return fake;
}

async function connected(t: TestContext, port: number, timeouts: FtpClient['options']['timeouts']) {
  const client = new FtpClient({ host: '127.0.0.1', port, timeouts: { commandMs: 5000, dataMs: 5000, ...timeouts } });
  t.after(() => client.destroy());
  await client.connect();
  return client;
}

test('stall limit: a download slower than minBytesPerSecond over the window fails with failure "stalled"', async t => {
  const fake = await trickling(t);
  const client = await connected(t, fake.port, { stall: { minBytesPerSecond: 100, seconds: 1 } });
  const work = await tempDir(t, 'ftpkit-stall-');
  const started = performance.now();
  const err = await client.download('slow.bin', path.join(work, 'slow.bin')).catch(e => e);
  const ms = performance.now() - started;
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.equal(err.failure, 'stalled');
  assert.equal(err.connection, 'data');
  assert.match(err.message, /was too slow .*: \d+ bytes in the last 1\.\d s \(\d+\.\d B\/s\), below the minimum of 100 B\/s over 1 s/);
  assert.ok(ms < 8000, `ended after ${ms.toFixed(0)} ms; the whole trickle takes 10 s`);
  assert.deepEqual(await readdir(work), [], 'no file under the final name, no temporary file');
  // The control connection is back in step (ABOR answered): the session goes on.
  assert.equal((await client.send('NOOP')).code, 200);
});

test('stall limit: a slow transfer above the limit completes (a slow link is not cut)', async t => {
  const fake = await trickling(t, 2000, 200, 100); // ~2 KB/s for 1 s
  const client = await connected(t, fake.port, { stall: { minBytesPerSecond: 100, seconds: 0.5 } });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', c => chunks.push(c));
  await client.download('slow.bin', out);
  assert.equal(Buffer.concat(chunks).length, 2000);
});

test('maxTimeMs: a transfer that moves data fast enough but too long fails with failure "timeout"', async t => {
  const fake = await trickling(t, 400, 20, 100); // 200 B/s: above the stall limit, 2 s in all
  const client = await connected(t, fake.port, { stall: { minBytesPerSecond: 10, seconds: 1 }, maxTimeMs: 700 });
  const err = await client.download('slow.bin', new PassThrough().resume()).catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.equal(err.failure, 'timeout');
  assert.match(err.message, /the transfer took longer than the maximum time of 0\.7 s, after \d+ bytes \(RETR slow\.bin\)/);
});

test('bad stall settings are a usage error', () => {
  assert.throws(() => new FtpClient({ host: 'h', timeouts: { stall: { minBytesPerSecond: -1, seconds: 1 } } }), /timeouts\.stall/);
  assert.throws(() => new FtpClient({ host: 'h', timeouts: { stall: { minBytesPerSecond: 1, seconds: 0 } } }), /timeouts\.stall/);
  assert.throws(() => new FtpClient({ host: 'h', timeouts: { maxTimeMs: -5 } }), /maxTimeMs/);
});

test('CLI: get --speed-limit/--speed-time and --max-time end a trickling download with exit 5 and leave no file', async t => {
  const fake = await trickling(t);
  const work = await tempDir(t, 'ftpkit-stall-cli-');
  const url = `ftp://127.0.0.1:${fake.port}/slow.bin`;

  const slow = await ftpkit(['get', '--speed-limit', '100', '--speed-time', '1', url, path.join(work, 'slow.bin')]);
  assert.equal(slow.code, 5, describeCli(slow));
  assert.match(slow.stderr, /ftpkit: data connection .* was too slow .*below the minimum of 100 B\/s over 1 s/);
  assert.deepEqual(await readdir(work), []);

  const json = await ftpkit(['get', '--json', '--speed-limit', '100', '--speed-time', '1', url, path.join(work, 'slow.bin')]);
  assert.equal(json.code, 5, describeCli(json));
  assert.equal(JSON.parse(json.stdout).error.failure, 'stalled');

  const started = performance.now();
  const capped = await ftpkit(['get', '--max-time', '1.5', url, path.join(work, 'slow.bin')]);
  assert.equal(capped.code, 5, describeCli(capped));
  assert.match(capped.stderr, /ftpkit: the command took longer than --max-time 1\.5 s/);
  assert.ok(performance.now() - started < 9000, 'the trickle alone takes 10 s');
  assert.deepEqual(await readdir(work), []);

  const bad = await ftpkit(['get', '--speed-time', '0', url, path.join(work, 'slow.bin')]);
  assert.equal(bad.code, 2, describeCli(bad));
  assert.match(bad.stderr, /--speed-time needs a positive number of seconds/);
});

test('an upload whose source stops producing fails after timeouts.dataMs, and no 226 is taken as success', async t => {
  const h = await startServer();
  t.after(() => h.close());
  const client = new FtpClient({ host: h.host, port: h.port, user: 'test', password: 'test',
    timeouts: { dataMs: 500, commandMs: 5000, stall: { minBytesPerSecond: 0, seconds: 60 } } });
  t.after(() => client.destroy());
  await client.connect();
  const source = new PassThrough();
  source.write(Buffer.alloc(1000));   // then nothing, never ended
  const err = await client.upload(source, '/stalled.bin').catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.deepEqual([err.connection, err.failure], ['data', 'timeout']);
  assert.match(err.message, /no data moved for 500 ms after 1000 bytes/);
});
