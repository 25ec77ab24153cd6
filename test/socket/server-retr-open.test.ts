/**
 * RETR opens and sizes its file in one step where the storage can (openReadWithInfo, storage/types.ts):
 * the local storage is not asked stat() first (issue 10: two thread-pool round trips fewer per download),
 * and RETR keeps its answers: the bytes exact, REST honoured, 554 past the end, 550 for a missing file
 * and for a folder. A mounted tree offers it on every mount (a storage without it: stat() + openRead()).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, MemoryStorage, MountedStorage } from '../../src/server/index.js';
import type { FileInfo } from '../../src/server/storage/types.js';
import { RawControl, openPassive, readAll, startServer } from '../support/server-harness.js';

/** A LocalStorage that counts its stat() calls. */
class CountingLocal extends LocalStorage {
  stats = 0;
  override stat(path: string): Promise<FileInfo> {
    this.stats++;
    return super.stat(path);
  }
}

async function tempRoot(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpkit-retr-open-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function retr(c: RawControl, path: string, rest?: number): Promise<{ code: number; text: string; bytes?: Buffer }> {
  const data = await openPassive(c);
  if (rest !== undefined) assert.equal((await c.send(`REST ${rest}`)).code, 350);
  const opening = await c.send(`RETR ${path}`);
  if (opening.code !== 150) { data.destroy(); return opening; }
  const [bytes, done] = await Promise.all([readAll(data), c.read()]);
  return { ...done, bytes };
}

test('RETR from the local storage: no stat() of the path; bytes exact, REST, 554 past the end, 550 for missing and folders', async t => {
  const root = await tempRoot(t);
  const body = randomBytes(64 * 1024 + 3);
  await writeFile(join(root, 'f.bin'), body);
  await mkdir(join(root, 'sub'));
  const storage = new CountingLocal(root);
  const h = await startServer({ storage });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');

  const whole = await retr(c, 'f.bin');
  assert.equal(whole.code, 226);
  assert.ok(whole.bytes!.equals(body), 'byte-exact');
  const tail = await retr(c, 'f.bin', 1000);
  assert.equal(tail.code, 226);
  assert.ok(tail.bytes!.equals(body.subarray(1000)), 'REST + RETR sends from the offset');
  assert.equal((await retr(c, 'f.bin', body.length)).bytes!.length, 0, 'REST at the end: an empty 226');
  const past = await retr(c, 'f.bin', body.length + 1);
  assert.equal(past.code, 554);
  assert.match(past.text, /beyond the end/);
  assert.equal((await retr(c, 'missing.bin')).code, 550);
  const folder = await retr(c, 'sub');
  assert.equal(folder.code, 550);
  assert.match(folder.text, /not a regular file/);
  assert.equal(storage.stats, 0, 'RETR opened and sized the file in one step');
});

test('RETR through a mounted tree: a local mount in one step, a memory mount by stat() + openRead(), folders 550', async t => {
  const root = await tempRoot(t);
  await writeFile(join(root, 'a.txt'), 'local bytes');
  const memory = new MemoryStorage();
  memory.writeFile('/m.txt', 'memory bytes');
  const local = new CountingLocal(root);
  const storage = new MountedStorage(local, [{ path: '/deep/mem', storage: memory }]);
  const h = await startServer({ storage });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');

  assert.equal((await retr(c, '/a.txt')).bytes!.toString(), 'local bytes');
  assert.equal(local.stats, 0);
  assert.equal((await retr(c, '/deep/mem/m.txt', 7)).bytes!.toString(), 'bytes');
  assert.equal((await retr(c, '/deep/mem/m.txt', 13)).code, 554);
  for (const folder of ['/deep', '/deep/mem']) {
    const r = await retr(c, folder);
    assert.equal(r.code, 550, folder);
    assert.match(r.text, /not a regular file/, folder);
  }
  assert.equal((await retr(c, '/deep/mem/none')).code, 550);
});
