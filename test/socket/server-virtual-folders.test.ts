/**
 * Virtual folders and per-path permissions over real sockets and local folders (issue 12):
 * - the classic anonymous drop box: a read-only /pub (listable, downloadable) and a write-only /incoming
 *   (STOR works; LIST, NLST, RETR, SIZE there 550; a second STOR of the same name refused, the first
 *   upload intact; nothing deletable);
 * - a user with two folders mounted: "/" lists both, RETR from each, RNFR/RNTO across folders 553 with a
 *   clear text and nothing moved, "..", and symlinks leading out of a folder (outside, or into another
 *   folder's host directory) refused as the local jail refuses them;
 * - per-path permissions: DELE under a read-only /pub 550 naming the path, a `paths` rule inside a
 *   writable folder;
 * - capabilities per folder: FEAT offers MFMT when one folder can; MFMT, SITE CHMOD, APPE 502 in a folder
 *   whose storage cannot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assembleUserTree } from '../../src/server/auth/user-tree.js';
import { READ_ONLY, READ_WRITE, type AuthenticatedUser, type Authenticator } from '../../src/server/auth/types.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { MemoryStorage, RawControl, openPassive, readAll, startServer, writeAll } from '../support/server-harness.js';
import { objectStore } from '../support/object-store.js';
import { tempDir } from '../support/temp-dir.js';
import { startDropBox } from '../support/drop-box.js';

const SENTINEL = 'SENTINEL-vfs-41c';

/** Expect a reply code to a command line; returns the reply. */
async function expectReply(c: RawControl, line: string, code: number) {
  const r = await c.send(line);
  assert.equal(r.code, code, `${line} -> ${r.code} ${r.text}`);
  return r;
}

/** A transfer command that must be refused before any data flows (no 150). */
async function refusedTransfer(c: RawControl, line: string) {
  const data = await openPassive(c);
  const r = await c.send(line);
  data.destroy();
  assert.equal(r.code, 550, `${line} -> ${r.code} ${r.text}`);
  return r;
}

async function download(c: RawControl, line: string): Promise<string> {
  const data = await openPassive(c);
  const reading = readAll(data);
  const r = await c.send(line);
  assert.equal(r.code, 150, `${line} -> ${r.code} ${r.text}`);
  const body = (await reading).toString();
  assert.equal((await c.read()).code, 226);
  return body;
}

async function upload(c: RawControl, line: string, content: string): Promise<number> {
  const data = await openPassive(c);
  const r = await c.send(line);
  if (r.code !== 150) {
    data.destroy();
    return r.code;
  }
  await writeAll(data, Buffer.from(content));
  return (await c.read()).code;
}

test('anonymous drop box: /pub read-only, /incoming write-only without overwrite', async (t) => {
  const { h, base, pub, drop } = await startDropBox(t, 'ftpkit-dropbox-');
  await writeFile(join(base, 'welcome.txt'), 'welcome');
  const c = await RawControl.login(h, 'anonymous', 'guest@example.org');
  t.after(() => c.close());

  const root = await download(c, 'NLST /');
  assert.deepEqual(root.trim().split('\r\n').sort(), ['incoming', 'pub', 'welcome.txt'], 'both folders shown at the root');
  assert.match(await download(c, 'LIST /pub'), /file\.txt/);
  assert.equal(await download(c, 'RETR /pub/file.txt'), 'public file');

  assert.equal(await upload(c, 'STOR /incoming/up.txt', 'first upload'), 226, 'an upload into the drop box works');
  assert.equal(await readFile(join(drop, 'up.txt'), 'utf8'), 'first upload');
  await expectReply(c, 'CWD /incoming', 250);
  assert.equal(await upload(c, 'STOR up.txt', 'OVERWRITE'), 550, 'an existing upload cannot be replaced');
  assert.equal(await readFile(join(drop, 'up.txt'), 'utf8'), 'first upload', 'the first upload is intact');
  assert.match((await refusedTransfer(c, 'LIST')).text, /^\/incoming: Permission denied/);
  await refusedTransfer(c, 'NLST /incoming');
  await refusedTransfer(c, 'MLSD /incoming');
  await refusedTransfer(c, 'RETR /incoming/up.txt');
  await expectReply(c, 'SIZE /incoming/up.txt', 550);
  await expectReply(c, 'STAT /incoming', 550);
  await expectReply(c, 'DELE /incoming/up.txt', 550);
  await expectReply(c, 'MKD /incoming/sub', 550);
  await expectReply(c, 'RNFR /incoming/up.txt', 550);
  assert.deepEqual(await readdir(drop), ['up.txt']);

  // /pub and the base are read-only.
  assert.equal(await upload(c, 'STOR /pub/new.txt', 'x'), 550);
  assert.equal(await upload(c, 'STOR /new.txt', 'x'), 550);
  assert.match((await expectReply(c, 'DELE /pub/file.txt', 550)).text, /^\/pub\/file\.txt: Permission denied/);
  await expectReply(c, 'RMD /incoming', 550);
  assert.deepEqual((await readdir(pub)).sort(), ['file.txt']);
});

