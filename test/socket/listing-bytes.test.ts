/**
 * LIST, NLST and MLSD of a LocalStorage folder send the bytes the listing code sent before it streamed
 * (issue 10: lstat in a worker thread, chunks formatted into 256 KiB buffers): the reference here is
 * built as the old code did, from readdir + lstat (symlinks inside the root shown as their target,
 * others as bare links), sorted by name, one string per line joined with CRLF. Two folders: one big enough
 * for the worker, several chunks and several buffers; one small (main thread). Odd names: spaces, UTF-8,
 * a surrogate pair, CR and LF (shown as "?", as before).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, realpath, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LISTING_BUFFER_BYTES } from '../../src/protocol/listing-buffers.js';
import { formatFactLine, formatListLine, DEFAULT_MLST_FACTS } from '../../src/protocol/listing-format.js';
import type { FileInfo } from '../../src/protocol/file-info.js';
import { permFact } from '../../src/server/commands/listing.js';
import { loadOwnerNames } from '../../src/server/storage/local-info.js';
import { WORKER_MIN_ENTRIES } from '../../src/server/storage/local-listing.js';
import { CHUNK_ENTRIES } from '../../src/server/storage/local-lstat-worker.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { RawControl, openPassive, readAll, READ_WRITE, startServer } from '../support/server-harness.js';

const ODD_NAMES = ['with space.txt', ' leading space', 'trailing space ', 'ünïcødé-日本語.txt', 'emoji-😀.txt', 'cr\rname', 'lf\nname',
  'semi;colon=x', '-dash', 'tab\tname'];

/** The FileInfo the local storage made before issue 10's change (local-info.ts toFileInfo). */
async function oldInfo(name: string, st: Stats): Promise<FileInfo> {
  const names = await loadOwnerNames();
  return {
    name,
    type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other',
    size: st.size, modifiedAt: st.mtime, mode: st.mode & 0o7777, owner: names.user(st.uid), group: names.group(st.gid),
    links: st.nlink, unique: `${st.dev.toString(16)}:${st.ino.toString(16)}`,
  };
}

/** The entries of `dir` as the old list() gave them, sorted by name as the old listing commands did. */
async function oldEntries(root: string, dir: string): Promise<FileInfo[]> {
  const infos: FileInfo[] = [];
  for (const name of await readdir(dir)) {
    const host = join(dir, name);
    let st = lstatSync(host);
    if (st.isSymbolicLink()) {
      try {
        const target = realpathSync(host);
        if (target === root || target.startsWith(`${root}/`)) st = statSync(host);
      } catch { /* dangling: a bare link */ }
    }
    infos.push(await oldInfo(name, st));
  }
  return infos.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function crlfLines(lines: string[]): string {
  return lines.length ? lines.join('\r\n') + '\r\n' : '';
}

async function fill(root: string, dir: string, count: number, long: string): Promise<void> {
  await mkdir(dir);
  for (let i = 0; i < count; i += 256) {
    await Promise.all(Array.from({ length: Math.min(256, count - i) }, (_, j) =>
      writeFile(join(dir, `entry-${String(i + j).padStart(5, '0')}-${long}`), 'y'.repeat((i + j) % 300))));
  }
  for (const name of ODD_NAMES) await writeFile(join(dir, name), name);
  await mkdir(join(dir, 'sub folder'));
  await mkdir(join(dir, 'ünï-folder'));
  await chmod(join(dir, 'with space.txt'), 0o4751);
  await chmod(join(dir, 'ünï-folder'), 0o1777);
  await utimes(join(dir, 'semi;colon=x'), new Date('2001-02-03T04:05:06.789Z'), new Date('2001-02-03T04:05:06.789Z'));
  await utimes(join(dir, '-dash'), new Date('2099-01-01T00:00:00Z'), new Date('2099-01-01T00:00:00Z'));
  await symlink('with space.txt', join(dir, 'link-in'));
  await symlink('sub folder', join(dir, 'link-dir-in'));
  await symlink('/etc/hostname', join(dir, 'link-out'));
  await symlink('nowhere', join(dir, 'link-dangling'));
  await symlink(join(root, '..'), join(dir, 'link-up'));
}

test('LIST, NLST and MLSD send the same bytes as before, big folder (worker, chunks, buffers) and small', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'ftpkit-listing-bytes-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = await realpath(base);
  // Big: several lstat chunks, and LIST and MLSD texts over one listing buffer.
  const bigCount = 2 * CHUNK_ENTRIES + WORKER_MIN_ENTRIES;
  const long = 'n'.repeat(Math.ceil(LISTING_BUFFER_BYTES / bigCount));
  await fill(root, join(root, 'big'), bigCount, long);
  await fill(root, join(root, 'small'), 20, 'short');

  const h = await startServer({ storage: new LocalStorage(root) });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  const fetch = async (line: string): Promise<string> => {
    const data = await openPassive(c);
    const reading = readAll(data);
    assert.equal((await c.send(line)).code, 150, line);
    const bytes = await reading;
    assert.equal((await c.read()).code, 226, line);
    return bytes.toString('utf8');
  };
  const now = new Date();
  for (const folder of ['big', 'small']) {
    const entries = await oldEntries(root, join(root, folder));
    assert.equal(entries.length, (folder === 'big' ? bigCount : 20) + ODD_NAMES.length + 2 + 5);
    const list = await fetch(`LIST /${folder}`);
    assert.ok(folder === 'small' || Buffer.byteLength(list) > LISTING_BUFFER_BYTES, 'the big LIST fills more than one buffer');
    assert.equal(list, crlfLines(entries.map(e => formatListLine(e, now))), `LIST /${folder}`);
    assert.equal(await fetch(`NLST /${folder}`), crlfLines(entries.map(e => e.name.replace(/[\r\n]/g, '?'))), `NLST /${folder}`);
    const here = await oldInfo(folder, statSync(join(root, folder)));
    const facts = DEFAULT_MLST_FACTS;
    const mlsd = crlfLines([
      formatFactLine(here, { facts, typeOverride: 'cdir', perm: permFact(here, READ_WRITE), name: '.' }),
      ...entries.map(e => formatFactLine(e, { facts, perm: permFact(e, READ_WRITE), name: e.name })),
    ]);
    assert.equal(await fetch(`MLSD /${folder}`), mlsd, `MLSD /${folder}`);
  }
});
