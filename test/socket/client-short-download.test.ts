/**
 * A download whose data connection is closed early while the server still answers 226 — what a NAT, a
 * firewall or a proxy cutting the stream with a FIN looks like once the server has handed its bytes to its
 * kernel (src/client/short-download.ts). Against the scripted fake server, which cuts on purpose: the
 * download fails with a typed error and replaces nothing; a resumed download keeps what arrived; with
 * retries it continues with REST and finishes byte-exact; a file that really shrank since its listing is
 * told from a cut by SIZE; `sizeCheck: false` / `--no-size-check` accept it; the CLI exits 5.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { startFakeServer, type Step } from '../support/fake-server.js';
import { FtpClient, FtpNetworkError, Retrier, type RetryEvent } from '../../src/client/index.js';
import { tempDir } from '../support/temp-dir.js';
import { ftpkit, ok } from '../support/cli-server.js';

const PAYLOAD = randomBytes(300_000);

/**
 * A fake whose n-th RETR sends from the REST offset up to `cuts[n]` (the end when there is none) and
 * answers 226 either way; its 150 says "(N bytes)" when `announce` is set.
 */
async function cuttingServer(t: TestContext, cuts: number[], announce: boolean, feat?: string) {
  let rest = 0;
  let retrs = 0;
  const commands: string[] = [];
  const fake = await startFakeServer({
    files: { 'big.bin': PAYLOAD },
    commands: {
      ...(feat ? { FEAT: feat } : {}),
      REST: (cmd): Step => { rest = Number(cmd.arg); return `350 Restarting at ${rest}.`; },
      RETR: (): Step => {
        const from = rest;
        const to = cuts[retrs++] ?? PAYLOAD.length;
        rest = 0;
        return { transfer: {
          send: PAYLOAD.subarray(from, to),
          preliminary: `150 Opening BINARY mode data connection for big.bin${announce ? ` (${PAYLOAD.length} bytes)` : ''}.`,
          final: '226 Transfer complete.',
        } };
      },
    },
  });
  fake.on('command', (c: { line: string }) => commands.push(c.line));
  t.after(() => fake.close());
  return { fake, commands };
}

function client(t: TestContext, port: number, retries = 0): FtpClient {
  const c = new FtpClient({ host: '127.0.0.1', port, retry: { retries, delayMs: 10 },
    timeouts: { connectMs: 5000, commandMs: 10_000, dataMs: 10_000 } });
  t.after(() => c.destroy());
  return c;
}

test('a download cut short with 226 fails with a typed error, and the file it would replace is kept', async (t) => {
  const { fake } = await cuttingServer(t, [120_000], true);
  const dir = await tempDir(t);
  const dest = path.join(dir, 'big.bin');
  await writeFile(dest, 'the old copy');
  const c = client(t, fake.port);
  await c.connect();
  await assert.rejects(c.download('big.bin', dest), (e: unknown) => {
    assert.ok(e instanceof FtpNetworkError, String(e));
    assert.equal(e.connection, 'data');
    assert.equal(e.failure, 'closed');
    // SIZE, asked once more, still says the whole file: a cut, not a file that shrank.
    assert.match(e.message, /closed at byte 120000 of 300000 \(the size announced in the 150 reply, and SIZE says 300000 now\), though the server answered 226/);
    return true;
  });
  assert.equal(await readFile(dest, 'utf8'), 'the old copy');
  assert.deepEqual(await readdir(dir), ['big.bin'], 'no temporary file left');
  // The control connection is still in step: the next download of the whole file works.
  await c.download('big.bin', dest);
  assert.deepEqual(await readFile(dest), PAYLOAD);
});

test('a resumed download is held to SIZE even when the 150 says nothing, and keeps what arrived', async (t) => {
  const { fake, commands } = await cuttingServer(t, [200_000], false);
  const dir = await tempDir(t);
  const dest = path.join(dir, 'big.bin');
  await writeFile(dest, PAYLOAD.subarray(0, 50_000));
  const c = client(t, fake.port);
  await c.connect();
  await assert.rejects(c.download('big.bin', dest, { resume: true }), /closed at byte 200000 of 300000 \(its size, and SIZE says 300000 now\)/);
  assert.ok(commands.includes('SIZE big.bin') && commands.includes('REST 50000'), commands.join(' | '));
  assert.deepEqual(await readFile(dest), PAYLOAD.subarray(0, 200_000), 'the bytes that arrived stay for the next attempt');
  const done = await c.download('big.bin', dest, { resume: true });
  assert.equal(done.startOffset, 200_000);
  assert.deepEqual(await readFile(dest), PAYLOAD);
});

