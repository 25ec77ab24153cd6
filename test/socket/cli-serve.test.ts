/**
 * `ftpkit serve` and `ftpkit hash-password` as a user runs them: the real CLI spawned with tsx, port 0, the
 * banner read for the port, curl as the client. Covers the anonymous read-only default, a YAML config
 * with a scrypt user who uploads, the JSON-lines log file (password never in it), exit codes of bad
 * configurations and flags, and graceful shutdown on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdir, rename } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword, parsePasswordHash, verifyPassword, type ParsedPasswordHash } from '../../src/server/auth/password-hash.js';
import { tempDir } from '../support/temp-dir.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(REPO, 'src', 'cli', 'main.ts');
const DEADLINE_MS = 30_000;

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runCli(t: { after(fn: () => unknown): void }, args: string[], input?: string, env?: Record<string, string>): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, FTPKIT_ALLOW_ROOT: '1', ...env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  if (input !== undefined) child.stdin!.end(input);
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Wait for the banner's URL (the process prints it once listening) and return the port. */
async function bannerPort(cli: Cli): Promise<number> {
  const deadline = Date.now() + DEADLINE_MS;
  return new Promise<number>((resolve, reject) => {
    const check = () => {
      const m = /ftp:\/\/[^\s/]+:(\d+)/.exec(cli.stdout());
      if (m) { cleanup(); resolve(Number(m[1])); return; }
      if (Date.now() > deadline) { cleanup(); reject(new Error(`no banner; stderr: ${cli.stderr()}`)); }
    };
    const onExit = () => { cleanup(); reject(new Error(`serve exited early; stderr: ${cli.stderr()}`)); };
    const timer = setInterval(check, 1000);
    const cleanup = () => { clearInterval(timer); cli.child.stdout!.off('data', check); cli.child.off('exit', onExit); };
    cli.child.stdout!.on('data', check);
    cli.child.on('exit', onExit);
    check();
  });
}

/** Wait until the child's stderr matches (it prints progress lines there). */
function stderrMatch(cli: Cli, pattern: RegExp): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`stderr never matched ${pattern}: ${cli.stderr()}`)); }, DEADLINE_MS);
    const check = () => { if (pattern.test(cli.stderr())) { cleanup(); resolve(); } };
    const cleanup = () => { clearTimeout(timer); cli.child.stderr!.off('data', check); };
    cli.child.stderr!.on('data', check);
    check();
  });
}

function curl(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '20', ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString() });
    });
  });
}

test('serve DIR --port 0: anonymous read-only, curl lists and downloads; SIGTERM closes cleanly', async (t) => {
  const dir = await tempDir(t, 'ftpkit-cli-');
  const data = randomBytes(3 * 1024 * 1024 + 5);
  await writeFile(join(dir, 'data.bin'), data);
  await mkdir(join(dir, 'sub folder'));
  const cli = runCli(t, ['serve', dir, '--port', '0']);
  const port = await bannerPort(cli);
  assert.match(cli.stdout(), new RegExp(`ftpkit serving ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} read-only on ftp://127\\.0\\.0\\.1:${port} \\(anonymous\\)`));
  assert.match(cli.stdout(), /curl ftp:\/\//);

  const list = await curl([`ftp://127.0.0.1:${port}/`]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout.toString(), /data\.bin/);
  assert.match(list.stdout.toString(), /sub folder/);
  const got = await curl([`ftp://127.0.0.1:${port}/data.bin`]);
  assert.equal(got.code, 0, got.stderr);
  assert.ok(got.stdout.equals(data), 'downloaded bytes equal the file');
  const v6 = await curl(['-g', `ftp://[::1]:${port}/data.bin`]);
  assert.equal(v6.code, 0, v6.stderr);
  assert.equal(v6.stdout.length, data.length);

  const upload = await curl(['-T', join(dir, 'data.bin'), `ftp://127.0.0.1:${port}/copy.bin`]);
  assert.notEqual(upload.code, 0, 'read-only: upload refused');
  await assert.rejects(readFile(join(dir, 'copy.bin')));

  // The default log goes to stderr as JSON lines.
  const events = cli.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string });
  assert.ok(events.some((e) => e.event === 'download'));

  cli.child.kill('SIGTERM');
  const { code } = await cli.exit;
  assert.equal(code, 0);
});