/** One named user whose tree is assembled like a configured one (auth/user-tree.ts), without a password hash. */
function oneUser(name: string, password: string, tree: ReturnType<typeof assembleUserTree>): Authenticator {
  return {
    async authenticate(u, p): Promise<AuthenticatedUser | null> {
      return u === name && p === password ? { name, storage: tree.storage, permissions: { ...READ_WRITE }, pathPermissions: tree.pathPermissions } : null;
    },
  };
}

test('a user with two folders: listings, downloads, no rename across folders, no escape', async (t) => {
  const dir = await tempDir(t, 'ftpkit-mounts-');
  const [home, pub, data, outside] = ['home', 'pub', 'data', 'outside'].map((d) => join(dir, d));
  for (const d of [home, pub, data, outside]) await mkdir(d);
  await mkdir(join(data, 'ro'));
  await writeFile(join(home, 'home.txt'), 'home file');
  await writeFile(join(pub, 'file.txt'), 'public file');
  await writeFile(join(data, 'd.txt'), 'data file');
  await writeFile(join(outside, 'sentinel.txt'), SENTINEL);
  await symlink(join(outside, 'sentinel.txt'), join(data, 'link-out'));
  await symlink('../outside', join(data, 'dir-out'));
  await symlink(join(pub, 'file.txt'), join(data, 'link-to-pub'));
  await symlink('../../pub', join(data, 'ro', 'dir-to-pub'));

  const tree = assembleUserTree({
    storage: new LocalStorage(home),
    folders: [{ path: '/pub', root: pub, permissions: READ_ONLY }, { path: '/data', root: data }],
    paths: { '/data/ro': READ_ONLY },
  }, 'users.0');
  const h = await startServer({ options: { authenticator: oneUser('bob', 'secret', tree) } });
  t.after(() => h.close());
  const c = await RawControl.login(h, 'bob', 'secret');
  t.after(() => c.close());

  const listing = await download(c, 'LIST /');
  for (const name of ['home.txt', 'pub', 'data']) assert.match(listing, new RegExp(` ${name}\\r?$`, 'm'), `${name} listed`);
  assert.match(listing, /^d.* pub\r?$/m, 'a mount point is a folder');
  assert.equal(await download(c, 'RETR /pub/file.txt'), 'public file');
  assert.equal(await download(c, 'RETR /data/d.txt'), 'data file');
  await expectReply(c, 'CWD /data', 250);
  assert.equal(await download(c, 'RETR d.txt'), 'data file');

  // Rename across folders: refused, says why, nothing moved.
  await expectReply(c, 'RNFR /data/d.txt', 350);
  const across = await expectReply(c, 'RNTO /pub/d.txt', 550); // RNTO needs rename at /pub (read-only): refused first
  assert.match(across.text, /^\/pub\/d\.txt: Permission denied/);
  await expectReply(c, 'RNFR /data/d.txt', 350);
  const cross = await expectReply(c, 'RNTO /home-d.txt', 553);
  assert.match(cross.text, /Cannot rename across virtual folders \(\/data -> \/\); download and upload instead/);
  assert.equal(await readFile(join(data, 'd.txt'), 'utf8'), 'data file');
  await expectReply(c, 'RNFR /data', 350);
  await expectReply(c, 'RNTO /data2', 550); // a mount point cannot be renamed
  await expectReply(c, 'RNFR /data/d.txt', 350);
  await expectReply(c, 'RNTO /data/e.txt', 250); // inside one folder: fine
  await expectReply(c, 'RMD /data', 550);

  // No way out of a folder: "..", links leading outside or into another folder's host directory.
  for (const path of ['/data/../../outside/sentinel.txt', '/data/link-out', '/data/dir-out/sentinel.txt', '/data/link-to-pub',
    '/data/ro/dir-to-pub/file.txt', '../outside/sentinel.txt']) {
    await refusedTransfer(c, `RETR ${path}`);
  }
  await refusedTransfer(c, 'LIST /data/dir-out');
  await expectReply(c, 'CWD /data/dir-out', 550);
  await refusedTransfer(c, 'STOR /data/dir-out/new.txt');
  assert.deepEqual(await readdir(outside), ['sentinel.txt']);

  // Per-path permissions: DELE under /pub, writes under the /data/ro rule.
  assert.match((await expectReply(c, 'DELE /pub/file.txt', 550)).text, /^\/pub\/file\.txt: Permission denied/);
  assert.equal(await upload(c, 'STOR /data/ro/x.txt', 'x'), 550);
  assert.equal(await upload(c, 'STOR /data/new.txt', 'new'), 226);
  assert.equal(await readFile(join(data, 'new.txt'), 'utf8'), 'new');
  assert.equal(await upload(c, 'STOR /data/new.txt', 'replaced'), 226, 'read-write: replacing is allowed');
  await expectReply(c, 'DELE /data/new.txt', 250);
  await expectReply(c, 'MKD /home-dir', 257);
  const mlsd = await download(c, 'MLSD /');
  assert.match(mlsd, /perm=el;[^\r\n]* pub\r?$/m, 'MLSD shows /pub read-only');
  assert.match(mlsd, /perm=elcmdf;[^\r\n]* data\r?$/m, 'and /data read-write');
});

