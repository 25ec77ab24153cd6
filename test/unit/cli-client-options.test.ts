// Client CLI parsing: FTP URLs, ~/.netrc, credential precedence, flags -> settings, --settings files,
// exit-code mapping. Pure, no sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseFtpUrl, redactUrl, isFtpUrl } from '../../src/cli/url.js';
import { parseNetrc, findNetrcEntry } from '../../src/cli/netrc.js';
import {
  applyFlags, buildClientOptions, maxTimeMs, parsePortRange, resolveCredentials,
} from '../../src/cli/client-options.js';
import { parseSettingsJson } from '../../src/cli/client-settings-file.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import {
  FtpClosedError, FtpConfigError, FtpNetworkError, FtpProtocolError, FtpReplyError, FtpTlsError, FtpUsageError,
} from '../../src/errors.js';

test('URL: user, password, port, path, percent-decoding', () => {
  const u = parseFtpUrl('ftp://us%40er:p%3Ass%2Fw@example.com:2121/dir%20one/file%23.txt');
  assert.deepEqual(u, {
    protocol: 'ftp', host: 'example.com', port: 2121, user: 'us@er', password: 'p:ss/w',
    path: 'dir one/file#.txt', isDir: false, typecode: undefined,
  });
  assert.equal(parseFtpUrl('ftp://h').port, 21);
  assert.equal(parseFtpUrl('ftp://h').path, '');
  assert.equal(parseFtpUrl('ftp://h').isDir, true);
  assert.equal(parseFtpUrl('ftp://h/').isDir, true);
  assert.equal(parseFtpUrl('ftp://h/a/b/').path, 'a/b');
  assert.equal(parseFtpUrl('ftp://h/a/b/').isDir, true);
  assert.equal(parseFtpUrl('ftp://h:21/x').port, 21);
  assert.equal(parseFtpUrl('FTP://H/x').host, 'h');
});

test('URL: ftps:// is implicit TLS on 990, IPv6 literals, RFC 1738 absolute paths and typecodes', () => {
  const s = parseFtpUrl('ftps://[::1]/x');
  assert.equal(s.protocol, 'ftps');
  assert.equal(s.port, 990);
  assert.equal(s.host, '::1');
  assert.equal(parseFtpUrl('ftp://[2001:db8::7]:2121/').host, '2001:db8::7');
  assert.equal(parseFtpUrl('ftps://h:2990/').port, 2990);
  assert.equal(parseFtpUrl('ftp://h/%2Fetc/motd').path, '/etc/motd');
  const t = parseFtpUrl('ftp://h/f.txt;type=a');
  assert.equal(t.path, 'f.txt');
  assert.equal(t.typecode, 'a');
  assert.equal(parseFtpUrl('ftp://u@h/').password, undefined);
  assert.equal(parseFtpUrl('ftp://u@h/').user, 'u');
});

test('URL: refused input', () => {
  assert.throws(() => parseFtpUrl('http://h/x'), FtpUsageError);
  assert.throws(() => parseFtpUrl('ftp://'), FtpUsageError);
  assert.throws(() => parseFtpUrl('ftp://h/a%0D%0ADELE%20x'), /CR, LF or NUL/);
  assert.throws(() => parseFtpUrl('ftp://h/a%00b'), /CR, LF or NUL/);
  assert.throws(() => parseFtpUrl('ftp://h/a?b'), /percent-encoded/);
  assert.throws(() => parseFtpUrl('ftp://h/%E0%A4%A'), /percent-encoding/);
  assert.throws(() => parseFtpUrl('ftp://[::1/x'), FtpUsageError);
  assert.equal(isFtpUrl('./ftp://x'), false);
  assert.equal(isFtpUrl('ftps://x'), true);
});

