// Tree operations with an in-memory client: hostile names never lead outside the target folder,
// the mirror plan (size/mtime/delete/conflicts), the connection pool, dry runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, mkdir, symlink, utimes, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileEntry } from '../../src/protocol/listing-types.js';
import { mirror, downloadTree, planMirror, unsafeNameReason, localPathFor } from '../../src/client/tree/index.js';
import type { TreeClient, TreeEvent, TreeNode } from '../../src/client/tree/index.js';
import { FtpReplyError } from '../../src/errors.js';
import fc from 'fast-check';
import { tempDir } from '../support/temp-dir.js';

type MemNode = { type: 'file'; data: Buffer; mtime: Date } | { type: 'dir' } | { type: 'link' };

/** An in-memory server as a TreeClient; `listOverride` lets a test return hostile listings. */
class MemClient implements TreeClient {
  calls: string[] = [];
  closed = false;
  constructor(public fs: Map<string, MemNode>, public listOverride?: (p: string) => FileEntry[] | undefined) {}
  private norm(p: string) { return p.replace(/\/+$/, '') || '/'; }
  async list(p = '/'): Promise<FileEntry[]> {
    this.calls.push(`list ${p}`);
    const dir = this.norm(p);
    const o = this.listOverride?.(dir);
    if (o) return o;
    if (this.fs.get(dir)?.type !== 'dir') throw new FtpReplyError(550, 'No such directory', `LIST ${p}`);
    const out: FileEntry[] = [];
    for (const [k, v] of this.fs) {
      if (k === dir || path.posix.dirname(k) !== dir) continue;
      const name = path.posix.basename(k);
      if (v.type === 'file') out.push({ name, type: 'file', size: v.data.length, modifiedAt: v.mtime });
      else out.push({ name, type: v.type });
    }
    return out;
  }
  async download(remote: string, dest: string) {
    this.calls.push(`get ${remote}`);
    const n = this.fs.get(this.norm(remote));
    if (n?.type !== 'file') throw new FtpReplyError(550, 'No such file', `RETR ${remote}`);
    await writeFile(dest, n.data);
  }
  async upload(src: string, remote: string) {
    this.calls.push(`put ${remote}`);
    this.fs.set(this.norm(remote), { type: 'file', data: await readFile(src), mtime: new Date() });
  }
  async mkdir(p: string) { this.calls.push(`mkdir ${p}`); this.fs.set(this.norm(p), { type: 'dir' }); }
  async delete(p: string) { this.calls.push(`delete ${p}`); this.fs.delete(this.norm(p)); }
  async rmdir(p: string) {
    this.calls.push(`rmdir ${p}`);
    const d = this.norm(p);
    for (const k of [...this.fs.keys()]) if (k === d || k.startsWith(`${d}/`)) this.fs.delete(k);
  }
  async setModifiedAt(p: string, date: Date) {
    const n = this.fs.get(this.norm(p));
    if (n?.type === 'file') n.mtime = date;
  }
  close() { this.closed = true; }
}

const T0 = new Date(Date.UTC(2024, 0, 15, 10, 30, 0));
function memTree(files: Record<string, string>, dirs: string[] = []): Map<string, MemNode> {
  const fs = new Map<string, MemNode>([['/', { type: 'dir' }]]);
  for (const d of dirs) fs.set(d, { type: 'dir' });
  for (const [p, data] of Object.entries(files)) {
    for (let d = path.posix.dirname(p); d !== '/'; d = path.posix.dirname(d)) fs.set(d, { type: 'dir' });
    fs.set(p, { type: 'file', data: Buffer.from(data), mtime: T0 });
  }
  return fs;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    out.push(path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)) + (e.isDirectory() ? '/' : ''));
  }
  return out.sort();
}

