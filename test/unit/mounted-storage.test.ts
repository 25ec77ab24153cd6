/**
 * MountedStorage (src/server/storage/mounted.ts) over in-memory storages: routing by the longest mount
 * prefix, mount points shown in their parents' listings (also where the base has no such folder), mount
 * points and their parents protected, renames across mounts refused with 553 and a clear text,
 * capabilities present only when some storage has them and refused (502) where the owning one has not;
 * listChunks handed to a local mount where no mount point lies below the folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../../src/server/storage/local.js';
import { MemoryStorage } from '../../src/server/storage/memory.js';
import { MountedStorage } from '../../src/server/storage/mounted.js';
import { canAppend, canChmod, canListChunks, canReportSpace } from '../../src/server/storage/types.js';
import { storageErrorReply } from '../../src/server/storage-replies.js';
import { FtpStorageError, FtpUsageError } from '../../src/errors.js';
import { objectStore } from '../support/object-store.js';

async function readText(s: MountedStorage, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await s.openRead(path)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

function fixture() {
  const base = new MemoryStorage();
  base.writeFile('/home.txt', 'home');
  base.mkdirp('/docs');
  const pub = new MemoryStorage();
  pub.writeFile('/readme.txt', 'pub readme');
  const deep = new MemoryStorage();
  deep.writeFile('/x.bin', 'deep x');
  const nested = new MemoryStorage();
  nested.writeFile('/n.txt', 'nested');
  const s = new MountedStorage(base, [
    { path: '/pub', storage: pub }, { path: '/srv/drop', storage: deep }, { path: '/pub/mirror', storage: nested },
  ]);
  return { base, pub, deep, nested, s };
}

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FtpStorageError, String(err));
    return err;
  }
  assert.fail('expected a storage failure');
};

test('paths go to the mount with the longest prefix, relative to it', async () => {
  const { s } = fixture();
  assert.equal(await readText(s, '/home.txt'), 'home');
  assert.equal(await readText(s, '/pub/readme.txt'), 'pub readme');
  assert.equal(await readText(s, '/srv/drop/x.bin'), 'deep x');
  assert.equal(await readText(s, '/pub/mirror/n.txt'), 'nested');
  assert.equal(s.resolve('/pubx/a').mountPath, '/', 'a name that only starts like a mount is not in it');
  assert.deepEqual(s.resolve('/pub/mirror'), { storage: s.resolve('/pub/mirror/n.txt').storage, inner: '/', mountPath: '/pub/mirror' });
});

test('listings show mount points as folders, with the folders leading to deeper ones', async () => {
  const { s } = fixture();
  const names = (await s.list('/')).map((e) => `${e.name}:${e.type}`).sort();
  assert.deepEqual(names, ['docs:dir', 'home.txt:file', 'pub:dir', 'srv:dir']);
  assert.deepEqual((await s.list('/srv')).map((e) => `${e.name}:${e.type}`), ['drop:dir']);
  assert.deepEqual((await s.list('/pub')).map((e) => `${e.name}:${e.type}`).sort(), ['mirror:dir', 'readme.txt:file']);
  assert.equal((await s.stat('/srv')).type, 'dir', 'a folder only on the way to a mount point exists');
  assert.equal((await s.stat('/pub')).name, 'pub', 'a mount root answers with its virtual name');
  await failure(s.stat('/nothing'));
});

test('a base file with the name of a mount point, or of a folder leading to one, is hidden', async () => {
  const { base, s } = fixture();
  base.writeFile('/pub', 'a file in the base where the mount is');
  base.writeFile('/srv', 'a file in the base on the way to /srv/drop');
  for (const name of ['pub', 'srv']) {
    const found = (await s.list('/')).filter((e) => e.name === name);
    assert.equal(found.length, 1, name);
    assert.equal(found[0]!.type, 'dir', name);
    assert.equal((await s.stat(`/${name}`)).type, 'dir', name);
  }
});

test('mount points and folders holding one cannot be removed, renamed, replaced or created', async () => {
  const { s } = fixture();
  for (const p of [s.rmdir('/pub'), s.rmdir('/srv'), s.delete('/pub'), s.rename('/pub', '/pub2'), s.rename('/srv', '/other'),
    s.rename('/home.txt', '/pub'), s.openWrite('/srv'), s.rmdir('/')]) {
    assert.equal((await failure(p)).failure, 'permission');
  }
  assert.equal((await failure(s.mkdir('/pub'))).failure, 'exists');
  assert.equal((await failure(s.mkdir('/srv'))).failure, 'exists');
  await s.mkdir('/pub/new');
  await s.rename('/pub/readme.txt', '/pub/new/readme.txt');
  assert.equal(await readText(s, '/pub/new/readme.txt'), 'pub readme');
});

test('a rename across mounts is refused with 553 and says why', async () => {
  const { s, base, pub } = fixture();
  const err = await failure(s.rename('/home.txt', '/pub/home.txt'));
  const r = storageErrorReply(err, '/pub/home.txt');
  assert.equal(r.code, 553);
  assert.match(r.lines.join(' '), /Cannot rename across virtual folders \(\/ -> \/pub\); download and upload instead/);
  assert.ok(base.exists('/home.txt') && !pub.exists('/home.txt'), 'nothing moved');
  assert.equal(storageErrorReply(await failure(s.rename('/pub/readme.txt', '/pub/mirror/r.txt'))).code, 553, 'nested mounts are different folders too');
});

test('capabilities exist when some storage has them and are refused (502) where the owner lacks them', async () => {
  const base = new MemoryStorage();
  base.writeFile('/a.txt', 'a');
  const store = new MemoryStorage();
  store.writeFile('/o.txt', 'o');
  const s = new MountedStorage(base, [{ path: '/objects', storage: objectStore(store) }]);
  assert.ok(canAppend(s) && canChmod(s), 'the base can append and chmod: offered');
  assert.ok(!canReportSpace(s), 'no storage reports space: not offered');
  await s.chmod!('/a.txt', 0o600);
  const err = await failure(s.openAppend!('/objects/o.txt'));
  assert.equal(err.failure, 'not-supported');
  assert.equal(storageErrorReply(err, '/objects/o.txt').code, 502);
  assert.equal((await failure(s.chmod!('/objects/o.txt', 0o600))).failure, 'not-supported');
  const objectsOnly = new MountedStorage(objectStore(new MemoryStorage()), [{ path: '/o', storage: objectStore(store) }]);
  assert.ok(!canAppend(objectsOnly) && !canChmod(objectsOnly), 'no storage can: not offered at all');
});

test('mount paths must be absolute, normalized, not "/" and unique', () => {
  const m = new MemoryStorage();
  for (const path of ['pub', '/pub/', '/a/../pub', '/', '//pub']) {
    assert.throws(() => new MountedStorage(m, [{ path, storage: m }]), FtpUsageError, path);
  }
  assert.throws(() => new MountedStorage(m, [{ path: '/p', storage: m }, { path: '/p', storage: m }]), FtpUsageError);
});

test('listChunks: a local mount streams its own folders; a folder with mount points below it is listed whole, sorted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ftpkit-mounted-chunks-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'sub'));
  for (const name of ['b.txt', 'a.txt', 'sub/c.txt']) await writeFile(join(dir, name), name);
  const base = new MemoryStorage();
  base.writeFile('/z.txt', 'z');
  base.writeFile('/m.txt', 'm');
  const s = new MountedStorage(base, [{ path: '/local', storage: await LocalStorage.open(dir) }]);
  assert.ok(canListChunks(s), 'offered: one storage has it');
  const all = async (path: string): Promise<string[]> => {
    const names: string[] = [];
    const chunks = await s.listChunks!(path);
    for (let r = await chunks.next(); !r.done; r = await chunks.next()) names.push(...r.value.map((e) => e.name));
    return names;
  };
  assert.deepEqual(await all('/local'), ['a.txt', 'b.txt', 'sub']);
  assert.deepEqual(await all('/local/sub'), ['c.txt']);
  assert.deepEqual(await all('/'), ['local', 'm.txt', 'z.txt'], 'the base (no chunks of its own) with the mount point, sorted');
  assert.ok(!canListChunks(new MountedStorage(base, [{ path: '/pub', storage: new MemoryStorage() }])), 'not offered when no storage has it');
});
