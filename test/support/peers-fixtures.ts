/**
 * File fixtures for interop tests: random files bigger than socket buffers with their SHA-256, trees with
 * names that break naive clients and servers (spaces, quotes, UTF-8, leading dash, nesting), and a digest of
 * a local tree to compare what a client mirrored with what was served.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, writeFile, open } from 'node:fs/promises';
import path from 'node:path';

/** Writes `size` random bytes (in 1 MiB chunks) and returns their SHA-256 hex. */
export async function writeRandomFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(file, 'w');
  try {
    for (let left = size; left > 0;) {
      const chunk = randomBytes(Math.min(left, 1 << 20));
      hash.update(chunk);
      await fh.write(chunk);
      left -= chunk.length;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** 24 MiB: well above loopback socket buffers (a few MiB at most), so backpressure is exercised. */
export const BIG_FILE_SIZE = 24 * 1024 * 1024;

/**
 * Relative paths of a tree whose names trip up quoting, URL encoding, LIST parsing and option parsing:
 * spaces, both quote characters, UTF-8 (RFC 2640), a leading dash, several nesting levels, an empty folder.
 */
export const ODD_TREE: Record<string, string | null> = {
  'plain.txt': 'plain\n',
  'with space.txt': 'space\n',
  'quote"double.txt': 'double quote\n',
  "it's single.txt": 'single quote\n',
  'héllo wörld ✓.txt': 'utf-8\n',
  '-leading-dash.txt': 'dash\n',
  'dir with space/nested "deep"/-dash dir/leaf.txt': 'deep leaf\n',
  'dir with space/nested "deep"/sibling.txt': 'sibling\n',
  '日本語/ファイル.txt': 'japanese\n',
  'empty dir': null,
  'bin/random.bin': '', // filled with random bytes by writeTree
};

/** Writes ODD_TREE (or `tree`) under dir; null values are empty folders; '' gets 300 KiB of random data. */
export async function writeTree(dir: string, tree: Record<string, string | null> = ODD_TREE): Promise<void> {
  for (const [rel, content] of Object.entries(tree)) {
    const target = path.join(dir, rel);
    if (content === null) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content === '' ? randomBytes(300 * 1024) : content);
  }
}

/**
 * relative path -> 'dir' or the file's SHA-256, for every entry under dir (sorted). Comparing two digests
 * checks names (byte-exact UTF-8), structure, empty folders and contents at once.
 */
export async function treeDigest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out[r] = 'dir';
        await walk(r);
      } else {
        out[r] = await sha256File(path.join(dir, r));
      }
    }
  }
  await walk('');
  return out;
}