test('with retries, a download cut twice with 226 continues with REST and finishes byte-exact', async (t) => {
  const { fake, commands } = await cuttingServer(t, [100_000, 180_000], true);
  const dir = await tempDir(t);
  const dest = path.join(dir, 'big.bin');
  const c = client(t, fake.port, 3);
  const retries: RetryEvent[] = [];
  c.on('retry', (e) => retries.push(e));
  await c.connect();
  await new Retrier(c).download('big.bin', dest);
  assert.deepEqual(await readFile(dest), PAYLOAD);
  assert.deepEqual(retries.map((r) => r.resumeAt), [100_000, 180_000]);
  assert.match(retries[0]!.reason, /closed at byte 100000 of 300000/);
  assert.deepEqual(commands.filter((x) => /^REST [1-9]/.test(x)), ['REST 100000', 'REST 180000']);
  assert.deepEqual(await readdir(dir), ['big.bin']);
});

test('without a size anywhere the short stream cannot be told from the file: the download succeeds (the limit)', async (t) => {
  const { fake } = await cuttingServer(t, [120_000], false);
  const dest = path.join(await tempDir(t), 'big.bin');
  const c = client(t, fake.port);
  await c.connect();
  const r = await c.download('big.bin', dest);
  assert.equal(r.fileBytes, 120_000);
  assert.equal((await readFile(dest)).length, 120_000);
});

test('without SIZE on the server, the 150\'s size alone decides', async (t) => {
  const { fake, commands } = await cuttingServer(t, [120_000], true, '211-Features:\r\n EPSV\r\n REST STREAM\r\n211 End');
  const dest = path.join(await tempDir(t), 'big.bin');
  const c = client(t, fake.port);
  await c.connect();
  await assert.rejects(c.download('big.bin', dest), /closed at byte 120000 of 300000 \(the size announced in the 150 reply\), though/);
  assert.ok(!commands.some((x) => x.startsWith('SIZE')), commands.join(' | '));
});

test('a file smaller than its listing said, by SIZE now, is the file: the download stands, with a status line', async (t) => {
  const { fake, commands } = await cuttingServer(t, [], false);
  const dest = path.join(await tempDir(t), 'big.bin');
  const c = client(t, fake.port);
  const status: string[] = [];
  c.on('transcript', (e) => { if (e.kind === 'status') status.push(e.text); });
  await c.connect();
  // A mirror passes the size from its listing; the file was rewritten smaller since.
  const r = await c.download('big.bin', dest, { size: 400_000 });
  assert.equal(r.fileBytes, PAYLOAD.length);
  assert.deepEqual(await readFile(dest), PAYLOAD);
  assert.ok(commands.includes('SIZE big.bin'), commands.join(' | '));
  assert.ok(status.some((x) => /big\.bin: 300000 bytes by SIZE now, not 400000 \(its size\): the file changed on the server/.test(x)), status.join('\n'));
});

test('sizeCheck: false, for the client or one download, accepts the short download', async (t) => {
  const { fake } = await cuttingServer(t, [120_000, 130_000], true);
  const dir = await tempDir(t);
  const c = new FtpClient({ host: '127.0.0.1', port: fake.port, sizeCheck: false });
  t.after(() => c.destroy());
  await c.connect();
  assert.equal((await c.download('big.bin', path.join(dir, 'a'))).fileBytes, 120_000);
  const d = client(t, fake.port);
  await d.connect();
  assert.equal((await d.download('big.bin', path.join(dir, 'b'), { sizeCheck: false })).fileBytes, 130_000);
});

test('CLI: a short download exits 5 and writes nothing; --no-size-check takes it', async (t) => {
  const { fake } = await cuttingServer(t, [120_000, 120_000], true);
  const dir = await tempDir(t);
  const url = `ftp://127.0.0.1:${fake.port}/big.bin`;
  const dest = path.join(dir, 'big.bin');
  const cut = await ftpkit(['get', url, dest]);
  assert.equal(cut.code, 5, cut.stderr);
  assert.match(cut.stderr, /closed at byte 120000 of 300000/);
  assert.deepEqual(await readdir(dir), []);
  ok(await ftpkit(['get', '--no-size-check', url, dest]));
  assert.equal((await readFile(dest)).length, 120_000);
});

test('CLI: a wildcard match that is a symbolic link is not held to the link\'s own size', async (t) => {
  // LIST gives a link the length of its target's name (30 here); RETR sends the target's 10 bytes.
  const fake = await startFakeServer({
    listing: 'lrwxrwxrwx 1 ftp ftp 30 Jan 15 10:30 link.txt -> /some/long/target/dir/x.txt\r\n',
    commands: {
      FEAT: '211-Features:\r\n EPSV\r\n REST STREAM\r\n211 End',
      RETR: { transfer: { send: 'ten bytes!' } },
    },
  });
  t.after(() => fake.close());
  const dir = await tempDir(t);
  ok(await ftpkit(['get', `ftp://127.0.0.1:${fake.port}/*.txt`, dir]));
  assert.equal(await readFile(path.join(dir, 'link.txt'), 'utf8'), 'ten bytes!');
});