test('a YAML config with a scrypt user who uploads; log file without the password', async (t) => {
  const dir = await tempDir(t, 'ftpkit-cli-');
  const home = join(dir, 'alice-home');
  await mkdir(home);
  const password = 'correct horse "battery" staple';
  const hash = await hashPassword(password, { ln: 10, r: 8, p: 1 });
  await writeFile(join(dir, 'ftpkit.yaml'), [
    'host: 127.0.0.1',
    'limits: { loginFailureDelay: 0 }',
    'users:',
    '  - name: alice',
    `    password: '${hash}'`,
    '    root: alice-home',
    '    permissions: read-write',
    'log:',
    '  level: debug',
    '  file: logs/ftpkit.log',
  ].join('\n'));
  const cli = runCli(t, ['serve', '--config', join(dir, 'ftpkit.yaml'), '--port', '0']);
  const port = await bannerPort(cli);
  assert.match(cli.stdout(), /serving 1 user on ftp:\/\/127\.0\.0\.1:/);
  assert.match(cli.stdout(), /user alice: .*alice-home \(read-write\)/);

  const payload = randomBytes(1024 * 1024);
  await writeFile(join(dir, 'payload.bin'), payload);
  const up = await curl(['-u', `alice:${password}`, '-T', join(dir, 'payload.bin'), `ftp://127.0.0.1:${port}/in/payload.bin`, '--ftp-create-dirs']);
  assert.equal(up.code, 0, up.stderr);
  assert.ok((await readFile(join(home, 'in', 'payload.bin'))).equals(payload));

  const wrong = await curl(['-u', 'alice:nope', `ftp://127.0.0.1:${port}/`]);
  assert.equal(wrong.code, 67, `curl: login denied (${wrong.stderr})`);
  const anon = await curl([`ftp://127.0.0.1:${port}/`]);
  assert.equal(anon.code, 67, 'anonymous is off when users are configured');

  cli.child.kill('SIGINT');
  assert.equal((await cli.exit).code, 0);
  const log = await readFile(join(dir, 'logs', 'ftpkit.log'), 'utf8');
  const records = log.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(records.some((r) => r.event === 'upload' && r.path === '/in/payload.bin' && r.bytes === payload.length));
  assert.ok(records.some((r) => r.event === 'login-failed' && r.user === 'alice'));
  assert.ok(records.some((r) => r.event === 'transcript' && r.line === 'PASS ****'), 'debug level has the transcript');
  assert.ok(!log.includes('battery') && !log.includes('nope'), 'no password in the log');
});

test('--user NAME:HASH:ROOT:PERMS and --write from flags', async (t) => {
  const dir = await tempDir(t, 'ftpkit-cli-');
  await writeFile(join(dir, 'f.txt'), 'content');
  const hash = await hashPassword('pw', { ln: 10, r: 8, p: 1 });
  const cli = runCli(t, ['serve', dir, '--host', '127.0.0.1', '--port', '0', '--anonymous', '--write', '--user', `bob:${hash}:${dir}:list,read,mkdir`, '--log-level', 'error']);
  const port = await bannerPort(cli);
  assert.match(cli.stdout(), /read-write on ftp:\/\/127\.0\.0\.1:\d+ \(anonymous\)/);
  assert.match(cli.stdout(), /user bob: .* \(list,read,mkdir\)/);
  const bob = await curl(['-u', 'bob:pw', `ftp://127.0.0.1:${port}/f.txt`]);
  assert.equal(bob.stdout.toString(), 'content');
  const bobUp = await curl(['-u', 'bob:pw', '-T', join(dir, 'f.txt'), `ftp://127.0.0.1:${port}/g.txt`]);
  assert.notEqual(bobUp.code, 0, 'bob may not write');
  const anonUp = await curl(['-T', join(dir, 'f.txt'), `ftp://127.0.0.1:${port}/h.txt`]);
  assert.equal(anonUp.code, 0, anonUp.stderr);
  assert.equal(await readFile(join(dir, 'h.txt'), 'utf8'), 'content');
  assert.equal(cli.stderr(), '', 'log level error: nothing logged');
  cli.child.kill('SIGTERM');
  assert.equal((await cli.exit).code, 0);
});