test('URL display never shows the password', () => {
  const shown = redactUrl(parseFtpUrl('ftp://bob:hunter2@[::1]:2121/a%20b/c'));
  assert.equal(shown, 'ftp://bob@[::1]:2121/a%20b/c');
  assert.doesNotMatch(shown, /hunter2/);
  assert.equal(redactUrl(parseFtpUrl('ftp://h/%2Fetc/motd')), 'ftp://h/%2Fetc/motd');
  assert.equal(redactUrl(parseFtpUrl('ftps://h:990/')), 'ftps://h/');
});

test('netrc: machines, default, macdef, quoted tokens, comments; lookup by host and login', () => {
  const entries = parseNetrc([
    '# comment line',
    'machine ftp.example.com login alice password "pa ss\\"word"',
    'machine ftp.example.com',
    '  login bob',
    '  password bobpw account acct1',
    'macdef init',
    'cd /pub',
    'binary',
    '',
    'machine other login carol password c',
    'default login anonymous password guest@',
  ].join('\n'));
  assert.equal(entries.length, 4);
  assert.deepEqual(findNetrcEntry(entries, 'FTP.example.com'), { machine: 'ftp.example.com', login: 'alice', password: 'pa ss"word' });
  assert.equal(findNetrcEntry(entries, 'ftp.example.com', 'bob')!.password, 'bobpw');
  assert.equal(findNetrcEntry(entries, 'ftp.example.com', 'bob')!.account, 'acct1');
  assert.equal(findNetrcEntry(entries, 'ftp.example.com', 'mallory'), undefined);
  assert.equal(findNetrcEntry(entries, 'unknown.host')!.login, 'anonymous');
  assert.equal(findNetrcEntry(parseNetrc('machine a login x password y'), 'b'), undefined);
});

test('credentials: URL > FTPKIT_PASSWORD > netrc > prompt; anonymous never prompts', async () => {
  const netrc = parseNetrc('machine h login alice password fromnetrc');
  const prompt = async () => 'typed';
  const url = (s: string) => parseFtpUrl(s);
  assert.deepEqual(await resolveCredentials(url('ftp://alice:fromurl@h/'), undefined, { env: { FTPKIT_PASSWORD: 'env' }, netrc, prompt }),
    { user: 'alice', password: 'fromurl', source: 'url' });
  assert.deepEqual(await resolveCredentials(url('ftp://alice@h/'), undefined, { env: { FTPKIT_PASSWORD: 'env' }, netrc, prompt }),
    { user: 'alice', password: 'env', source: 'env' });
  assert.deepEqual(await resolveCredentials(url('ftp://h/'), undefined, { env: {}, netrc, prompt }),
    { user: 'alice', password: 'fromnetrc', source: 'netrc' });
  assert.deepEqual(await resolveCredentials(url('ftp://bob@h/'), undefined, { env: {}, netrc, prompt }),
    { user: 'bob', password: 'typed', source: 'prompt' });
  assert.deepEqual(await resolveCredentials(url('ftp://bob@h/'), undefined, { env: {}, netrc }),
    { user: 'bob', password: undefined, source: 'none' });
  assert.deepEqual(await resolveCredentials(url('ftp://other/'), undefined, { env: {}, netrc, prompt }),
    { user: 'anonymous', password: undefined, source: 'anonymous' });
  assert.equal((await resolveCredentials(url('ftp://x@h/'), 'alice', { env: {}, netrc })).password, 'fromnetrc');
});

