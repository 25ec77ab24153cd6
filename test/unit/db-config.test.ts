/**
 * The `database:` section (src/server/db/config-schema.ts, options.ts) and who owns a name that is both a
 * configured user and a database user (src/server/db/precedence.ts), without a database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpConfigError } from '../../src/errors.js';
import { validateConfig } from '../../src/server/config/load.js';
import { planServe } from '../../src/server/config/to-options.js';
import { toDatabaseOptions } from '../../src/server/db/config-schema.js';
import { poolSettings } from '../../src/server/db/options.js';
import { PrecedenceAuthenticator } from '../../src/server/db/precedence.js';
import { ConfigUserStore } from '../../src/server/auth/user-store.js';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { MemoryStorage } from '../../src/server/storage/memory.js';

test('database section: durations in ms, sizes checked, a misspelt key named', () => {
  const c = validateConfig({ database: { url: 'postgres://u@db/x', passwordEnv: 'PGPW', connectTimeout: '2s', banRefresh: '250ms', quotaReserveBytes: 2097152 } });
  assert.deepEqual(toDatabaseOptions(c.database!), { url: 'postgres://u@db/x', passwordEnv: 'PGPW', connectTimeoutMs: 2000, banRefreshMs: 250, quotaReserveBytes: 2097152 });
  assert.throws(() => validateConfig({ database: { url: 'postgres://u@db/x', pasword: 'x' } }), (e: unknown) => e instanceof FtpConfigError && /database\.pasword/.test(e.message));
  assert.throws(() => validateConfig({ database: { url: 'mysql://u@db/x' } }), (e: unknown) => e instanceof FtpConfigError && /database\.url/.test(e.message));
  assert.throws(() => validateConfig({ database: { url: 'postgres://u@db/x', quotaReserveBytes: 1000 } }), (e: unknown) => e instanceof FtpConfigError && /1 MiB/.test(e.message));
  assert.throws(() => validateConfig({ database: { poolSize: 3 } }), (e: unknown) => e instanceof FtpConfigError && /url, or host and database/.test(e.message));
});

test('the password from the environment; a missing variable is a configuration error naming it', () => {
  assert.equal(poolSettings({ url: 'postgres://u@db/x', passwordEnv: 'PGPW' }, { PGPW: 'secret' }).password, 'secret');
  assert.throws(() => poolSettings({ url: 'postgres://u@db/x', passwordEnv: 'PGPW' }, {}),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'database.passwordEnv');
});

test('with a database and no users, anonymous access is off unless asked for; the plan is still valid', () => {
  const plan = planServe(validateConfig({ database: { url: 'postgres://u@db/x' } }), '/tmp');
  assert.equal(plan.logins.anonymous, undefined);
  const withAnon = planServe(validateConfig({ database: { url: 'postgres://u@db/x' }, anonymous: { enabled: true } }), '/tmp');
  assert.ok(withAnon.logins.anonymous);
  assert.throws(() => planServe(validateConfig({ anonymous: { enabled: false } }), '/tmp'), FtpConfigError, 'without a database nobody could log in');
});

test('a name in both stores belongs to the first: its wrong password is final, the second is not asked', async () => {
  const params = { ln: 10, r: 8, p: 1 };
  const storage = new MemoryStorage();
  const config = new ConfigUserStore([{ name: 'alice', passwordHash: await hashPassword('config-pw', params), storage }], { credentialCache: { ttlMs: 0 } });
  const other = new ConfigUserStore([
    { name: 'alice', passwordHash: await hashPassword('db-pw', params), storage },
    { name: 'bob', passwordHash: await hashPassword('bob-pw', params), storage },
  ], { credentialCache: { ttlMs: 0 } });
  const ctx = { remoteAddress: '192.0.2.1', secure: false };
  for (const exact of [false, true]) {
    const both = new PrecedenceAuthenticator(config, other, exact);
    assert.equal((await both.authenticate('alice', 'config-pw', ctx))?.name, 'alice');
    assert.equal(await both.authenticate('alice', 'db-pw', ctx), null, 'the second store\'s password for a name the first owns');
    assert.equal((await both.authenticate('bob', 'bob-pw', ctx))?.name, 'bob', 'a name only the second knows');
    assert.equal(await both.authenticate('carol', 'x', ctx), null);
    assert.equal(both.knowsUser('bob'), true);
    assert.equal(both.knowsUser('carol'), false);
  }
});
