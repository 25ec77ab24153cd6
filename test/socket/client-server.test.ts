/**
 * FtpClient against ftpkit's own FtpServer (LocalStorage in a temp dir), real sockets on loopback:
 * passive and active, EPSV/PASV/EPRT/PORT, IPv4 and IPv6, binary with SHA-256 and ASCII, resume of an
 * interrupted download and upload. The client's transcript proves which command carried the data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { createWriteStream, watch } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { startServer } from '../support/server-harness.js';
import { LocalStorage } from '../../src/server/index.js';
import type { UploadMode } from '../../src/server/index.js';
import { FtpClient } from '../../src/client/index.js';
import type { DataConnectionSettings, TranscriptEvent } from '../../src/client/index.js';
import type { TestContext } from 'node:test';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function serve(t: TestContext, host = '127.0.0.1', uploadMode?: UploadMode) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftpkit-cs-'));
  const root = path.join(dir, 'root');
  const local = path.join(dir, 'local');
  await fs.mkdir(root);
  await fs.mkdir(local);
  const h = await startServer({ host, storage: new LocalStorage(root), ...(uploadMode ? { options: { uploads: { mode: uploadMode } } } : {}) });
  t.after(async () => { await h.close(); await fs.rm(dir, { recursive: true, force: true }); });
  return { h, root, local };
}

async function client(t: TestContext, host: string, port: number, data?: DataConnectionSettings) {
  const c = new FtpClient({ host, port, user: 'test', password: 'test', data, timeouts: { commandMs: 10_000, dataMs: 10_000 } });
  const transcript: TranscriptEvent[] = [];
  c.on('transcript', e => transcript.push(e));
  t.after(() => c.destroy());
  await c.connect();
  return { c, commands: () => transcript.filter(e => e.kind === 'command').map(e => e.text.split(' ')[0]) };
}

const BIG = randomBytes(12 * 1024 * 1024);

const MATRIX: Array<{ name: string; host: string; data: DataConnectionSettings; verb: string }> = [
  { name: 'IPv4 passive EPSV', host: '127.0.0.1', data: { passive: { command: 'epsv' } }, verb: 'EPSV' },
  { name: 'IPv4 passive PASV', host: '127.0.0.1', data: { passive: { command: 'pasv' } }, verb: 'PASV' },
  { name: 'IPv4 active EPRT', host: '127.0.0.1', data: { mode: 'active', active: { command: 'eprt' } }, verb: 'EPRT' },
  { name: 'IPv4 active PORT', host: '127.0.0.1', data: { mode: 'active', active: { command: 'port' } }, verb: 'PORT' },
  { name: 'IPv6 passive EPSV', host: '::1', data: {}, verb: 'EPSV' },
  { name: 'IPv6 active EPRT', host: '::1', data: { mode: 'active' }, verb: 'EPRT' },
];

for (const m of MATRIX) {
  test(`our server, ${m.name}: 12 MiB up and down byte-exact, listing, ASCII`, async t => {
    const { h, root, local } = await serve(t, m.host);
    const { c, commands } = await client(t, m.host, h.port, m.data);
    await fs.writeFile(path.join(local, 'src.bin'), BIG);
    const up = await c.upload(path.join(local, 'src.bin'), '/big.bin');
    assert.equal(up.bytes, BIG.length);
    assert.equal(sha(await fs.readFile(path.join(root, 'big.bin'))), sha(BIG));
    const down = await c.download('/big.bin', path.join(local, 'back.bin'));
    assert.equal(down.bytes, BIG.length);
    assert.equal(sha(await fs.readFile(path.join(local, 'back.bin'))), sha(BIG));
    const names = (await c.list('/')).map(e => e.name);
    assert.deepEqual(names, ['big.bin']);
    // ASCII: local LF, the server stores its local form (LF) after converting CRLF from the wire.
    await c.upload(Readable.from([Buffer.from('line 1\nline 2\n')]), '/t.txt', { type: 'ascii' });
    assert.equal(await fs.readFile(path.join(root, 't.txt'), 'utf8'), 'line 1\nline 2\n');
    await c.download('/t.txt', path.join(local, 't.txt'), { type: 'ascii' });
    assert.equal(await fs.readFile(path.join(local, 't.txt'), 'utf8'), 'line 1\nline 2\n');
    // every transfer went through the chosen command
    const data = commands().filter(v => ['EPSV', 'PASV', 'EPRT', 'PORT'].includes(v));
    assert.ok(data.length >= 5 && data.every(v => v === m.verb), `data commands: ${data.join(',')}`);
    await c.close();
  });
}

test('our server: an interrupted download and upload are resumed (REST / APPE), SHA-256 equal', async t => {
  // Resuming an upload needs the partial file on the server: the resumable upload mode (atomic removes it).
  const { h, root, local } = await serve(t, '127.0.0.1', 'resumable');
  const { c, commands } = await client(t, '127.0.0.1', h.port);
  await fs.writeFile(path.join(root, 'big.bin'), BIG);
  const target = path.join(local, 'big.bin');

  // Interrupt a download: the local writer fails after ~3 MiB.
  const file = createWriteStream(target);
  let written = 0;
  const failing = new Writable({
    write(chunk: Buffer, _e, cb) {
      if (written > 3 * 1024 * 1024) { cb(new Error('disk unplugged')); return; }
      written += chunk.length;
      file.write(chunk, cb);
    },
  });
  await assert.rejects(c.download('/big.bin', failing), /disk unplugged/);
  await new Promise<void>(resolve => file.end(resolve));
  const partial = (await fs.stat(target)).size;
  assert.ok(partial > 0 && partial < BIG.length, `partial ${partial}`);
  const r = await c.download('/big.bin', target, { resume: true });
  assert.equal(r.startOffset, partial);
  assert.equal(r.bytes, BIG.length - partial);
  assert.equal(sha(await fs.readFile(target)), sha(BIG));
  assert.ok(commands().includes('REST'));

  // Interrupt an upload: the source fails once the server has stored 2 MiB (watched, not slept on).
  const src = path.join(local, 'src.bin');
  await fs.writeFile(src, BIG);
  const stored = path.join(root, 'up.bin');
  const watcher = watch(root);
  t.after(() => watcher.close());
  const broken = Readable.from((async function* () {
    yield BIG.subarray(0, 2 * 1024 * 1024);
    for (;;) {
      const size = await fs.stat(stored).then(s => s.size, () => 0);
      if (size >= 2 * 1024 * 1024) break;
      // the change event may come between stat() and here: re-check at least every 50 ms
      await Promise.race([once(watcher, 'change'), delay(50)]);
    }
    throw new Error('source vanished');
  })());
  await assert.rejects(c.upload(broken, '/up.bin'), /source vanished/);
  const remotePartial = (await fs.stat(path.join(root, 'up.bin'))).size;
  assert.ok(remotePartial > 0 && remotePartial < BIG.length, `remote partial ${remotePartial}`);
  const u = await c.upload(src, '/up.bin', { resume: true });
  assert.equal(u.startOffset, remotePartial);
  assert.equal(sha(await fs.readFile(path.join(root, 'up.bin'))), sha(BIG));
  assert.ok(commands().includes('APPE'));
  await c.close();
});

test('resume refuses a local file larger than the remote one, and leaves it as it was', async t => {
  const { h, root } = await serve(t);
  await fs.writeFile(path.join(root, 'small.txt'), 'remote');
  const { c } = await client(t, '127.0.0.1', h.port);
  const local = await fs.mkdtemp(path.join(os.tmpdir(), 'ftpkit-resume-'));
  t.after(() => fs.rm(local, { recursive: true, force: true }));
  const target = path.join(local, 'small.txt');
  await fs.writeFile(target, 'a longer local file');
  await assert.rejects(c.download('/small.txt', target, { resume: true }),
    (e: Error & { code?: string }) => e.code === 'ERR_FTP_USAGE' && /19 bytes, more than the 6/.test(e.message));
  assert.equal(await fs.readFile(target, 'utf8'), 'a longer local file');
  // Same size: complete already, nothing to do.
  await fs.writeFile(target, 'remote');
  assert.equal((await c.download('/small.txt', target, { resume: true })).bytes, 0);
  await c.close();
});

test('our server: mkdir/rmdir recursive, rename, delete, stat, size, MFMT, pwd/cd', async t => {
  const { h, root } = await serve(t);
  const { c } = await client(t, '127.0.0.1', h.port);
  await c.mkdir('/a/b/c', { recursive: true });
  await c.upload(Readable.from([Buffer.from('hello')]), '/a/b/c/f.txt');
  await c.cd('/a/b');
  assert.equal(await c.pwd(), '/a/b');
  assert.equal(await c.size('c/f.txt'), 5);
  const when = new Date('2020-02-03T04:05:06Z');
  await c.setModifiedAt('c/f.txt', when);
  assert.equal((await c.modifiedAt('c/f.txt')).toISOString(), when.toISOString());
  const st = await c.stat('/a/b/c/f.txt');
  assert.deepEqual([st.name, st.type, st.size], ['f.txt', 'file', 5]);
  await c.rename('c/f.txt', 'c/g.txt');
  assert.deepEqual((await c.nameList('c')).map(n => path.posix.basename(n)), ['g.txt']);
  await c.rmdir('/a', { recursive: true });
  assert.deepEqual(await fs.readdir(root), []);
  await c.close();
});

test('our server: abort() of a running download and of a running upload; the session goes on', async t => {
  const { h, root, local } = await serve(t);
  const { c, commands } = await client(t, '127.0.0.1', h.port);
  await fs.writeFile(path.join(root, 'big.bin'), BIG);
  // The sink aborts the transfer from inside, on the first chunk, and then stops consuming.
  let aborting: Promise<void> | undefined;
  const sinkStream = new Writable({
    highWaterMark: 1,
    write(_chunk, _e, cb) { aborting ??= c.abort(); void cb; /* never acknowledge: the data stalls */ },
  });
  const started = performance.now();
  await assert.rejects(c.download('/big.bin', sinkStream), (e: Error) => e.name === 'FtpAbortedError');
  await aborting;
  assert.ok(performance.now() - started < 5000);
  assert.ok(commands().includes('ABOR'));
  assert.equal((await c.send('NOOP')).code, 200);

  // Upload from a source that sends 1 MiB and then waits forever: abort it.
  const endless = new Readable({ read() {} });
  endless.push(BIG.subarray(0, 1024 * 1024));
  const up = c.upload(endless, '/partial.bin');
  // Atomic uploads (the default) write a hidden temporary file until complete: wait for it to hold bytes.
  const writing = async () => {
    for (const name of (await fs.readdir(root)).filter(n => n.startsWith('.ftpkit-upload.'))) {
      if ((await fs.stat(path.join(root, name)).then(s => s.size, () => 0)) > 0) return true;
    }
    return false;
  };
  const watcher = watch(root);
  t.after(() => watcher.close());
  while (!(await writing())) await Promise.race([once(watcher, 'change'), delay(50)]);
  await c.abort();
  await assert.rejects(up, (e: Error) => e.name === 'FtpAbortedError');
  assert.equal(commands().filter(v => v === 'ABOR').length, 2);
  const names = (await c.list('/')).map(e => e.name).sort();
  assert.deepEqual(names, ['big.bin'], 'the aborted upload left nothing');
  assert.deepEqual(await fs.readdir(root), ['big.bin']);
  await c.close();
});