test('flags map onto every data-connection setting; flags override --settings', () => {
  const s = applyFlags({ data: { mode: 'passive', passive: { command: 'epsv' } }, transferType: 'ascii' }, {
    active: true, portRange: '50000-50010', portAddress: '203.0.113.7', bindAddress: '0.0.0.0', eprt: false,
    epsv: false, pasvHost: 'control', fallback: true, binary: true, connectTimeout: '2.5', timeout: '7',
  });
  assert.deepEqual(s, {
    data: {
      mode: 'active', passive: { command: 'pasv', addressPolicy: 'control' }, fallback: true,
      active: { command: 'port', portRange: { min: 50000, max: 50010 }, advertiseAddress: '203.0.113.7', bindAddress: '0.0.0.0' },
    },
    transferType: 'binary',
    timeouts: { connectMs: 2500, greetingMs: 2500, commandMs: 7000, dataMs: 7000 },
  });
  assert.equal(applyFlags({}, { epsvOnly: true }).data!.passive!.command, 'epsv');
  assert.equal(applyFlags({}, { passive: true }).data!.mode, 'passive');
  assert.deepEqual(applyFlags({}, {}), {});
  const tls = applyFlags({}, { tls: true, ca: 'ca.pem', insecure: true, cert: 'c.pem', key: 'k.pem' });
  assert.equal(tls.secure, 'explicit');
  assert.deepEqual(tls.tls, { caFile: 'ca.pem', rejectUnauthorized: false, certFile: 'c.pem', keyFile: 'k.pem' });
  assert.equal(applyFlags({}, { tlsRequired: true }).secure, 'explicit');
  for (const bad of [{ active: true, passive: true }, { epsv: false, epsvOnly: true }, { ascii: true, binary: true },
    { portRange: '5-1' }, { portRange: 'x' }, { portRange: '70000' }, { portAddress: 'not-an-ip' }, { bindAddress: '1.2.3' },
    { pasvHost: 'sometimes' }, { timeout: '0' }, { connectTimeout: 'abc' }]) {
    assert.throws(() => applyFlags({}, bad), FtpUsageError, JSON.stringify(bad));
  }
  assert.deepEqual(parsePortRange('2121'), { min: 2121, max: 2121 });
});

test('--speed-limit/--speed-time map onto timeouts.stall with curl\'s defaults for the one not given; --max-time is checked', () => {
  assert.deepEqual(applyFlags({}, { speedLimit: '100', speedTime: '1.5' }).timeouts, { stall: { minBytesPerSecond: 100, seconds: 1.5 } });
  assert.deepEqual(applyFlags({}, { speedLimit: '100' }).timeouts, { stall: { minBytesPerSecond: 100, seconds: 30 } });
  assert.deepEqual(applyFlags({}, { speedTime: '20' }).timeouts, { stall: { minBytesPerSecond: 1, seconds: 20 } });
  assert.deepEqual(applyFlags({}, { speedLimit: '0' }).timeouts, { stall: { minBytesPerSecond: 0, seconds: 30 } });
  assert.equal(maxTimeMs({ maxTime: '2.5' }), 2500);
  assert.equal(maxTimeMs({}), undefined);
  for (const bad of [{ speedLimit: '-1' }, { speedLimit: 'fast' }, { speedTime: '0' }, { maxTime: '0' }, { maxTime: 'x' }]) {
    assert.throws(() => applyFlags({}, bad), FtpUsageError, JSON.stringify(bad));
  }
});

test('--settings accepts ClientSettings or the doctor --json output, and names a bad key', () => {
  const plain = parseSettingsJson(JSON.stringify({ data: { mode: 'active', active: { portRange: { min: 1, max: 2 } } } }));
  assert.equal(plain.data!.mode, 'active');
  const doctor = parseSettingsJson(JSON.stringify({
    target: 'ftp://h/', steps: [], recommended: { settings: { data: { passive: { addressPolicy: 'control' } } }, why: 'NAT' },
  }));
  assert.equal(doctor.data!.passive!.addressPolicy, 'control');
  assert.throws(() => parseSettingsJson('{"data":{"mode":"sideways"}}', 'f.json'),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'data.mode');
  assert.throws(() => parseSettingsJson('{"recommended":{"settings":{"data":{"passive":{"command":"x"}}}}}'),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'recommended.settings.data.passive.command');
  assert.throws(() => parseSettingsJson('not json'), FtpConfigError);
  // a finding in which nothing worked must not silently mean "defaults"
  assert.throws(() => parseSettingsJson(JSON.stringify({ version: 1, steps: [], matrix: [], works: [], causes: [] })),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'recommended');
});

