/**
 * `ftpkit serve` flag handling without sockets: --user parsing, flags as a config overlay (errors named by
 * flag), and the banner text for the main layouts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { bannerLines } from '../../src/cli/serve-banner.js';
import { flagsToConfig, parseUserFlag } from '../../src/cli/serve-flags.js';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { planServe } from '../../src/server/config/to-options.js';
import { validateConfig } from '../../src/server/config/load.js';
import { READ_ONLY } from '../../src/server/auth/types.js';
import { FtpUsageError } from '../../src/errors.js';

let hash: string;
const getHash = async () => (hash ??= await hashPassword('pw', { ln: 10, r: 8, p: 1 }));

test('--user NAME:HASH:ROOT[:PERMS]', async () => {
  const h = await getHash();
  assert.deepEqual(parseUserFlag(`alice:${h}:/srv/a`), { name: 'alice', password: h, root: '/srv/a' });
  const withPerms = parseUserFlag(`bob:${h}:rel/dir:list,read,mkdir`);
  assert.equal(withPerms.root, resolve('rel/dir'), 'ROOT relative to the current folder');
  assert.deepEqual(planServe(validateConfig({ users: [withPerms] }), '/').summary.users[0]!.description, 'list,read,mkdir');
  // A ROOT with a colon: only a last part made of permission names is PERMS.
  assert.equal(parseUserFlag(`carol:${h}:/srv/odd:name`).root, '/srv/odd:name');
  assert.equal(parseUserFlag(`carol:${h}:/srv/odd:read-only`).root, '/srv/odd');
  assert.throws(() => parseUserFlag('dave'), FtpUsageError);
  assert.throws(() => parseUserFlag(`dave:${h}`), FtpUsageError);
  assert.throws(() => parseUserFlag(`:${h}:/x`), FtpUsageError);
});

test('flags become a validated overlay; errors name the flag', async () => {
  const overlay = flagsToConfig({ port: 0, host: '::1', pasvPorts: '40000-40010', pasvAddress: '198.51.100.4', write: true, logLevel: 'debug' });
  assert.equal(overlay.port, 0);
  assert.deepEqual(overlay.passive, { ports: { min: 40000, max: 40010 }, address: '198.51.100.4' });
  assert.deepEqual(overlay.anonymous, { write: true });
  assert.deepEqual(overlay.log, { level: 'debug' });
  assert.deepEqual(flagsToConfig({}), {}, 'no flags: nothing overrides the file');
  assert.deepEqual(flagsToConfig({ maxSessions: 50, maxSessionsPerAddress: 0 }).limits, { maxSessions: 50, maxSessionsPerAddress: 0 });
  assert.deepEqual(flagsToConfig({ credentialCacheTtl: '30s' }).credentialCache, { ttl: 30_000 });
  assert.deepEqual(flagsToConfig({ credentialCacheTtl: '0' }).credentialCache, { ttl: 0 }, '0 turns the cache off');
  assert.throws(() => flagsToConfig({ credentialCacheTtl: 'soon' }), (e: unknown) => e instanceof FtpUsageError && /^--credential-cache-ttl: expected a duration/.test(e.message));
  const cases: [Parameters<typeof flagsToConfig>[0], RegExp][] = [
    [{ pasvPorts: 'lots' }, /^--pasv-ports: /],
    [{ logLevel: 'chatty' }, /^--log-level: /],
    [{ user: ['eve:plaintext:/tmp'] }, /^--user eve \(password\): /],
    [{ key: 'k.pem' }, /^--cert: /],
  ];
  for (const [flags, message] of cases) {
    assert.throws(() => flagsToConfig(flags), (e: unknown) => e instanceof FtpUsageError && message.test(e.message), JSON.stringify(flags));
  }
});

test('banner: where, who, how to connect', async () => {
  const anon = planServe(validateConfig({}), '/srv/pub');
  const lines = bannerLines(anon, 2121);
  assert.equal(lines[0], 'ftpkit serving /srv/pub read-only on ftp://127.0.0.1:2121 (anonymous)');
  assert.match(lines.join('\n'), /all addresses, IPv4 and IPv6, port 2121; passive ports 50000-50999/);
  assert.match(lines.join('\n'), /try: curl ftp:\/\/127\.0\.0\.1:2121\//);
  assert.match(bannerLines(anon, 2121, undefined, '0.0.0.0').join('\n'), /all IPv4 addresses \(no IPv6 here\), port 2121/);

  const v6 = planServe(validateConfig({ host: '::1', passive: { ports: '40000-40001', address: '203.0.113.9' } }), '/srv/pub');
  const v6Text = bannerLines(v6, 21).join('\n');
  assert.match(v6Text, /ftp:\/\/\[::1\]:21 /);
  assert.match(v6Text, /listening on ::1 port 21; passive ports 40000-40001, advertising 203\.0\.113\.9/);

  const users = planServe(validateConfig({ users: [{ name: 'alice', password: await getHash(), root: '/srv/a', permissions: 'read-only' }] }), '/');
  const usersText = bannerLines(users, 2121).join('\n');
  assert.match(usersText, /^ftpkit serving 1 user on ftp:\/\/127\.0\.0\.1:2121$/m);
  assert.match(usersText, /user alice: \/srv\/a \(read-only\)/);
  assert.match(usersText, /curl -u alice ftp:/);
  assert.deepEqual(users.summary.anonymous, undefined);
  assert.deepEqual(anon.summary.anonymous?.permissions, READ_ONLY);
});

test('banner: the "try" line carries the TLS flags a required-TLS server needs (plain curl would get 530)', async () => {
  const line = (config: object, implicitPort?: number) =>
    bannerLines(planServe(validateConfig(config), '/srv/pub'), 2121, implicitPort).find(l => l.includes('try:')) ?? '';
  assert.equal(line({ tls: { explicit: true } }), '  try: curl ftp://127.0.0.1:2121/   or   lftp ftp://127.0.0.1:2121');
  assert.equal(line({ tls: { require: 'data', requireAnonymous: 'data' } }),
    '  try: curl --ssl-reqd -k ftp://127.0.0.1:2121/   or   ftpkit ls --tls-required --insecure ftp://127.0.0.1:2121/');
  assert.equal(line({ tls: { cert: '/etc/ftpkit/cert.pem', requireAnonymous: 'login' } }),
    '  try: curl --ssl-reqd ftp://127.0.0.1:2121/   or   ftpkit ls --tls-required ftp://127.0.0.1:2121/');
  assert.equal(line({ tls: { explicit: false, implicitPort: 990, require: 'data' } }, 990),
    '  try: curl -k ftps://127.0.0.1:990/   or   ftpkit ls --insecure ftps://127.0.0.1:990/');
  const users = { users: [{ name: 'alice', password: await getHash(), root: '/srv/a' }] };
  assert.equal(line({ ...users, tls: { require: 'data' } }),
    '  try: curl --ssl-reqd -k -u alice ftp://127.0.0.1:2121/   or   ftpkit ls --tls-required --insecure ftp://alice@127.0.0.1:2121/');
});
