/**
 * FtpServer.reconfigure (src/server/reconfigure.ts) without sockets: given keys change in place, others
 * stay; a bad value anywhere changes nothing and names its key; listener settings are reported as needing
 * a restart; the defender keeps its bans across a reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpServer, MemoryStorage, AnonymousAuthenticator, FtpConfigError } from '../../src/server/index.js';

function server(): FtpServer {
  return new FtpServer({
    port: 0,
    authenticator: new AnonymousAuthenticator({ storage: new MemoryStorage() }),
    limits: { maxSessions: 10 },
    passive: { portRange: { min: 40000, max: 40009 } },
    defender: { threshold: 2 },
  });
}

test('reconfigure: given keys apply, absent ones stay, listeners need a restart', async () => {
  const s = server();
  const result = await s.reconfigure({ limits: { maxSessions: 50 }, passive: { portRange: { min: 41000, max: 41099 } }, port: 2222, greeting: 'hi' });
  assert.deepEqual(result.needsRestart, ['port']);
  assert.deepEqual(result.applied.sort(), ['greeting', 'limits', 'passive']);
  assert.equal(s.options.limits.maxSessions, 50);
  assert.equal(s.options.limits.maxSessionsPerAddress, 20, 'a key of a given section that is absent returns to its default');
  assert.deepEqual(s.options.passive.portRange, { min: 41000, max: 41099 });
  assert.equal(s.options.port, 0, 'not applied');
  assert.equal(s.options.greeting, 'hi');
  assert.equal(s.defender.options.threshold, 2, 'defender not given: unchanged');
});

test('reconfigure: all or nothing, the bad key named', async () => {
  const s = server();
  await assert.rejects(s.reconfigure({ limits: { maxSessions: 99 }, defender: { deny: ['not-a-network'] } }),
    (err: unknown) => err instanceof FtpConfigError && err.key === 'defender.deny');
  assert.equal(s.options.limits.maxSessions, 10, 'the valid part was not applied either');
  await assert.rejects(s.reconfigure({ passive: { portRange: { min: 5, max: 1 } } }), /passive\.portRange/);
  assert.deepEqual(s.options.passive.portRange, { min: 40000, max: 40009 });
});

test('reconfigure: the defender keeps its bans, and new lists apply at once', async () => {
  const s = server();
  s.defender.record('failedLogin', '192.0.2.7');
  s.defender.record('failedLogin', '192.0.2.7');
  assert.equal(s.defender.addressRefusal('192.0.2.7')?.reason, 'banned');
  await s.reconfigure({ defender: { threshold: 5, deny: ['198.51.100.0/24'] } });
  assert.equal(s.defender.addressRefusal('192.0.2.7')?.reason, 'banned', 'a reload pardons nobody');
  assert.equal(s.defender.addressRefusal('198.51.100.9')?.reason, 'denied');
  assert.equal(s.defender.options.threshold, 5);
});

test('reconfigure: TLS cannot be turned on without a restart', async () => {
  const s = server();
  const result = await s.reconfigure({ tls: { stateDir: '/nonexistent' } });
  assert.deepEqual(result.needsRestart, ['tls']);
  assert.equal(s.security, undefined);
});

test('reconfigure: limits.bandwidth reaches the limiter (a transfer started after it is capped); a bad cap changes nothing', async () => {
  const s = server();
  const before = s.bandwidth.throttle('anonymous', 'download');
  before.delay(1 << 20);
  assert.equal(s.bandwidth.bucketCount, 0, 'no cap: no bucket');
  before.release();
  await s.reconfigure({ limits: { bandwidth: { download: 1_000_000 } } });
  const after = s.bandwidth.throttle('anonymous', 'download');
  after.delay(1 << 20);
  assert.ok(s.bandwidth.bucketCount > 0, 'the reloaded cap made a bucket');
  after.release();
  const maxSessions = s.options.limits.maxSessions;
  await assert.rejects(s.reconfigure({ limits: { maxSessions: 99, bandwidth: { upload: -5 } } }),
    (err: unknown) => err instanceof FtpConfigError && /bandwidth/.test(err.key));
  assert.equal(s.options.limits.maxSessions, maxSessions, 'the valid part was not applied either');
});
