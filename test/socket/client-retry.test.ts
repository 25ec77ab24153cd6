/**
 * Retries that resume (src/client/retry.ts, docs/client.md#retries) against our server behind a relay
 * that cuts the streams (test/support/cutting-proxy.ts): a download and an upload cut once or twice
 * (data only, or data and control together) finish byte-exact, continuing with REST / APPE at the offset
 * already transferred; a 550 is never retried; without retries the same cut fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { FtpServer } from '../../src/server/ftp-server.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { FtpClient, FtpNetworkError, FtpReplyError, Retrier, mirror, retryingTreeClient, type RetryEvent } from '../../src/client/index.js';
import { READ_WRITE } from '../support/server-harness.js';
import { freePortRange } from '../support/peers-common.js';
import { startCuttingProxy, type CuttingProxy } from '../support/cutting-proxy.js';
import { tempDir } from '../support/temp-dir.js';

// Several of the download's write blocks: a cut leaves some of them on disk to resume from.
const SIZE = 8 * 1024 * 1024 + 12345;

interface Lab {
  root: string;
  local: string;
  cutter: CuttingProxy;
  /** Commands the server received (RETR, REST, APPE, STOR...). */
  commands: string[];
}

async function lab(t: { after: (fn: () => unknown) => void }): Promise<Lab> {
  const dir = await tempDir(t);
  const root = path.join(dir, 'root');
  const local = path.join(dir, 'local');
  await mkdir(root);
  await mkdir(local);
  const storage = new LocalStorage(root);
  const pasv = await freePortRange(6);
  const server = new FtpServer({
    host: '127.0.0.1', port: 0,
    authenticator: { authenticate: async (n, p) => (n === 'u' && p === 'p' ? { name: 'u', storage, permissions: { ...READ_WRITE } } : null) },
    passive: { portRange: pasv },
    // In place, partial files kept: what an upload resumed with APPE continues (docs/server.md).
    uploads: { mode: 'resumable' },
    limits: { loginFailureDelayMs: 10 },
  });
  const commands: string[] = [];
  server.on('transcript', (e) => { if (e.direction === 'in') commands.push(e.line); });
  await server.listen();
  t.after(() => server.close({ timeoutMs: 1000 }));
  const cutter = await startCuttingProxy({ port: server.address()!.port, pasv });
  t.after(() => cutter.close());
  return { root, local, cutter, commands };
}

function client(t: { after: (fn: () => unknown) => void }, l: Lab, retries: number, delayMs = 20): { c: FtpClient; retries: RetryEvent[]; transcript: string[] } {
  const c = new FtpClient({ host: l.cutter.host, port: l.cutter.port, user: 'u', password: 'p',
    timeouts: { connectMs: 10_000, commandMs: 20_000, dataMs: 20_000 }, retry: { retries, delayMs } });
  const events: RetryEvent[] = [];
  const transcript: string[] = [];
  c.on('retry', (e) => events.push(e));
  c.on('transcript', (e) => transcript.push(`${e.kind} ${e.text}`));
  t.after(() => c.destroy());
  return { c, retries: events, transcript };
}

for (const { name, times, control } of [
  { name: 'cut once (data)', times: 1, control: false },
  { name: 'cut twice (data and control)', times: 2, control: true },
]) {
  test(`download ${name}: finishes byte-exact, resumed with REST`, async (t) => {
    const l = await lab(t);
    const payload = randomBytes(SIZE);
    await writeFile(path.join(l.root, 'big.bin'), payload);
    const { c, retries, transcript } = client(t, l, 3);
    await c.connect();
    l.cutter.armData({ direction: 'down', afterBytes: 2_500_000, times, control });
    const dest = path.join(l.local, 'big.bin');
    const r = await new Retrier(c).download('big.bin', dest);
    assert.deepEqual(await readFile(dest), payload, 'byte-exact');
    assert.equal(r.bytes, SIZE);
    assert.equal(l.cutter.cuts.length, times, l.cutter.cuts.join('\n'));
    assert.equal(retries.length, times, JSON.stringify(retries));
    assert.ok(retries.every((e) => (e.resumeAt ?? 0) > 0), `each retry resumes past 0: ${JSON.stringify(retries)}`);
    const rests = l.commands.filter((x) => /^REST [1-9]/.test(x));
    assert.equal(rests.length, times, `the server saw REST: ${l.commands.join(' | ')}`);
    assert.ok(transcript.some((x) => /retry 2\/4 of RETR big\.bin .*resuming at byte [1-9]/.test(x)), transcript.join('\n'));
    await c.close();
  });

  test(`upload ${name}: finishes byte-exact, resumed with APPE`, async (t) => {
    const l = await lab(t);
    const payload = randomBytes(SIZE);
    const src = path.join(l.local, 'up.bin');
    await writeFile(src, payload);
    // The backoff lets the server finish storing the aborted upload before SIZE asks how much it has.
    const { c, retries, transcript } = client(t, l, 3, 500);
    t.after(() => { if (process.env.CN_DEBUG) console.log(transcript.join('\n')); });
    await c.connect();
    l.cutter.armData({ direction: 'up', afterBytes: 2_500_000, times, control });
    await new Retrier(c).upload(src, 'up.bin');
    assert.deepEqual(await readFile(path.join(l.root, 'up.bin')), payload, 'byte-exact on the server');
    assert.equal(retries.length, times, JSON.stringify(retries));
    // Each retry continues with APPE from SIZE, or with STOR from zero when the server had stored nothing
    // of the cut stream yet (SIZE 0): both are byte-exact.
    const appes = l.commands.filter((x) => x.startsWith('APPE '));
    assert.equal(appes.length + l.commands.filter((x) => x.startsWith('STOR ')).length, times + 1, l.commands.join(' | '));
    await c.close();
  });
}

