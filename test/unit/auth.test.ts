/**
 * Users: scrypt hashes (format, verification, refusal of bad/argon2 strings), the config user store
 * (roots, homes, permissions, no name probing by timing), anonymous access, the composite, permission specs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_SCRYPT_PARAMS, hashPassword, parsePasswordHash, verifyPassword, type ParsedPasswordHash,
} from '../../src/server/auth/password-hash.js';
import { ConfigUserStore } from '../../src/server/auth/user-store.js';
import { AnonymousAuthenticator } from '../../src/server/auth/anonymous.js';
import { CompositeAuthenticator } from '../../src/server/auth/composite.js';
import { describePermissions, parsePermissionText, resolvePermissions } from '../../src/server/auth/permissions.js';
import { READ_ONLY, READ_WRITE } from '../../src/server/auth/types.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { FtpConfigError, FtpUsageError } from '../../src/errors.js';

const FAST = { ln: 10, r: 8, p: 1 };
const ctx = { remoteAddress: '127.0.0.1', secure: false };

test('hashPassword produces the documented format and verifies', async () => {
  const encoded = await hashPassword('s3cret é', FAST);
  assert.match(encoded, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  const parsed = parsePasswordHash(encoded) as ParsedPasswordHash;
  assert.equal(typeof parsed, 'object');
  assert.equal(parsed.salt.length, 16);
  assert.equal(parsed.hash.length, 32);
  assert.equal(await verifyPassword('s3cret é', parsed), true);
  // NFC normalisation: the decomposed spelling of é is the same password.
  assert.equal(await verifyPassword('s3cret e\u0301', parsed), true);
  assert.equal(await verifyPassword('s3cret e', parsed), false);
  assert.equal(await verifyPassword('', parsed), false);
  assert.notEqual(await hashPassword('s3cret é', FAST), encoded, 'a fresh salt each time');
});

test('default parameters are ln=17,r=8,p=1 (one derivation, ~0.4 s)', async () => {
  assert.deepEqual({ ...DEFAULT_SCRYPT_PARAMS }, { ln: 17, r: 8, p: 1 });
  const encoded = await hashPassword('pw');
  assert.match(encoded, /^\$scrypt\$ln=17,r=8,p=1\$/);
});

test('bad hash strings are explained', () => {
  for (const [input, reason] of [
    ['plaintext', /not a password hash/],
    ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', /argon2/],
    ['$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA', /ln must be/],
    ['$scrypt$ln=17,r=8,p=1$c2E$aGFzaGhhc2hoYXNoaGFzaA', /salt/],
    ['$scrypt$ln=17,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaA', /hash must be/],
  ] as const) {
    const result = parsePasswordHash(input);
    assert.equal(typeof result, 'string', input);
    assert.match(result as string, reason);
  }
});

async function fixture(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'ftpkit-auth-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'hello.txt'), 'hi');
  return dir;
}

test('ConfigUserStore logs in known users with their root, home and permissions', async (t) => {
  const dir = await fixture(t);
  const store = new ConfigUserStore([
    { name: 'alice', passwordHash: await hashPassword('wonderland', FAST), root: dir, home: '/in', permissions: { ...READ_ONLY } },
    { name: 'bob', passwordHash: await hashPassword('builder', FAST), root: dir },
  ]);
  assert.deepEqual(store.names, ['alice', 'bob']);
  const alice = await store.authenticate('alice', 'wonderland', ctx);
  assert.ok(alice);
  assert.equal(alice.name, 'alice');
  assert.equal(alice.home, '/in');
  assert.deepEqual(alice.permissions, READ_ONLY);
  assert.ok(alice.storage instanceof LocalStorage);
  assert.equal((await alice.storage.stat('/hello.txt')).size, 2);
  const bob = await store.authenticate('bob', 'builder', ctx);
  assert.deepEqual(bob?.permissions, READ_WRITE, 'named users default to read-write');
  assert.equal(bob?.home, '/');
  assert.equal(await store.authenticate('alice', 'builder', ctx), null);
  assert.equal(await store.authenticate('Alice', 'wonderland', ctx), null, 'names are case-sensitive');
  assert.equal(await store.authenticate('mallory', 'wonderland', ctx), null);
  // Sessions get copies: one session cannot widen another's permissions.
  alice.permissions.write = true;
  assert.equal((await store.authenticate('alice', 'wonderland', ctx))?.permissions.write, false);
});

test('ConfigUserStore rejects bad accounts naming the key', async (t) => {
  const dir = await fixture(t);
  const hash = await hashPassword('x', FAST);
  const cases: [ConstructorParameters<typeof ConfigUserStore>[0], string][] = [
    [[{ name: 'a', passwordHash: 'nope', root: dir }], 'users.0.password'],
    [[{ name: 'a', passwordHash: hash, root: dir }, { name: 'a', passwordHash: hash, root: dir }], 'users.1.name'],
    [[{ name: 'a', passwordHash: hash }], 'users.0.root'],
    [[{ name: 'a', passwordHash: hash, root: dir, home: 'rel' }], 'users.0.home'],
    [[{ name: 'a\r\nb', passwordHash: hash, root: dir }], 'users.0.name'],
  ];
  for (const [accounts, key] of cases) {
    assert.throws(() => new ConfigUserStore(accounts), (e: unknown) => e instanceof FtpConfigError && e.key === key, key);
  }
});

test('an unknown name costs one scrypt, like a wrong password (no probing by timing)', async (t) => {
  const dir = await fixture(t);
  const slow = { ln: 14, r: 8, p: 1 }; // ~40 ms per derivation: well above timer noise
  const store = new ConfigUserStore([{ name: 'alice', passwordHash: await hashPassword('pw', slow), root: dir }]);
  // Interleaved samples, so machine load hits both sides alike; medians compared.
  const known: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 7; i++) {
    for (const [name, into] of [['alice', known], ['nobody', unknown]] as const) {
      const t0 = performance.now();
      assert.equal(await store.authenticate(name, 'wrong', ctx), null);
      into.push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const knownMs = median(known);
  const unknownMs = median(unknown);
  assert.ok(knownMs > 10, `a verification takes real time (${knownMs} ms)`);
  // Skipping the hash for unknown names would make this ratio ~0.01.
  assert.ok(unknownMs > knownMs * 0.5 && unknownMs < knownMs * 2, `known ${knownMs.toFixed(1)} ms vs unknown ${unknownMs.toFixed(1)} ms`);
});

test('anonymous: "anonymous" and "ftp", any password, read-only unless writable', async (t) => {
  const dir = await fixture(t);
  const ro = new AnonymousAuthenticator({ root: dir });
  for (const name of ['anonymous', 'ftp', 'Anonymous', 'FTP']) {
    const user = await ro.authenticate(name, 'me@example.org', ctx);
    assert.equal(user?.name, 'anonymous', name);
    assert.deepEqual(user?.permissions, READ_ONLY);
  }
  assert.equal(await ro.authenticate('alice', '', ctx), null);
  const rw = new AnonymousAuthenticator({ root: dir, write: true });
  assert.deepEqual((await rw.authenticate('ftp', '', ctx))?.permissions, READ_WRITE);
  const custom = new AnonymousAuthenticator({ root: dir, permissions: { ...READ_ONLY, write: true } });
  assert.equal((await custom.authenticate('ftp', '', ctx))?.permissions.delete, false);
  assert.throws(() => new AnonymousAuthenticator({}), TypeError);
});

test('CompositeAuthenticator takes the first match, in order', async (t) => {
  const dir = await fixture(t);
  const users = new ConfigUserStore([{ name: 'ftp', passwordHash: await hashPassword('pw', FAST), root: dir, permissions: { ...READ_WRITE } }]);
  const anon = new AnonymousAuthenticator({ root: dir });
  const both = new CompositeAuthenticator([users, anon]);
  assert.deepEqual((await both.authenticate('ftp', 'pw', ctx))?.permissions, READ_WRITE, 'configured user first');
  assert.deepEqual((await both.authenticate('ftp', 'other', ctx))?.permissions, READ_ONLY, 'then anonymous');
  assert.equal(await both.authenticate('bob', 'pw', ctx), null);
  const failing = new CompositeAuthenticator([{ authenticate: async () => { throw new Error('db down'); } }, anon]);
  await assert.rejects(failing.authenticate('ftp', '', ctx), /db down/);
});

test('permission specs: presets, lists, objects over a preset, CLI text', () => {
  assert.deepEqual(resolvePermissions(undefined, READ_ONLY), READ_ONLY);
  assert.deepEqual(resolvePermissions('read-write', READ_ONLY), READ_WRITE);
  const listed = resolvePermissions(['list', 'read', 'write'], READ_WRITE);
  assert.deepEqual(listed, { ...READ_ONLY, write: true });
  assert.deepEqual(resolvePermissions({ write: true }, READ_WRITE), { ...READ_ONLY, write: true }, 'objects start from read-only');
  assert.deepEqual(resolvePermissions({ preset: 'read-write', delete: false }, READ_ONLY), { ...READ_WRITE, delete: false });
  assert.deepEqual(parsePermissionText('read-only'), READ_ONLY);
  assert.deepEqual(parsePermissionText('list, read,mkdir'), { ...READ_ONLY, mkdir: true });
  assert.throws(() => parsePermissionText('list,wirte'), (e: unknown) => e instanceof FtpUsageError && /wirte/.test(e.message));
  assert.throws(() => parsePermissionText(''), FtpUsageError);
  assert.equal(describePermissions(READ_WRITE), 'read-write');
  assert.equal(describePermissions(READ_ONLY), 'read-only');
  assert.equal(describePermissions({ ...READ_ONLY, mkdir: true }), 'list,read,mkdir');
});
