/**
 * Upload modes over real sockets on a LocalStorage (docs/server.md#uploads-atomic-resumable-or-direct): in atomic mode (the
 * default) a STOR over an existing file that fails (ABOR, client reset, data idle timeout) leaves the old
 * content and nothing else; the temporary file is invisible and unreachable meanwhile; a successful STOR
 * replaces the file. APPE and REST + STOR never lose the bytes that were there. Resumable mode keeps a
 * partial upload for REST + STOR, and keeps the old content while no byte has come.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { LocalStorage } from '../../src/server/index.js';
import type { UploadMode } from '../../src/server/index.js';
import { countFileSyncs } from '../support/fsync-counter.js';
import { tempDir } from '../support/temp-dir.js';
import { READ_WRITE, RawControl, openPassive, readAll, startServer, writeAll } from '../support/server-harness.js';
import type { Harness } from '../support/server-harness.js';

const OLD = 'OLD CONTENT\n';
const TEMP = /^\.ftpkit-upload\./;

interface Setup { h: Harness; c: RawControl; root: string }

async function setup(t: TestContext, mode: UploadMode | undefined, dataIdleMs?: number): Promise<Setup> {
  const root = await tempDir(t);
  await writeFile(join(root, 'victim.txt'), OLD);
  const h = await startServer({
    storage: new LocalStorage(root),
    options: { ...(mode ? { uploads: { mode } } : {}), ...(dataIdleMs ? { timeouts: { dataIdleMs } } : {}) },
  });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');
  return { h, c, root };
}

/** Wait for a condition the server reaches by itself (bounded; polls, no fixed sleep). */
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

/** STOR (or another verb) with `first` sent and received by the server; the data socket stays open. */
async function startUpload(s: Setup, command: string, first: Buffer | string): Promise<Socket> {
  const data = await openPassive(s.c);
  assert.equal((await s.c.send(command)).code, 150);
  data.write(first);
  const size = Buffer.byteLength(first);
  await until('the server to receive the first bytes', async () => (s.h.server.sessions()[0]?.transfer?.bytes ?? 0) >= size);
  return data;
}

/** The temporary file of the running atomic upload, once it holds `size` bytes. */
async function tempFile(root: string, size: number): Promise<string> {
  return until(`a temporary file of ${size} bytes`, async () => {
    for (const name of (await readdir(root)).filter(n => TEMP.test(n))) {
      if ((await stat(join(root, name)).catch(() => undefined))?.size === size) return name;
    }
    return undefined;
  });
}

async function assertUntouched(root: string): Promise<void> {
  assert.equal(await readFile(join(root, 'victim.txt'), 'utf8'), OLD, 'the old content is intact');
  assert.deepEqual(await readdir(root), ['victim.txt'], 'no temporary file and no partial file left');
}

for (const mode of [undefined, 'atomic'] as const) {
  test(`atomic${mode ? '' : ' (the default)'}: STOR then ABOR keeps the old file; the temporary file is hidden and unreachable`, async t => {
    const s = await setup(t, mode);
    const data = await startUpload(s, 'STOR victim.txt', 'NEW');
    t.after(() => data.destroy());
    const temp = await tempFile(s.root, 3);
    assert.equal(await readFile(join(s.root, 'victim.txt'), 'utf8'), OLD, 'not truncated during the upload');

    // Another session sees neither the temporary file nor a change, and cannot reach it by name.
    const other = await RawControl.login(s.h);
    t.after(() => other.close());
    for (const verb of ['LIST', 'NLST', 'MLSD']) {
      const d = await openPassive(other);
      assert.equal((await other.send(verb)).code, 150);
      const [listing, done] = await Promise.all([readAll(d), other.read()]);
      assert.equal(done.code, 226);
      assert.doesNotMatch(listing.toString(), /ftpkit-upload/, verb);
      assert.match(listing.toString(), /victim\.txt/, verb);
    }
    const stat213 = await other.send('STAT /');
    assert.doesNotMatch(stat213.text, /ftpkit-upload/);
    for (const cmd of [`SIZE ${temp}`, `MDTM ${temp}`, `DELE ${temp}`, `RNFR ${temp}`, `MLST ${temp}`]) {
      assert.equal((await other.send(cmd)).code, 550, cmd);
    }
    const d = await openPassive(other);
    assert.equal((await other.send(`RETR ${temp}`)).code, 550);
    d.destroy();
    assert.equal((await other.send('RNFR victim.txt')).code, 350);
    assert.equal((await other.send(`RNTO ${temp}`)).code, 553, 'a reserved name cannot be created');

    const r1 = await s.c.send('ABOR');
    const r2 = await s.c.read();
    assert.deepEqual([r1.code, r2.code], [426, 226]);
    await assertUntouched(s.root);
    assert.equal((await s.c.send('PWD')).code, 257, 'the session goes on');
  });
}

