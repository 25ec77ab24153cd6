/**
 * Segmented download, verification and timestamps of the client (docs/client.md#segmented-download,
 * #verification, #timestamps) against ftpkit's own FtpServer on a LocalStorage temp dir, real sockets on
 * loopback, byte-exact. The transcripts prove which commands carried each feature.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { startServer, type HarnessOptions } from '../support/server-harness.js';
import { LocalStorage } from '../../src/server/index.js';
import { FtpClient, FtpVerifyError } from '../../src/client/index.js';
import type { TranscriptEvent } from '../../src/client/index.js';
import { chooseVerifyMethod } from '../../src/client/verify.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const DATA = randomBytes(5 * 1024 * 1024 + 12345);

async function serve(t: TestContext, options: HarnessOptions['options'] = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftpkit-ops-'));
  const root = path.join(dir, 'root');
  const local = path.join(dir, 'local');
  await fs.mkdir(path.join(root, 'elsewhere'), { recursive: true });
  await fs.mkdir(local);
  // "other" logs in to /elsewhere, where the test files are not.
  const users = { test: { password: 'test' }, other: { password: 'other', home: '/elsewhere' } };
  const h = await startServer({ storage: new LocalStorage(root), options, users });
  t.after(async () => { await h.close(); await fs.rm(dir, { recursive: true, force: true }); });
  return { h, root, local };
}

async function client(t: TestContext, port: number) {
  const options = { host: '127.0.0.1', port, user: 'test', password: 'test', timeouts: { commandMs: 20_000, dataMs: 20_000 } };
  const c = new FtpClient(options);
  const transcript: TranscriptEvent[] = [];
  c.on('transcript', e => transcript.push(e));
  t.after(() => c.destroy());
  await c.connect();
  const extras: FtpClient[] = [];
  t.after(() => { for (const x of extras) x.destroy(); });
  const connect = async (user = 'test') => {
    const x = new FtpClient({ ...options, user, password: user });
    x.on('transcript', e => transcript.push(e));
    extras.push(x);
    await x.connect();
    return x;
  };
  return { c, transcript, connect, extras, sent: () => transcript.filter(e => e.kind === 'command').map(e => e.text) };
}

async function leftovers(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter(n => n.includes('ftpkit-part'));
}

test('segmented download: 4 ranges with REST on 4 connections, byte-exact, hash-verified, no temporary file left', async t => {
  const { h, root, local } = await serve(t);
  await fs.writeFile(path.join(root, 'big.bin'), DATA);
  const { c, sent, connect, extras } = await client(t, h.port);
  const dest = path.join(local, 'big.bin');
  const progress: Array<{ bytes: number; total?: number; done: boolean }> = [];
  c.on('progress', e => progress.push(e));
  let extraProgress = 0;
  const counted = async () => { const x = await connect(); x.on('progress', () => { extraProgress++; }); return x; };
  const r = await c.download('big.bin', dest, { segments: 4, connect: counted });
  assert.equal(r.segments, 4);
  assert.equal(r.bytes, DATA.length);
  assert.equal(sha(await fs.readFile(dest)), sha(DATA));
  assert.equal(extras.length, 3);
  // Each range started where it should: REST 0 is not sent, the other three are.
  const chunk = Math.floor(DATA.length / 4);
  const rests = sent().filter(l => l.startsWith('REST ')).map(l => Number(l.slice(5))).sort((a, b) => a - b);
  assert.deepEqual(rests, [chunk, 2 * chunk, 3 * chunk]);
  assert.ok(sent().includes('ABOR'), 'the ranges before the last end with ABOR');
  // Our server offers HASH: the file was checked with SHA-256.
  assert.equal(r.verified?.method, 'SHA-256');
  assert.equal(r.verified?.value, sha(DATA));
  assert.deepEqual(await leftovers(local), []);
  // One progress for the whole file on the caller's client, none from the ranges' connections.
  assert.deepEqual(progress.at(-1), { ...progress.at(-1), bytes: DATA.length, total: DATA.length, done: true });
  assert.equal(progress.filter(e => e.done).length, 1);
  assert.equal(extraProgress, 0);
  // The caller's session is still usable after its range.
  assert.equal(await c.size('big.bin'), DATA.length);
});

test('segmented download falls back to one stream for a small file, and says why', async t => {
  const { h, root, local } = await serve(t);
  const small = randomBytes(300_000);
  await fs.writeFile(path.join(root, 'small.bin'), small);
  const { c, transcript, connect, extras } = await client(t, h.port);
  const r = await c.download('small.bin', path.join(local, 'small.bin'), { segments: 4, connect });
  assert.equal(r.segments, undefined);
  assert.equal(extras.length, 0, 'no extra connection for a small file');
  assert.equal(sha(await fs.readFile(path.join(local, 'small.bin'))), sha(small));
  assert.ok(transcript.some(e => e.kind === 'status' && /one connection instead of 4: .*smaller than two segments/.test(e.text)));
});

test('segmented download: a failed range leaves neither the final name nor a temporary file', async t => {
  const { h, root, local } = await serve(t);
  await fs.writeFile(path.join(root, 'big.bin'), DATA);
  const { c, connect } = await client(t, h.port);
  const dest = path.join(local, 'big.bin');
  await fs.writeFile(dest, 'previous content');
  // The second extra connection logs in where big.bin is not: its RETR of the relative path is refused.
  let n = 0;
  const failing = () => connect(++n === 2 ? 'other' : 'test');
  await assert.rejects(c.download('big.bin', dest, { segments: 3, connect: failing }),
    (e: Error & { replyCode?: number }) => e.name === 'FtpReplyError' && e.replyCode === 550);
  assert.equal(await fs.readFile(dest, 'utf8'), 'previous content', 'the previous file is untouched');
  assert.deepEqual(await leftovers(local), []);
});

test('verify: HASH with SHA-256 after a download and an upload; a mismatch is FtpVerifyError and removes the temporary file', async t => {
  const { h, root, local } = await serve(t);
  const body = randomBytes(200_000);
  await fs.writeFile(path.join(root, 'f.bin'), body);
  const { c, sent } = await client(t, h.port);
  assert.deepEqual(chooseVerifyMethod(c.features), { kind: 'hash', algorithm: 'SHA-256', digest: 'sha256', selected: true });
  const dest = path.join(local, 'f.bin');
  const r = await c.download('f.bin', dest, { verify: true });
  assert.deepEqual(r.verified, { method: 'SHA-256', value: sha(body) });
  assert.ok(sent().includes('HASH f.bin'));
  const up = await c.upload(dest, 'copy.bin', { verify: true });
  assert.deepEqual(up.verified, { method: 'SHA-256', value: sha(body) });

  // The server's file changes between the transfer and the check: appended to when the RETR is done,
  // before the server reads the next command (HASH).
  await fs.writeFile(dest, 'old');
  h.server.once('download', () => appendFileSync(path.join(root, 'f.bin'), 'changed'));
  await assert.rejects(c.download('f.bin', dest, { verify: true }),
    (e: unknown) => e instanceof FtpVerifyError && e.reason === 'mismatch' && e.method === 'SHA-256' && e.expected !== e.actual);
  assert.equal(await fs.readFile(dest, 'utf8'), 'old', 'the destination keeps its previous content');
  assert.deepEqual(await leftovers(local), []);
});

test('preserveTime: the download gets the server\'s MDTM time, the upload sets MFMT', async t => {
  const { h, root, local } = await serve(t);
  const when = new Date('2020-02-03T04:05:06Z');
  await fs.writeFile(path.join(root, 'old.txt'), 'old file');
  await fs.utimes(path.join(root, 'old.txt'), when, when);
  const { c, sent } = await client(t, h.port);
  const dest = path.join(local, 'old.txt');
  const r = await c.download('old.txt', dest, { preserveTime: true });
  assert.equal(r.modifiedAt?.getTime(), when.getTime());
  assert.equal((await fs.stat(dest)).mtime.getTime(), when.getTime());
  assert.ok(sent().includes('MDTM old.txt'));

  const localWhen = new Date('2019-01-02T03:04:05Z');
  await fs.utimes(dest, localWhen, localWhen);
  const up = await c.upload(dest, 'up.txt', { preserveTime: true });
  assert.equal(up.modifiedAt?.getTime(), localWhen.getTime());
  assert.equal((await fs.stat(path.join(root, 'up.txt'))).mtime.getTime(), localWhen.getTime());
  assert.ok(sent().includes('MFMT 20190102030405 up.txt'));

  // Without the option the download time stays.
  await c.download('old.txt', path.join(local, 'now.txt'));
  assert.ok((await fs.stat(path.join(local, 'now.txt'))).mtime.getTime() > when.getTime());
});

test('verify after a resumed download: a mismatch renames the file to NAME.ftpkit-mismatch', async t => {
  const { h, root, local } = await serve(t);
  const body = randomBytes(300_000);
  await fs.writeFile(path.join(root, 'r.bin'), body);
  const { c } = await client(t, h.port);
  const dest = path.join(local, 'r.bin');
  await fs.writeFile(dest, body.subarray(0, 100_000));
  h.server.once('download', () => appendFileSync(path.join(root, 'r.bin'), 'changed'));
  await assert.rejects(c.download('r.bin', dest, { resume: true, verify: true }), { name: 'FtpVerifyError', reason: 'mismatch' });
  await assert.rejects(fs.stat(dest), { code: 'ENOENT' });
  assert.equal(sha(await fs.readFile(`${dest}.ftpkit-mismatch`)), sha(body));
});