test('bad configuration and bad flags exit with 2 and name the key', async (t) => {
  const dir = await tempDir(t, 'ftpkit-cli-');
  const hash = await hashPassword('pw', { ln: 10, r: 8, p: 1 });
  await writeFile(join(dir, 'bad.yaml'), `users:\n  - name: a\n    password: '${hash}'\n    root: .\n  - name: b\n    password: '${hash}'\n    root: .\n    permissions: { wirte: true }\n`);
  // Each spawn costs a Node start-up: the many ways a flag can be wrong are unit-tested
  // (cli-serve-flags.test.ts, config.test.ts); here, one of each path to exit code 2.
  const cases: [string[], RegExp][] = [
    [['serve', '--config', join(dir, 'bad.yaml')], /users\.1\.permissions\.wirte: unknown key/],
    [['serve', '--port', 'abc'], /--port/],
    [['serve', '--user', 'bob:notahash:/tmp'], /--user bob \(password\)/],
    [['serve', join(dir, 'missing')], /DIR: .*no such folder/],
    [['serve', '--bogus'], /unknown option/],
    [['serve', '--tls', 'sometimes'], /--tls/],
  ];
  await Promise.all(cases.map(async ([args, message]) => {
    const cli = runCli(t, args);
    const { code } = await cli.exit;
    assert.equal(code, 2, `${args.join(' ')}: ${cli.stderr()}`);
    assert.match(cli.stderr(), message, args.join(' '));
    assert.equal(cli.stdout(), '');
  }));
});

test('a port in use exits with 5 (network)', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const { port } = blocker.address() as AddressInfo;
  const dir = await tempDir(t, 'ftpkit-cli-');
  const cli = runCli(t, ['serve', dir, '--host', '127.0.0.1', '--port', String(port)]);
  const { code } = await cli.exit;
  assert.equal(code, 5, cli.stderr());
  assert.match(cli.stderr(), new RegExp(`^ftpkit: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`, 'm'));
});

test('a port in use on the default all-addresses listener is named with brackets, not ":::PORT"', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const { port, address } = blocker.address() as AddressInfo;
  const dir = await tempDir(t, 'ftpkit-cli-');
  const cli = runCli(t, ['serve', dir, '--port', String(port)]);
  const { code } = await cli.exit;
  assert.equal(code, 5, cli.stderr());
  const shown = address === '::' ? '\\[::\\]' : '0\\.0\\.0\\.0';
  assert.match(cli.stderr(), new RegExp(`^ftpkit: cannot listen on ${shown}:${port}: the port is already in use`, 'm'));
});

test('hash-password reads stdin and prints a hash that verifies', async (t) => {
  const cli = runCli(t, ['hash-password', '--cost', '10'], 'pässword\n');
  const { code } = await cli.exit;
  assert.equal(code, 0, cli.stderr());
  const line = cli.stdout().trim();
  assert.match(line, /^\$scrypt\$ln=10,r=8,p=1\$/);
  const parsed = parsePasswordHash(line) as ParsedPasswordHash;
  assert.equal(await verifyPassword('pässword', parsed), true, 'one trailing newline removed');
  assert.equal(await verifyPassword('pässword\n', parsed), false);

  const empty = runCli(t, ['hash-password'], '');
  assert.equal((await empty.exit).code, 2);
  assert.match(empty.stderr(), /empty password/);
  const badCost = runCli(t, ['hash-password', '--cost', '99'], 'x');
  assert.equal((await badCost.exit).code, 2);
});

