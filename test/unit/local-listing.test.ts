/**
 * statChunks() (server/storage/local-listing.ts): a listing's lstat calls, in the worker thread for big
 * folders (local-lstat-worker.ts) or synchronously in slices that give the event loop a turn between
 * them; in the order of the names, in chunks, leaving out (NO_ENTRY) what vanished.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onLocalFileSystem, statChunks, WORKER_MIN_ENTRIES, type StatOptions } from '../../src/server/storage/local-listing.js';
import { CHUNK_ENTRIES, NO_ENTRY, STAT_FIELDS, holdLstatWorker, lstatWorkerRunning, stopLstatWorker } from '../../src/server/storage/local-lstat-worker.js';

async function folder(t: { after(fn: () => Promise<void>): void }, files: number): Promise<{ dir: string; names: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpkit-listing-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const names = Array.from({ length: files }, (_, i) => `f${i}`);
  for (let i = 0; i < names.length; i += 256) {
    await Promise.all(names.slice(i, i + 256).map((n, j) => writeFile(join(dir, n), 'x'.repeat((i + j) % 1000))));
  }
  return { dir, names };
}

/** All chunks of a listing joined: [mode, size, ...] per name, and where each chunk started. */
async function collect(dir: string, names: string[], options?: StatOptions): Promise<{ stats: number[][]; starts: number[] }> {
  const stats: number[][] = [];
  const starts: number[] = [];
  for await (const chunk of statChunks(dir, names, options)) {
    assert.equal(chunk.start, stats.length, 'chunks come in order, none missing');
    starts.push(chunk.start);
    for (let o = 0; o < chunk.stats.length; o += STAT_FIELDS) stats.push([...chunk.stats.subarray(o, o + STAT_FIELDS)]);
  }
  return { stats, starts };
}

for (const [how, options] of [['on the main thread', { worker: false }], ['in the worker', {}]] as const) {
  test(`stats come back in the order of the names, ${how}; a vanished name is NO_ENTRY; a symlink is not followed`, async (t) => {
    t.after(stopLstatWorker);
    const { dir, names } = await folder(t, WORKER_MIN_ENTRIES + 40);
    await mkdir(join(dir, 'sub'));
    await symlink('f1', join(dir, 'link'));
    const asked = ['sub', ...names.slice().reverse(), 'gone', 'link'];
    const { stats, starts } = await collect(dir, asked, options);
    assert.equal(stats.length, asked.length);
    assert.deepEqual(starts, Array.from({ length: Math.ceil(asked.length / CHUNK_ENTRIES) }, (_, i) => i * CHUNK_ENTRIES));
    for (const [i, name] of asked.entries()) {
      if (name === 'gone') { assert.equal(stats[i]![0], NO_ENTRY); continue; }
      const st = lstatSync(join(dir, name));
      assert.deepEqual(stats[i], [st.mode, st.size, st.mtime.getTime(), st.uid, st.gid, st.nlink, st.dev, st.ino], name);
    }
  });
}

test('the worker does not keep the process alive, and a listing after stopLstatWorker() starts a new one', async (t) => {
  const { dir, names } = await folder(t, WORKER_MIN_ENTRIES);
  assert.equal((await collect(dir, names)).stats.length, names.length);
  await stopLstatWorker();
  assert.equal((await collect(dir, names)).stats.length, names.length);
  await stopLstatWorker();
});

test('the worker lives while any holder (a listening server) holds it, and stops with the last release', async (t) => {
  const { dir, names } = await folder(t, WORKER_MIN_ENTRIES);
  const releaseA = holdLstatWorker();
  const releaseB = holdLstatWorker();
  t.after(releaseA);
  t.after(releaseB);
  assert.equal((await collect(dir, names)).stats.length, names.length);
  assert.ok(lstatWorkerRunning(), 'a big listing started the worker');
  await releaseA();
  await releaseA(); // a second release of the same hold changes nothing
  assert.ok(lstatWorkerRunning(), 'one server closing leaves the worker to the other');
  assert.equal((await collect(dir, names)).stats.length, names.length);
  await releaseB();
  assert.equal(lstatWorkerRunning(), false, 'the last release stops it');
});

test('a worker stopped in the middle of a listing: the rest is stat\'ed on the main thread', async (t) => {
  const { dir, names } = await folder(t, 3 * CHUNK_ENTRIES);
  const seen: number[] = [];
  for await (const chunk of statChunks(dir, names)) {
    seen.push(chunk.start);
    if (seen.length === 1) await stopLstatWorker();
    for (let o = 0; o < chunk.stats.length; o += STAT_FIELDS) assert.notEqual(chunk.stats[o], NO_ENTRY);
  }
  assert.deepEqual(seen, [0, CHUNK_ENTRIES, 2 * CHUNK_ENTRIES]);
});

test('a big folder on the main thread gives the event loop turns between slices (other sessions are not starved)', async (t) => {
  const { dir, names } = await folder(t, 300);
  let turns = 0;
  let done = false;
  const tick = (): void => { if (!done) { turns++; setImmediate(tick); } };
  setImmediate(tick);
  // A zero-length slice: a turn after every few calls, whatever the machine's speed.
  const { stats } = await collect(dir, names, { sliceMs: 0, worker: false });
  done = true;
  assert.equal(stats.filter(s => s[0] !== NO_ENTRY).length, names.length);
  assert.ok(turns >= 5, `the event loop ran ${turns} times during 300 lstat calls`);
});

test('synchronous lstat only on a local file system; elsewhere (here /proc) through the pool, same answers', async (t) => {
  const { dir } = await folder(t, 3);
  assert.equal(await onLocalFileSystem(dir), true, `${dir} is on a local disk or tmpfs`);
  assert.equal(await onLocalFileSystem('/proc/self'), false, 'procfs is not on the list: a hanging network mount would not be either');
  assert.equal(await onLocalFileSystem(join(dir, 'gone')), false, 'unknown: the pool');
  const { stats } = await collect('/proc/self', ['status', 'nothing-here', 'cwd']);
  const S_IFMT = 0o170000;
  assert.equal(stats[0]![0]! & S_IFMT, 0o100000);
  assert.equal(stats[1]![0], NO_ENTRY);
  assert.equal(stats[2]![0]! & S_IFMT, 0o120000);
});
