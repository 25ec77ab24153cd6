/**
 * Bookmarks (docs/client.md#bookmarks): `ftpkit bookmark add|list|del`, `@name:path` in place of a URL for
 * get, put, ls and mirror, the bookmark's settings, passwords never stored unless asked, and a clear error
 * for an unknown bookmark. The file is $FTPKIT_BOOKMARKS, else ~/.config/ftpkit/bookmarks.yaml.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ftpkit, ok, server } from '../support/cli-server.js';
import { describeCli } from '../support/ftpkit-cli.js';
import { tempDir } from '../support/temp-dir.js';

test('add (password left out), use with $FTPKIT_PASSWORD, list, del; the default file under HOME', async t => {
  const { root, base } = await server(t);
  await mkdir(path.join(root, 'reports/2024'), { recursive: true });
  await writeFile(path.join(root, 'reports/2024/jan.csv'), 'jan');
  await writeFile(path.join(root, 'reports/2024/feb.csv'), 'feb');
  const home = await tempDir(t, 'ftpkit-bm-home-');
  const work = await tempDir(t, 'ftpkit-bm-work-');
  const secretUrl = `${base.replace('ftp://', 'ftp://test:s3cr%3Dt@')}/reports/`;

  const added = await ftpkit(['bookmark', 'add', 'work', secretUrl], {}, home);
  ok(added);
  assert.match(added.stderr, /password in the URL was not stored/);
  const file = path.join(home, '.config/ftpkit/bookmarks.yaml');
  const text = await readFile(file, 'utf8');
  assert.ok(!text.includes('s3cr'), text);
  assert.equal((await stat(file)).mode & 0o777, 0o600);

  const env = { FTPKIT_PASSWORD: 's3cr=t' };
  ok(await ftpkit(['get', '@work:/2024/jan.csv', path.join(work, 'jan.csv')], env, home));
  assert.equal(await readFile(path.join(work, 'jan.csv'), 'utf8'), 'jan');
  const ls = await ftpkit(['ls', '@work:2024/'], env, home);
  ok(ls);
  assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['feb.csv', 'jan.csv']);
  // Wildcards and put go through a bookmark too.
  const globbed = await tempDir(t, 'ftpkit-bm-glob-');
  ok(await ftpkit(['get', '@work:/2024/*.csv', globbed], env, home));
  assert.deepEqual((await readdir(globbed)).sort(), ['feb.csv', 'jan.csv']);
  ok(await ftpkit(['put', path.join(work, 'jan.csv'), '@work:/2024/copy.csv'], env, home));
  assert.equal(await readFile(path.join(root, 'reports/2024/copy.csv'), 'utf8'), 'jan');
  const mirrorDir = path.join(work, 'mirror');
  ok(await ftpkit(['mirror', '@work:/2024', mirrorDir], env, home));
  assert.deepEqual((await readdir(mirrorDir)).sort(), ['copy.csv', 'feb.csv', 'jan.csv']);

  const listed = await ftpkit(['bookmark', 'list', '--json'], {}, home);
  ok(listed);
  const rows = JSON.parse(listed.stdout).bookmarks;
  assert.equal(rows.length, 1);
  assert.equal(rows[0].name, 'work');
  assert.equal(rows[0].passwordSaved, false);
  assert.ok(!listed.stdout.includes('s3cr'));

  ok(await ftpkit(['bookmark', 'del', 'work'], {}, home));
  const gone = await ftpkit(['get', '@work:/2024/jan.csv', work], env, home);
  assert.equal(gone.code, 2, describeCli(gone));
  assert.match(gone.stderr, /unknown bookmark @work: .* has none/);
});

test('--save-password and --settings; $FTPKIT_BOOKMARKS; an unknown name lists the known ones', async t => {
  const { root, base } = await server(t);
  await writeFile(path.join(root, 'a.txt'), 'a');
  const dir = await tempDir(t, 'ftpkit-bm-file-');
  const settings = path.join(dir, 'settings.json');
  await writeFile(settings, JSON.stringify({ data: { mode: 'active' } }));
  const env = { FTPKIT_BOOKMARKS: path.join(dir, 'marks.yaml') };
  ok(await ftpkit(['bookmark', 'add', '--save-password', '--settings', settings, 'srv', `${base.replace('ftp://', 'ftp://test:s3cr%3Dt@')}/`], env));
  assert.match(await readFile(env.FTPKIT_BOOKMARKS, 'utf8'), /password: s3cr=t/);
  assert.equal((await stat(env.FTPKIT_BOOKMARKS)).mode & 0o777, 0o600);

  // No password from anywhere but the bookmark; the bookmark's active mode shows in the transcript.
  const got = await ftpkit(['get', '-v', '@srv:a.txt', path.join(dir, 'a.txt')], env);
  ok(got);
  assert.equal(await readFile(path.join(dir, 'a.txt'), 'utf8'), 'a');
  assert.match(got.stderr, /Command:\t(EPRT|PORT) /);
  // Flags still win over the bookmark's settings.
  const passive = await ftpkit(['get', '-v', '--passive', '@srv:a.txt', path.join(dir, 'b.txt')], env);
  ok(passive);
  assert.match(passive.stderr, /Command:\t(EPSV|PASV)/);

  const unknown = await ftpkit(['ls', '@nope:/'], env);
  assert.equal(unknown.code, 2, describeCli(unknown));
  assert.match(unknown.stderr, /unknown bookmark @nope: .*marks\.yaml has @srv/);

  const badName = await ftpkit(['bookmark', 'add', 'no spaces', `${base}/`], env);
  assert.equal(badName.code, 2, describeCli(badName));
  await writeFile(env.FTPKIT_BOOKMARKS, 'srv:\n  url: http://example.com/\n');
  const badFile = await ftpkit(['ls', '@srv:/'], env);
  assert.equal(badFile.code, 2, describeCli(badFile));
  assert.match(badFile.stderr, /not an ftp:\/\/ or ftps:\/\/ URL/);
});
