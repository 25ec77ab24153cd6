// The client CLI as users run it (`node --import tsx src/cli/main.ts get URL LOCAL`) against our server:
// transfers (files and stdin/stdout), mirror both ways, credentials from the URL/env/netrc, the transcript,
// --json. Flags and exit codes: client-cli-flags.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, mkdir, writeFile, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ftpkit, server, ok } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';

test('put, ls --json, get, mv, mkdir, rm, rmdir with the password in the URL', async t => {
  const { root, base } = await server(t);
  const work = await tempDir(t, 'ftpkit-cli-work-');
  const data = randomBytes(200_000);
  await writeFile(path.join(work, 'up.bin'), data);
  const u = `${base.replace('ftp://', 'ftp://test:s3cr%3Dt@')}`;
  ok(await ftpkit(['mkdir', '-p', `${u}/d1/d2`]));
  ok(await ftpkit(['put', path.join(work, 'up.bin'), `${u}/d1/d2/`]));
  assert.deepEqual(await readFile(path.join(root, 'd1/d2/up.bin')), data);
  const ls = await ftpkit(['ls', '--json', `${u}/d1/d2/`]);
  ok(ls);
  const listed = JSON.parse(ls.stdout);
  assert.equal(listed.ok, true);
  assert.equal(listed.url, `ftp://test@127.0.0.1:${new URL(base).port}/d1/d2/`); // no password in output
  assert.deepEqual(listed.entries.map((e: { name: string; size: number }) => [e.name, e.size]), [['up.bin', 200_000]]);
  ok(await ftpkit(['mv', `${u}/d1/d2/up.bin`, 'renamed.bin']));
  const got = await ftpkit(['get', `${u}/d1/d2/renamed.bin`, path.join(work, 'down.bin')]);
  ok(got);
  assert.deepEqual(await readFile(path.join(work, 'down.bin')), data);
  assert.match(got.stderr, /download d1\/d2\/renamed\.bin: .* done/); // plain progress line when not a TTY
  // "-" streams: stdin to the server, the server to stdout (binary-safe, nothing else on stdout)
  ok(await ftpkit(['put', '-', `${u}/d1/d2/piped.bin`], {}, undefined, data));
  assert.deepEqual(await readFile(path.join(root, 'd1/d2/piped.bin')), data);
  const piped = await ftpkit(['get', `${u}/d1/d2/piped.bin`, '-']);
  ok(piped);
  assert.deepEqual(piped.raw, data);
  ok(await ftpkit(['rm', `${u}/d1/d2/piped.bin`]));
  ok(await ftpkit(['rm', `${u}/d1/d2/renamed.bin`]));
  ok(await ftpkit(['rmdir', `${u}/d1/d2`]));
  assert.deepEqual(await readdir(path.join(root, 'd1')), []);
});

test('mv into an existing folder keeps the name, like mv(1): a URL or path naming the folder, with or without "/"', async t => {
  const { root, base } = await server(t);
  const u = `${base.replace('ftp://', 'ftp://test:s3cr%3Dt@')}`;
  await mkdir(path.join(root, 'in/deeper'), { recursive: true });
  for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) await writeFile(path.join(root, f), f);
  ok(await ftpkit(['mv', `${u}/a.txt`, `${u}/in`]));
  ok(await ftpkit(['mv', `${u}/b.txt`, `${u}/in/`]));
  ok(await ftpkit(['mv', `${u}/c.txt`, 'in']));
  const moved = await ftpkit(['mv', '--json', `${u}/d.txt`, 'in/deeper']);
  ok(moved);
  assert.equal(JSON.parse(moved.stdout).to, 'in/deeper/d.txt');
  assert.deepEqual((await readdir(path.join(root, 'in'))).sort(), ['a.txt', 'b.txt', 'c.txt', 'deeper']);
  assert.equal(await readFile(path.join(root, 'in/deeper/d.txt'), 'utf8'), 'd.txt');
  // A target that is not a folder is still a new name.
  ok(await ftpkit(['mv', `${u}/in/a.txt`, 'in/e.txt']));
  assert.equal(await readFile(path.join(root, 'in/e.txt'), 'utf8'), 'a.txt');
});

test('mirror down and --reverse up with --parallel and --delete; second run transfers nothing', async t => {
  const { root, base } = await server(t);
  await mkdir(path.join(root, 'site/a/b'), { recursive: true });
  for (const [p, c] of [['site/1.txt', 'one'], ['site/a/2.txt', 'two'], ['site/a/b/3.bin', 'three'], ['site/a/b/4.bin', 'four']]) {
    await writeFile(path.join(root, p), c);
  }
  const work = await tempDir(t, 'ftpkit-cli-mirror-');
  const local = path.join(work, 'copy');
  const env = { FTPKIT_PASSWORD: 's3cr=t' };
  const down = await ftpkit(['mirror', '--parallel', '2', '--json', `${base.replace('ftp://', 'ftp://test@')}/site`, local], env);
  ok(down);
  const r1 = JSON.parse(down.stdout);
  assert.equal(r1.transferred, 4);
  assert.equal(await readFile(path.join(local, 'a/b/3.bin'), 'utf8'), 'three');
  const again = JSON.parse((await ftpkit(['mirror', '--json', `ftp://test@127.0.0.1:${new URL(base).port}/site`, local], env)).stdout);
  assert.equal(again.transferred, 0);
  assert.equal(again.skipped, 4);

  await writeFile(path.join(local, 'a/new.txt'), 'new');
  await rm(path.join(local, 'a/b/4.bin'));
  const up = await ftpkit(['mirror', '--reverse', '--delete', '--parallel', '2', local, `ftp://test@127.0.0.1:${new URL(base).port}/site`], env);
  ok(up);
  assert.match(up.stdout, /1 transferred .* 1 deleted, 0 failed/);
  assert.equal(await readFile(path.join(root, 'site/a/new.txt'), 'utf8'), 'new');
  assert.deepEqual((await readdir(path.join(root, 'site/a/b'))).sort(), ['3.bin']);
  const dry = await ftpkit(['mirror', '-n', '--delete', `ftp://test@127.0.0.1:${new URL(base).port}/site`, path.join(work, 'empty')], env);
  ok(dry);
  assert.match(dry.stdout, /would transfer a\/new\.txt \(new\)/);
  await assert.rejects(readdir(path.join(work, 'empty')), { code: 'ENOENT' });
});

test('credentials from ~/.netrc; -v transcript masks the password', async t => {
  const { base } = await server(t);
  const home = await tempDir(t, 'ftpkit-cli-home-');
  await writeFile(path.join(home, '.netrc'), `machine 127.0.0.1 login test password s3cr=t\n`, { mode: 0o600 });
  const r = await ftpkit(['ls', '-v', `${base}/`], {}, home);
  ok(r);
  assert.match(r.stderr, /Command:\tUSER test/);
  assert.match(r.stderr, /Command:\tPASS \*\*\*\*/);
  assert.match(r.stderr, /Response:\t230 /);
  assert.match(r.stderr, /password source: netrc/);
  // Every transcript line has the same shape (time, label, tab), the first one too.
  for (const line of r.stderr.split('\n').filter(l => /^\S.*:\t/.test(l))) assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} (Status|Command|Response):\t/, line);
  assert.doesNotMatch(r.stderr + r.stdout, /s3cr=t/);
});