test('atomic: a client reset mid-STOR keeps the old file, no temporary file left', async t => {
  const s = await setup(t, 'atomic');
  const data = await startUpload(s, 'STOR victim.txt', 'NEW');
  await tempFile(s.root, 3);
  data.resetAndDestroy();
  assert.equal((await s.c.read()).code, 426);
  await assertUntouched(s.root);
});

test('atomic: the data idle timeout mid-STOR keeps the old file, no temporary file left', async t => {
  const s = await setup(t, 'atomic', 300);
  const data = await startUpload(s, 'STOR victim.txt', 'NEW');
  t.after(() => data.destroy());
  const r = await s.c.read();
  assert.equal(r.code, 426);
  assert.match(r.text, /timed out/);
  await assertUntouched(s.root);
});

test('atomic: a complete STOR replaces the file (keeping its permission bits); STOU creates a new one', async t => {
  const s = await setup(t, 'atomic');
  await chmod(join(s.root, 'victim.txt'), 0o640);
  let data = await openPassive(s.c);
  assert.equal((await s.c.send('STOR victim.txt')).code, 150);
  await writeAll(data, Buffer.from('NEW CONTENT\n'));
  assert.equal((await s.c.read()).code, 226);
  assert.equal(await readFile(join(s.root, 'victim.txt'), 'utf8'), 'NEW CONTENT\n');
  assert.equal((await stat(join(s.root, 'victim.txt'))).mode & 0o777, 0o640);

  data = await openPassive(s.c);
  const opening = await s.c.send('STOU');
  assert.equal(opening.code, 150);
  const name = /FILE: (\S+)/.exec(opening.text)![1]!;
  await writeAll(data, Buffer.from('unique'));
  assert.equal((await s.c.read()).code, 226);
  assert.equal(await readFile(join(s.root, name), 'utf8'), 'unique');
  assert.deepEqual((await readdir(s.root)).sort(), [name, 'victim.txt'].sort());
});

test('atomic: a failed APPE or REST + STOR loses none of the bytes that were there; complete ones work', async t => {
  const s = await setup(t, 'atomic');
  let data = await startUpload(s, 'APPE victim.txt', 'appended');
  data.resetAndDestroy();
  assert.equal((await s.c.read()).code, 426);
  await assertUntouched(s.root);

  assert.equal((await s.c.send('REST 4')).code, 350);
  data = await startUpload(s, 'STOR victim.txt', 'zz');
  data.resetAndDestroy();
  assert.equal((await s.c.read()).code, 426);
  await assertUntouched(s.root);

  assert.equal((await s.c.send('REST 4')).code, 350);
  data = await openPassive(s.c);
  assert.equal((await s.c.send('STOR victim.txt')).code, 150);
  await writeAll(data, Buffer.from('NEW\n'));
  assert.equal((await s.c.read()).code, 226);
  data = await openPassive(s.c);
  assert.equal((await s.c.send('APPE victim.txt')).code, 150);
  await writeAll(data, Buffer.from('+'));
  assert.equal((await s.c.read()).code, 226);
  assert.equal(await readFile(join(s.root, 'victim.txt'), 'utf8'), 'OLD NEW\n+');
  assert.deepEqual(await readdir(s.root), ['victim.txt']);
});

