/**
 * lstatEntries() (server/storage/local-listing.ts): a listing's lstat calls run synchronously in slices
 * that give the event loop a turn between them, keep the order of the names, and leave out what vanished.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lstatEntries, onLocalFileSystem } from '../../src/server/storage/local-listing.js';

async function folder(t: { after(fn: () => Promise<void>): void }, files: number): Promise<{ dir: string; names: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpkit-listing-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const names = Array.from({ length: files }, (_, i) => `f${i}`);
  await Promise.all(names.map((n, i) => writeFile(join(dir, n), 'x'.repeat(i))));
  return { dir, names };
}

test('stats come back in the order of the names; a vanished name is undefined', async (t) => {
  const { dir, names } = await folder(t, 40);
  await mkdir(join(dir, 'sub'));
  await symlink('f1', join(dir, 'link'));
  const asked = ['sub', ...names.slice().reverse(), 'gone', 'link'];
  const stats = await lstatEntries(dir, asked);
  assert.equal(stats.length, asked.length);
  assert.ok(stats[0]!.isDirectory());
  for (let i = 0; i < names.length; i++) assert.equal(stats[1 + i]!.size, names.length - 1 - i);
  assert.equal(stats[asked.length - 2], undefined);
  assert.ok(stats.at(-1)!.isSymbolicLink(), 'lstat: a symlink is not followed');
});

test('a big folder gives the event loop turns between slices (other sessions are not starved)', async (t) => {
  const { dir, names } = await folder(t, 300);
  let turns = 0;
  let done = false;
  const tick = (): void => { if (!done) { turns++; setImmediate(tick); } };
  setImmediate(tick);
  // A zero-length slice: a turn after every few calls, whatever the machine's speed.
  const stats = await lstatEntries(dir, names, 0);
  done = true;
  assert.equal(stats.filter(Boolean).length, names.length);
  assert.ok(turns >= 5, `the event loop ran ${turns} times during 300 lstat calls`);
});

test('synchronous lstat only on a local file system; elsewhere (here /proc) through the pool, same answers', async (t) => {
  const { dir } = await folder(t, 3);
  assert.equal(await onLocalFileSystem(dir), true, `${dir} is on a local disk or tmpfs`);
  assert.equal(await onLocalFileSystem('/proc/self'), false, 'procfs is not on the list: a hanging network mount would not be either');
  assert.equal(await onLocalFileSystem(join(dir, 'gone')), false, 'unknown: the pool');
  const stats = await lstatEntries('/proc/self', ['status', 'nothing-here', 'cwd']);
  assert.ok(stats[0]!.isFile());
  assert.equal(stats[1], undefined);
  assert.ok(stats[2]!.isSymbolicLink());
});
