/**
 * Quotas and the size of one upload over real sockets (issue 12, "Quotas" and "Limits"): 552 (RFC 959
 * s4.2, exceeded storage allocation) before the 150 when it is known then, and while streaming otherwise;
 * the session goes on; DELE and RNTO over a file give back; two sessions of one user share the count;
 * AVBL answers what is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../src/server/index.js';
import type { Storage } from '../../src/server/index.js';
import { RawControl, openPassive, startServer, writeAll, type Harness } from '../support/server-harness.js';

const MiB = 1024 * 1024;

/** STOR (or another upload verb) of `size` bytes: the first reply and, after a 150, the final one. */
async function upload(c: RawControl, line: string, size: number, fill = 0x61): Promise<{ first: number; final?: number; text: string }> {
  const data = await openPassive(c);
  const first = await c.send(line);
  if (first.code !== 150) {
    data.destroy();
    return { first: first.code, text: first.text };
  }
  const sending = writeAll(data, Buffer.alloc(size, fill)).catch(() => undefined);
  const final = await c.read();
  await sending;
  data.destroy();
  return { first: first.code, final: final.code, text: final.text };
}

async function sizeOf(storage: Storage, path: string): Promise<number | undefined> {
  try { return (await storage.stat(path)).size; } catch { return undefined; }
}

async function avbl(c: RawControl): Promise<number> {
  const r = await c.send('AVBL');
  assert.equal(r.code, 213, r.text);
  return Number(r.text);
}

async function quotaServer(t: { after: (fn: () => unknown) => void }, users: Parameters<typeof startServer>[0] = {}): Promise<Harness> {
  const h = await startServer(users);
  t.after(() => h.close());
  return h;
}

test('quota of 1 MiB: a 2 MiB STOR gets 552 while streaming, nothing past the limit is stored, the session goes on', async t => {
  const storage = new MemoryStorage();
  const h = await quotaServer(t, { storage, users: { test: { password: 'test', quota: { bytes: MiB } } } });
  const failures: string[] = [];
  h.server.on('transfer-failed', e => failures.push(`${e.direction} ${e.reason}`));
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');
  const r = await upload(c, 'STOR big.bin', 2 * MiB);
  assert.equal(r.first, 150, 'the size was unknown: refused while streaming, after the 150');
  assert.equal(r.final, 552, r.text);
  assert.match(r.text, /big\.bin/);
  assert.match(r.text, /\(quota of 1 MiB exceeded\)/, 'the 552 says which limit was hit, as the refusals before the 150 do');
  const stored = await sizeOf(storage, '/big.bin');
  assert.ok(stored === undefined || stored <= MiB, `stored ${stored} bytes, more than the quota`);
  assert.deepEqual(failures, ['upload storage error: quota']);
  assert.equal((await c.send('NOOP')).code, 200);
  // What was kept counts: AVBL tells the rest, and a file that fits in it is accepted.
  const left = await avbl(c);
  assert.equal(left, MiB - (stored ?? 0));
  assert.equal((await c.send(`DELE big.bin`)).code, stored === undefined ? 550 : 250);
  assert.equal(await avbl(c), MiB);
  assert.equal((await upload(c, 'STOR fits.bin', MiB)).final, 226);
  assert.equal(await avbl(c), 0);
});

test('TYPE A uploads are held to the quota by their stored bytes', async t => {
  const storage = new MemoryStorage();
  const h = await quotaServer(t, { storage, users: { test: { password: 'test', quota: { bytes: 100_000 } } } });
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE A');
  const r = await upload(c, 'STOR text.txt', 300_000);
  assert.deepEqual([r.first, r.final], [150, 552]);
  assert.ok((await sizeOf(storage, '/text.txt') ?? 0) <= 100_000);
});

test('files quota: the N+1th new file is refused before the 150; overwriting, DELE and RNTO over a file behave', async t => {
  const storage = new MemoryStorage();
  const h = await quotaServer(t, { storage, users: { test: { password: 'test', quota: { files: 2 } } } });
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');
  assert.equal((await upload(c, 'STOR a', 10)).final, 226);
  assert.equal((await upload(c, 'STOR b', 10)).final, 226);
  const third = await upload(c, 'STOR c', 10);
  assert.equal(third.first, 552, 'refused before any 150');
  assert.match(third.text, /file quota/);
  assert.equal(await sizeOf(storage, '/c'), undefined, 'not even created');
  assert.equal((await upload(c, 'STOU', 10)).first, 552);
  assert.equal((await upload(c, 'STOR a', 20)).final, 226, 'an overwrite adds no file');
  assert.equal((await upload(c, 'APPE b', 5)).final, 226, 'an append adds no file');
  assert.equal((await c.send('DELE a')).code, 250);
  assert.equal((await upload(c, 'STOR c', 10)).final, 226, 'DELE gave a file back');
  assert.equal((await c.send('RNFR b')).code, 350);
  assert.equal((await c.send('RNTO c')).code, 250);
  assert.equal((await upload(c, 'STOR d', 10)).final, 226, 'a rename over a file gave one back');
  const stat = await c.send('STAT');
  assert.match(stat.text, /Quota: .*2 of 2 files/);
  const site = await c.send('SITE QUOTA');
  assert.equal(site.code, 200);
  assert.match(site.text, /2 of 2 files/);
});

