// The client CLI's flags and exit codes as users meet them (`node --import tsx src/cli/main.ts ...`): the
// documented exit codes (2 usage, 3 login, 4 refusal, 5 network), data-connection flags shown on the wire of
// the scripted fake server, --fallback, and IPv6 literal URLs against our server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalStorage } from '../../src/server/storage/local.js';
import { startServer, type Harness } from '../support/server-harness.js';
import { startFakeServer, closedPort } from '../support/fake-server.js';
import { describeCli } from '../support/ftpkit-cli.js';
import { ftpkit, server, ok } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';

test('exit codes: 3 login refused, 4 FTP refusal, 5 network failure, 2 usage', async t => {
  const { base } = await server(t);
  const port = new URL(base).port;
  const login = await ftpkit(['ls', '--json', `ftp://test:wrong@127.0.0.1:${port}/`]);
  assert.equal(login.code, 3, login.stderr);
  assert.equal(JSON.parse(login.stdout).error.replyCode, 530);
  const refusal = await ftpkit(['get', `ftp://test:s3cr%3Dt@127.0.0.1:${port}/missing.txt`, path.join(tmpdir(), 'ftpkit-never-written')]);
  assert.equal(refusal.code, 4, refusal.stderr);
  assert.match(refusal.stderr, /550/);
  const dead = await closedPort();
  const network = await ftpkit(['ls', '--json', `ftp://127.0.0.1:${dead}/`]);
  assert.equal(network.code, 5, network.stderr);
  assert.deepEqual([JSON.parse(network.stdout).error.connection, JSON.parse(network.stdout).error.failure], ['control', 'refused']);
  // One of each path to exit 2 (a bad URL, a bad flag value, commander's own usage error, two local paths);
  // the full list of refused flags is unit-tested in cli-client-options.test.ts.
  for (const args of [['get', 'http://example.com/x'], ['ls', `${base}/`, '--active', '--passive'],
    ['ls', `${base}/`, '--no-such-flag'], ['mirror', '/tmp/a', '/tmp/b']]) {
    const r = await ftpkit(args);
    assert.equal(r.code, 2, `${args.join(' ')} -> ${r.code}\n${r.stderr}`);
  }
});

test('data-connection flags change what goes on the wire (fake server)', async t => {
  const fake = await startFakeServer({ listing: '-rw-r--r-- 1 ftp ftp 5 Jan 15 10:30 a.txt\r\n' });
  t.after(() => fake.close());
  const url = `ftp://127.0.0.1:${fake.port}/`;
  ok(await ftpkit(['ls', url]));
  ok(await ftpkit(['ls', '--no-epsv', url]));
  ok(await ftpkit(['ls', '--active', url]));
  ok(await ftpkit(['ls', '--active', '--no-eprt', url]));
  const perSession = fake.sessions.map(s => fake.verbs(s.index).filter(v => ['EPSV', 'PASV', 'EPRT', 'PORT'].includes(v)));
  assert.deepEqual(perSession, [['EPSV'], ['PASV'], ['EPRT'], ['PORT']]);
  const r = await ftpkit(['ls', '--json', url]);
  assert.deepEqual(JSON.parse(r.stdout).entries.map((e: { name: string }) => e.name), ['a.txt']);
});

test('a passive port nobody listens on is a network failure (exit 5) naming the data connection', async t => {
  const fake = await startFakeServer({ pasv: { port: 'closed' } });
  t.after(() => fake.close());
  const r = await ftpkit(['ls', '--json', '--timeout', '5', `ftp://127.0.0.1:${fake.port}/`]);
  assert.equal(r.code, 5, r.stderr);
  assert.equal(JSON.parse(r.stdout).error.connection, 'data');
});

test('--pasv-host, --port-address, --bind-address and --port-range change the wire (fake server)', async t => {
  // The fake advertises 127.0.0.2 in its 227 reply but listens on 127.0.0.1 only.
  const fake = await startFakeServer({ pasv: { host: '127.0.0.2' }, listing: '-rw-r--r-- 1 ftp ftp 5 Jan 15 10:30 a.txt\r\n' });
  t.after(() => fake.close());
  const url = `ftp://127.0.0.1:${fake.port}/`;
  const control = await ftpkit(['ls', '--no-epsv', '--pasv-host', 'control', url]);
  ok(control);
  assert.match(control.stdout, /a\.txt/);
  const reply = await ftpkit(['ls', '--json', '--no-epsv', '--pasv-host', 'reply', '--timeout', '5', url]);
  assert.equal(reply.code, 5, describeCli(reply));
  assert.match(JSON.parse(reply.stdout).error.endpoint, /^127\.0\.0\.2:/);

  const port = await closedPort();
  const active = await ftpkit(['ls', '--active', '--no-eprt', '--port-address', '127.0.0.3', '--bind-address', '0.0.0.0',
    '--port-range', `${port}-${port}`, url]);
  ok(active);
  const portCmd = fake.received.filter(c => c.verb === 'PORT').at(-1)!;
  assert.equal(portCmd.arg, `127,0,0,3,${port >> 8},${port & 255}`);
});