test('capabilities per folder: FEAT offers what one folder can, a folder without it answers 502', async (t) => {
  const base = new MemoryStorage();
  base.writeFile('/a.txt', 'a');
  const objects = new MemoryStorage();
  objects.writeFile('/o.txt', 'o');
  const tree = assembleUserTree({ storage: base, folders: [{ path: '/objects', storage: objectStore(objects) }] }, 'users.0');
  const h = await startServer({ options: { authenticator: oneUser('bob', 'secret', tree) } });
  t.after(() => h.close());
  const c = await RawControl.login(h, 'bob', 'secret');
  t.after(() => c.close());
  const feat = (await expectReply(c, 'FEAT', 211)).text;
  assert.match(feat, /^ MFMT$/m);
  assert.match(feat, /^ REST STREAM$/m);
  await expectReply(c, 'MFMT 20200101000000 /a.txt', 213);
  assert.match((await expectReply(c, 'MFMT 20200101000000 /objects/o.txt', 502)).text, /^\/objects\/o\.txt: Not supported/);
  await expectReply(c, 'SITE CHMOD 600 /objects/o.txt', 502);
  const data = await openPassive(c);
  const r = await c.send('APPE /objects/o.txt');
  data.destroy();
  assert.equal(r.code, 502, `APPE -> ${r.code} ${r.text}`);
  assert.equal(objects.readFile('/o.txt').toString(), 'o');
});