test('unsafeNameReason refuses every way out of a folder', () => {
  for (const bad of ['', '.', '..', '../x', 'a/b', '/etc/passwd', 'a\\..\\b', '..\\x', 'nul\0x', 'C:x', 'c:', 'line\nbreak', 'cr\r']) {
    assert.ok(unsafeNameReason(bad), `should refuse ${JSON.stringify(bad)}`);
  }
  for (const ok of ['a', '..foo', 'foo..', '...', ' leading', 'a b;c', 'ünï', '.hidden']) {
    assert.equal(unsafeNameReason(ok), undefined, ok);
  }
  const root = '/tmp/target';
  assert.equal(localPathFor(root, ['a', '..foo']), '/tmp/target/a/..foo');
  assert.throws(() => localPathFor(root, ['a', '..']), /refused/);
  assert.throws(() => localPathFor(root, []), /outside/);
});

test('property: localPathFor either refuses or returns a path strictly inside the root', () => {
  const piece = fc.constantFrom('..', '.', '/', '\\', '\0', 'a', 'b', ' ', 'C:', '~', '%2e', '\n', '..\\');
  const name = fc.array(piece, { maxLength: 6 }).map(parts => parts.join(''));
  const root = path.resolve('/tmp/ftpkit-root');
  fc.assert(fc.property(fc.array(name, { maxLength: 5 }), segments => {
    let result: string;
    try {
      result = localPathFor(root, segments);
    } catch (err) {
      assert.match((err as Error).message, /refused/);
      return;
    }
    assert.ok(result.startsWith(root + path.sep), result);
    assert.equal(path.relative(root, result).split(path.sep).includes('..'), false);
    assert.deepEqual(path.relative(root, result).split(path.sep), segments);
  }), { numRuns: 2000 });
});

test('hostile listing: names with .., /, \\, NUL, absolute or empty are refused and nothing lands outside', async t => {
  const base = await tempDir(t, 'ftpkit-tree-');
  const target = path.join(base, 'target');
  const outside = path.join(base, 'outside');
  await mkdir(outside);
  const fs = memTree({ '/ok.txt': 'fine', '/sub/deep.txt': 'deep' });
  const hostile = ['..', '.', '../escape.txt', '../../escape2.txt', '/etc/passwd', `${outside}/abs.txt`,
    '..\\win.txt', 'a/../../x', 'nul\0byte', '', 'C:drive'];
  // The "server" lists the hostile names as files and folders and would serve content for any of them.
  const client = new MemClient(fs, p => p === '/'
    ? [...hostile.map(name => ({ name, type: 'file' as const, size: 4 })), { name: '..', type: 'dir' as const },
      { name: 'ok.txt', type: 'file', size: 4, modifiedAt: T0 }, { name: 'sub', type: 'dir' }]
    : undefined);
  client.download = async (remote: string, dest: string) => { client.calls.push(`get ${remote}`); await writeFile(dest, 'data'); };
  const events: TreeEvent[] = [];
  const result = await downloadTree(client, '/', target, { onEvent: e => events.push(e) });
  assert.deepEqual(await listFiles(target), ['ok.txt', 'sub/', 'sub/deep.txt']);
  assert.deepEqual(await readdir(outside), []);
  assert.deepEqual(await readdir(base), ['outside', 'target']);
  const refused = events.filter(e => e.type === 'refused');
  assert.equal(refused.length, hostile.length + 1);
  assert.equal(result.refused, hostile.length + 1);
  assert.ok(refused.every(e => e.type === 'refused' && e.side === 'remote' && e.reason.length > 0));
  assert.deepEqual(client.calls.filter(c => c.startsWith('get')).sort(), ['get /ok.txt', 'get /sub/deep.txt']);
});

