/**
 * The configuration file: YAML and JSON, validation errors that name the key, relative paths, durations
 * and port ranges, mapping onto FtpServerOptions (authenticators included), flags overriding the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveOptions } from '../../src/server/resolved-options.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, validateConfig } from '../../src/server/config/load.js';
import { checkRoots, mergeConfig, planServe } from '../../src/server/config/to-options.js';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { READ_ONLY, READ_WRITE } from '../../src/server/auth/types.js';
import { FtpConfigError } from '../../src/errors.js';
import type { ConfigUserStore } from '../../src/server/auth/user-store.js';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ctx = { remoteAddress: '127.0.0.1', secure: false };
let hash: string;

async function dir(t: { after(fn: () => Promise<void>): void }) {
  const d = await mkdtemp(join(tmpdir(), 'ftpkit-config-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  hash ??= await hashPassword('secret', { ln: 10, r: 8, p: 1 });
  return d;
}

function configError(fn: () => unknown): FtpConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FtpConfigError, `expected FtpConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a config error');
}

async function configErrorAsync(p: Promise<unknown>): Promise<FtpConfigError> {
  const err = await p.then(() => assert.fail('expected a config error'), (e: unknown) => e);
  assert.ok(err instanceof FtpConfigError, `expected FtpConfigError, got ${String(err)}`);
  return err;
}

test('a YAML file with users loads; relative roots are relative to the file', async (t) => {
  const d = await dir(t);
  await mkdir(join(d, 'alice'));
  await writeFile(join(d, 'ftpkit.yaml'), [
    'host: 127.0.0.1',
    'port: 2121',
    'passive:',
    '  ports: 50000-50100',
    '  address: 203.0.113.7',
    'timeouts: { idle: 5m, dataConnect: 30, dataIdle: "1.5s", commandLine: 20s, passiveReclaim: 500ms }',
    'limits: { maxSessions: 10, maxSessionsPerAddress: 4, loginFailureDelay: 250ms }',
    'users:',
    '  - name: alice',
    `    password: "${hash}"`,
    '    root: alice',
    '    home: /',
    '    permissions: { preset: read-only, write: true }',
    'log: { level: debug, file: logs/ftpkit.log, xferlog: logs/xferlog }',
  ].join('\n'));
  const config = await loadConfigFile(join(d, 'ftpkit.yaml'));
  assert.equal(config.users![0]!.root, join(d, 'alice'));
  assert.equal(config.log!.file, join(d, 'logs', 'ftpkit.log'));
  assert.equal(config.log!.xferlog, join(d, 'logs', 'xferlog'));
  const plan = planServe(config, '/unused');
  assert.equal(plan.options.host, '127.0.0.1');
  assert.equal(plan.options.port, 2121);
  assert.deepEqual(plan.options.passive!.portRange, { min: 50000, max: 50100 });
  assert.equal(plan.options.passive!.address, '203.0.113.7');
  assert.deepEqual(plan.options.timeouts, { idleMs: 300_000, dataConnectMs: 30_000, dataIdleMs: 1500, commandLineMs: 20_000, passiveReclaimMs: 500 });
  assert.equal(plan.options.limits!.maxSessions, 10);
  assert.equal(plan.options.limits!.maxSessionsPerAddress, 4);
  assert.equal(plan.options.limits!.loginFailureDelayMs, 250);
  assert.deepEqual(plan.log, { level: 'debug', file: join(d, 'logs', 'ftpkit.log'), xferlog: join(d, 'logs', 'xferlog') });
  assert.equal(plan.summary.anonymous, undefined, 'configured users turn anonymous off by default');
  const alice = await plan.options.authenticator.authenticate('alice', 'secret', ctx);
  assert.deepEqual(alice?.permissions, { ...READ_ONLY, write: true });
  assert.equal(await plan.options.authenticator.authenticate('anonymous', 'x', ctx), null);
  await checkRoots(plan, config);
});

test('JSON works the same; anonymous can sit beside users', async (t) => {
  const d = await dir(t);
  await writeFile(join(d, 'c.json'), JSON.stringify({
    anonymous: { enabled: true, root: '.', write: true },
    users: [{ name: 'bob', password: hash, root: '/' }],
  }));
  const config = await loadConfigFile(join(d, 'c.json'));
  const plan = planServe(config, '/unused');
  assert.equal(plan.summary.anonymous!.root, d);
  assert.deepEqual((await plan.options.authenticator.authenticate('ftp', '', ctx))?.permissions, READ_WRITE);
  assert.deepEqual((await plan.options.authenticator.authenticate('bob', 'secret', ctx))?.permissions, READ_WRITE);
});

test('errors name the bad key path', async (t) => {
  const d = await dir(t);
  const cases: [unknown, string, RegExp][] = [
    [{ users: [{ name: 'a', password: hash, root: '/' }, { name: 'b', password: hash, root: '/', permissions: { wirte: true } }] },
      'users.1.permissions.wirte', /unknown key \(did you mean "write"\?\)/],
    [{ prot: 21 }, 'prot', /did you mean "port"/],
    [{ port: 'twenty' }, 'port', /port/],
    [{ port: 70000 }, 'port', /65535/],
    [{ passive: { ports: '50100-50000' } }, 'passive.ports', /port range/],
    [{ passive: { ports: '50000-50100', advertisedPorts: '40000-40001' } }, 'passive.advertisedPorts', /as many ports/],
    [{ timeouts: { idle: '5 minutes' } }, 'timeouts.idle', /duration/],
    [{ users: [{ name: 'a', password: 'plain-text', root: '/' }] }, 'users.0.password', /hash-password/],
    [{ users: [{ name: 'a', password: hash }] }, 'users.0.root', /.+/],
    [{ users: [{ name: 'a', password: hash, root: '/', permissions: 'all' }] }, 'users.0.permissions', /read-only/],
    [{ users: [{ name: 'a', password: hash, root: '/', permissions: ['list', 'delet'] }] }, 'users.0.permissions.1', /delete/],
    [{ users: [{ name: 'a', password: hash, root: '/' }, { name: 'a', password: hash, root: '/' }] }, 'users.1.name', /duplicate/],
    [{ users: [{ name: 'a', password: hash, root: '/', home: 'in' }] }, 'users.0.home', /absolute/],
    [{ log: { level: 'verbose' } }, 'log.level', /debug/],
    [{ anonymous: { enabled: true, wrte: true } }, 'anonymous.wrte', /did you mean "write"/],
    [{ anonymous: { home: 'pub' } }, 'anonymous.home', /absolute/],
    [{ passive: { addressMap: [{ networks: ['private', '10.0.0.0/33'], address: 'local' }] } }, 'passive.addressMap.0.networks.1', /CIDR/],
  ];
  for (const [value, key, message] of cases) {
    const err = configError(() => validateConfig(value));
    assert.equal(err.key, key, `${JSON.stringify(value)} -> ${err.message}`);
    assert.match(err.message, message);
    assert.ok(err.message.startsWith(`${key}: `));
  }
  // Several problems: the first names the error, the message lists all.
  const many = configError(() => validateConfig({ port: -1, bogus: 1 }));
  assert.match(many.message, /bogus: unknown key/);

  await writeFile(join(d, 'bad.yaml'), 'users:\n  - name: a\n    permissions: { wirte: true }\n');
  const fromFile = await configErrorAsync(loadConfigFile(join(d, 'bad.yaml')));
  assert.match(fromFile.message, /bad\.yaml/);
  await writeFile(join(d, 'broken.yaml'), 'port: [1\n');
  assert.match((await configErrorAsync(loadConfigFile(join(d, 'broken.yaml')))).message, /not valid YAML/);
  await writeFile(join(d, 'dup.yaml'), 'port: 1\nport: 2\n');
  assert.match((await configErrorAsync(loadConfigFile(join(d, 'dup.yaml')))).message, /not valid YAML/);
  await writeFile(join(d, 'broken.json'), '{"port": }');
  assert.match((await configErrorAsync(loadConfigFile(join(d, 'broken.json')))).message, /not valid JSON/);
  await writeFile(join(d, 'list.yaml'), '- 1\n');
  assert.match((await configErrorAsync(loadConfigFile(join(d, 'list.yaml')))).message, /top level/);
  assert.match((await configErrorAsync(loadConfigFile(join(d, 'c.toml')))).message, /\.yaml, \.yml or \.json/);
  assert.match((await configErrorAsync(loadConfigFile(join(d, 'missing.yaml')))).message, /no such file/);
  // An empty file is an empty configuration.
  await writeFile(join(d, 'empty.yaml'), '');
  assert.deepEqual(await loadConfigFile(join(d, 'empty.yaml')), validateConfig({}));
});

test('flags override the file; --user adds to the file users', () => {
  const file = validateConfig({ port: 21, passive: { ports: '50000-50100', address: '1.2.3.4' }, users: [{ name: 'a', password: hash, root: '/a' }], log: { level: 'warn' } });
  const flags = validateConfig({ port: 2121, passive: { address: '5.6.7.8' }, users: [{ name: 'b', password: hash, root: '/b' }] });
  const merged = mergeConfig(file, flags);
  assert.equal(merged.port, 2121);
  assert.deepEqual(merged.passive, { ports: { min: 50000, max: 50100 }, address: '5.6.7.8' });
  assert.deepEqual(merged.users!.map((u) => u.name), ['a', 'b']);
  assert.equal(merged.log!.level, 'warn');
  assert.deepEqual(mergeConfig(file, {}), file);
});

test('defaults: anonymous read-only on the given folder; nobody at all is an error', async (t) => {
  const d = await dir(t);
  const plan = planServe(validateConfig({}), d);
  assert.deepEqual(plan.summary.anonymous, { root: d, permissions: READ_ONLY, description: 'read-only' });
  assert.equal(plan.log.level, 'info');
  assert.equal(plan.options.port, undefined, 'server default (2121) applies');
  const err = configError(() => planServe(validateConfig({ anonymous: { enabled: false } }), d));
  assert.equal(err.key, 'anonymous.enabled');
  const missing = await configErrorAsync(checkRoots(planServe(validateConfig({}), join(d, 'nope')), validateConfig({})));
  assert.equal(missing.key, 'DIR');
  assert.match(missing.message, /no such folder/);
  const cfg = validateConfig({ users: [{ name: 'u', password: hash, root: join(d, 'nope') }] });
  assert.equal((await configErrorAsync(checkRoots(planServe(cfg, d), cfg))).key, 'users.0.root');
  await mkdir(join(d, 'u', 'in'), { recursive: true });
  await writeFile(join(d, 'u', 'file'), '');
  const homes = (home: string) => validateConfig({ users: [{ name: 'u', password: hash, root: join(d, 'u'), home }] });
  await checkRoots(planServe(homes('/in'), d), homes('/in'));
  const noHome = await configErrorAsync(checkRoots(planServe(homes('/out'), d), homes('/out')));
  assert.equal(noHome.key, 'users.0.home');
  assert.match(noHome.message, /no such folder/);
  assert.equal((await configErrorAsync(checkRoots(planServe(homes('/file'), d), homes('/file')))).key, 'users.0.home');
  const anonHome = validateConfig({ anonymous: { home: '/missing' } });
  assert.equal((await configErrorAsync(checkRoots(planServe(anonHome, d), anonHome))).key, 'anonymous.home');
});

test('the example in docs/configuration.md is valid', async () => {
  await dir({ after: () => undefined });
  const doc = await readFile(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, 'the reference has a YAML example');
  // The example abbreviates hashes; put real ones in.
  const yaml = block[1]!.replace(/\$scrypt\$[^\s#]*/g, hash);
  const config = validateConfig(parseYaml(yaml));
  assert.equal(config.users!.length, 3);
  assert.deepEqual(config.passive!.ports, { min: 50000, max: 50199 });
  // The example follows its own advice: one passive port per possible session.
  assert.equal(config.passive!.ports!.max - config.passive!.ports!.min + 1, config.limits!.maxSessions);
  const plan = planServe(config, '/srv');
  assert.ok(plan.summary.anonymous);
  assert.deepEqual(plan.summary.users.map((u) => u.description), ['read-write', 'list,write,mkdir', 'read-only']);
});

