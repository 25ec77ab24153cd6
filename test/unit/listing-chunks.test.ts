/**
 * The streamed listing (issue 10): LocalStorage.listChunks() gives list()'s entries in chunks, answers
 * failures before any chunk, and keeps the folder pinned only until the iterator ends or is returned; the
 * listing source (server/commands/listing-source.ts) formats no more than its reader takes and returns the
 * iterator when destroyed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FtpStorageError } from '../../src/errors.js';
import { LISTING_BUFFER_BYTES } from '../../src/protocol/listing-buffers.js';
import type { FileInfo } from '../../src/protocol/file-info.js';
import { allEntries, listingSource } from '../../src/server/commands/listing-source.js';
import { chunksOf } from '../../src/server/storage/listing-chunks.js';
import { CHUNK_ENTRIES, stopLstatWorker } from '../../src/server/storage/local-lstat-worker.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import type { ListingChunks } from '../../src/server/storage/types.js';
import { until } from '../support/until.js';

async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

async function sandbox(t: { after(fn: () => Promise<void>): void }, files: number): Promise<LocalStorage> {
  const root = await mkdtemp(join(tmpdir(), 'ftpkit-chunks-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  t.after(stopLstatWorker);
  await mkdir(join(root, 'big'));
  for (let i = 0; i < files; i += 256) {
    await Promise.all(Array.from({ length: Math.min(256, files - i) }, (_, j) => writeFile(join(root, 'big', `f${i + j}`), '')));
  }
  await writeFile(join(root, 'file.txt'), 'x');
  return LocalStorage.open(root);
}

test('listChunks() yields what list() returns, in chunks, in name order', async (t) => {
  const storage = await sandbox(t, 2 * CHUNK_ENTRIES + 5);
  const chunks = await storage.listChunks('/big');
  const seen: FileInfo[][] = [];
  for (let r = await chunks.next(); !r.done; r = await chunks.next()) seen.push(r.value);
  assert.deepEqual(seen.map(c => c.length), [CHUNK_ENTRIES, CHUNK_ENTRIES, 5]);
  assert.deepEqual(seen.flat(), await storage.list('/big'));
});

test('listChunks() fails before any chunk, as list() does', async (t) => {
  const storage = await sandbox(t, 0);
  for (const [path, failure] of [['/file.txt', 'not-a-directory'], ['/nothing', 'not-found']] as const) {
    await assert.rejects(storage.listChunks(path), (err: unknown) => err instanceof FtpStorageError && err.failure === failure, path);
  }
});

test('a listing returned before its end, or before it started, releases the folder it pinned', async (t) => {
  const storage = await sandbox(t, 3 * CHUNK_ENTRIES);
  await storage.list('/big'); // the jail's root descriptor and the worker are there from now on
  const before = await openDescriptors();
  const unread = await storage.listChunks('/big');
  const started = await storage.listChunks('/big');
  assert.equal((await started.next()).done, false);
  assert.ok(await openDescriptors() > before, 'the folders are pinned while listed');
  await unread.return();
  await started.return();
  await until('the pinned folders are closed', async () => (await openDescriptors()) <= before || undefined);
});

/** Chunks of `count` entries with names of `nameLength` characters, counting the chunks taken. */
function countedChunks(chunks: number, count: number, nameLength: number): ListingChunks & { taken: number; returned: boolean } {
  const info = (i: number): FileInfo => ({ name: `${i}`.padEnd(nameLength, 'n'), type: 'file', size: i, modifiedAt: new Date(0), mode: 0o644 });
  const it = {
    taken: 0,
    returned: false,
    next: async () => {
      if (it.returned || it.taken >= chunks) return { done: true as const, value: undefined };
      const start = it.taken++ * count;
      return { done: false as const, value: Array.from({ length: count }, (_, i) => info(start + i)) };
    },
    return: async () => { it.returned = true; return { done: true as const, value: undefined }; },
  };
  return it;
}

test('the listing source formats no more than its reader takes, and returns the chunks when destroyed', async () => {
  // Each chunk is about one listing buffer of lines; 50 of them is far more than a stream buffers.
  const chunks = countedChunks(50, 1000, Math.ceil(LISTING_BUFFER_BYTES / 1000));
  const source: Readable = listingSource(chunks, e => e.name);
  const first: Buffer = await new Promise(resolve => source.once('data', resolve));
  source.pause();
  assert.ok(first.length <= LISTING_BUFFER_BYTES);
  await until('the source stops pulling', async () => {
    const taken = chunks.taken;
    await new Promise(resolve => setImmediate(resolve));
    return chunks.taken === taken ? taken : undefined;
  });
  assert.ok(chunks.taken < 10, `${chunks.taken} of 50 chunks formatted while nobody read`);
  source.destroy();
  await until('the chunks are returned', () => chunks.returned || undefined);
});

test('the listing source sends every line, CRLF-ended, head lines first', async () => {
  const chunks = countedChunks(3, 2000, 150);
  const source = listingSource(chunks, e => e.name, ['head line']);
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part as Buffer);
  const lines = Buffer.concat(parts).toString().split('\r\n');
  assert.equal(lines.shift(), 'head line');
  assert.equal(lines.pop(), '', 'the last line ends with CRLF');
  assert.equal(lines.length, 6000);
  assert.ok(lines.every((l, i) => l === `${i}`.padEnd(150, 'n')));
  assert.ok(parts.length > 1 && parts.every(p => p.length <= LISTING_BUFFER_BYTES), 'in buffers of at most LISTING_BUFFER_BYTES');
});

test('STAT takes a storage\'s whole folder as one chunk, however big (no spread of its entries as arguments)', async () => {
  const entries: FileInfo[] = Array.from({ length: 300_000 }, (_, i) => ({ name: `f${i}`, type: 'file', size: 0, modifiedAt: new Date(0), mode: 0o644 }));
  const all = await allEntries(chunksOf(entries));
  assert.equal(all.length, entries.length);
});