test('a local symlink in the target folder cannot be used to write outside it', async t => {
  const base = await tempDir(t, 'ftpkit-tree-');
  const target = path.join(base, 'target');
  const outside = path.join(base, 'outside');
  await mkdir(target); await mkdir(outside);
  await symlink(outside, path.join(target, 'sub'));
  const client = new MemClient(memTree({ '/sub/x.txt': 'x', '/y.txt': 'y' }));
  const events: TreeEvent[] = [];
  const result = await downloadTree(client, '/', target, { onEvent: e => events.push(e) });
  assert.deepEqual(await readdir(outside), []);
  // The folder itself is refused (it is a link leading outside), and so is every file under it.
  assert.deepEqual(result.failures.map(f => f.action.rel), ['sub', 'sub/x.txt']);
  for (const f of result.failures) assert.match(f.error.message, /outside/);
  assert.equal(await readFile(path.join(target, 'y.txt'), 'utf8'), 'y');
  assert.ok(events.some(e => e.type === 'skipped-entry' && e.side === 'local' && e.reason === 'symbolic link'));
});

test('a local symlink to a file outside the target folder is not written through; one inside is', async t => {
  const base = await tempDir(t, 'ftpkit-tree-');
  const target = path.join(base, 'target');
  const outside = path.join(base, 'outside');
  await mkdir(path.join(target, 'real'), { recursive: true }); await mkdir(outside);
  await writeFile(path.join(outside, 'victim.txt'), 'precious');
  await writeFile(path.join(target, 'real/in.txt'), 'old');
  await symlink(path.join(outside, 'victim.txt'), path.join(target, 'out.txt'));
  await symlink('real/in.txt', path.join(target, 'in.txt'));
  const client = new MemClient(memTree({ '/out.txt': 'from the server', '/in.txt': 'new' }));
  const result = await downloadTree(client, '/', target);
  assert.equal(await readFile(path.join(outside, 'victim.txt'), 'utf8'), 'precious');
  assert.deepEqual(result.failures.map(f => f.action.rel), ['out.txt']);
  assert.match(result.failures[0].error.message, /out\.txt resolves to .*victim\.txt, outside/);
  assert.equal(await readFile(path.join(target, 'real/in.txt'), 'utf8'), 'new');
});

const node = (rel: string, type: 'file' | 'dir', size?: number, mtime?: Date, precisionMs = 1000): TreeNode =>
  ({ segments: rel.split('/'), rel, type, size, modifiedAt: mtime, precisionMs });
const tree = (...nodes: TreeNode[]) => new Map(nodes.map(n => [n.rel, n]));

test('plan: new, size differs, newer beyond precision, unchanged, delete extras, conflicts', () => {
  const t1 = new Date(T0.getTime() + 30_000);
  const t2 = new Date(T0.getTime() + 120_000);
  const src = tree(node('a', 'dir'), node('a/new.txt', 'file', 1, T0), node('size.txt', 'file', 5, T0),
    node('same.txt', 'file', 3, t1), node('newer.txt', 'file', 3, t2), node('conflict', 'dir'), node('conflict/in.txt', 'file', 1, T0));
  const dst = tree(node('size.txt', 'file', 4, T0), node('same.txt', 'file', 3, T0, 60_000),
    node('newer.txt', 'file', 3, T0, 60_000), node('conflict', 'file', 9, T0), node('extra', 'dir'), node('extra/x', 'file', 1, T0),
    node('gone.txt', 'file', 1, T0));
  const plan = planMirror(src, dst, { delete: true });
  assert.deepEqual(plan.clear.map(a => [a.kind, a.rel]), [['delete-file', 'conflict']]);
  assert.deepEqual(plan.mkdirs.map(a => a.rel), ['a', 'conflict']);
  assert.deepEqual(plan.transfers.map(a => [a.rel, a.reason]), [
    ['a/new.txt', 'new'], ['conflict/in.txt', 'new'], ['newer.txt', 'source is newer'], ['size.txt', 'size differs (5 != 4)']]);
  assert.deepEqual(plan.skips.map(a => [a.rel, a.reason]), [['same.txt', 'unchanged']]);
  assert.deepEqual(plan.deletions.map(a => [a.kind, a.rel]), [['delete-dir', 'extra'], ['delete-file', 'gone.txt']]);

  const noDelete = planMirror(src, dst, {});
  assert.deepEqual(noDelete.deletions, []);
  assert.deepEqual(noDelete.clear, []);
  assert.ok(noDelete.skips.some(a => a.rel === 'conflict' && /file of that name/.test(a.reason)));
  assert.ok(!noDelete.transfers.some(a => a.rel.startsWith('conflict/')));
  // a destination newer than the source is not overwritten; 'always' transfers everything
  assert.deepEqual(planMirror(tree(node('f', 'file', 1, T0)), tree(node('f', 'file', 1, t2))).transfers, []);
  assert.equal(planMirror(tree(node('f', 'file', 1, T0)), tree(node('f', 'file', 1, T0)), { compare: 'always' }).transfers.length, 1);
  // size only: a newer source of the same size stays, a different size goes
  assert.deepEqual(planMirror(tree(node('f', 'file', 1, t2), node('g', 'file', 2, T0)), tree(node('f', 'file', 1, T0), node('g', 'file', 3, t2)), { compare: 'size' })
    .transfers.map(a => a.rel), ['g']);
});

