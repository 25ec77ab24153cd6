/**
 * Resuming an upload (REST + STOR) and appending (APPE) are optional storage capabilities: over a real
 * control connection, a storage without them (an object store) gets REST + STOR refused with 554, APPE with
 * 502, and no REST STREAM in FEAT once its user is logged in; the memory storage offers both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../src/server/index.js';
import { RawControl, openPassive, readAll, startServer, writeAll } from '../support/server-harness.js';
import { objectStore } from '../support/object-store.js';

const features = async (c: RawControl): Promise<string[]> => (await c.send('FEAT')).lines.slice(1, -1).map(l => l.trim());

test('a storage without offset writes and append: REST STOR 554, APPE 502, FEAT without REST STREAM; RETR still resumes', async t => {
  const base = new MemoryStorage();
  base.writeFile('/f.txt', '0123456789');
  const h = await startServer({ storage: objectStore(base) });
  t.after(() => h.close());
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  assert.ok((await features(c)).includes('REST STREAM'), 'before login the storage is not known yet');
  await c.send('USER test');
  assert.equal((await c.send('PASS test')).code, 230);
  assert.ok(!(await features(c)).includes('REST STREAM'));
  await c.send('TYPE I');

  let data = await openPassive(c);
  assert.equal((await c.send('REST 4')).code, 350);
  const stor = await c.send('STOR f.txt');
  assert.equal(stor.code, 554);
  assert.match(stor.text, /this storage cannot resume an upload/);
  data.destroy();

  data = await openPassive(c);
  assert.equal((await c.send('APPE f.txt')).code, 502);
  data.destroy();
  assert.equal(base.readFile('/f.txt').toString(), '0123456789', 'nothing was written');

  // Reading at an offset needs no capability: REST + RETR works.
  data = await openPassive(c);
  assert.equal((await c.send('REST 4')).code, 350);
  assert.equal((await c.send('RETR f.txt')).code, 150);
  const [got, done] = await Promise.all([readAll(data), c.read()]);
  assert.equal(done.code, 226);
  assert.equal(got.toString(), '456789');
});

test('the memory storage offers both: REST + STOR resumes, APPE appends, FEAT has REST STREAM', async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/f.txt', '0123456789');
  const h = await startServer({ storage });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  assert.ok((await features(c)).includes('REST STREAM'));
  await c.send('TYPE I');
  let data = await openPassive(c);
  await c.send('REST 4');
  assert.equal((await c.send('STOR f.txt')).code, 150);
  await writeAll(data, Buffer.from('AB'));
  assert.equal((await c.read()).code, 226);
  data = await openPassive(c);
  assert.equal((await c.send('APPE f.txt')).code, 150);
  await writeAll(data, Buffer.from('!'));
  assert.equal((await c.read()).code, 226);
  assert.equal(storage.readFile('/f.txt').toString(), '0123AB!');
});