test('--fallback retries a failed passive data connection in active mode', async t => {
  const fake = await startFakeServer({ pasv: { listen: false }, listing: '-rw-r--r-- 1 ftp ftp 5 Jan 15 10:30 a.txt\r\n' });
  t.after(() => fake.close());
  const url = `ftp://127.0.0.1:${fake.port}/`;
  const without = await ftpkit(['ls', '--timeout', '5', url]);
  assert.equal(without.code, 5, describeCli(without));
  const withFallback = await ftpkit(['ls', '--fallback', '--timeout', '5', url]);
  ok(withFallback);
  assert.match(withFallback.stdout, /a\.txt/);
  const verbs = fake.verbs(fake.sessions.at(-1)!.index);
  assert.ok(verbs.includes('EPSV') && verbs.includes('EPRT'), verbs.join(' '));
});

test('IPv6 literal URLs: ls and get against our server on [::1]', async t => {
  const root = await tempDir(t, 'ftpkit-cli-v6-');
  await writeFile(path.join(root, 'six.txt'), 'over IPv6\n');
  let h: Harness;
  try {
    h = await startServer({ host: '::1', storage: new LocalStorage(root), users: { test: { password: 'pw6' } } });
  } catch (err) {
    t.skip(`no IPv6 loopback here: ${(err as Error).message}`);
    return;
  }
  t.after(() => h.close());
  const url = `ftp://test:pw6@[::1]:${h.port}`;
  const ls = await ftpkit(['ls', '--json', '-v', `${url}/`]);
  ok(ls);
  assert.deepEqual(JSON.parse(ls.stdout).entries.map((e: { name: string }) => e.name), ['six.txt']);
  assert.equal(JSON.parse(ls.stdout).url, `ftp://test@[::1]:${h.port}/`);
  assert.match(ls.stderr, /Command:\tEPSV/); // PASV cannot carry an IPv6 address (RFC 2428 s1)
  const dest = path.join(root, 'back.txt');
  ok(await ftpkit(['get', '--active', `${url}/six.txt`, dest]));
  assert.equal(await readFile(dest, 'utf8'), 'over IPv6\n');
});

test('--settings takes `ftpkit doctor --json` output as is; flags override it', async t => {
  const root = await tempDir(t, 'ftpkit-cli-doc-');
  await writeFile(path.join(root, 'f.txt'), 'doctor said so\n');
  const h = await startServer({ storage: new LocalStorage(root), users: { test: { password: 'pw' } } });
  t.after(() => h.close());
  const url = `ftp://test:pw@127.0.0.1:${h.port}`;
  const doctor = await ftpkit(['doctor', '--json', `${url}/`]);
  assert.equal(doctor.code, 0, describeCli(doctor));
  const finding = JSON.parse(doctor.stdout);
  assert.ok(finding.recommended?.settings, doctor.stdout.slice(0, 2000));
  const file = path.join(root, 'settings.json');
  await writeFile(file, doctor.stdout);
  const viaSettings = await ftpkit(['get', '-v', '--settings', file, `${url}/f.txt`, path.join(root, 'a.txt')]);
  ok(viaSettings);
  assert.equal(await readFile(path.join(root, 'a.txt'), 'utf8'), 'doctor said so\n');
  const mode = finding.recommended.settings.data?.mode ?? 'passive';
  assert.match(viaSettings.stderr, mode === 'active' ? /Command:\t(EPRT|PORT)\b/ : /Command:\t(EPSV|PASV)\b/);
  const overridden = await ftpkit(['get', '-v', '--settings', file, mode === 'active' ? '--passive' : '--active', `${url}/f.txt`, path.join(root, 'b.txt')]);
  ok(overridden);
  assert.match(overridden.stderr, mode === 'active' ? /Command:\t(EPSV|PASV)\b/ : /Command:\t(EPRT|PORT)\b/);
});