test('mirror down then again: second run transfers nothing; a change on the server is picked up; delete', async t => {
  const target = await tempDir(t, 'ftpkit-tree-');
  const fs = memTree({ '/a.txt': 'aaa', '/d/b.txt': 'bb', '/d/e/c.txt': 'c' }, ['/empty']);
  const client = new MemClient(fs);
  const first = await mirror(client, { remoteDir: '/', localDir: target });
  assert.equal(first.transferred, 3);
  assert.equal(first.created, 3);
  assert.deepEqual(await listFiles(target), ['a.txt', 'd/', 'd/b.txt', 'd/e/', 'd/e/c.txt', 'empty/']);
  assert.equal((await stat(path.join(target, 'a.txt'))).mtime.getTime(), T0.getTime());
  const second = await mirror(client, { remoteDir: '/', localDir: target });
  assert.equal(second.transferred, 0);
  assert.equal(second.skipped, 3);
  fs.set('/d/b.txt', { type: 'file', data: Buffer.from('changed'), mtime: T0 });
  fs.delete('/a.txt');
  await writeFile(path.join(target, 'local-only.txt'), 'x');
  const dry = await mirror(client, { remoteDir: '/', localDir: target, delete: true, dryRun: true });
  assert.deepEqual(dry.actions.filter(a => a.kind !== 'skip').map(a => `${a.kind} ${a.rel}`),
    ['transfer d/b.txt', 'delete-file a.txt', 'delete-file local-only.txt']);
  assert.ok((await listFiles(target)).includes('a.txt')); // dry run touched nothing
  const third = await mirror(client, { remoteDir: '/', localDir: target, delete: true });
  assert.equal(third.transferred, 1);
  assert.equal(third.deleted, 2);
  assert.equal(await readFile(path.join(target, 'd/b.txt'), 'utf8'), 'changed');
  assert.deepEqual(await listFiles(target), ['d/', 'd/b.txt', 'd/e/', 'd/e/c.txt', 'empty/']);
});

test('mirror up: creates the remote root, sets remote mtimes, skips unchanged, deletes extras', async t => {
  const src = await tempDir(t, 'ftpkit-tree-');
  await mkdir(path.join(src, 'x/y'), { recursive: true });
  await writeFile(path.join(src, 'top.txt'), 'top');
  await writeFile(path.join(src, 'x/y/deep.txt'), 'deep');
  await utimes(path.join(src, 'top.txt'), T0, T0);
  const fs = memTree({ '/other/keep.txt': 'k' });
  const client = new MemClient(fs);
  const r1 = await mirror(client, { direction: 'upload', remoteDir: '/up', localDir: src });
  assert.equal(r1.transferred, 2);
  assert.ok(client.calls.includes('mkdir /up'));
  assert.deepEqual((fs.get('/up/top.txt') as { data: Buffer }).data.toString(), 'top');
  assert.equal((fs.get('/up/top.txt') as { mtime: Date }).mtime.getTime(), T0.getTime());
  const r2 = await mirror(client, { direction: 'upload', remoteDir: '/up', localDir: src });
  assert.equal(r2.transferred, 0);
  fs.set('/up/stale.txt', { type: 'file', data: Buffer.from('s'), mtime: T0 });
  const r3 = await mirror(client, { direction: 'upload', remoteDir: '/up', localDir: src, delete: true });
  assert.equal(r3.deleted, 1);
  assert.equal(fs.has('/up/stale.txt'), false);
  assert.equal(fs.has('/other/keep.txt'), true);
  await assert.rejects(mirror(client, { direction: 'upload', remoteDir: '/up', localDir: path.join(src, 'missing'), delete: true }),
    /not a folder/);
  assert.equal(fs.has('/up/top.txt'), true);
});

