/**
 * Real clients against virtual folders (issue 12): curl as an anonymous user of the classic drop box
 * (downloads from /pub, an upload into the write-only /incoming, listing and downloading there refused, a
 * second upload of the same name refused), and lftp mirroring a user's tree whose /shared is another
 * folder mounted (the mount point and a folder on the way to a deeper one appear as folders), then
 * mirroring back up into the mount.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assembleUserTree } from '../../src/server/auth/user-tree.js';
import { READ_ONLY, READ_WRITE, type AuthenticatedUser } from '../../src/server/auth/types.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { describeRun, lftpOpen, lftpQuote, peerSkip, requirePeer, runCurl, runLftp } from '../support/peers.js';
import { startServer } from '../support/server-harness.js';
import { startDropBox } from '../support/drop-box.js';
import { tempDir } from '../support/temp-dir.js';

test('curl and the anonymous drop box', peerSkip('curl'), async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const { h, dir, drop } = await startDropBox(t, 'ftpkit-dropbox-curl-');
  await writeFile(join(dir, 'up.txt'), 'uploaded by curl');
  await writeFile(join(dir, 'again.txt'), 'OVERWRITE');
  const url = `ftp://127.0.0.1:${h.port}`; // curl logs in as anonymous by default

  const list = await runCurl([`${url}/`]);
  assert.equal(list.code, 0, describeRun(list));
  assert.match(list.stdout, / pub\r?\n/);
  assert.match(list.stdout, / incoming\r?\n/);
  const got = await runCurl([`${url}/pub/file.txt`]);
  assert.equal(got.code, 0, describeRun(got));
  assert.equal(got.stdout, 'public file');

  const up = await runCurl(['-T', join(dir, 'up.txt'), `${url}/incoming/up.txt`]);
  assert.equal(up.code, 0, describeRun(up));
  assert.equal(await readFile(join(drop, 'up.txt'), 'utf8'), 'uploaded by curl');

  const listDrop = await runCurl([`${url}/incoming/`]);
  assert.notEqual(listDrop.code, 0, 'LIST of the drop box refused');
  const getDrop = await runCurl([`${url}/incoming/up.txt`]);
  assert.notEqual(getDrop.code, 0, 'RETR from the drop box refused');
  assert.doesNotMatch(getDrop.stdout, /uploaded by curl/);
  const again = await runCurl(['-v', '-T', join(dir, 'again.txt'), `${url}/incoming/up.txt`]);
  assert.notEqual(again.code, 0, 'overwrite refused');
  assert.match(again.stderr, /< 550 \/incoming\/up\.txt: File exists/);
  assert.equal(await readFile(join(drop, 'up.txt'), 'utf8'), 'uploaded by curl');
});

test('lftp mirrors a tree with a mount point, down and up', peerSkip('lftp'), async (t) => {
  if (!requirePeer(t, 'lftp')) return;
  const dir = await tempDir(t, 'ftpkit-mounts-lftp-');
  const [home, shared, deep, local] = ['home', 'shared', 'deep', 'local'].map((d) => join(dir, d));
  for (const d of [home, shared, deep]) await mkdir(d);
  await mkdir(join(home, 'docs'));
  await writeFile(join(home, 'docs', 'a.txt'), 'a');
  await writeFile(join(home, 'top.txt'), 'top');
  await mkdir(join(shared, 'sub'));
  await writeFile(join(shared, 'sub', 's.txt'), 'shared s');
  await writeFile(join(deep, 'd.txt'), 'deep d');
  const tree = assembleUserTree({
    storage: new LocalStorage(home),
    folders: [{ path: '/shared', root: shared }, { path: '/srv/deep', root: deep, permissions: READ_ONLY }],
  }, 'users.0');
  const h = await startServer({
    options: {
      authenticator: {
        async authenticate(u, p): Promise<AuthenticatedUser | null> {
          return u === 'bob' && p === 'pw' ? { name: 'bob', storage: tree.storage, permissions: { ...READ_WRITE }, pathPermissions: tree.pathPermissions } : null;
        },
      },
    },
  });
  t.after(() => h.close());
  const open = lftpOpen({ url: `ftp://127.0.0.1:${h.port}`, user: 'bob', password: 'pw' });

  const down = await runLftp([open, `mirror / ${lftpQuote(local)}`], { timeoutMs: 60000 });
  assert.equal(down.code, 0, describeRun(down));
  assert.equal(await readFile(join(local, 'docs', 'a.txt'), 'utf8'), 'a');
  assert.equal(await readFile(join(local, 'shared', 'sub', 's.txt'), 'utf8'), 'shared s');
  assert.equal(await readFile(join(local, 'srv', 'deep', 'd.txt'), 'utf8'), 'deep d');

  await writeFile(join(local, 'shared', 'sub', 'new.txt'), 'mirrored up');
  const up = await runLftp([open, `mirror -R ${lftpQuote(join(local, 'shared'))} /shared`], { timeoutMs: 60000 });
  assert.equal(up.code, 0, describeRun(up));
  assert.equal(await readFile(join(shared, 'sub', 'new.txt'), 'utf8'), 'mirrored up');
  assert.deepEqual((await readdir(join(shared, 'sub'))).sort(), ['new.txt', 's.txt']);
});