test('resumable: the old file stays while no byte has come; a partial upload is kept and REST + STOR completes it', async t => {
  const s = await setup(t, 'resumable');
  // The data connection is open but nothing arrives before ABOR: nothing to replace the old content with.
  const idle = await openPassive(s.c);
  t.after(() => idle.destroy());
  assert.equal((await s.c.send('STOR victim.txt')).code, 150);
  await until('the data connection to be in use', async () => s.h.server.sessions()[0]?.transfer !== undefined);
  assert.equal((await s.c.send('ABOR')).code, 426);
  assert.equal((await s.c.read()).code, 226);
  assert.equal(await readFile(join(s.root, 'victim.txt'), 'utf8'), OLD);

  const full = Buffer.alloc(300_000);
  for (let i = 0; i < full.length; i++) full[i] = (i * 7) & 0xff;
  const first = full.subarray(0, 100_000);
  const data = await startUpload(s, 'STOR big.bin', first);
  await until('the partial file', async () => (await stat(join(s.root, 'big.bin')).catch(() => undefined))?.size === first.length);
  data.resetAndDestroy();
  assert.equal((await s.c.read()).code, 426);
  const size = Number((await s.c.send('SIZE big.bin')).text);
  assert.equal(size, first.length, 'the partial upload is kept under its name');

  assert.equal((await s.c.send(`REST ${size}`)).code, 350);
  const rest = await openPassive(s.c);
  assert.equal((await s.c.send('STOR big.bin')).code, 150);
  await writeAll(rest, full.subarray(size));
  assert.equal((await s.c.read()).code, 226);
  assert.ok((await readFile(join(s.root, 'big.bin'))).equals(full), 'resumed to the full, correct content');
});

test('direct: the file is truncated at once and a failed upload leaves its bytes (the former behaviour)', async t => {
  const s = await setup(t, 'direct');
  const data = await startUpload(s, 'STOR victim.txt', 'NEW');
  await until('the partial content', async () => (await readFile(join(s.root, 'victim.txt'), 'utf8')) === 'NEW');
  data.resetAndDestroy();
  await once(data, 'close');
  assert.equal((await s.c.read()).code, 426);
  assert.equal(await readFile(join(s.root, 'victim.txt'), 'utf8'), 'NEW');
});

test('a user\'s own uploadMode wins over the server\'s', async t => {
  const root = await tempDir(t);
  await writeFile(join(root, 'victim.txt'), OLD);
  const storage = new LocalStorage(root);
  const h = await startServer({
    storage,
    options: {
      uploads: { mode: 'atomic' },
      authenticator: { authenticate: async () => ({ name: 'test', storage, permissions: { ...READ_WRITE }, uploadMode: 'direct' }) },
    },
  });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  const s = { h, c, root };
  await c.send('TYPE I');
  const data = await startUpload(s, 'STOR victim.txt', 'NEW');
  await until('the partial content', async () => (await readFile(join(root, 'victim.txt'), 'utf8')) === 'NEW');
  data.resetAndDestroy();
  assert.equal((await c.read()).code, 426);
  assert.equal(await readFile(join(root, 'victim.txt'), 'utf8'), 'NEW', 'written in place: the user is in direct mode');
});

test('atomic uploads are fsync\'ed only when uploads.fsync asks (default: the rename alone, as vsftpd/proftpd/pure-ftpd)', async t => {
  const root = await tempDir(t);
  const syncs = await countFileSyncs(t, root);
  for (const fsync of [undefined, false, true]) {
    const h = await startServer({ storage: new LocalStorage(root), options: fsync === undefined ? {} : { uploads: { fsync } } });
    t.after(() => h.close());
    const c = await RawControl.login(h);
    t.after(() => c.close());
    await c.send('TYPE I');
    const before = syncs();
    const data = await openPassive(c);
    assert.equal((await c.send(`STOR f-${String(fsync)}`)).code, 150);
    await writeAll(data, Buffer.from('payload'));
    assert.equal((await c.read()).code, 226);
    assert.equal(await readFile(join(root, `f-${String(fsync)}`), 'utf8'), 'payload');
    if (fsync === true) assert.ok(syncs() > before, 'uploads.fsync: true fsyncs the upload');
    else assert.equal(syncs(), before, `uploads.fsync ${String(fsync)}: no fsync`);
  }
});