test('anonymous is asked first: no scrypt wait, and no user may shadow its names', async (t) => {
  const d = await dir(t);
  // A costly hash (~0.2 s per verification): an anonymous login must not pay it.
  const slowHash = await hashPassword('pw', { ln: 16, r: 8, p: 1 });
  const config = validateConfig({ anonymous: { enabled: true }, users: [{ name: 'alice', password: slowHash, root: d }] });
  const plan = planServe(config, d);
  const t0 = performance.now();
  assert.equal((await plan.options.authenticator.authenticate('anonymous', 'x', ctx))?.name, 'anonymous');
  const anonMs = performance.now() - t0;
  const t1 = performance.now();
  assert.equal(await plan.options.authenticator.authenticate('alice', 'wrong', ctx), null);
  const userMs = performance.now() - t1;
  assert.ok(anonMs < userMs / 3, `anonymous ${anonMs.toFixed(1)} ms vs user ${userMs.toFixed(1)} ms`);

  const shadow = validateConfig({ anonymous: { enabled: true }, users: [{ name: 'FTP', password: hash, root: d }] });
  assert.equal(configError(() => planServe(shadow, d)).key, 'users.0.name');
  // Without anonymous access the name is an ordinary user name.
  const plain = validateConfig({ users: [{ name: 'ftp', password: hash, root: d }] });
  assert.equal((await planServe(plain, d).options.authenticator.authenticate('ftp', 'secret', ctx))?.name, 'ftp');
});

