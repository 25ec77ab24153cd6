/**
 * LocalStorage's own symlink resolution (the descriptor walk of local-jail-descriptor.ts, and the realpath
 * fallback of local-jail-realpath.ts): chains, "..", absolute targets, the link budget, and that every
 * descriptor a walk opens is closed again, on success and on every kind of failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { lstat, mkdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalStorage } from '../../src/server/storage/local.js';
import { RealpathJail } from '../../src/server/storage/local-jail-realpath.js';
import { FOLLOW } from '../../src/server/storage/local-jail.js';
import { FtpStorageError, type StorageFailure } from '../../src/errors.js';
import { tempDir } from '../support/temp-dir.js';

async function failureOf(p: Promise<unknown>): Promise<StorageFailure> {
  const err = await p.then(() => assert.fail('expected a refusal'), (e: unknown) => e);
  assert.ok(err instanceof FtpStorageError, `expected FtpStorageError, got ${String(err)}`);
  return err.failure;
}

async function readText(storage: LocalStorage, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await storage.openRead(path)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function linkWorld(t: { after(fn: () => unknown): void }) {
  const base = await tempDir(t, 'ftpkit-links-');
  const root = join(base, 'root');
  await mkdir(join(root, 'a', 'b'), { recursive: true });
  await mkdir(join(base, 'outside'));
  await writeFile(join(base, 'outside', 'secret'), 'SECRET');
  await writeFile(join(root, 'a', 'b', 'f'), 'deep f');
  await symlink('../a/b', join(root, 'a', 'up-and-down'));   // relative, with ".."
  await symlink(join(await realpath(root), 'a', 'b'), join(root, 'abs-in')); // absolute, inside
  await symlink('a/up-and-down/f', join(root, 'chain'));    // a link through a link
  await symlink('..', join(root, 'a', 'parent'));            // the root again
  await symlink('..', join(root, 'above'));                  // above the root
  await symlink('../../outside', join(root, 'a', 'out'));    // out by ".."
  await symlink('self', join(root, 'self'));                 // a loop
  return { base, root };
}

test('symlinks inside the root are resolved component by component: chains, "..", absolute', async (t) => {
  const { root } = await linkWorld(t);
  const storage = await LocalStorage.open(root);
  assert.equal(await readText(storage, '/a/up-and-down/f'), 'deep f');
  assert.equal(await readText(storage, '/abs-in/f'), 'deep f');
  assert.equal(await readText(storage, '/chain'), 'deep f');
  assert.equal(await readText(storage, '/a/parent/a/b/f'), 'deep f');
  assert.equal((await storage.stat('/a/parent')).type, 'dir');
  assert.deepEqual((await storage.list('/a/parent')).map((e) => e.name), ['a', 'above', 'abs-in', 'chain', 'self']);
  // Entries through links: the parent is followed, the name is created where the link leads.
  await storage.mkdir('/abs-in/made');
  await pipeline(Readable.from([Buffer.from('through')]), await storage.openWrite('/a/parent/a/up-and-down/made/g'));
  assert.equal(await readFile(join(root, 'a', 'b', 'made', 'g'), 'utf8'), 'through');
  await storage.rename('/chain', '/a/parent/chain-2');
  assert.equal(await readText(storage, '/chain-2'), 'deep f', 'rename moves the link itself');

  assert.equal(await failureOf(storage.stat('/above')), 'permission');
  assert.equal(await failureOf(storage.list('/above')), 'permission');
  assert.equal(await failureOf(storage.openRead('/a/out/secret')), 'permission');
  assert.equal(await failureOf(storage.mkdir('/a/out/new')), 'permission');
  assert.equal(await failureOf(storage.stat('/self')), 'permission', 'a loop ends in a refusal');
  assert.equal(await failureOf(storage.stat('/self/x')), 'permission');
});

test('at most 40 symlinks are followed in one resolution', async (t) => {
  const { root } = await linkWorld(t);
  await writeFile(join(root, 'end'), 'end');
  // l0 -> end, l1 -> l0, ... l40 -> l39: reading l<n> follows n+1 links.
  for (let i = 0; i <= 40; i++) await symlink(i === 0 ? 'end' : `l${i - 1}`, join(root, `l${i}`));
  const storage = await LocalStorage.open(root);
  assert.equal(await readText(storage, '/l39'), 'end', '40 links are followed');
  assert.equal(await failureOf(storage.openRead('/l40')), 'permission', 'the 41st is refused');
});

test('every descriptor a resolution opens is closed again, also on failures', { skip: process.platform !== 'linux' && 'counts /proc/self/fd' }, async (t) => {
  const { base, root } = await linkWorld(t);
  const storage = await LocalStorage.open(root);
  // Only descriptors of this test's folders count: other tests' storages and streams close theirs
  // whenever the garbage collector gets to them.
  const realBase = await realpath(base);
  const openFds = () => readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(realBase);
    } catch {
      return false; // the descriptor readdir itself used
    }
  }).length;
  const baseline = openFds();
  assert.equal(baseline, 1, 'the storage holds its root open');
  for (let round = 0; round < 20; round++) {
    await storage.stat('/a/up-and-down/f');
    await storage.list('/a/parent/a');
    await readText(storage, '/chain');
    await storage.chmod('/abs-in/f', 0o644);
    await storage.setModifiedAt('/a/b/f', new Date(0));
    await storage.availableBytes('/a/b');
    await storage.mkdir(`/a/b/d${round}`);
    await storage.rename(`/a/b/d${round}`, `/a/up-and-down/e${round}`);
    await storage.rmdir(`/abs-in/e${round}`);
    await pipeline(Readable.from([Buffer.from('x')]), await storage.openWrite(`/a/b/w${round}`));
    await storage.delete(`/a/parent/a/b/w${round}`);
    for (const refused of [
      () => storage.stat('/above/x'), () => storage.openRead('/a/out/secret'), () => storage.stat('/self'),
      () => storage.mkdir('/a/b/f/x'), () => storage.openWrite('/missing/x'), () => storage.delete('/a/b'),
      () => storage.rmdir('/a/missing'), () => storage.rename('/nope', '/a/b/nope'), () => storage.list('/a/b/f'),
      () => storage.openRead('/a/b'), () => storage.chmod('/a/out', 0o777),
    ]) await failureOf(refused());
  }
  assert.equal(openFds(), baseline, 'descriptor count back to baseline');
});

test('the realpath fallback (no /proc/self/fd) keeps the same confinement rules', async (t) => {
  const { base, root } = await linkWorld(t);
  const jail = new RealpathJail(await realpath(root));
  const lstatOp = async (host: string) => lstat(host).then((st) => (st.isSymbolicLink() ? FOLLOW : st.size));
  assert.equal(await jail.object('/chain', lstatOp), 'deep f'.length);
  assert.equal(await jail.object('/', async (host) => host), await realpath(root));
  await assert.rejects(jail.object('/a/out/secret', lstatOp), (e: unknown) => e instanceof FtpStorageError && e.failure === 'permission');
  await assert.rejects(jail.entry('/', async () => 0), (e: unknown) => e instanceof FtpStorageError && e.failure === 'permission');
  assert.equal(await jail.entry('/abs-in/new', async (host) => host), join(await realpath(root), 'a', 'b', 'new'));
  assert.equal(await jail.pinned('/a/parent', async (_host, st) => st.isDirectory()), true);
  await symlink(join(base, 'outside', 'new'), join(root, 'dangling'));
  await assert.rejects(jail.object('/dangling', async () => { throw Object.assign(new Error('loop'), { code: 'ELOOP' }); }, { refuseDangling: true }),
    (e: unknown) => e instanceof FtpStorageError && e.failure === 'permission');
});