test('our server: TYPE A progress counts local bytes, so it ends at 100% of the local size / SIZE (not CRLF wire bytes)', async t => {
  const { h, root, local } = await serve(t);
  const text = 'a\nb\nc\n';
  await fs.writeFile(path.join(local, 'lf.txt'), text);
  const c = await FtpClient.connect({ host: '127.0.0.1', port: h.port, user: 'test', password: 'test' });
  t.after(() => c.destroy());
  const last: Record<string, { bytes: number; total?: number }> = {};
  c.on('progress', p => { last[p.direction] = { bytes: p.bytes, total: p.total }; });
  const up = await c.upload(path.join(local, 'lf.txt'), '/lf.txt', { type: 'ascii' });
  assert.equal(up.bytes, text.length + 3, 'the result still reports the bytes on the wire (CRLF)');
  assert.equal(await fs.readFile(path.join(root, 'lf.txt'), 'utf8'), text);
  assert.deepEqual(last.upload, { bytes: text.length, total: text.length });
  await c.download('/lf.txt', path.join(local, 'back.txt'), { type: 'ascii' });
  assert.equal(await fs.readFile(path.join(local, 'back.txt'), 'utf8'), text);
  assert.deepEqual(last.download, { bytes: text.length, total: text.length });
  await c.close();
});
