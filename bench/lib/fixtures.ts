/** The files every server serves, made once per run (random data, so nothing compresses or dedupes). */
import { randomFillSync } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MANY_NAME, SMALL_DIR_NAME, TREE_NAME, type Fixtures } from './servers.js';

async function randomFile(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'w');
  const chunk = Buffer.alloc(Math.min(bytes, 4 * 1024 * 1024));
  try {
    for (let done = 0; done < bytes; done += chunk.length) {
      randomFillSync(chunk);
      await fh.write(chunk, 0, Math.min(chunk.length, bytes - done));
    }
  } finally {
    await fh.close();
  }
}

/** Writes `count` small files (name-numbered) into dir, `perFolder` per subfolder when given. */
async function smallFiles(dir: string, count: number, bytes: (i: number) => number, perFolder?: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const pad = String(count).length;
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const folder = perFolder ? path.join(dir, `d${String(Math.floor(i / perFolder)).padStart(3, '0')}`) : dir;
    if (perFolder && i % perFolder === 0) await mkdir(folder, { recursive: true });
    const buf = Buffer.alloc(bytes(i));
    randomFillSync(buf);
    jobs.push(writeFile(path.join(folder, `file-${String(i).padStart(pad, '0')}.dat`), buf));
    if (jobs.length >= 64) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

export interface FixtureSizes { bigBytes: number; smallBytes: number; listingFiles: number; mirrorFiles: number }

export async function makeFixtures(dir: string, s: FixtureSizes): Promise<Fixtures> {
  const big = path.join(dir, 'big.bin');
  const small = path.join(dir, 'small.bin');
  const many = path.join(dir, MANY_NAME);
  const smallDir = path.join(dir, SMALL_DIR_NAME);
  const tree = path.join(dir, TREE_NAME);
  await randomFile(big, s.bigBytes);
  await randomFile(small, s.smallBytes);
  await smallFiles(many, s.listingFiles, () => 100);
  await smallFiles(smallDir, 10, () => 1000);
  // Mirror: 1-8 KiB files, 100 to a folder.
  await smallFiles(tree, s.mirrorFiles, (i) => 1024 * (1 + (i % 8)), 100);
  return { dir, big, small, many, smallDir, tree };
}