test('buildClientOptions: ftps URL, typecode, netrc file, settings file + flags', async t => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ftpkit-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const netrcFile = path.join(dir, 'netrc');
  await writeFile(netrcFile, 'machine 127.0.0.1 login alice password secret\n');
  const settingsFile = path.join(dir, 's.json');
  await writeFile(settingsFile, JSON.stringify({ recommended: { settings: { data: { mode: 'active' } } } }));
  const built = await buildClientOptions(parseFtpUrl('ftp://127.0.0.1:2121/x;type=a'), { settings: settingsFile, epsv: false },
    { env: {}, netrcFile });
  assert.deepEqual(built.options, {
    host: '127.0.0.1', port: 2121, user: 'alice', password: 'secret', transferType: 'ascii',
    data: { mode: 'active', passive: { command: 'pasv' } },
  });
  assert.equal(built.credentialSource, 'netrc');
  const noNetrc = await buildClientOptions(parseFtpUrl('ftp://127.0.0.1/'), { netrc: false }, { env: {}, netrcFile });
  assert.equal(noNetrc.options.user, 'anonymous');
  const ftps = await buildClientOptions(parseFtpUrl('ftps://h/'), {}, { env: {}, netrcFile });
  assert.equal(ftps.options.secure, 'implicit');
  assert.equal(ftps.options.port, 990);
  await assert.rejects(buildClientOptions(parseFtpUrl('ftp://h/'), { settings: path.join(dir, 'missing.json') }, { env: {}, netrcFile }), FtpUsageError);
});

test('exit codes: usage 2, login 3, refusal 4, network 5, TLS 6, other 1', () => {
  assert.equal(exitCodeFor(new FtpUsageError('x')), ExitCode.Usage);
  assert.equal(exitCodeFor(new FtpConfigError('k', 'x')), ExitCode.Usage);
  assert.equal(exitCodeFor(new FtpReplyError(530, 'Login incorrect.', 'PASS ****')), ExitCode.LoginFailure);
  assert.equal(exitCodeFor(new FtpReplyError(530, 'Login incorrect.', 'login')), ExitCode.LoginFailure);
  assert.equal(exitCodeFor(new FtpReplyError(530, 'no', 'RETR x'), true), ExitCode.LoginFailure);
  assert.equal(exitCodeFor(new FtpReplyError(530, 'Not logged in', 'RETR x')), ExitCode.FtpRefusal);
  assert.equal(exitCodeFor(new FtpReplyError(421, 'Too many users', 'login')), ExitCode.FtpRefusal);
  assert.equal(exitCodeFor(new FtpReplyError(550, 'No such file', 'RETR x')), ExitCode.FtpRefusal);
  assert.equal(exitCodeFor(new FtpNetworkError({ connection: 'data', phase: 'connect', failure: 'refused' })), ExitCode.NetworkFailure);
  assert.equal(exitCodeFor(new FtpClosedError()), ExitCode.NetworkFailure);
  assert.equal(exitCodeFor(new FtpTlsError('control', 'bad cert')), ExitCode.TlsFailure);
  // A server without FTPS refusing AUTH TLS (vsftpd: 530) during login is a TLS problem, not a refused password.
  assert.equal(exitCodeFor(new FtpReplyError(530, 'Please login with USER and PASS.', 'AUTH TLS'), true), ExitCode.TlsFailure);
  assert.equal(exitCodeFor(new FtpReplyError(534, 'PROT P refused', 'PROT P'), true), ExitCode.TlsFailure);
  assert.equal(exitCodeFor(new FtpProtocolError('bogus PASV')), ExitCode.Other);
  assert.equal(exitCodeFor(new Error('?')), ExitCode.Other);
});
