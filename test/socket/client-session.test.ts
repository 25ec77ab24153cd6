/**
 * FtpClient session behaviour against the scripted fake server: one command in flight, keepalive only while
 * idle, both halves of a transfer in either order, TYPE A conversion on the wire, progress, REST/APPE for
 * resume, recursive mkdir/rmdir, and listings from servers without MLSD.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { startFakeServer, type FakeServerOptions } from '../support/fake-server.js';
import { FtpClient } from '../../src/client/index.js';
import type { FtpClientOptions, TranscriptEvent, ProgressEvent } from '../../src/client/index.js';
import type { TestContext } from 'node:test';
import { tempDir } from '../support/temp-dir.js';

const FAST = { connectMs: 5000, greetingMs: 5000, commandMs: 5000, dataMs: 5000 };

async function setup(t: TestContext, fakeOpts: FakeServerOptions, clientOpts: Partial<FtpClientOptions> = {}) {
  const fake = await startFakeServer(fakeOpts);
  const client = new FtpClient({ host: fake.host, port: fake.port, timeouts: FAST, ...clientOpts });
  const transcript: TranscriptEvent[] = [];
  client.on('transcript', e => transcript.push(e));
  t.after(async () => { client.destroy(); await fake.close(); });
  await client.connect();
  return { fake, client, transcript };
}

function collect(): { stream: PassThrough; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', c => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('latin1') };
}

test('concurrent calls are queued in call order, never interleaved', async t => {
  const { client, fake, transcript } = await setup(t, {
    commands: { SIZE: [{ delayMs: 150 }, '213 42'], MDTM: '213 20240115103000', PWD: '257 "/home"' },
  });
  const [size, pwd, mdtm, noop] = await Promise.all([
    client.size('a'), client.pwd(), client.modifiedAt('a'), client.send('NOOP'),
  ]);
  assert.equal(size, 42);
  assert.equal(pwd, '/home');
  assert.equal(mdtm.toISOString(), '2024-01-15T10:30:00.000Z');
  assert.equal(noop.code, 200);
  assert.deepEqual(fake.verbs().slice(-4), ['SIZE', 'PWD', 'MDTM', 'NOOP']);
  // Each command was written only after the previous reply arrived.
  const wire = transcript.filter(e => e.kind !== 'status').map(e => `${e.kind[0]} ${e.text.slice(0, 4)}`).slice(-8);
  assert.deepEqual(wire, ['c SIZE', 'r 213 ', 'c PWD', 'r 257 ', 'c MDTM', 'r 213 ', 'c NOOP', 'r 200 ']);
});

test('keepalive NOOP while idle, never during a running command', async t => {
  const { client, fake, transcript } = await setup(t, { commands: { SIZE: [{ delayMs: 500 }, '213 1'] } },
    { timeouts: { ...FAST, keepaliveMs: 100 } });
  await fake.waitFor('NOOP');
  const before = fake.received.length;
  await client.size('x');
  // No command may be written between SIZE and its reply.
  const wire = transcript.filter(e => e.kind !== 'status');
  const i = wire.findIndex(e => e.kind === 'command' && e.text === 'SIZE x');
  assert.equal(wire[i + 1].kind, 'response');
  assert.equal(wire[i + 1].text, '213 1');
  assert.ok(fake.received.length > before);
  // keepalive continues afterwards
  await fake.waitFor('NOOP', { already: false });
  await client.close();
  assert.equal(fake.verbs().at(-1), 'QUIT');
  assert.equal(client.connected, false);
  await assert.rejects(client.pwd(), (e: Error) => e.name === 'FtpClosedError');
});

test('a transfer completes when the final reply comes before the data (either order)', async t => {
  const body = Buffer.alloc(300_000, 7);
  const { client } = await setup(t, { commands: { RETR: { transfer: { send: body, finalFirst: true } } } });
  const out = collect();
  const r = await client.download('f', out.stream);
  assert.equal(r.bytes, body.length);
  assert.equal(out.text().length, body.length);
  assert.equal(r.reply?.code, 226);
});

test('end: false leaves the destination stream open (two downloads into one stream, like stdout)', async t => {
  const { client } = await setup(t, { files: { a: 'first ', b: 'second' } });
  const out = collect();
  await client.download('a', out.stream, { end: false });
  await client.download('b', out.stream, { end: false });
  assert.equal(out.stream.writableEnded, false);
  assert.equal(out.text(), 'first second');
  // No listener is left behind on the caller's stream, however many transfers it serves.
  for (let i = 0; i < 12; i++) await client.download('a', out.stream, { end: false });
  assert.deepEqual(['close', 'error', 'finish', 'drain', 'unpipe'].map(e => out.stream.listenerCount(e)), [0, 0, 0, 0, 0]);
});

test('TYPE A: CRLF on the wire, LF locally, both directions', async t => {
  const { client, fake } = await setup(t, { files: { 'f.txt': 'one\r\ntwo\r\nlone\rcr\r\n' } });
  const out = collect();
  await client.download('f.txt', out.stream, { type: 'ascii' });
  assert.equal(out.text(), 'one\ntwo\nlone\rcr\n');
  await client.upload(Readable.from([Buffer.from('a\nb\r\nc\n')]), 'up.txt', { type: 'ascii' });
  assert.equal(fake.uploads.get('up.txt')!.toString(), 'a\r\nb\r\nc\r\n');
  assert.ok(fake.received.some(c => c.line === 'TYPE A'));
  await client.upload(Readable.from([Buffer.from('a\nb')]), 'bin.txt');
  assert.equal(fake.uploads.get('bin.txt')!.toString(), 'a\nb');
  assert.equal(fake.received.filter(c => c.verb === 'TYPE').at(-1)!.arg, 'I');
});

test('download to a path: temporary name, renamed on success; progress events throttled with a final one', async t => {
  const dir = await tempDir(t, 'ftpkit-client-');
  const body = Buffer.alloc(2_000_000, 1);
  const { client } = await setup(t, { files: { big: body } });
  const events: ProgressEvent[] = [];
  client.on('progress', e => events.push(e));
  const target = path.join(dir, 'big.bin');
  const r = await client.download('big', target);
  assert.equal(r.bytes, body.length);
  assert.deepEqual(await fs.readdir(dir), ['big.bin']);
  assert.equal((await fs.stat(target)).size, body.length);
  const last = events.at(-1)!;
  assert.equal(last.done, true);
  assert.equal(last.bytes, body.length);
  assert.equal(last.total, body.length);
  assert.equal(events.filter(e => e.done).length, 1);
});

test('resume: download sends REST with the local size; upload sends SIZE then APPE with the rest', async t => {
  const dir = await tempDir(t, 'ftpkit-client-');
  const { client, fake } = await setup(t, {
    files: { f: '0123456789' },
    commands: { RETR: { transfer: { send: '456789' } }, SIZE: c => c.arg === 'up' ? '213 4' : '213 10' },
  });
  const local = path.join(dir, 'f');
  await fs.writeFile(local, '0123');
  const r = await client.download('f', local, { resume: true });
  assert.equal(r.startOffset, 4);
  assert.equal(await fs.readFile(local, 'utf8'), '0123456789');
  const rest = fake.received.filter(c => c.verb === 'REST');
  assert.deepEqual(rest.map(c => c.arg), ['4']);
  // nothing to do when the local file is complete
  const again = await client.download('f', local, { resume: true });
  assert.equal(again.bytes, 0);

  const src = path.join(dir, 'src');
  await fs.writeFile(src, 'abcdefgh');
  const u = await client.upload(src, 'up', { resume: true });
  assert.equal(u.startOffset, 4);
  assert.equal(fake.uploads.get('up')!.toString(), 'efgh');
  assert.ok(fake.received.some(c => c.line === 'APPE up'));
});

test('startAt: REST before RETR into a stream, REST before STOR from a positioned stream', async t => {
  const { client, fake } = await setup(t, { files: { f: '0123456789' }, commands: { RETR: { transfer: { send: '6789' } } } });
  const out = collect();
  const r = await client.download('f', out.stream, { startAt: 6 });
  assert.equal(out.text(), '6789');
  assert.equal(r.startOffset, 6);
  await client.upload(Readable.from([Buffer.from('tail')]), 'u', { startAt: 100 });
  assert.deepEqual(fake.received.filter(c => ['REST', 'RETR', 'STOR'].includes(c.verb)).map(c => c.line),
    ['REST 6', 'RETR f', 'REST 100', 'STOR u']);
  assert.equal(fake.uploads.get('u')!.toString(), 'tail');
  // TYPE A offsets are not byte offsets: refused before anything is sent
  await assert.rejects(client.download('f', collect().stream, { startAt: 3, type: 'ascii' }), /binary/);
});

test('list without MLST parses LIST; with MLST uses MLSD; nameList uses NLST', async t => {
  const unix = await setup(t, {
    listing: 'total 2\r\ndrwxr-xr-x    2 0        0            4096 Jan 15 10:30 sub dir\r\n-rw-r--r--    1 0        0             123 Jan 15  2023 file.txt\r\n',
    nlst: 'sub dir\r\nfile.txt\r\n',
  });
  const entries = await unix.client.list('/x');
  assert.deepEqual(entries.map(e => [e.name, e.type, e.size]), [['sub dir', 'dir', 4096], ['file.txt', 'file', 123]]);
  assert.deepEqual(await unix.client.nameList(), ['sub dir', 'file.txt']);
  assert.ok(unix.fake.received.some(c => c.line === 'LIST /x'));

  const mlsd = await setup(t, {
    commands: { FEAT: '211-Features:\r\n MLST type*;size*;modify*;\r\n EPSV\r\n211 End' },
    mlsd: 'type=cdir; .\r\ntype=file;size=5;modify=20240115103000; a b.txt\r\ntype=dir;modify=20240115103000; d\r\n',
  });
  const m = await mlsd.client.list();
  assert.deepEqual(m.map(e => [e.name, e.type, e.size]), [['a b.txt', 'file', 5], ['d', 'dir', undefined]]);
  assert.equal(m[0].modifiedAt?.toISOString(), '2024-01-15T10:30:00.000Z');
  assert.ok(mlsd.fake.verbs().includes('MLSD'));
  assert.ok(mlsd.client.features.has('MLST'));
});

test('MLST in FEAT but MLSD refused: LIST from then on', async t => {
  const { client, fake, transcript } = await setup(t, {
    commands: { FEAT: '211-Features:\r\n MLST type*;size*;\r\n211 End', MLSD: '502 MLSD not implemented' },
    listing: '-rw-r--r--    1 0        0              3 Jan 15 10:30 a.txt\r\n',
  });
  assert.deepEqual((await client.list()).map(e => e.name), ['a.txt']);
  assert.deepEqual((await client.list()).map(e => e.name), ['a.txt']);
  assert.deepEqual(fake.verbs().filter(v => v === 'MLSD' || v === 'LIST'), ['MLSD', 'LIST', 'LIST']);
  assert.ok(transcript.some(e => e.text === 'MLSD refused with 502: using LIST'));
});

test('stat: MLST when offered, else SIZE + MDTM', async t => {
  const a = await setup(t, {
    commands: {
      FEAT: '211-Features:\r\n MLST type*;size*;modify*;\r\n211 End',
      MLST: '250-Listing /d/f\r\n type=file;size=77;modify=20240115103000; /d/f\r\n250 End',
    },
  });
  const e = await a.client.stat('/d/f');
  assert.deepEqual([e.name, e.type, e.size], ['f', 'file', 77]);
  const b = await setup(t, { files: { '/d/g': 'hello' } });
  const g = await b.client.stat('/d/g');
  assert.deepEqual([g.name, g.type, g.size, g.modifiedAt?.toISOString()], ['g', 'file', 5, '2024-01-15T10:30:00.000Z']);
});

test('mkdir recursive and rmdir recursive; listing names with "/" or ".." are never acted on', async t => {
  const { client, fake, transcript } = await setup(t, {
    commands: { MKD: c => c.arg === 'a' || c.arg === 'a/b' ? '550 exists' : `257 "${c.arg}" created` },
    listing: {
      '/top': 'drwxr-xr-x 2 0 0 4096 Jan 15 10:30 sub\r\n-rw-r--r-- 1 0 0 1 Jan 15 10:30 f1\r\n-rw-r--r-- 1 0 0 1 Jan 15 10:30 ..\r\n',
      '/top/sub': '-rw-r--r-- 1 0 0 1 Jan 15 10:30 f2\r\n',
    },
  });
  await client.mkdir('a/b/c', { recursive: true });
  assert.deepEqual(fake.received.filter(c => c.verb === 'MKD').map(c => c.arg), ['a', 'a/b', 'a/b/c']);
  await client.rmdir('/top', { recursive: true });
  const acts = fake.received.filter(c => c.verb === 'DELE' || c.verb === 'RMD').map(c => c.line);
  assert.deepEqual(acts, ['DELE /top/sub/f2', 'RMD /top/sub', 'DELE /top/f1', 'RMD /top']);
  void transcript;
});

test('rename, delete, cd, site and setModifiedAt send the right commands', async t => {
  const { client, fake } = await setup(t, { commands: { SITE: '200 done', MFMT: '213 Modify=20240115103000; f' } });
  await client.rename('a', 'b');
  await client.delete('c');
  await client.cd('/d');
  const r = await client.site('CHMOD 644 f');
  assert.equal(r.code, 200);
  await client.setModifiedAt('f', new Date('2024-01-15T10:30:00Z'));
  assert.deepEqual(fake.received.slice(-6).map(c => c.line),
    ['RNFR a', 'RNTO b', 'DELE c', 'CWD /d', 'SITE CHMOD 644 f', 'MFMT 20240115103000 f']);
});

test('connect() again after close() or destroy(): a fresh session', async t => {
  const { client, fake } = await setup(t, { commands: { EPSV: '500 no' } });
  await client.list();
  assert.deepEqual(client.dataCommandsUsed, { passive: 'PASV' });
  await client.close();
  await client.connect();
  assert.deepEqual(client.dataCommandsUsed, {}, 'what worked is remembered per session only');
  assert.equal((await client.send('NOOP')).code, 200);
  client.destroy();
  await client.connect();
  assert.equal((await client.send('NOOP')).code, 200);
  assert.equal(fake.sessions.length, 3);
});
