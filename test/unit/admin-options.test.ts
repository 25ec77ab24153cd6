/**
 * The admin listener's pure parts: loopback detection and the refusal of an unauthenticated non-loopback
 * listener (src/server/admin/options.ts), the `admin` configuration section (config.ts), an operator's
 * ban (Defender.ban, ScoreBook.banFor), and `ftpkit who`'s table with control characters escaped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpConfigError } from '../../src/errors.js';
import { isLoopbackHost, resolveAdminOptions } from '../../src/server/admin/options.js';
import { adminConfigToOptions, parseListen } from '../../src/server/admin/config.js';
import { validateConfig } from '../../src/server/config/load.js';
import { Defender } from '../../src/server/security/defender.js';
import type { BanEvent } from '../../src/server/events.js';
import { safeText, whoTable } from '../../src/cli/who.js';
import type { StatusDocument } from '../../src/server/admin/status.js';

test('isLoopbackHost: 127/8, ::1, localhost; not wildcards or other addresses', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.0.2.1', 'example.net', '::ffff:10.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
});

test('resolveAdminOptions: defaults, token length, non-loopback needs authentication', () => {
  const r = resolveAdminOptions({});
  assert.equal(r.host, '127.0.0.1');
  assert.equal(r.port, 8021);
  assert.throws(() => resolveAdminOptions({ host: '0.0.0.0' }), (e: unknown) => e instanceof FtpConfigError && e.key === 'admin.host');
  assert.throws(() => resolveAdminOptions({ token: 'has space in it 0123456789' }), /admin\.token/);
  assert.equal(resolveAdminOptions({ host: '0.0.0.0', token: 'x'.repeat(16) }).host, '0.0.0.0');
  assert.throws(() => resolveAdminOptions({ users: [{ name: 'ops', password: 'plain' }] }), (e: unknown) => e instanceof FtpConfigError && e.key === 'admin.users.0.password');
});

test('the admin section: listen parsed, strict keys, token or tokenFile', async () => {
  assert.deepEqual(parseListen('127.0.0.1:8021'), { host: '127.0.0.1', port: 8021 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen('localhost:9000'), { host: 'localhost', port: 9000 });
  for (const bad of ['8021', '127.0.0.1', '::1:8021', '127.0.0.1:70000', 'a b:1']) assert.equal(parseListen(bad), undefined, bad);

  const config = validateConfig({ admin: { listen: '127.0.0.1:0', token: 'abcdefghijklmnop' } });
  assert.deepEqual(await adminConfigToOptions(config.admin!), { host: '127.0.0.1', port: 0, token: 'abcdefghijklmnop' });
  assert.deepEqual(await adminConfigToOptions(validateConfig({ admin: { listen: '127.0.0.1:0' } }).admin!, 'from-the-environment-01'),
    { host: '127.0.0.1', port: 0, token: 'from-the-environment-01' });
  assert.throws(() => validateConfig({ admin: { listen: 'nowhere' } }), /admin\.listen: expected HOST:PORT/);
  assert.throws(() => validateConfig({ admin: { listen: '127.0.0.1:1', tokn: 'x' } }), /admin.*tokn/);
  assert.throws(() => validateConfig({ admin: { listen: '127.0.0.1:1', token: 'abcdefghijklmnop', tokenFile: '/t' } }), /admin\.tokenFile/);
  await assert.rejects(adminConfigToOptions(validateConfig({ admin: { listen: '127.0.0.1:1', tokenFile: '/nonexistent/token' } }).admin!),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'admin.tokenFile');
});

test('Defender.ban: an operator ban refuses the address at once, is emitted, is listed and can be lifted', () => {
  let now = 1_000_000;
  const bans: BanEvent[] = [];
  const d = new Defender({ enabled: false, now: () => now }, b => bans.push(b));
  const ban = d.ban('address', '::ffff:192.0.2.9', 60_000);
  assert.equal(ban.key, '192.0.2.9');
  assert.deepEqual(d.addressRefusal('192.0.2.9'), { reason: 'banned', until: now + 60_000 });
  assert.equal(bans.length, 1);
  assert.equal(bans[0]!.kind, 'address');
  assert.equal(bans[0]!.durationMs, 60_000);
  assert.deepEqual(d.bans().map(b => b.key), ['192.0.2.9']);
  d.ban('user', 'mallory', 1000);
  assert.equal(d.userBanned('mallory', '192.0.2.1'), true);
  now += 1001;
  assert.equal(d.userBanned('mallory', '192.0.2.1'), false, 'it ends');
  assert.equal(d.unban('address', '192.0.2.9'), true);
  assert.equal(d.addressRefusal('192.0.2.9'), undefined);
});

test('ftpkit who: the table; control characters of client-chosen names escaped', () => {
  assert.equal(safeText('evil\u001b[2Jname\u0007'), 'evil\\x1b[2Jname\\x07');
  const doc: StatusDocument = {
    now: '2026-01-01T00:01:00.000Z', health: 'ready', bans: [], history: [],
    totals: { sessions: 1, transfersRunning: 1, passivePortsInUse: 0, logins: 1, failedLogins: 0, transfers: 0, bytesIn: 0, bytesOut: 0 },
    sessions: [{
      id: 'abc-1', user: 'eve\u001b[31m', remoteAddress: '192.0.2.1', remotePort: 5000, startedAt: '2026-01-01T00:00:00.000Z',
      idleMs: 0, lastCommand: 'RETR', tls: { control: 'protected', prot: 'P', implicit: false, protocol: 'TLSv1.3' },
      transfer: { command: 'RETR', direction: 'download', path: '/big.bin', bytes: 1024 * 1024, offset: 0, size: 4 * 1024 * 1024,
        rate: 2048, dataMode: 'passive', startedAt: '2026-01-01T00:00:30.000Z' },
    }],
  };
  assert.equal(whoTable(doc), [
    'ID     USER         ADDRESS         CONNECTED  STATE  TLS    COMMAND  TRANSFER',
    'abc-1  eve\\x1b[31m  192.0.2.1:5000  1m00s      busy   yes/P  RETR     download /big.bin 25% 1.0 MiB at 2.0 KiB/s',
    '1 session, 1 transfer running, 0 bans',
    '',
  ].join('\n'));
});

test('metrics from events: storage failures by kind (unknown kinds as one label), bans by kind', async () => {
  const { FtpServer, attachMetrics } = await import('../../src/server/index.js');
  const server = new FtpServer({ authenticator: { authenticate: async () => null } });
  const metrics = attachMetrics(server);
  const base = { sessionId: 's-1', remoteAddress: '192.0.2.1', user: 'u', path: '/f', bytes: 10, durationMs: 5, offset: 0, dataMode: 'passive' as const };
  server.emit('transfer-failed', { ...base, direction: 'upload', reason: 'storage error: no-space' });
  server.emit('transfer-failed', { ...base, direction: 'upload', reason: 'storage error: no-space' });
  server.emit('transfer-failed', { ...base, direction: 'download', reason: 'storage error: something new' });
  server.emit('transfer-failed', { ...base, direction: 'download', reason: 'data connection lost' });
  server.defender.ban('address', '192.0.2.1', 1000);
  const text = await metrics.text();
  metrics.detach();
  assert.match(text, /^ftpkit_storage_errors_total\{kind="no-space"\} 2$/m);
  assert.match(text, /^ftpkit_storage_errors_total\{kind="other"\} 1$/m);
  assert.doesNotMatch(text, /something new/);
  assert.match(text, /^ftpkit_transfers_total\{direction="download",result="failed"\} 2$/m);
  assert.match(text, /^ftpkit_transfer_bytes_total\{direction="upload"\} 20$/m);
  assert.match(text, /^ftpkit_bans_total\{kind="address"\} 1$/m);
  assert.match(text, /^ftpkit_bans_active\{kind="address"\} 1$/m);
});