test('get of a folder URL without -r is a usage error (exit 2) and downloads nothing; with -r it copies the folder', async t => {
  const { root, base } = await server(t);
  await writeFile(path.join(root, 'f.txt'), 'content');
  const local = await tempDir(t, 'ftpkit-cli-getdir-');
  const u = base.replace('ftp://', 'ftp://test:s3cr%3Dt@');
  const r = await ftpkit(['get', `${u}/`, local]);
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /names a folder: use -r/);
  await assert.rejects(readFile(path.join(local, 'f.txt')), { code: 'ENOENT' });
  ok(await ftpkit(['get', '-r', `${u}/`, local]));
  assert.equal(await readFile(path.join(local, 'f.txt'), 'utf8'), 'content');
});

test('put of a missing local file is a usage error naming it (exit 2), not a raw ENOENT (exit 1)', async t => {
  const { root, base } = await server(t);
  const missing = path.join(await tempDir(t, 'ftpkit-cli-put-'), 'nope.txt');
  const r = await ftpkit(['put', missing, `${base.replace('ftp://', 'ftp://test:s3cr%3Dt@')}/`]);
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /nope\.txt: no such local file or folder/);
  await assert.rejects(readFile(path.join(root, 'nope.txt')), { code: 'ENOENT' });
});

test('--help of a client command lists the flags, the URL form, the password sources and the exit codes', async () => {
  const r = await ftpkit(['get', '--help']);
  assert.equal(r.code, 0, describeCli(r));
  for (const needle of ['--active', '--no-epsv', '--port-range', '--pasv-host', '--speed-limit', '--speed-time', '--max-time', '--tls', '--resume', '-v, --verbose', '--json',
    'ftp://[user[:password]@]host[:port]/path', 'FTPKIT_PASSWORD', '~/.netrc', 'Exit codes: 0 ok, 2 usage, 3 login refused']) {
    assert.ok(r.stdout.includes(needle), `missing ${needle}:\n${r.stdout}`);
  }
});

test('ls of a file shows that file (our server answers MLSD on a file with 501, RFC 3659 s7.2.1)', async t => {
  const { root, base } = await server(t);
  await writeFile(path.join(root, 'f.txt'), 'content');
  const u = base.replace('ftp://', 'ftp://test:s3cr%3Dt@');
  const r = await ftpkit(['ls', '--json', `${u}/f.txt`]);
  assert.equal(r.code, 0, describeCli(r));
  assert.deepEqual(JSON.parse(r.stdout).entries.map((e: { name: string; size: number; type: string }) => [e.name, e.type, e.size]), [['f.txt', 'file', 7]]);
  const missing = await ftpkit(['ls', `${u}/nope.txt`]);
  assert.equal(missing.code, 4, describeCli(missing));
});

test('get into a missing local folder is a usage error naming the folder, before anything is downloaded', async t => {
  const { root, h, base } = await server(t);
  await writeFile(path.join(root, 'f.txt'), 'content');
  const work = await tempDir(t, 'ftpkit-cli-getmissing-');
  const u = base.replace('ftp://', 'ftp://test:s3cr%3Dt@');
  const retrs: string[] = [];
  h.server.on('command', e => { if (e.verb === 'RETR') retrs.push(e.argument); });
  for (const local of [path.join(work, 'nodir', 'f.txt'), path.join(work, 'nodir') + '/']) {
    const r = await ftpkit(['get', `${u}/f.txt`, local]);
    assert.equal(r.code, 2, describeCli(r));
    assert.match(r.stderr, /nodir\/?: no such local folder/);
    assert.doesNotMatch(r.stderr, /ftpkit-part/);
  }
  assert.deepEqual(retrs, [], 'nothing was downloaded');
  ok(await ftpkit(['get', `${u}/f.txt`, work + '/']));
  assert.equal(await readFile(path.join(work, 'f.txt'), 'utf8'), 'content');
});

test('a refused login without any password source (no terminal) says where a password can come from', async t => {
  const { base } = await server(t);
  const r = await ftpkit(['ls', `${base.replace('ftp://', 'ftp://test@')}/`]);
  assert.equal(r.code, 3, describeCli(r));
  assert.match(r.stderr, /login refused; no password was given: put it in \$FTPKIT_PASSWORD or ~\/\.netrc/);
  const wrong = await ftpkit(['ls', `${base.replace('ftp://', 'ftp://test:wrong@')}/`]);
  assert.equal(wrong.code, 3);
  assert.doesNotMatch(wrong.stderr, /no password was given/);
});