test('the tls section: file-relative paths, mapped onto options.tls, errors name the key', async (t) => {
  const d = await dir(t);
  await writeFile(join(d, 'tls.yaml'), 'tls:\n  cert: certs/server.pem\n  key: certs/server.key\n  require: login\n  implicitPort: 9990\n');
  const config = await loadConfigFile(join(d, 'tls.yaml'));
  const tls = planServe(config, d).options.tls!;
  assert.equal(tls.certFile, join(d, 'certs', 'server.pem'));
  assert.equal(tls.keyFile, join(d, 'certs', 'server.key'));
  assert.equal(tls.require, 'login');
  assert.equal(tls.implicitPort, 9990);
  assert.equal(planServe(validateConfig({}), d).options.tls, undefined, 'no tls section: no FTPS');
  const err = configError(() => validateConfig({ tls: { minVersion: 'TLSv1.0' } }));
  assert.equal(err.key, 'tls.minVersion');
  assert.equal(configError(() => validateConfig({ tls: { requireSessionReus: true } })).key, 'tls.requireSessionReus');
});

test('server defaults: 20 sessions per address (0: no limit), a passive range as large as the session limit, 30 s per command line', () => {
  const auth = { authenticate: async () => null };
  const d = resolveOptions({ authenticator: auth });
  assert.equal(d.limits.maxSessionsPerAddress, 20);
  assert.equal(d.limits.maxSessions, 1000);
  assert.equal(d.passive.portRange.max - d.passive.portRange.min + 1, d.limits.maxSessions, 'one passive port per possible session');
  assert.equal(d.timeouts.commandLineMs, 30_000);
  assert.equal(resolveOptions({ authenticator: auth, limits: { maxSessionsPerAddress: 0 } }).limits.maxSessionsPerAddress, Infinity);
  assert.throws(() => resolveOptions({ authenticator: auth, limits: { maxSessionsPerAddress: -1 } }), /limits\.maxSessionsPerAddress/);
  // The config file accepts 0 (no per-address limit) and maps it through.
  const plan = planServe(validateConfig({ limits: { maxSessionsPerAddress: 0 } }), '/srv');
  assert.equal(plan.options.limits!.maxSessionsPerAddress, 0);
});