test('parallel: transfers spread over extra connections, which are closed; a refused connection is tolerated', async t => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) files[`/f${i}.txt`] = `file ${i}`;
  const fs = memTree(files);
  const primary = new MemClient(fs);
  const extras: MemClient[] = [];
  let attempts = 0;
  const events: TreeEvent[] = [];
  const target = await tempDir(t, 'ftpkit-tree-');
  const r = await mirror(primary, {
    remoteDir: '/', localDir: target, parallel: 4, onEvent: e => events.push(e),
    connect: async () => {
      attempts++;
      if (attempts === 2) throw new FtpReplyError(421, 'Too many connections');
      const c = new MemClient(fs);
      extras.push(c);
      return c;
    },
  });
  assert.equal(r.transferred, 12);
  assert.equal(attempts, 3);
  assert.equal(extras.length, 2);
  assert.ok(extras.every(c => c.closed));
  assert.equal(primary.closed, false);
  const workers = new Set(events.filter(e => e.type === 'action-done').map(e => (e as { worker: number }).worker));
  assert.ok(workers.size >= 2, `used workers ${[...workers]}`);
  assert.ok(events.some(e => e.type === 'connection-failed'));
  assert.equal((await readdir(target)).length, 12);
});

test('a failing download is reported and the rest continues', async t => {
  const target = await tempDir(t, 'ftpkit-tree-');
  const client = new MemClient(memTree({ '/a': '1', '/b': '2', '/c': '3' }));
  const orig = client.download.bind(client);
  client.download = async (r, d) => { if (r === '/b') throw new FtpReplyError(550, 'Permission denied', 'RETR /b'); return orig(r, d); };
  const r = await downloadTree(client, '/', target);
  assert.equal(r.transferred, 2);
  assert.equal(r.failures.length, 1);
  assert.equal(r.failures[0].action.rel, 'b');
  assert.deepEqual((await readdir(target)).sort(), ['a', 'c']);
});

test('a missing remote folder fails the download instead of deleting local files', async t => {
  const target = await tempDir(t, 'ftpkit-tree-');
  await writeFile(path.join(target, 'precious'), 'x');
  const client = new MemClient(memTree({}));
  await assert.rejects(mirror(client, { remoteDir: '/nope', localDir: target, delete: true }), FtpReplyError);
  assert.deepEqual(await readdir(target), ['precious']);
});

test('a folder whose name starts with "-" is listed as ./-name (LIST passes arguments to ls)', async t => {
  const target = await tempDir(t, 'ftpkit-tree-');
  const seen: string[] = [];
  const client = new MemClient(new Map(), p => { seen.push(p); return p === './-opts' ? [{ name: 'f', type: 'file', size: 1 }] : []; });
  client.download = async (remote, dest) => { client.calls.push(`get ${remote}`); await writeFile(dest, 'x'); };
  const r = await downloadTree(client, '-opts', target);
  assert.deepEqual(seen, ['./-opts']);
  assert.deepEqual(client.calls.filter(c => c.startsWith('get')), ['get -opts/f']);
  assert.equal(r.transferred, 1);
});
