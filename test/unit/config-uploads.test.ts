/**
 * `uploads.mode` (and a user's `uploadMode`) from the configuration file and `serve --upload-mode`: validated
 * with the key named, mapped onto FtpServerOptions, and every served root handed to the start-up sweep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/server/config/load.js';
import { mergeConfig, planServe } from '../../src/server/config/to-options.js';
import { flagsToConfig } from '../../src/cli/serve-flags.js';
import { resolveOptions } from '../../src/server/resolved-options.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { FtpConfigError } from '../../src/errors.js';

const HASH = '$scrypt$ln=4,r=8,p=1$c2FsdHNhbHRzYWx0$' + 'A'.repeat(43);

test('uploads.mode: default atomic; a wrong value names the key; the flag overrides the file', () => {
  assert.equal(resolveOptions({ authenticator: { authenticate: async () => null } }).uploads.mode, 'atomic');
  assert.throws(() => validateConfig({ uploads: { mode: 'safe' } }), (err: Error) => /uploads\.mode/.test(err.message));
  assert.throws(() => resolveOptions({ authenticator: { authenticate: async () => null }, uploads: { mode: 'x' as never } }), FtpConfigError);
  const config = mergeConfig(validateConfig({ uploads: { mode: 'direct' } }), flagsToConfig({ uploadMode: 'resumable' }));
  const plan = planServe(config, '/srv/pub');
  assert.equal(plan.options.uploads?.mode, 'resumable');
});

test('uploads.fsync: default false (as vsftpd, proftpd, pure-ftpd); true from the file reaches the options', () => {
  assert.equal(resolveOptions({ authenticator: { authenticate: async () => null } }).uploads.fsync, false);
  const plan = planServe(validateConfig({ uploads: { fsync: true } }), '/srv/pub');
  assert.equal(resolveOptions({ ...plan.options }).uploads.fsync, true);
  assert.throws(() => validateConfig({ uploads: { fsync: 'no' } }), (err: Error) => /uploads\.fsync/.test(err.message));
});

test('a user may have an upload mode of their own; every root someone may upload to is swept, once', async () => {
  const config = validateConfig({
    anonymous: { enabled: true, root: '/srv/pub' },
    users: [
      { name: 'alice', password: HASH, root: '/srv/alice', uploadMode: 'resumable' },
      { name: 'bob', password: HASH, root: '/srv/pub', permissions: ['list', 'append'] },
      { name: 'carol', password: HASH, root: '/srv/archive', permissions: 'read-only' },
    ],
  });
  const plan = planServe(config, '/srv/default');
  assert.equal(plan.options.uploads?.mode, undefined, 'the server default applies');
  const roots = (plan.options.uploads?.sweep ?? []).map(s => (s as LocalStorage).root).sort();
  assert.deepEqual(roots, ['/srv/alice', '/srv/pub'], 'each writable root once; read-only ones (anonymous here, carol) are not walked');
  const anonWrite = planServe(validateConfig({ anonymous: { root: '/srv/drop', write: true } }), '/x');
  assert.deepEqual((anonWrite.options.uploads?.sweep ?? []).map(s => (s as LocalStorage).root), ['/srv/drop']);
  assert.throws(() => validateConfig({ users: [{ name: 'a', password: HASH, root: '/x', uploadMode: 'nope' }] }), /users\.0\.uploadMode/);
});

test('ConfigUserStore hands a user\'s uploadMode to the session (a copy per login)', async () => {
  const { ConfigUserStore } = await import('../../src/server/auth/user-store.js');
  const { hashPassword } = await import('../../src/server/auth/password-hash.js');
  const { MemoryStorage } = await import('../../src/server/storage/memory.js');
  const passwordHash = await hashPassword('pw', { ln: 10, r: 8, p: 1 });
  const store = new ConfigUserStore([
    { name: 'alice', passwordHash, storage: new MemoryStorage(), uploadMode: 'direct' },
    { name: 'bob', passwordHash, storage: new MemoryStorage() },
  ]);
  const ctx = { remoteAddress: '127.0.0.1', secure: false };
  assert.equal((await store.authenticate('alice', 'pw', ctx))?.uploadMode, 'direct');
  assert.equal((await store.authenticate('bob', 'pw', ctx))?.uploadMode, undefined);
});

test('FtpServer.reconfigure (SIGHUP) changes the upload mode of the uploads that start next', async () => {
  const { FtpServer } = await import('../../src/server/ftp-server.js');
  const server = new FtpServer({ authenticator: { authenticate: async () => null }, port: 0, host: '127.0.0.1' });
  assert.equal(server.options.uploads.mode, 'atomic');
  const result = await server.reconfigure({ uploads: { mode: 'resumable' } });
  assert.ok(result.applied.includes('uploads'));
  assert.equal(server.options.uploads.mode, 'resumable');
  await assert.rejects(server.reconfigure({ uploads: { mode: 'nope' as never } }), FtpConfigError);
  assert.equal(server.options.uploads.mode, 'resumable', 'a bad mode changes nothing');
});