test('credentialCache: ttl and maxEntries reach the user store; ttl 0 turns it off; bad values name the key', async (t) => {
  const d = await dir(t);
  await writeFile(join(d, 'cache.yaml'), `credentialCache:\n  ttl: 90s\n  maxEntries: 50\nusers:\n  - name: alice\n    password: "${hash}"\n    root: .\n`);
  const store = planServe(await loadConfigFile(join(d, 'cache.yaml')), d).options.authenticator as ConfigUserStore;
  assert.equal(store.credentialCache.ttlMs, 90_000);
  assert.equal(store.credentialCache.maxEntries, 50);
  const byDefault = planServe(validateConfig({ users: [{ name: 'alice', password: hash, root: d }] }), d).options.authenticator as ConfigUserStore;
  assert.equal(byDefault.credentialCache.ttlMs, 5 * 60_000, 'default: 5 minutes');
  const off = planServe(validateConfig({ credentialCache: { ttl: 0 }, users: [{ name: 'alice', password: hash, root: d }] }), d).options.authenticator as ConfigUserStore;
  assert.equal(off.credentialCache.enabled, false);
  assert.equal(configError(() => validateConfig({ credentialCache: { ttl: 'later' } })).key, 'credentialCache.ttl');
  assert.equal(configError(() => validateConfig({ credentialCache: { maxEntries: 0 } })).key, 'credentialCache.maxEntries');
  assert.equal(configError(() => validateConfig({ credentialCache: { tll: '1m' } })).key, 'credentialCache.tll');
});

