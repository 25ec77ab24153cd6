import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { FtpStorageError, MemoryStorage } from '../../src/server/index.js';
import type { StorageFailure } from '../../src/server/index.js';
import { FtpUsageError } from '../../src/errors.js';

async function failure(p: Promise<unknown>): Promise<StorageFailure> {
  try { await p; } catch (err) { assert.ok(err instanceof FtpStorageError); return err.failure; }
  assert.fail('expected a storage error');
}

/** `opts` as the storage's write calls take it: a REST offset (openWriteAt), APPE (openAppend) or a plain write. */
async function write(s: MemoryStorage, path: string, data: string, opts: { start?: number; append?: boolean } = {}): Promise<void> {
  const sink = opts.append ? await s.openAppend(path) : opts.start !== undefined ? await s.openWriteAt(path, opts.start) : await s.openWrite(path);
  await pipeline(Readable.from([Buffer.from(data)]), sink);
}

async function read(s: MemoryStorage, path: string, start?: number): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await s.openRead(path, { start })) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

test('write, read, offsets, append, exclusive', async () => {
  const s = new MemoryStorage();
  await write(s, '/a.txt', 'hello world');
  assert.equal(await read(s, '/a.txt'), 'hello world');
  assert.equal(await read(s, '/a.txt', 6), 'world');
  assert.equal(await read(s, '/a.txt', 100), '');
  await write(s, '/a.txt', 'W', { start: 6 });
  assert.equal(await read(s, '/a.txt'), 'hello W', 'REST + STOR truncates at the offset');
  await write(s, '/a.txt', '!', { append: true });
  assert.equal(await read(s, '/a.txt'), 'hello W!');
  assert.equal(await failure(s.openWrite('/a.txt', { exclusive: true })), 'exists');
  await write(s, '/a.txt', 'new');
  assert.equal(await read(s, '/a.txt'), 'new', 'plain STOR replaces');
  assert.equal((await s.stat('/a.txt')).size, 3);
});

test('a large file written in many chunks reads back in slices', async () => {
  const s = new MemoryStorage();
  const parts = Array.from({ length: 100 }, (_, i) => Buffer.alloc(10_000, i));
  await pipeline(Readable.from(parts), await s.openWrite('/big'));
  const back = s.readFile('/big');
  assert.deepEqual(back, Buffer.concat(parts));
  assert.equal((await read(s, '/big', 999_999)).length, 1);
});

test('directories and error kinds', async () => {
  const s = new MemoryStorage();
  await s.mkdir('/d');
  assert.equal(await failure(s.mkdir('/d')), 'exists');
  assert.equal(await failure(s.mkdir('/x/y')), 'not-found');
  await write(s, '/d/f', 'x');
  assert.equal(await failure(s.rmdir('/d')), 'not-empty');
  assert.equal(await failure(s.rmdir('/d/f')), 'not-a-directory');
  assert.equal(await failure(s.delete('/d')), 'is-a-directory');
  assert.equal(await failure(s.openRead('/d')), 'is-a-directory');
  assert.equal(await failure(s.openWrite('/d')), 'is-a-directory');
  assert.equal(await failure(s.list('/d/f')), 'not-a-directory');
  assert.equal(await failure(s.stat('/d/f/g')), 'not-a-directory');
  assert.equal(await failure(s.rmdir('/')), 'permission');
  assert.deepEqual((await s.list('/d')).map(e => e.name), ['f']);
  await s.delete('/d/f');
  await s.rmdir('/d');
  assert.deepEqual(await s.list('/'), []);
});

test('rename keeps identity; a directory cannot move into itself; files replace files', async () => {
  const s = new MemoryStorage();
  s.writeFile('/a/b.txt', '1');
  s.writeFile('/c.txt', '2');
  const id = (await s.stat('/a/b.txt')).unique;
  await s.rename('/a/b.txt', '/moved.txt');
  assert.equal((await s.stat('/moved.txt')).unique, id);
  assert.equal(await failure(s.rename('/a', '/a/inner')), 'invalid-name');
  await s.rename('/moved.txt', '/c.txt');
  assert.equal(s.readFile('/c.txt').toString(), '1');
  assert.equal(await failure(s.rename('/c.txt', '/a')), 'exists');
  assert.equal(await failure(s.rename('/nope', '/x')), 'not-found');
});

test('set-mtime and chmod capabilities', async () => {
  const s = new MemoryStorage();
  s.writeFile('/f', 'x');
  await s.setModifiedAt('/f', new Date(Date.UTC(2000, 0, 1)));
  await s.chmod('/f', 0o100600);
  const info = await s.stat('/f');
  assert.equal(info.modifiedAt.getTime(), Date.UTC(2000, 0, 1));
  assert.equal(info.mode, 0o600);
});

test('two instances share nothing', async () => {
  const a = new MemoryStorage();
  const b = new MemoryStorage();
  a.writeFile('/x', '1');
  assert.equal(b.exists('/x'), false);
});

test('openWrite refuses the retired start/append options instead of replacing the file', async () => {
  const s = new MemoryStorage();
  await pipeline(Readable.from([Buffer.from('abc')]), await s.openWrite('/f'));
  await assert.rejects(s.openWrite('/f', { append: true } as never), FtpUsageError);
  await assert.rejects(s.openWrite('/f', { start: 1 } as never), FtpUsageError);
  assert.equal((await s.stat('/f')).size, 3);
});
