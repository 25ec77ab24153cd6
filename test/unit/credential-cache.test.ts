/**
 * The cache of recently verified credentials: expiry (injected clock), the LRU bound, invalidation when a
 * user's stored hash changes, and how ConfigUserStore uses it (a wrong password never populates it and
 * still costs the full hash; a hit keeps the current permissions; update() invalidates).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { VerifiedCredentialCache } from '../../src/server/auth/credential-cache.js';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { ConfigUserStore } from '../../src/server/auth/user-store.js';
import { READ_ONLY, READ_WRITE } from '../../src/server/auth/types.js';
import { MemoryStorage } from '../../src/server/storage/memory.js';
import { FtpConfigError } from '../../src/errors.js';

const FAST = { ln: 10, r: 8, p: 1 };
const ctx = { remoteAddress: '127.0.0.1', secure: false };

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

test('an entry answers yes for the verified password only, until the TTL has passed since verification', () => {
  const c = clock();
  const cache = new VerifiedCredentialCache({ ttlMs: 60_000, now: c.now });
  assert.equal(cache.matches('alice', 'H1', 'pw'), false, 'nothing remembered yet');
  cache.remember('alice', 'H1', 'pw');
  assert.equal(cache.matches('alice', 'H1', 'pw'), true);
  assert.equal(cache.matches('alice', 'H1', 'pw2'), false, 'another password');
  assert.equal(cache.matches('alice', 'H1', 'pw\u0000'), false);
  assert.equal(cache.matches('bob', 'H1', 'pw'), false, 'another user');
  c.advance(59_999);
  assert.equal(cache.matches('alice', 'H1', 'pw'), true, 'a hit does not extend the lifetime...');
  c.advance(1);
  assert.equal(cache.matches('alice', 'H1', 'pw'), false, '...which ends ttl after the verification');
  assert.equal(cache.size, 0, 'an expired entry is dropped when looked at');
  assert.deepEqual(cache.stats, { hits: 2, misses: 5, joined: 0 });
});

test('an entry counts only for the stored hash it was verified against', () => {
  const cache = new VerifiedCredentialCache();
  cache.remember('alice', '$scrypt$old', 'pw');
  assert.equal(cache.matches('alice', '$scrypt$new', 'pw'), false, 'the password was changed: verify in full');
  assert.equal(cache.size, 0, 'and the stale entry is gone');
  assert.equal(cache.matches('alice', '$scrypt$old', 'pw'), false, 'even if the old hash came back');
});

test('bounded: the least recently used user is forgotten first', () => {
  const cache = new VerifiedCredentialCache({ maxEntries: 2 });
  cache.remember('a', 'H', 'pa');
  cache.remember('b', 'H', 'pb');
  assert.equal(cache.matches('a', 'H', 'pa'), true, 'a is now the most recently used');
  cache.remember('c', 'H', 'pc');
  assert.equal(cache.size, 2);
  assert.equal(cache.matches('b', 'H', 'pb'), false, 'b was the least recently used');
  assert.equal(cache.matches('a', 'H', 'pa'), true);
  assert.equal(cache.matches('c', 'H', 'pc'), true);
  cache.remember('a', 'H', 'pa2');
  assert.equal(cache.size, 2, 'one entry per user: remembering again replaces');
  assert.equal(cache.matches('a', 'H', 'pa'), false);
  for (let i = 0; i < 1000; i++) cache.remember(`u${i}`, 'H', 'p');
  assert.equal(cache.size, 2, 'never more than maxEntries');
});

test('ttl 0 turns the cache off; bad options are refused', () => {
  const cache = new VerifiedCredentialCache({ ttlMs: 0 });
  assert.equal(cache.enabled, false);
  cache.remember('alice', 'H', 'pw');
  assert.equal(cache.size, 0);
  assert.equal(cache.matches('alice', 'H', 'pw'), false);
  assert.throws(() => new VerifiedCredentialCache({ ttlMs: -1 }), RangeError);
  assert.throws(() => new VerifiedCredentialCache({ maxEntries: 0 }), RangeError);
});

test('prune drops the entries of users whose hash changed or who are gone', () => {
  const cache = new VerifiedCredentialCache();
  cache.remember('alice', 'A', 'pa');
  cache.remember('bob', 'B', 'pb');
  cache.remember('carol', 'C', 'pc');
  const current: Record<string, string> = { alice: 'A', bob: 'B2' };
  cache.prune((user) => current[user]);
  assert.equal(cache.size, 1);
  assert.equal(cache.matches('alice', 'A', 'pa'), true);
});

test('the cache never holds the password: only a keyed hash of it', () => {
  const cache = new VerifiedCredentialCache();
  cache.remember('alice', 'H', 'correct horse battery staple');
  const seen = JSON.stringify([...(cache as unknown as { entries: Map<string, unknown> }).entries], (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v));
  assert.ok(!seen.includes('correct horse'), seen);
  const other = new VerifiedCredentialCache();
  other.remember('alice', 'H', 'correct horse battery staple');
  const macOf = (c: VerifiedCredentialCache) => ((c as unknown as { entries: Map<string, { mac: Buffer }> }).entries.get('alice')!.mac);
  assert.notDeepEqual(macOf(cache), macOf(other), 'each cache has its own random key');
});

test('verify: concurrent checks of the same user and password share one full verification', async () => {
  const cache = new VerifiedCredentialCache();
  let calls = 0;
  let release!: (ok: boolean) => void;
  const full = () => { calls++; return new Promise<boolean>((resolve) => { release = resolve; }); };
  const burst = Array.from({ length: 5 }, () => cache.verify('alice', 'H', 'pw', full));
  const other = cache.verify('alice', 'H', 'other', async () => { calls++; return false; });
  release(true);
  assert.deepEqual(await Promise.all(burst), [true, true, true, true, true]);
  assert.equal(await other, false, 'another password is verified on its own');
  assert.equal(calls, 2);
  assert.equal(cache.stats.joined, 4);
  assert.equal(await cache.verify('alice', 'H', 'pw', async () => { throw new Error('not called: a hit'); }), true);
  assert.equal(await cache.verify('alice', 'H2', 'pw', async () => false), false, 'another stored hash: verified in full');

  // A wrong password shared by a burst: one verification, every caller refused, nothing remembered.
  const cold = new VerifiedCredentialCache();
  let wrongCalls = 0;
  const refused = await Promise.all(Array.from({ length: 3 }, () => cold.verify('bob', 'H', 'guess', async () => { wrongCalls++; return false; })));
  assert.deepEqual(refused, [false, false, false]);
  assert.equal(wrongCalls, 1);
  assert.equal(cold.size, 0);
  // Turned off: every check is a full verification.
  const off = new VerifiedCredentialCache({ ttlMs: 0 });
  let offCalls = 0;
  await Promise.all([1, 2].map(() => off.verify('a', 'H', 'pw', async () => { offCalls++; return true; })));
  assert.equal(offCalls, 2);
});

async function store(options?: ConstructorParameters<typeof ConfigUserStore>[1]) {
  const storage = new MemoryStorage();
  const alice = await hashPassword('wonderland', FAST);
  return { alice, s: new ConfigUserStore([{ name: 'alice', passwordHash: alice, storage, permissions: { ...READ_ONLY } }], options) };
}

test('ConfigUserStore: a success is remembered, a wrong password is not', async () => {
  const { s } = await store();
  assert.equal(await s.authenticate('alice', 'nope', ctx), null);
  assert.equal(await s.authenticate('nobody', 'wonderland', ctx), null);
  assert.equal(s.credentialCache.size, 0, 'failures never populate the cache');
  assert.ok(await s.authenticate('alice', 'wonderland', ctx));
  assert.equal(s.credentialCache.size, 1);
  const again = await s.authenticate('alice', 'wonderland', ctx);
  assert.equal(s.credentialCache.stats.hits, 1, 'the second login was answered by the cache');
  assert.deepEqual(again?.permissions, READ_ONLY, 'with the account as it is now');
  assert.equal(await s.authenticate('alice', 'wonderland!', ctx), null, 'a wrong password for a cached user is still refused');
  assert.equal(await s.authenticate('nobody', 'wonderland', ctx), null);
});

test('ConfigUserStore: a burst of logins from a cold cache costs one verification', async () => {
  const { s } = await store();
  const users = await Promise.all(Array.from({ length: 6 }, () => s.authenticate('alice', 'wonderland', ctx)));
  assert.ok(users.every((u) => u?.name === 'alice'));
  assert.equal(s.credentialCache.stats.joined, 5);
  const wrong = await Promise.all(Array.from({ length: 3 }, () => s.authenticate('alice', 'guess', ctx)));
  assert.deepEqual(wrong, [null, null, null]);
});

test('ConfigUserStore.update: a changed password and changed permissions apply at once; a bad update changes nothing', async () => {
  const { s } = await store();
  const storage = new MemoryStorage();
  assert.ok(await s.authenticate('alice', 'wonderland', ctx));
  // Same hash, wider permissions: the cache still answers, with the new permissions.
  const { alice } = { alice: (s as unknown as { users: Map<string, { encoded: string }> }).users.get('alice')!.encoded };
  s.update([{ name: 'alice', passwordHash: alice, storage, permissions: { ...READ_WRITE } }]);
  assert.deepEqual((await s.authenticate('alice', 'wonderland', ctx))?.permissions, READ_WRITE);
  assert.equal(s.credentialCache.stats.hits, 1);
  // New password: the old one is refused (a full verification, not the cache), the new one accepted.
  s.update([{ name: 'alice', passwordHash: await hashPassword('looking-glass', FAST), storage }]);
  assert.equal(s.credentialCache.size, 0, 'the entry made with the old hash is dropped');
  assert.equal(await s.authenticate('alice', 'wonderland', ctx), null);
  assert.ok(await s.authenticate('alice', 'looking-glass', ctx));
  assert.throws(() => s.update([{ name: 'alice', passwordHash: 'plain', storage }]), (e: unknown) => e instanceof FtpConfigError && e.key === 'users.0.password');
  assert.ok(await s.authenticate('alice', 'looking-glass', ctx), 'the accounts before the bad update stay');
  s.update([]);
  assert.equal(await s.authenticate('alice', 'looking-glass', ctx), null, 'a removed user cannot log in from the cache');
});

test('ConfigUserStore: a hit skips the hash; a wrong password for a cached user costs the full hash', async () => {
  const slow = { ln: 14, r: 8, p: 1 }; // ~40 ms per derivation: far above the cost of an HMAC
  const storage = new MemoryStorage();
  const s = new ConfigUserStore([
    { name: 'alice', passwordHash: await hashPassword('pw', slow), storage },
    { name: 'bob', passwordHash: await hashPassword('pw', slow), storage },
  ]);
  assert.ok(await s.authenticate('alice', 'pw', ctx), 'alice is cached, bob is not');
  const time = async (name: string, password: string) => {
    const t0 = performance.now();
    await s.authenticate(name, password, ctx);
    return performance.now() - t0;
  };
  const hit: number[] = [];
  const wrongCached: number[] = [];
  const wrongUncached: number[] = [];
  // Interleaved, so machine load hits every kind alike; medians compared.
  for (let i = 0; i < 7; i++) {
    hit.push(await time('alice', 'pw'));
    wrongCached.push(await time('alice', 'wrong'));
    wrongUncached.push(await time('bob', 'wrong'));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  assert.equal(s.credentialCache.stats.hits, 7);
  assert.equal(s.credentialCache.size, 1, 'no wrong password was remembered');
  assert.ok(median(hit) * 4 < median(wrongUncached), `a hit (${median(hit).toFixed(2)} ms) skips the hash (${median(wrongUncached).toFixed(1)} ms)`);
  assert.ok(median(wrongCached) * 2 > median(wrongUncached), `wrong password, cached user ${median(wrongCached).toFixed(1)} ms vs uncached ${median(wrongUncached).toFixed(1)} ms: both pay the full hash`);
});

test('ConfigUserStore with ttl 0 verifies every login in full', async () => {
  const { s } = await store({ credentialCache: { ttlMs: 0 } });
  assert.ok(await s.authenticate('alice', 'wonderland', ctx));
  assert.ok(await s.authenticate('alice', 'wonderland', ctx));
  assert.equal(s.credentialCache.stats.hits, 0);
  const shared = new VerifiedCredentialCache({ ttlMs: 1000 });
  assert.equal((await store({ credentialCache: shared })).s.credentialCache, shared, 'a cache object is used as given');
});
