/**
 * End to end: FtpServer over LocalStorage, raw FTP commands that try to leave the root (../, encoded dots,
 * symlinks planted inside pointing outside, a dangling link, renames out) all answer 550 and touch
 * nothing outside; links that stay inside work. Checked against a sentinel folder next to the root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../../src/server/storage/local.js';
import { RawControl, openPassive, readAll, startServer, writeAll } from '../support/server-harness.js';

const MARKER = 'SENTINEL-8d2e';

test('nothing outside the root is reachable through the server', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'ftpkit-jail-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(join(root, 'inside'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'sentinel.txt'), MARKER);
  await writeFile(join(root, 'a.txt'), 'file a');
  await writeFile(join(root, 'inside', 'f.txt'), 'file f');
  await symlink(join(outside, 'sentinel.txt'), join(root, 'link-out'));
  await symlink(join(outside, 'sentinel.txt'), join(root, 'link-out-2'));
  await symlink('../outside', join(root, 'dir-out'));
  await symlink(join(outside, 'created.txt'), join(root, 'dangling'));
  await symlink('inside', join(root, 'in-link'));
  const sentinelMode = (await lstat(join(outside, 'sentinel.txt'))).mode;

  const h = await startServer({ storage: new LocalStorage(root) });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());

  /** A transfer command that must be refused before any data flows. */
  const refusedTransfer = async (line: string) => {
    const data = await openPassive(c);
    const r = await c.send(line);
    data.destroy();
    assert.equal(r.code, 550, `${line} -> ${r.code} ${r.text}`);
  };
  const expect = async (line: string, code: number) => {
    const r = await c.send(line);
    assert.equal(r.code, code, `${line} -> ${r.code} ${r.text}`);
    return r;
  };

  await expect('CWD ..', 250);
  assert.match((await expect('PWD', 257)).text, /^"\/"/, 'CWD .. at the root stays at the root');
  for (const path of ['../outside/sentinel.txt', '/../../outside/sentinel.txt', 'link-out', 'dir-out/sentinel.txt',
    '%2e%2e/outside/sentinel.txt', 'in-link/../../outside/sentinel.txt']) {
    await refusedTransfer(`RETR ${path}`);
  }
  await refusedTransfer('STOR dangling');
  await refusedTransfer('STOR dir-out/new.txt');
  await refusedTransfer('APPE link-out');
  await refusedTransfer('LIST dir-out');
  await expect('CWD dir-out', 550);
  await expect('MKD dir-out/newdir', 550);
  await expect('SIZE link-out', 550);
  await expect('MDTM link-out', 550);
  await expect('SITE CHMOD 777 link-out', 550);
  await expect('MFMT 20000101000000 link-out', 550);
  await expect('RNFR a.txt', 350);
  await expect('RNTO dir-out/stolen.txt', 550);
  // Removing a link removes the link, never its target.
  await expect('DELE link-out-2', 250);

  // Links that stay inside work.
  await expect('CWD /in-link', 250);
  const data = await openPassive(c);
  const reading = readAll(data);
  assert.equal((await c.send('RETR f.txt')).code, 150);
  assert.equal((await reading).toString(), 'file f');
  assert.equal((await c.read()).code, 226);

  // An encoded slash is a literal character of a name inside the root, never a separator.
  await expect('CWD /', 250);
  const up = await openPassive(c);
  assert.equal((await c.send('STOR ..%2f..%2fescape.txt')).code, 150);
  await writeAll(up, Buffer.from('literal'));
  assert.equal((await c.read()).code, 226);
  assert.equal(await readFile(join(root, '..%2f..%2fescape.txt'), 'utf8'), 'literal');

  // Outside: unchanged.
  assert.deepEqual(await readdir(outside), ['sentinel.txt']);
  assert.equal(await readFile(join(outside, 'sentinel.txt'), 'utf8'), MARKER);
  assert.equal((await lstat(join(outside, 'sentinel.txt'))).mode, sentinelMode);
  assert.deepEqual((await readdir(base)).sort(), ['outside', 'root']);
  await expect('QUIT', 221);
});