test('without retries the same cut fails (the test can fail)', async (t) => {
  const l = await lab(t);
  await writeFile(path.join(l.root, 'big.bin'), randomBytes(SIZE));
  const { c } = client(t, l, 0);
  await c.connect();
  l.cutter.armData({ direction: 'down', afterBytes: 500_000 });
  // The server answers 426 for the data connection it lost (or the client sees the reset first).
  await assert.rejects(new Retrier(c).download('big.bin', path.join(l.local, 'big.bin')),
    (e: unknown) => e instanceof FtpNetworkError || (e instanceof FtpReplyError && e.replyCode === 426));
});

test('a 550 is never retried', async (t) => {
  const l = await lab(t);
  const { c, retries } = client(t, l, 3);
  await c.connect();
  await assert.rejects(new Retrier(c).download('missing.bin', path.join(l.local, 'missing.bin')),
    (e: unknown) => e instanceof FtpReplyError && e.replyCode === 550);
  assert.equal(retries.length, 0);
  assert.equal(l.commands.filter((x) => x.startsWith('RETR ')).length, 1, l.commands.join(' | '));
});

test('a mirror survives a restart of the server: it completes, finished files are not fetched again', async (t) => {
  const dir = await tempDir(t);
  const root = path.join(dir, 'root');
  const local = path.join(dir, 'local');
  await mkdir(root);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < 12; i++) {
    const data = randomBytes(200_000 + i);
    files.set(`f${String(i).padStart(2, '0')}.bin`, data);
    await writeFile(path.join(root, `f${String(i).padStart(2, '0')}.bin`), data);
  }
  const storage = new LocalStorage(root);
  const pasv = await freePortRange(6);
  const start = async (commands: string[]): Promise<FtpServer> => {
    const server = new FtpServer({
      host: '127.0.0.1', port: 0, passive: { portRange: pasv }, limits: { loginFailureDelayMs: 10 },
      authenticator: { authenticate: async (n, p) => (n === 'u' && p === 'p' ? { name: 'u', storage, permissions: { ...READ_WRITE } } : null) },
    });
    server.on('transcript', (e) => { if (e.direction === 'in') commands.push(e.line); });
    await server.listen();
    return server;
  };
  const before: string[] = [];
  const afterRestart: string[] = [];
  let first = await start(before);
  let second: FtpServer | undefined;
  t.after(async () => { await first.close({ timeoutMs: 500 }); await second?.close({ timeoutMs: 500 }); });
  const cutter = await startCuttingProxy({ port: first.address()!.port, pasv });
  t.after(() => cutter.close());
  const c = new FtpClient({ host: cutter.host, port: cutter.port, user: 'u', password: 'p', retry: { retries: 8, delayMs: 100 } });
  const retries: RetryEvent[] = [];
  c.on('retry', (e) => retries.push(e));
  t.after(() => c.destroy());
  await c.connect();
  let done = 0;
  let restarted: Promise<void> | undefined;
  const result = await mirror(retryingTreeClient(c, c.options.retry!), {
    direction: 'download', remoteDir: '.', localDir: local, compare: 'newer',
    onEvent: (e) => {
      if (e.type !== 'action-done' || e.action.kind === 'skip') return;
      done++;
      // After the third file: the server goes away, and a new one on another port takes its place.
      if (done === 3) {
        restarted = (async () => {
          cutter.pause(true);
          await first.close({ timeoutMs: 100 });
          second = await start(afterRestart);
          cutter.retarget(second.address()!.port);
          cutter.pause(false);
        })();
      }
    },
  });
  await restarted;
  assert.deepEqual(result.failures.map((f) => f.error.message), []);
  for (const [name, data] of files) assert.deepEqual(await readFile(path.join(local, name)), data, name);
  assert.ok(retries.length >= 1, 'at least one retry');
  const fetchedAgain = afterRestart.filter((x) => x.startsWith('RETR '));
  assert.ok(fetchedAgain.length <= files.size - 3, `files done before the restart were not fetched again: ${fetchedAgain.join(', ')}`);
  assert.ok(fetchedAgain.length >= 1, 'the new server served the rest');
});
