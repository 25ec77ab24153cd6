/**
 * The pure parts of quotas (src/server/quota/): the size parser and its config errors, the usage scan
 * (iterative, links not followed out, loops walked once), the shared counter and its rescans, and the
 * upload guard's charging rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FtpConfigError, FtpStorageError } from '../../src/errors.js';
import { formatByteSize, parseByteSize, quotaOption } from '../../src/server/quota/size.js';
import { scanUsage } from '../../src/server/quota/scan.js';
import { QuotaBook, UserUsage } from '../../src/server/quota/usage.js';
import { UploadGuard } from '../../src/server/quota/upload-guard.js';
import { MemoryStorage } from '../../src/server/storage/memory.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { AnonymousAuthenticator } from '../../src/server/auth/anonymous.js';
import { READ_WRITE, type AuthenticatedUser } from '../../src/server/auth/types.js';
import { validateConfig } from '../../src/server/config/load.js';
import { planServe } from '../../src/server/config/to-options.js';

test('sizes: bytes as numbers, units binary (KiB, bare K) and decimal (kB); refusals say what is accepted', () => {
  assert.equal(parseByteSize(1024), 1024);
  assert.equal(parseByteSize('10GiB'), 10 * 1024 ** 3);
  assert.equal(parseByteSize('10 GB'), 10_000_000_000);
  assert.equal(parseByteSize('1.5M'), 1.5 * 1024 ** 2);
  assert.equal(parseByteSize(' 2 kib '), 2048);
  assert.equal(parseByteSize('512'), 512);
  assert.equal(parseByteSize('3b'), 3);
  for (const bad of ['10 gigs', 'abc', '', '-1', '1e3', 1.5, -1, Number.NaN, true, null]) {
    const r = parseByteSize(bad);
    assert.equal(typeof r, 'object', `${String(bad)} accepted`);
  }
  assert.match((parseByteSize(0) as { error: string }).error, /at least 1 byte/);
  assert.match((parseByteSize('9999999TiB') as { error: string }).error, /too large/);
  assert.equal(formatByteSize(812), '812 B');
  assert.equal(formatByteSize(1536), '1.5 KiB');
  assert.equal(formatByteSize(10 * 1024 ** 3), '10 GiB');
});

test('config: quota and maxUploadBytes take sizes with units; a bad one is an FtpConfigError naming its key', () => {
  const hash = '$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43);
  const config = validateConfig({
    users: [{ name: 'alice', password: hash, root: '/srv/a', quota: { bytes: '10GiB', files: 1000 }, maxUploadBytes: '1G' }],
    anonymous: { enabled: true, write: true, quota: { bytes: 5_000_000 } },
    limits: { maxUploadBytes: '2GiB', quotaRescan: '10m' },
  });
  assert.deepEqual(config.users![0]!.quota, { bytes: 10 * 1024 ** 3, files: 1000 });
  assert.equal(config.users![0]!.maxUploadBytes, 1024 ** 3);
  const plan = planServe(config, '/srv');
  assert.equal(plan.options.limits!.maxUploadBytes, 2 * 1024 ** 3);
  assert.equal(plan.options.limits!.quotaRescanMs, 600_000);

  const keyOf = (input: unknown): string => {
    try { validateConfig(input); } catch (err) { assert.ok(err instanceof FtpConfigError, String(err)); return err.key; }
    return assert.fail('accepted');
  };
  assert.equal(keyOf({ users: [{ name: 'a', password: hash, root: '/a', quota: { bytes: 'ten gigs' } }] }), 'users.0.quota.bytes');
  assert.equal(keyOf({ users: [{ name: 'a', password: hash, root: '/a', quota: { files: 0 } }] }), 'users.0.quota.files');
  assert.equal(keyOf({ users: [{ name: 'a', password: hash, root: '/a', quota: { byte: 1 } }] }), 'users.0.quota.byte');
  assert.equal(keyOf({ limits: { maxUploadBytes: '1 parsec' } }), 'limits.maxUploadBytes');
  assert.equal(keyOf({ anonymous: { quota: { bytes: -5 } } }), 'anonymous.quota.bytes');

  // The library API takes the same sizes and names the option it was given.
  assert.deepEqual(quotaOption({ bytes: '1KiB' }, 'x'), { bytes: 1024, files: undefined });
  assert.throws(() => quotaOption({ files: 1.5 }, 'users.3.quota'), (e: unknown) => e instanceof FtpConfigError && e.key === 'users.3.quota.files');
  assert.throws(() => new AnonymousAuthenticator({ storage: new MemoryStorage(), quota: { bytes: 'lots' } }),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'anonymous.quota.bytes');
});

test('the anonymous user carries its quota and upload limit', async () => {
  const anon = new AnonymousAuthenticator({ storage: new MemoryStorage(), write: true, quota: { bytes: '1MiB', files: 10 }, maxUploadBytes: 1000 });
  const user = await anon.authenticate('ftp', 'me@example.com', { remoteAddress: '127.0.0.1', secure: false });
  assert.deepEqual(user?.quota, { bytes: 1024 * 1024, files: 10 });
  assert.equal(user?.maxUploadBytes, 1000);
});

test('scan: regular files and their bytes, folders walked iteratively', async () => {
  const storage = new MemoryStorage();
  storage.writeFile('/a.bin', Buffer.alloc(100));
  storage.writeFile('/d/b.bin', Buffer.alloc(20));
  let deep = '';
  for (let i = 0; i < 300; i++) deep += `/${i % 10}`;
  storage.writeFile(`/deep${deep}/c.bin`, Buffer.alloc(3)); // deeper than any recursion would like, still walked
  await storage.mkdir('/empty');
  assert.deepEqual(await scanUsage(storage, 2), { bytes: 120, files: 2, unreadable: 0 });
});

test('scan of a local root: links out are not followed, a link loop is walked once', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'ftpkit-quota-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  await mkdir(join(root, 'sub', 'inner'), { recursive: true });
  await mkdir(join(base, 'outside'));
  await writeFile(join(base, 'outside', 'huge.bin'), Buffer.alloc(5000));
  await writeFile(join(root, 'f1'), Buffer.alloc(10));
  await writeFile(join(root, 'sub', 'inner', 'f2'), Buffer.alloc(7));
  await symlink(join(base, 'outside'), join(root, 'out'));   // out of the root: never followed
  await symlink('..', join(root, 'sub', 'inner', 'up'));      // a loop back to sub
  const storage = await LocalStorage.open(root);
  assert.deepEqual(await scanUsage(storage), { bytes: 17, files: 2, unreadable: 0 });
});

function quotaUser(storage: MemoryStorage, quota: AuthenticatedUser['quota'], name = 'alice'): AuthenticatedUser {
  return { name, storage, permissions: { ...READ_WRITE }, quota };
}

test('book: one counter per user for all sessions, none without a quota; rescans at login when old and idle', async () => {
  let now = 0;
  const book = new QuotaBook({ rescanAfterMs: 60_000, now: () => now });
  const storage = new MemoryStorage();
  storage.writeFile('/x', Buffer.alloc(10));
  assert.equal(book.usageOf({ name: 'bob', storage, permissions: { ...READ_WRITE } }), undefined);
  const alice = quotaUser(storage, { bytes: 1000 });
  book.loggedIn(alice);
  const usage = (await book.measured(alice))!;
  assert.equal(usage, book.usageOf(quotaUser(storage, { bytes: 1000 })), 'a second session shares the counter');
  assert.deepEqual([usage.bytes, usage.files], [10, 1]);
  storage.writeFile('/y', Buffer.alloc(5)); // behind the server's back
  now = 59_999;
  book.loggedIn(alice);
  await book.measured(alice);
  assert.equal(usage.bytes, 10, 'not yet old enough to rescan');
  now = 60_000;
  usage.inFlight = 1;
  book.loggedIn(alice);
  await book.measured(alice);
  assert.equal(usage.bytes, 10, 'no rescan while an upload of the user runs');
  usage.inFlight = 0;
  book.loggedIn(alice);
  await book.measured(alice);
  assert.deepEqual([usage.bytes, usage.files], [15, 2]);
  const never = new QuotaBook({ rescanAfterMs: 0, now: () => now });
  never.loggedIn(alice);
  const u2 = (await never.measured(alice))!;
  storage.writeFile('/z', Buffer.alloc(1));
  now = 1e12;
  never.loggedIn(alice);
  await never.measured(alice);
  assert.equal(u2.bytes, 15, 'rescanAfterMs 0: never rescanned');
});

test('guard: overwriting is charged only past the old size; the chunk that would pass the quota is refused', async () => {
  const storage = new MemoryStorage();
  const usage = new UserUsage(storage);
  usage.change(50, 1); // the old 50-byte file
  const guard = new UploadGuard('/f', 'replace', 0, Infinity, usage, { bytes: 100 }, { existed: true, size: 50 });
  guard.reserve();
  assert.equal(guard.admit(40), undefined);
  assert.equal(usage.bytes, 50, 'within the replaced size: nothing charged');
  assert.equal(guard.admit(40), undefined);
  assert.equal(usage.bytes, 80, '30 bytes past the old size');
  const refused = guard.admit(30);
  assert.ok(refused instanceof FtpStorageError && refused.failure === 'quota');
  assert.equal(usage.bytes, 80, 'the refused chunk is not charged');
  storage.writeFile('/f', Buffer.alloc(80)); // what the storage kept
  await guard.settle({ ok: false, bytes: 80 });
  assert.deepEqual([usage.bytes, usage.files, usage.inFlight], [80, 1, 0]);

  const append = new UploadGuard('/f', 'append', 0, Infinity, usage, { bytes: 100 }, { existed: true, size: 80 });
  append.reserve();
  assert.equal(append.admit(20), undefined);
  assert.ok(append.admit(1) instanceof FtpStorageError);
  await append.settle({ ok: true, bytes: 20 });
  assert.deepEqual([usage.bytes, usage.files], [100, 1]);

  const sized = new UploadGuard('/g', 'replace', 0, 10);
  assert.equal(sized.admit(10), undefined);
  assert.ok(sized.admit(1) instanceof FtpStorageError, 'maxUploadBytes without a quota');
});

test('guard: a new file is reserved at once and given back when the upload leaves nothing', async () => {
  const storage = new MemoryStorage();
  const usage = new UserUsage(storage);
  const guard = new UploadGuard('/new', 'replace', 0, Infinity, usage, { files: 1 }, { existed: false, size: 0 });
  guard.reserve();
  assert.equal(usage.files, 1, 'a concurrent upload already sees the file taken');
  await guard.settle({ ok: false, bytes: 0 });
  assert.equal(usage.files, 0);
  const opening = new UploadGuard('/new', 'replace', 0, Infinity, usage, { files: 1 }, { existed: false, size: 0 });
  opening.reserve();
  await assert.rejects(opening.opened(Promise.reject(new FtpStorageError('permission', 'no'))));
  assert.deepEqual([usage.files, usage.inFlight], [0, 0], 'an open that failed keeps nothing reserved');
});

test('handlers: ALLO remembers its size (501 for one it cannot read); STAT shows the quota once measured', async () => {
  const { fakeContext } = await import('../support/fake-command-context.js');
  const { ctx, run } = fakeContext();
  assert.equal(((await run('ALLO 4096 R 512')) as { code: number }).code, 202);
  assert.equal(ctx.state.allocation, 4096);
  assert.equal(((await run('ALLO lots')) as { code: number }).code, 501);
  ctx.state.user!.quota = { bytes: 2048, files: 5 };
  const storage = ctx.storage as MemoryStorage;
  storage.writeFile('/a', Buffer.alloc(1024));
  assert.match(((await run('STAT')) as { lines: string[] }).lines.join('\n'), /Quota: usage being measured/);
  assert.equal(((await run('AVBL')) as { lines: string[] }).lines.join(''), '1024');
  assert.match(((await run('STAT')) as { lines: string[] }).lines.join('\n'), /Quota: 1 KiB of 2 KiB used \(1024 of 2048 bytes\), 1 of 5 files/);
});
