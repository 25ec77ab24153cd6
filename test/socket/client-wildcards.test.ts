/**
 * Wildcards and conveniences against our server (docs/client.md#wildcards): `get 'URL/dir/*.csv'`
 * downloads every match (matched on the listing by the client), "?" unencoded in the URL, "[...]",
 * no match (exit 4), a wildcard in a folder (exit 2), --globoff; `put` of several files and of a quoted
 * local pattern; `put --create-dirs`; FtpClient.glob() and upload({ createDirs }).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FtpClient } from '../../src/client/index.js';
import { ftpkit, ok, server } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';
import { describeCli } from '../support/ftpkit-cli.js';

async function withFiles(t: Parameters<typeof server>[0]) {
  const s = await server(t);
  await mkdir(path.join(s.root, 'data/old.csv'), { recursive: true });
  for (const name of ['a.csv', 'b.csv', 'c.txt', '.hidden.csv', 'x*.csv', 'old.csv/inner.csv']) {
    await writeFile(path.join(s.root, 'data', name), `content of ${name}`);
  }
  return { ...s, u: s.base.replace('ftp://', 'ftp://test:s3cr%3Dt@') };
}

test('get with "*", unencoded "?" and "[...]" downloads each matching file into the folder', async t => {
  const { u } = await withFiles(t);
  const work = await tempDir(t, 'ftpkit-glob-');
  const star = await ftpkit(['get', '--json', `${u}/data/*.csv`, work]);
  ok(star);
  const result = JSON.parse(star.stdout);
  assert.equal(result.matched, 3);
  assert.deepEqual((await readdir(work)).sort(), ['a.csv', 'b.csv', 'x*.csv']);
  assert.equal(await readFile(path.join(work, 'a.csv'), 'utf8'), 'content of a.csv');

  const q = await tempDir(t, 'ftpkit-glob-q-');
  ok(await ftpkit(['get', `${u}/data/?.c*`, q]));
  assert.deepEqual((await readdir(q)).sort(), ['a.csv', 'b.csv']);

  const cls = await tempDir(t, 'ftpkit-glob-cls-');
  ok(await ftpkit(['get', `${u}/data/[bc].*`, cls]));
  assert.deepEqual((await readdir(cls)).sort(), ['b.csv', 'c.txt']);

  // -r: matching folders come too.
  const rec = await tempDir(t, 'ftpkit-glob-r-');
  ok(await ftpkit(['get', '-r', `${u}/data/old*`, rec]));
  assert.equal(await readFile(path.join(rec, 'old.csv/inner.csv'), 'utf8'), 'content of old.csv/inner.csv');
});

test('get: no match is exit 4 with the pattern; a wildcard in a folder exit 2; --globoff takes "*" literally', async t => {
  const { u } = await withFiles(t);
  const work = await tempDir(t, 'ftpkit-glob-none-');
  const none = await ftpkit(['get', `${u}/data/*.xml`, work]);
  assert.equal(none.code, 4, describeCli(none));
  assert.match(none.stderr, /no file matches \*\.xml in data/);
  const json = await ftpkit(['get', '--json', `${u}/data/*.xml`, work]);
  assert.equal(JSON.parse(json.stdout).error.code, 'ERR_FTP_NO_MATCH');

  const folder = await ftpkit(['get', `${u}/da*/a.csv`, work]);
  assert.equal(folder.code, 2, describeCli(folder));
  assert.match(folder.stderr, /last path segment only/);

  const notDir = await ftpkit(['get', `${u}/data/*.csv`, path.join(work, 'missing')]);
  assert.equal(notDir.code, 2, describeCli(notDir));

  ok(await ftpkit(['get', '--globoff', `${u}/data/x*.csv`, path.join(work, 'literal.csv')]));
  assert.equal(await readFile(path.join(work, 'literal.csv'), 'utf8'), 'content of x*.csv');
  assert.deepEqual(await readdir(work), ['literal.csv']);
});

test('put: several files, a quoted local pattern, --create-dirs', async t => {
  const { root, u } = await withFiles(t);
  const work = await tempDir(t, 'ftpkit-put-many-');
  for (const name of ['one.txt', 'two.txt', 'three.log']) await writeFile(path.join(work, name), name);

  ok(await ftpkit(['put', path.join(work, 'one.txt'), path.join(work, 'three.log'), `${u}/data/`]));
  assert.equal(await readFile(path.join(root, 'data/one.txt'), 'utf8'), 'one.txt');
  assert.equal(await readFile(path.join(root, 'data/three.log'), 'utf8'), 'three.log');

  // The shell leaves a quoted pattern alone: put expands it.
  ok(await ftpkit(['put', '--create-dirs', path.join(work, '*.txt'), `${u}/new/deeper/`]));
  assert.deepEqual((await readdir(path.join(root, 'new/deeper'))).sort(), ['one.txt', 'two.txt']);

  const noMatch = await ftpkit(['put', path.join(work, '*.none'), `${u}/data/`]);
  assert.equal(noMatch.code, 2, describeCli(noMatch));
  assert.match(noMatch.stderr, /no local file matches/);

  // Without --create-dirs a missing folder is the server's refusal; with it, the folders are made.
  const refused = await ftpkit(['put', path.join(work, 'one.txt'), `${u}/a/b/c/one.txt`]);
  assert.equal(refused.code, 4, describeCli(refused));
  ok(await ftpkit(['put', '--create-dirs', path.join(work, 'one.txt'), `${u}/a/b/c/one.txt`]));
  assert.equal(await readFile(path.join(root, 'a/b/c/one.txt'), 'utf8'), 'one.txt');

  const notFolder = await ftpkit(['put', path.join(work, 'one.txt'), path.join(work, 'two.txt'), `${u}/data/a.csv`]);
  assert.equal(notFolder.code, 2, describeCli(notFolder));
});

test('library: glob() lists and matches; upload({ createDirs }) makes the folders', async t => {
  const { root, base } = await withFiles(t);
  const c = new FtpClient({ host: '127.0.0.1', port: Number(new URL(base).port), user: 'test', password: 's3cr=t' });
  t.after(() => c.destroy());
  await c.connect();
  assert.deepEqual((await c.glob('data/[ab].csv')).map(m => [m.path, m.entry.type]), [['data/a.csv', 'file'], ['data/b.csv', 'file']]);
  assert.deepEqual(await c.glob('data/*.xml'), []);
  const work = await tempDir(t, 'ftpkit-glob-lib-');
  await writeFile(path.join(work, 'f.txt'), 'f');
  await c.upload(path.join(work, 'f.txt'), 'made/by/upload/f.txt', { createDirs: true });
  assert.equal(await readFile(path.join(root, 'made/by/upload/f.txt'), 'utf8'), 'f');
  await c.close();
});

test('get with a wildcard refuses a listed name that is no plain file name, and downloads the others (exit 1)', async t => {
  // "*" matches "/" inside a listed name: the local path check (tree/safe-name.ts) is what refuses it.
  const { startFakeServer } = await import('../support/fake-server.js');
  const listing = '-rw-r--r--   1 0  0   4 Jan 15 10:30 good.csv\r\n-rw-r--r--   1 0  0   4 Jan 15 10:30 sub/evil.csv\r\n';
  const fake = await startFakeServer({
    commands: { FEAT: '211-Features:\r\n EPSV\r\n PASV\r\n211 End', LIST: { transfer: { send: listing } } },
    files: { 'up/good.csv': 'good', 'up/sub/evil.csv': 'evil' },
  });
  t.after(() => fake.close());
  const work = await tempDir(t, 'ftpkit-glob-evil-');
  const inside = path.join(work, 'inside');
  await mkdir(inside);
  const r = await ftpkit(['get', '--json', `ftp://u:p@127.0.0.1:${fake.port}/up/*.csv`, inside]);
  assert.equal(r.code, 1, describeCli(r));
  assert.match(r.stderr, /refused name "sub\/evil\.csv"/);
  assert.equal(JSON.parse(r.stdout).refused.length, 1);
  assert.deepEqual(await readdir(inside), ['good.csv']);
  assert.deepEqual(await readdir(work), ['inside']);
  assert.ok(!fake.received.some(c => c.line.includes('evil')), 'no RETR of the refused name');
});