test('--help and --version exit 0', async (t) => {
  const help = runCli(t, ['serve', '--help']);
  assert.equal((await help.exit).code, 0);
  assert.match(help.stdout(), /--pasv-ports/);
  const version = runCli(t, ['--version']);
  assert.equal((await version.exit).code, 0);
  assert.match(version.stdout(), /^\d+\.\d+\.\d+/);
});

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

test('hash-password on a terminal: asked twice, never echoed', { skip: hasScript ? undefined : 'util-linux script(1) not found' }, async (t) => {
  const cmd = `${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts hash-password --cost 10`;
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: REPO, env: { ...process.env, TERM: 'dumb' }, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let screen = '';
  let typed = 0;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
    // Type only once each prompt is shown, as a person would (echo is off by then).
    if (typed === 0 && screen.includes('Password: ')) { typed = 1; child.stdin.write('tty-secret\r'); }
    if (typed === 1 && screen.includes('Again: ')) { typed = 2; child.stdin.write('tty-secret\r'); }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, screen);
  assert.equal(typed, 2, screen);
  assert.doesNotMatch(screen, /tty-secret/, 'the password was echoed');
  const hash = /\$scrypt\$\S+/.exec(screen)?.[0];
  assert.ok(hash, screen);
  assert.equal(await verifyPassword('tty-secret', parsePasswordHash(hash) as ParsedPasswordHash), true);
});

test('serve --tls required: FTPS with a self-signed certificate in the state folder; cleartext refused', async (t) => {
  const dir = await tempDir(t, 'ftpkit-cli-');
  const root = join(dir, 'root');
  await mkdir(root);
  await writeFile(join(root, 'f.txt'), 'over tls');
  const state = join(dir, 'state');
  const cli = runCli(t, ['serve', root, '--host', '127.0.0.1', '--port', '0', '--tls', 'required', '--log-level', 'error'], undefined, { XDG_STATE_HOME: state });
  const port = await bannerPort(cli);
  assert.match(cli.stdout(), /FTPS: explicit \(AUTH TLS\); required for login and data; self-signed certificate kept in .*state/);
  const secure = await curl(['--ssl-reqd', '-k', `ftp://127.0.0.1:${port}/f.txt`]);
  assert.equal(secure.code, 0, secure.stderr);
  assert.equal(secure.stdout.toString(), 'over tls');
  const clear = await curl([`ftp://127.0.0.1:${port}/f.txt`]);
  assert.notEqual(clear.code, 0, 'a cleartext login is refused');
  assert.ok((await readFile(join(state, 'ftpkit', 'ftpkit-cert.pem'), 'utf8')).includes('BEGIN CERTIFICATE'));
  cli.child.kill('SIGTERM');
  assert.equal((await cli.exit).code, 0);
});

test('SIGHUP reopens the log file (log rotation)', async (t) => {
  const dir = await tempDir(t, 'ftpkit-cli-');
  await writeFile(join(dir, 'one.txt'), '1');
  await writeFile(join(dir, 'two.txt'), '2');
  const log = join(dir, 'logs', 'ftpkit.log');
  const cli = runCli(t, ['serve', dir, '--host', '127.0.0.1', '--port', '0', '--log-file', log]);
  const port = await bannerPort(cli);
  assert.equal((await curl([`ftp://127.0.0.1:${port}/one.txt`])).stdout.toString(), '1');
  await rename(log, `${log}.1`);
  cli.child.kill('SIGHUP');
  await stderrMatch(cli, /log file reopened/);
  assert.equal((await curl([`ftp://127.0.0.1:${port}/two.txt`])).stdout.toString(), '2');
  cli.child.kill('SIGTERM');
  assert.equal((await cli.exit).code, 0);
  const paths = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n')
    .map((l) => JSON.parse(l) as { event: string; path?: string }).filter((r) => r.event === 'download').map((r) => r.path);
  assert.deepEqual(await paths(`${log}.1`), ['/one.txt']);
  assert.deepEqual(await paths(log), ['/two.txt']);
  assert.match(await readFile(log, 'utf8'), /"event":"close"/, 'the new file got the lines up to the end');
});
