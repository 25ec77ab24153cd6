/**
 * The storages' side of the upload modes (storage/types.ts WriteOptions): an atomic write leaves the old
 * content until its stream finishes and nothing when destroyed first; truncateOnData keeps the old content
 * until the first byte; the start-up sweep removes only dead processes' temporary files of our pattern.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { LocalStorage, MemoryStorage } from '../../src/server/index.js';
import type { Storage } from '../../src/server/index.js';
import { isUploadTempName } from '../../src/server/storage/upload-temp.js';
import { countFileSyncs } from '../support/fsync-counter.js';
import { tempDir } from '../support/temp-dir.js';

async function content(s: Storage, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await s.openRead(path)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function complete(w: Writable, text: string): Promise<void> {
  w.end(text);
  await finished(w);
}

/** Write, let the write reach the storage, then destroy the stream as a failed transfer does. */
async function cut(w: Writable, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => w.write(text, err => (err ? reject(err) : resolve())));
  const closed = new Promise(resolve => w.once('close', resolve));
  w.destroy();
  await closed;
}

const backends: Array<[string, (t: { after(fn: () => unknown): void }) => Promise<Storage>]> = [
  ['memory', async () => { const m = new MemoryStorage(); m.writeFile('/f.txt', 'OLD'); return m; }],
  ['local', async t => { const root = await tempDir(t); await writeFile(join(root, 'f.txt'), 'OLD'); return new LocalStorage(root); }],
];

for (const [name, make] of backends) {
  test(`${name}: an atomic write shows nothing until it finishes and leaves nothing when destroyed`, async t => {
    const s = await make(t);
    const w = await s.openWrite('/f.txt', { atomic: true });
    await new Promise<void>((resolve, reject) => w.write('NEW', err => (err ? reject(err) : resolve())));
    assert.equal(await content(s, '/f.txt'), 'OLD');
    assert.deepEqual((await s.list('/')).map(i => i.name), ['f.txt']);
    await complete(w, '!');
    assert.equal(await content(s, '/f.txt'), 'NEW!');

    await cut(await s.openWrite('/f.txt', { atomic: true }), 'cut');
    await cut(await s.openWrite('/g.txt', { atomic: true }), 'cut');
    assert.equal(await content(s, '/f.txt'), 'NEW!');
    assert.deepEqual((await s.list('/')).map(i => i.name), ['f.txt']);
  });

  test(`${name}: atomic exclusive write (STOU) refuses an existing name, at open and at the end`, async t => {
    const s = await make(t);
    await assert.rejects(s.openWrite('/f.txt', { atomic: true, exclusive: true }), { failure: 'exists' });
    const w = await s.openWrite('/u.txt', { atomic: true, exclusive: true });
    await complete(await s.openWrite('/u.txt'), 'raced');
    w.end('mine');
    await assert.rejects(finished(w), { failure: 'exists' });
    assert.equal(await content(s, '/u.txt'), 'raced', 'the name that appeared meanwhile is not replaced');
  });

  test(`${name}: atomic REST + STOR copies the kept part; atomic APPE is cut back on failure`, async t => {
    const s = await make(t) as Storage & { openWriteAt(p: string, o: number, x?: object): Promise<Writable>; openAppend(p: string, x?: object): Promise<Writable> };
    await cut(await s.openWriteAt('/f.txt', 1, { atomic: true }), 'xx');
    await cut(await s.openAppend('/f.txt', { atomic: true }), 'tail');
    assert.equal(await content(s, '/f.txt'), 'OLD');
    await complete(await s.openWriteAt('/f.txt', 1, { atomic: true }), 'K');
    assert.equal(await content(s, '/f.txt'), 'OK');
    await cut(await s.openAppend('/new.txt', { atomic: true }), 'tail');
    assert.deepEqual((await s.list('/')).map(i => i.name), ['f.txt'], 'a failed APPE leaves no file it created');
    await complete(await s.openAppend('/new.txt', { atomic: true }), 'ok');
    assert.equal(await content(s, '/new.txt'), 'ok');
  });

  test(`${name}: truncateOnData keeps the old content until the first byte`, async t => {
    const s = await make(t);
    const w = await s.openWrite('/f.txt', { truncateOnData: true });
    assert.equal(await content(s, '/f.txt'), 'OLD');
    await complete(w, 'N');
    assert.equal(await content(s, '/f.txt'), 'N');
    await complete(await s.openWrite('/f.txt', { truncateOnData: true }), '');
    assert.equal(await content(s, '/f.txt'), '', 'an empty upload still replaces');
  });
}

test('local: the sweep removes only our pattern of dead processes, in every folder, and the names are reserved', async t => {
  const root = await tempDir(t);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const deadName = `.ftpkit-upload.${dead}.0123456789abcdef.part`;
  const liveName = `.ftpkit-upload.${process.pid}.0123456789abcdef.part`;
  await mkdir(join(root, 'a', 'b'), { recursive: true });
  for (const p of [deadName, join('a', 'b', deadName), liveName, '.ftpkit-upload.other.part', 'keep.txt']) {
    await writeFile(join(root, p), 'x');
  }
  assert.ok(isUploadTempName(deadName) && !isUploadTempName('.ftpkit-upload.other.part'));
  const s = new LocalStorage(root);
  await assert.rejects(s.stat(`/${liveName}`), { failure: 'not-found' });
  await assert.rejects(s.openRead(`/${liveName}`), { failure: 'not-found' });
  await assert.rejects(s.delete(`/a/b/${deadName}`), { failure: 'not-found' });
  await assert.rejects(s.openWrite(`/${deadName}`), { failure: 'invalid-name' });
  await assert.rejects(s.mkdir(`/${deadName}`), { failure: 'invalid-name' });
  assert.equal(await s.sweepUploadTemps(), 2);
  assert.deepEqual((await readdir(root)).sort(), ['.ftpkit-upload.other.part', liveName, 'a', 'keep.txt'].sort());
  assert.deepEqual(await readdir(join(root, 'a', 'b')), []);
  assert.equal(await readFile(join(root, 'keep.txt'), 'utf8'), 'x');
});

test('local: an atomic write is fsync\'ed only with durable: true (uploads.fsync), and completes either way', async t => {
  const dir = await tempDir(t);
  const storage = new LocalStorage(dir);
  const syncs = await countFileSyncs(t, dir);
  await complete(await storage.openWrite('/a.txt', { atomic: true, durable: true }), 'durable');
  assert.ok(syncs() >= 1, 'durable: true fsyncs the file');
  const before = syncs();
  await complete(await storage.openWrite('/b.txt', { atomic: true }), 'fast');
  assert.equal(syncs(), before, 'the default atomic write does not fsync');
  await complete(await storage.openWrite('/c.txt', { atomic: true, durable: false }), 'fast');
  assert.equal(syncs(), before, 'durable: false skips fsync');
  assert.equal(await content(storage, '/a.txt'), 'durable');
  assert.equal(await content(storage, '/b.txt'), 'fast');
  assert.equal(await content(storage, '/c.txt'), 'fast');
  assert.deepEqual((await readdir(dir)).filter(isUploadTempName), [], 'no temporary file left');
});
