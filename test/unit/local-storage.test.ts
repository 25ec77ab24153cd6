/**
 * LocalStorage behaviour: operations, write modes (REST/APPE/STOU), errno -> StorageFailure mapping,
 * symlinks, special files. Confinement properties are in local-storage-escape.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, stat, symlink, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes, createHash } from 'node:crypto';
import { LocalStorage } from '../../src/server/storage/local.js';
import { failureOf, toStorageError } from '../../src/server/storage/local-errors.js';
import { FtpStorageError, type StorageFailure } from '../../src/errors.js';
import { canChmod, canReportSpace, canSetModifiedTime } from '../../src/server/storage/types.js';

async function sandbox(t: { after(fn: () => Promise<void>): void }) {
  const base = await mkdtemp(join(tmpdir(), 'ftpkit-local-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(root);
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'SECRET');
  return { base, root, outside, storage: await LocalStorage.open(root) };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function writeAll(stream: Writable, data: Buffer | string): Promise<void> {
  await pipeline(Readable.from([Buffer.from(data)]), stream);
}

async function rejectsWith(p: Promise<unknown>, failure: StorageFailure, hostPathsNotIn: string[] = []): Promise<FtpStorageError> {
  const err = await p.then(() => assert.fail(`expected ${failure}`), (e: unknown) => e);
  assert.ok(err instanceof FtpStorageError, `expected FtpStorageError, got ${String(err)}`);
  assert.equal(err.failure, failure, err.message);
  for (const h of hostPathsNotIn) assert.ok(!err.message.includes(h), `message leaks host path: ${err.message}`);
  return err;
}

test('stat and list describe files and folders', async (t) => {
  const { root, storage } = await sandbox(t);
  await mkdir(join(root, 'dir b'));
  await writeFile(join(root, 'a.txt'), 'hello');
  await writeFile(join(root, 'dir b', 'ünïcode "q".txt'), 'x');

  const rootInfo = await storage.stat('/');
  assert.equal(rootInfo.name, '');
  assert.equal(rootInfo.type, 'dir');

  const list = await storage.list('/');
  assert.deepEqual(list.map((e) => [e.name, e.type]), [['a.txt', 'file'], ['dir b', 'dir']]);
  const a = list[0]!;
  assert.equal(a.size, 5);
  assert.match(a.unique!, /^[0-9a-f]+:[0-9a-f]+$/);
  const st = await stat(join(root, 'a.txt'));
  assert.equal(a.unique, `${st.dev.toString(16)}:${st.ino.toString(16)}`);
  assert.equal(a.mode, st.mode & 0o7777);
  assert.equal(a.owner, process.getuid?.() === 0 ? 'root' : a.owner);
  assert.equal(a.modifiedAt.getTime(), st.mtime.getTime());

  const inner = await storage.list('/dir b');
  assert.deepEqual(inner.map((e) => e.name), ['ünïcode "q".txt']);
  assert.equal((await storage.stat('/dir b/ünïcode "q".txt')).name, 'ünïcode "q".txt');
  await rejectsWith(storage.list('/a.txt'), 'not-a-directory');
  await rejectsWith(storage.stat('/missing'), 'not-found', [root]);
});

test('openRead streams the file, from an offset too', async (t) => {
  const { root, storage } = await sandbox(t);
  const data = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(join(root, 'big.bin'), data);
  const stream = await storage.openRead('/big.bin');
  let maxChunk = 0;
  const chunks: Buffer[] = [];
  for await (const c of stream) { chunks.push(c as Buffer); maxChunk = Math.max(maxChunk, (c as Buffer).length); }
  assert.ok(Buffer.concat(chunks).equals(data));
  assert.equal(maxChunk, 256 * 1024, 'reads use the large highWaterMark');
  assert.ok((await readAll(await storage.openRead('/big.bin', { start: 1000 }))).equals(data.subarray(1000)));
  assert.equal((await readAll(await storage.openRead('/big.bin', { start: data.length + 5 }))).length, 0);
  await rejectsWith(storage.openRead('/nope'), 'not-found');
  await rejectsWith(storage.openRead('/'), 'is-a-directory');
  await rejectsWith(storage.openRead('/big.bin', { start: -1 }), 'invalid-name');
});

test('openWrite: replace, REST offset, append, exclusive', async (t) => {
  const { root, storage } = await sandbox(t);
  const file = join(root, 'f.txt');
  await writeAll(await storage.openWrite('/f.txt'), 'hello world');
  assert.equal(await readFile(file, 'utf8'), 'hello world');
  await writeAll(await storage.openWrite('/f.txt'), 'bye');
  assert.equal(await readFile(file, 'utf8'), 'bye', 'a plain STOR truncates');
  await writeAll(await storage.openWrite('/f.txt'), '0123456789');
  await writeAll(await storage.openWriteAt('/f.txt', 4), 'AB');
  assert.equal(await readFile(file, 'utf8'), '0123AB', 'REST keeps the first bytes and truncates there');
  await writeAll(await storage.openAppend('/f.txt'), '++');
  assert.equal(await readFile(file, 'utf8'), '0123AB++');
  await writeAll(await storage.openAppend('/new.txt'), 'n');
  assert.equal(await readFile(join(root, 'new.txt'), 'utf8'), 'n', 'APPE creates');
  await rejectsWith(storage.openWrite('/f.txt', { exclusive: true }), 'exists');
  await writeAll(await storage.openWrite('/u.txt', { exclusive: true }), 'u');
  assert.equal(await readFile(join(root, 'u.txt'), 'utf8'), 'u');
  await rejectsWith(storage.openWrite('/missing-dir/x'), 'not-found');
  await mkdir(join(root, 'd'));
  await rejectsWith(storage.openWrite('/d'), 'is-a-directory');
  await rejectsWith(storage.openWrite('/f.txt/x'), 'not-a-directory');
});

test('big writes keep their bytes (streamed, backpressure respected)', async (t) => {
  const { root, storage } = await sandbox(t);
  const hash = createHash('sha256');
  let left = 8 * 1024 * 1024;
  const source = new Readable({
    read() {
      if (left <= 0) { this.push(null); return; }
      const chunk = randomBytes(Math.min(left, 64 * 1024));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  await pipeline(source, await storage.openWrite('/big.bin'));
  const written = await readFile(join(root, 'big.bin'));
  assert.equal(written.length, 8 * 1024 * 1024);
  assert.equal(createHash('sha256').update(written).digest('hex'), hash.digest('hex'));
});

test('mkdir, rmdir, delete, rename and their failures', async (t) => {
  const { root, storage } = await sandbox(t);
  await storage.mkdir('/d');
  await rejectsWith(storage.mkdir('/d'), 'exists');
  await rejectsWith(storage.mkdir('/x/y'), 'not-found');
  await writeAll(await storage.openWrite('/d/f'), 'f');
  await rejectsWith(storage.rmdir('/d'), 'not-empty');
  await rejectsWith(storage.delete('/d'), 'is-a-directory');
  await rejectsWith(storage.rmdir('/d/f'), 'not-a-directory');
  await storage.rename('/d/f', '/g');
  assert.equal(await readFile(join(root, 'g'), 'utf8'), 'f');
  await rejectsWith(storage.rename('/nope', '/x'), 'not-found');
  await rejectsWith(storage.rename('/d', '/d/inside'), 'invalid-name');
  await storage.delete('/g');
  await rejectsWith(storage.delete('/g'), 'not-found');
  await storage.rmdir('/d');
  assert.deepEqual(await readdir(root), []);
  await rejectsWith(storage.rmdir('/'), 'permission');
  await rejectsWith(storage.delete('/'), 'permission');
  await rejectsWith(storage.rename('/', '/x'), 'permission');
});

test('optional capabilities: setModifiedAt, chmod, availableBytes', async (t) => {
  const { root, storage } = await sandbox(t);
  assert.ok(canSetModifiedTime(storage) && canChmod(storage) && canReportSpace(storage));
  await writeFile(join(root, 'f'), 'x');
  const when = new Date('2001-02-03T04:05:06Z');
  await storage.setModifiedAt('/f', when);
  assert.equal((await storage.stat('/f')).modifiedAt.getTime(), when.getTime());
  await storage.chmod('/f', 0o4640);
  assert.equal((await stat(join(root, 'f'))).mode & 0o7777, 0o640, 'setuid bit stripped');
  await rejectsWith(storage.chmod('/f', 0o17777), 'invalid-name');
  await rejectsWith(storage.chmod('/missing', 0o600), 'not-found');
  assert.ok((await storage.availableBytes('/')) > 0);
});

test('symlinks inside the root are followed; outside ones are refused and shown bare', async (t) => {
  const { root, outside, storage } = await sandbox(t);
  await mkdir(join(root, 'sub'));
  await writeFile(join(root, 'sub', 'in.txt'), 'inside');
  await symlink('sub', join(root, 'link-in'));
  await symlink(join(outside, 'secret.txt'), join(root, 'link-out'));
  await symlink('../outside', join(root, 'dir-out'));
  await symlink(join(outside, 'created-through-link'), join(root, 'dangling'));

  assert.equal((await readAll(await storage.openRead('/link-in/in.txt'))).toString(), 'inside');
  const list = await storage.list('/');
  const byName = new Map(list.map((e) => [e.name, e]));
  assert.equal(byName.get('link-in')!.type, 'dir');
  assert.equal(byName.get('link-out')!.type, 'link');
  assert.equal(byName.get('link-out')!.linkTarget, undefined, 'host target not revealed');
  assert.equal(byName.get('dangling')!.type, 'link');

  await rejectsWith(storage.openRead('/link-out'), 'permission', [outside]);
  await rejectsWith(storage.stat('/dir-out/secret.txt'), 'permission');
  await rejectsWith(storage.list('/dir-out'), 'permission');
  await rejectsWith(storage.openWrite('/link-out'), 'permission');
  await rejectsWith(storage.openWrite('/dangling'), 'permission');
  await rejectsWith(storage.openWrite('/dir-out/new'), 'permission');
  await rejectsWith(storage.mkdir('/dir-out/new'), 'permission');
  await rejectsWith(storage.chmod('/link-out', 0o777), 'permission');
  await rejectsWith(storage.rename('/sub/in.txt', '/dir-out/stolen'), 'permission');
  // Removing or renaming the link acts on the link, never on its target.
  await storage.rename('/link-out', '/link-out-2');
  await storage.delete('/link-out-2');
  assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'SECRET');
  assert.deepEqual((await readdir(outside)).sort(), ['secret.txt']);
  // Writing through an inside link writes its target.
  await writeFile(join(root, 'sub', 't.txt'), 'old');
  await symlink('sub/t.txt', join(root, 'to-t'));
  await writeAll(await storage.openWrite('/to-t'), 'new');
  assert.equal(await readFile(join(root, 'sub', 't.txt'), 'utf8'), 'new');
});

test('special files are not opened (a FIFO would block a thread)', async (t) => {
  const { root, storage } = await sandbox(t);
  execFileSync('mkfifo', [join(root, 'pipe')]);
  await rejectsWith(storage.openRead('/pipe'), 'permission');
  await rejectsWith(storage.openWrite('/pipe'), 'io');
});

test('bad virtual paths: relative, "..", NUL', async (t) => {
  const { storage } = await sandbox(t);
  await rejectsWith(storage.stat('relative'), 'permission');
  await rejectsWith(storage.stat('/../outside'), 'permission');
  await rejectsWith(storage.stat('/a/../../outside'), 'permission');
  await rejectsWith(storage.openWrite('/a\0b'), 'invalid-name');
  // Nothing is percent-decoded: "%2e%2e" is an ordinary name inside the root.
  await writeAll(await storage.openWrite('/%2e%2e'), 'literal');
  assert.equal((await storage.stat('/%2e%2e')).size, 7);
});

test('a missing root fails at open, not later', async (t) => {
  const { base } = await sandbox(t);
  await rejectsWith(LocalStorage.open(join(base, 'missing')), 'not-found', [base]);
  await writeFile(join(base, 'file'), '');
  await rejectsWith(LocalStorage.open(join(base, 'file')), 'not-a-directory');
});

test('errno codes map onto StorageFailure kinds; non-OS errors pass through', () => {
  const table: [string, StorageFailure][] = [
    ['ENOENT', 'not-found'], ['EEXIST', 'exists'], ['ENOTDIR', 'not-a-directory'], ['EISDIR', 'is-a-directory'],
    ['ENOTEMPTY', 'not-empty'], ['EACCES', 'permission'], ['EPERM', 'permission'], ['ENOSPC', 'no-space'],
    ['EDQUOT', 'quota'], ['ENAMETOOLONG', 'invalid-name'], ['EINVAL', 'invalid-name'], ['EIO', 'io'], ['EWHATEVER', 'io'],
  ];
  for (const [code, failure] of table) {
    const raw = Object.assign(new Error(`${code}: open '/srv/host/path'`), { code });
    assert.equal(failureOf(raw), failure, code);
    const mapped = toStorageError(raw, '/v/p');
    assert.ok(mapped instanceof FtpStorageError);
    assert.equal(mapped.failure, failure);
    assert.equal(mapped.path, '/v/p');
    assert.ok(!mapped.message.includes('/srv/host'), 'OS text stays out of the message');
    assert.equal(mapped.cause, raw);
  }
  const plumbing = Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  assert.equal(toStorageError(plumbing, '/x'), plumbing);
});

test('a write stream error surfaces as FtpStorageError', async (t) => {
  const { storage } = await sandbox(t);
  const stream = await storage.openWrite('/f');
  const err = await new Promise<unknown>((resolve) => {
    stream.on('error', resolve);
    stream.destroy(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
  });
  assert.ok(err instanceof FtpStorageError);
  assert.equal(err.failure, 'no-space');
});
