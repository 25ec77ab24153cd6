/**
 * The CLI's --compress / --mode (MODE Z and B, client/transfer-mode.ts) against our server: get, put, ls
 * and mirror in the chosen mode, byte-exact; the result line and --json show the file's bytes and the wire's;
 * -v shows MODE on the wire; a bad --mode is a usage error (exit 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ftpkit, server, ok } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';

const TEXT = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `${i},cli,${i % 11}\n`).join(''));

test('get/put/ls/mirror with --compress and --mode B: byte-exact, MODE sent, wire bytes shown', async t => {
  const { root, base } = await server(t);
  const work = await tempDir(t, 'ftpkit-cli-modes-');
  const u = `${base.replace('ftp://', 'ftp://test:s3cr%3Dt@')}`;
  await writeFile(path.join(work, 'up.csv'), TEXT);
  const put = await ftpkit(['put', '--compress', '-v', path.join(work, 'up.csv'), `${u}/up.csv`]);
  ok(put);
  assert.match(put.stderr, /MODE Z/);
  assert.ok((await readFile(path.join(root, 'up.csv'))).equals(TEXT));
  const got = await ftpkit(['get', '--json', '--mode', 'z', `${u}/up.csv`, path.join(work, 'down.csv')]);
  ok(got);
  const result = JSON.parse(got.stdout);
  assert.equal(result.transferMode, 'Z');
  assert.equal(result.fileBytes, TEXT.length);
  assert.ok(result.bytes < TEXT.length / 3, `wire ${result.bytes}`);
  assert.ok((await readFile(path.join(work, 'down.csv'))).equals(TEXT));
  const human = await ftpkit(['get', '--mode', 'B', `${u}/up.csv`, path.join(work, 'block.csv')]);
  ok(human);
  assert.match(human.stdout + human.stderr, /MODE B: .* on the wire/);
  assert.ok((await readFile(path.join(work, 'block.csv'))).equals(TEXT));
  const ls = await ftpkit(['ls', '--compress', '-v', `${u}/`]);
  ok(ls);
  assert.match(ls.stdout, /up\.csv/);
  assert.match(ls.stderr, /MODE Z/);
  await mkdir(path.join(work, 'tree/sub'), { recursive: true });
  await writeFile(path.join(work, 'tree/sub/a.csv'), TEXT);
  ok(await ftpkit(['mirror', '--compress', '-R', path.join(work, 'tree'), `${u}/tree/`]));
  assert.ok((await readFile(path.join(root, 'tree/sub/a.csv'))).equals(TEXT));
  ok(await ftpkit(['mirror', '--mode', 'auto', `${u}/tree/`, path.join(work, 'back')]));
  assert.ok((await readFile(path.join(work, 'back/sub/a.csv'))).equals(TEXT));
  const bad = await ftpkit(['get', '--mode', 'X', `${u}/up.csv`, path.join(work, 'x.csv')]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--mode must be S, Z, B or auto/);
});