test('limits: bandwidth in human units, sessions per user, command rate and churn; users[] override per name; bad values name the key', async (t) => {
  await dir(t);
  const config = validateConfig({
    limits: {
      maxSessionsPerUser: 3, commandsPerSecond: 100, commandBurst: 50, commandRateClose: '5s', maxDataSetupsWithoutTransfer: 20,
      bandwidth: { upload: '800KB/s', download: '10MiB/s', user: { download: '2MB' }, global: { upload: 1048576 } },
    },
    users: [
      { name: 'alice', password: hash, root: '/', maxSessions: 1, bandwidth: { download: '1.5 MiB/s' } },
      { name: 'bob', password: hash, root: '/' },
    ],
  });
  const limits = planServe(config, '/srv').options.limits!;
  assert.deepEqual(limits.bandwidth, {
    upload: 800_000, download: 10 * 1024 * 1024, user: { download: 2_000_000 }, global: { upload: 1_048_576 },
    users: { alice: { download: 1.5 * 1024 * 1024 } },
  });
  assert.deepEqual(limits.maxSessionsByUser, { alice: 1 });
  assert.equal(limits.maxSessionsPerUser, 3);
  assert.equal(limits.commandRateCloseMs, 5000);
  const resolved = resolveOptions({ authenticator: { authenticate: async () => null }, limits }).limits;
  assert.equal(resolved.commandsPerSecond, 100);
  assert.equal(resolved.maxDataSetupsWithoutTransfer, 20);
  // Defaults: no per-user limit, 500 commands/s with a burst of 1000, 50 set-ups without a transfer.
  const defaults = resolveOptions({ authenticator: { authenticate: async () => null } }).limits;
  assert.deepEqual([defaults.maxSessionsPerUser, defaults.commandsPerSecond, defaults.commandBurst, defaults.maxDataSetupsWithoutTransfer],
    [Infinity, 500, 1000, 50]);
  for (const [value, key] of [
    [{ limits: { bandwidth: { download: '10 Mbit/s' } } }, 'limits.bandwidth.download'],
    [{ limits: { bandwidth: { user: { upload: 'fast' } } } }, 'limits.bandwidth.user.upload'],
    [{ limits: { bandwidth: { uplaod: '1MB/s' } } }, 'limits.bandwidth.uplaod'],
    [{ users: [{ name: 'a', password: hash, root: '/', maxSessions: -1 }] }, 'users.0.maxSessions'],
  ] as const) {
    assert.equal(configError(() => validateConfig(value)).key, key, JSON.stringify(value));
  }
});

test('a YAML syntax error is one line: the position without a dangling colon, and the source line it points at', async () => {
  const d = await mkdtemp(join(tmpdir(), 'ftpkit-yaml-'));
  try {
    await writeFile(join(d, 'bad.yaml'), 'port: 21\nfoo: [1, 2\nbar: 3\n');
    const message = (await configErrorAsync(loadConfigFile(join(d, 'bad.yaml')))).message;
    assert.doesNotMatch(message, /\n/);
    assert.doesNotMatch(message, /:$/);
    assert.match(message, /not valid YAML: .* at line \d+, column \d+ \(near "[^"]+"\)$/);
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});
