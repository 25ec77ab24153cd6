/**
 * REST (RFC 3659 s5) at the edges: an offset past the end of the file is refused with 554 (s5.4) for RETR
 * and for STOR (no NUL-filled hole in a resumed upload whose partial file is gone), and STOU ignores it.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalStorage } from '../../src/server/storage/local.js';
import { tempDir } from '../support/temp-dir.js';
import { MemoryStorage, RawControl, openPassive, readAll, startServer, writeAll } from '../support/server-harness.js';

async function setup(t: TestContext): Promise<{ storage: MemoryStorage; c: RawControl }> {
  const storage = new MemoryStorage();
  const h = await startServer({ storage });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  assert.equal((await c.send('TYPE I')).code, 200);
  return { storage, c };
}

async function content(storage: MemoryStorage, path: string): Promise<Buffer> {
  return readAll(await storage.openRead(path) as never);
}

test('REST past the end + RETR is 554, at the end is an empty 226', async t => {
  const { storage, c } = await setup(t);
  storage.writeFile('/f.bin', '12345');
  assert.equal((await c.send('REST 6')).code, 350);
  const data = await openPassive(c);
  t.after(() => data.destroy());
  const r = await c.send('RETR /f.bin');
  assert.equal(r.code, 554);
  assert.match(r.text, /beyond the end of \/f\.bin \(5 bytes\)/);
  assert.equal((await c.send('REST 5')).code, 350);
  const data2 = await openPassive(c);
  const retr = c.send('RETR /f.bin');
  assert.equal((await readAll(data2)).length, 0);
  assert.equal((await retr).code, 150);
  assert.equal((await c.read()).code, 226);
});

test('REST + STOR of a missing or shorter file is 554 and changes nothing', async t => {
  const { storage, c } = await setup(t);
  storage.writeFile('/short.bin', 'abc');
  for (const [path, rest] of [['/missing.bin', 4], ['/short.bin', 4]] as const) {
    assert.equal((await c.send(`REST ${rest}`)).code, 350);
    const data = await openPassive(c);
    t.after(() => data.destroy());
    const r = await c.send(`STOR ${path}`);
    assert.equal(r.code, 554, `${path}: ${r.text}`);
  }
  await assert.rejects(storage.stat('/missing.bin'), 'no file was created');
  assert.equal((await content(storage, '/short.bin')).toString(), 'abc');

  // A real resume (offset = size) still works.
  assert.equal((await c.send('REST 3')).code, 350);
  const data = await openPassive(c);
  const stor = c.send('STOR /short.bin');
  assert.equal((await stor).code, 150);
  await writeAll(data, Buffer.from('def'));
  assert.equal((await c.read()).code, 226);
  assert.equal((await content(storage, '/short.bin')).toString(), 'abcdef');
});

test('REST then STOU stores the whole upload in the new file', async t => {
  // On the local file system an offset on a new file leaves a hole of NUL bytes before the data.
  const root = await tempDir(t, 'ftpkit-stou-');
  const h = await startServer({ storage: new LocalStorage(root) });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  assert.equal((await c.send('TYPE I')).code, 200);
  assert.equal((await c.send('REST 1')).code, 350);
  const data = await openPassive(c);
  const r = await c.send('STOU');
  assert.equal(r.code, 150);
  const name = /FILE: (\S+)/.exec(r.text)?.[1];
  assert.ok(name, r.text);
  await writeAll(data, Buffer.from('X'));
  assert.equal((await c.read()).code, 226);
  assert.deepEqual(await readFile(join(root, name!)), Buffer.from('X'), 'no NUL byte before the data');
});