test('overwriting counts the difference; ALLO announcing more than is left is refused before the 150', async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/old.bin', Buffer.alloc(600_000));
  const h = await quotaServer(t, { storage, users: { test: { password: 'test', quota: { bytes: 1_000_000 } } } });
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');
  assert.equal(await avbl(c), 400_000, 'the root was scanned at login');
  // Replacing 600 000 bytes with 900 000 needs 300 000 more: it fits.
  assert.equal((await upload(c, 'STOR old.bin', 900_000)).final, 226);
  assert.equal(await avbl(c), 100_000);
  assert.equal((await c.send('ALLO 200000')).code, 202);
  const r = await upload(c, 'STOR new.bin', 10);
  assert.equal(r.first, 552, r.text);
  assert.equal((await c.send('ALLO 50000')).code, 202);
  assert.equal((await upload(c, 'STOR new.bin', 50_000)).final, 226);
  assert.equal(await avbl(c), 50_000);
});

test('two sessions of one user uploading at once share one count and cannot together pass the quota', async t => {
  const storage = new MemoryStorage();
  const h = await quotaServer(t, { storage, users: { test: { password: 'test', quota: { bytes: MiB } } } });
  const [c1, c2] = await Promise.all([RawControl.login(h), RawControl.login(h)]);
  t.after(() => { c1.close(); c2.close(); });
  await Promise.all([c1.send('TYPE I'), c2.send('TYPE I')]);
  const [d1, d2] = await Promise.all([openPassive(c1), openPassive(c2)]);
  const [s1, s2] = await Promise.all([c1.send('STOR one.bin'), c2.send('STOR two.bin')]);
  assert.deepEqual([s1.code, s2.code], [150, 150]);
  const size = 800 * 1024;
  const sending = Promise.all([writeAll(d1, Buffer.alloc(size, 1)), writeAll(d2, Buffer.alloc(size, 2))].map(p => p.catch(() => undefined)));
  const finals = (await Promise.all([c1.read(), c2.read()])).map(r => r.code).sort();
  await sending;
  d1.destroy(); d2.destroy();
  // 1.6 MiB cannot fit in 1 MiB: at least one upload fails; when their bytes interleave, both may (each
  // one's next chunk finds the shared count full).
  assert.ok(finals[1] === 552 && (finals[0] === 226 || finals[0] === 552), `final replies ${finals.join(', ')}`);
  const total = (await sizeOf(storage, '/one.bin') ?? 0) + (await sizeOf(storage, '/two.bin') ?? 0);
  assert.ok(total <= MiB, `${total} bytes stored under a quota of ${MiB}`);
  assert.equal(await avbl(c1), MiB - total);
  assert.equal(await avbl(c2), MiB - total, 'both sessions see the same count');
});

test('limits.maxUploadBytes: 552 while streaming, and before the 150 after ALLO; a user may have a larger one', async t => {
  const storage = new MemoryStorage();
  const h = await quotaServer(t, {
    storage,
    users: { test: { password: 'test' }, big: { password: 'big', maxUploadBytes: 300_000 } },
    options: { limits: { maxUploadBytes: 100_000 } },
  });
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');
  assert.deepEqual(await upload(c, 'STOR a.bin', 100_000).then(r => r.final), 226, 'exactly the limit is fine');
  const r = await upload(c, 'STOR b.bin', 150_000);
  assert.deepEqual([r.first, r.final], [150, 552]);
  assert.match(r.text, /^\/b\.bin: Exceeded storage allocation \(uploads are limited to 97\.7 KiB\)$/, 'names the size limit, not a quota');
  assert.ok((await sizeOf(storage, '/b.bin') ?? 0) <= 100_000);
  assert.equal((await c.send('ALLO 150000')).code, 202);
  assert.equal((await upload(c, 'STOR c.bin', 10)).first, 552);
  assert.equal((await upload(c, 'STOR c.bin', 10)).final, 226, 'ALLO applies to the next upload only');
  const big = await RawControl.login(h, 'big', 'big');
  t.after(() => big.close());
  await big.send('TYPE I');
  assert.equal((await upload(big, 'STOR d.bin', 250_000)).final, 226);
});

test('AVBL: what is left of the quota, shrinking after an upload; FEAT lists AVBL', async t => {
  const storage = new MemoryStorage(); // no free-space report: the quota alone answers
  const h = await quotaServer(t, { storage, users: { test: { password: 'test', quota: { bytes: 500_000 } }, free: { password: 'free' } } });
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');
  assert.match((await c.send('FEAT')).text, /\n AVBL\n/);
  assert.equal(await avbl(c), 500_000);
  assert.equal((await upload(c, 'STOR x', 123_456)).final, 226);
  assert.equal(await avbl(c), 500_000 - 123_456);
  const other = await RawControl.login(h, 'free', 'free');
  t.after(() => other.close());
  assert.equal((await other.send('AVBL')).code, 502, 'no quota and no free-space report: nothing to tell');
});
