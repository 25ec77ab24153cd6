/**
 * The credential cache over real control connections: a user's second login is answered from the cache
 * (230, no second hash), a wrong password still gets 530, and a changed password (the accounts replaced,
 * as a configuration reload does) invalidates the cached one at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawControl, startServer } from '../support/server-harness.js';
import { ConfigUserStore, MemoryStorage, hashPassword } from '../../src/server/index.js';

const FAST = { ln: 10, r: 8, p: 1 };


test('the second login comes from the cache; a changed password invalidates it', async (t) => {
  const storage = new MemoryStorage();
  const users = new ConfigUserStore([{ name: 'alice', passwordHash: await hashPassword('wonderland', FAST), storage }]);
  const h = await startServer({ options: { authenticator: users } });
  t.after(() => h.close());
  const cache = users.credentialCache;

  assert.equal(await RawControl.loginCode('127.0.0.1', h.port, 'alice', 'wonderland'), 230);
  assert.equal(cache.stats.hits, 0, 'the first login was verified in full');
  assert.equal(await RawControl.loginCode('127.0.0.1', h.port, 'alice', 'wonderland'), 230);
  assert.equal(cache.stats.hits, 1, 'the second one was answered by the cache');
  assert.equal(await RawControl.loginCode('127.0.0.1', h.port, 'alice', 'wrong'), 530);
  assert.equal(cache.size, 1);

  // Concurrent logins of the same user: all accepted.
  const burst = await Promise.all(Array.from({ length: 5 }, () => RawControl.loginCode('127.0.0.1', h.port, 'alice', 'wonderland')));
  assert.deepEqual(burst, [230, 230, 230, 230, 230]);

  users.update([{ name: 'alice', passwordHash: await hashPassword('looking-glass', FAST), storage }]);
  const hitsBefore = cache.stats.hits;
  assert.equal(await RawControl.loginCode('127.0.0.1', h.port, 'alice', 'wonderland'), 530, 'the old password no longer works');
  assert.equal(cache.stats.hits, hitsBefore, 'and the cache did not answer for it');
  assert.equal(await RawControl.loginCode('127.0.0.1', h.port, 'alice', 'looking-glass'), 230);
  assert.equal(await RawControl.loginCode('127.0.0.1', h.port, 'alice', 'looking-glass'), 230);
  assert.equal(cache.stats.hits, hitsBefore + 1, 'the new password is cached in turn');
});
