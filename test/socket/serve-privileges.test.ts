/**
 * `ftpkit serve` started as root (CI runs as root; skipped with the reason otherwise): with --run-user it
 * binds, then becomes that user (checked in /proc/<pid>/status, real/effective/saved/fs ids and the groups)
 * and still serves an anonymous download; without it, it refuses to start (exit 2, the message names the
 * options) unless --allow-root; a low active-mode source port is refused up front when root is dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServeProcess } from '../support/serve-process.js';
import { describeCli, runFtpkit } from '../support/ftpkit-cli.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const notRoot = isRoot ? false : 'needs root: serve only drops privileges (or refuses to run) when started as root';
/** The helpers let serve run as root (FTPKIT_ALLOW_ROOT=1); these tests take that away. */
const STRICT = { FTPKIT_ALLOW_ROOT: '' };

/** The four ids of a /proc/<pid>/status line ("Uid:\t65534\t65534\t65534\t65534"). */
async function ids(pid: number, line: 'Uid' | 'Gid' | 'Groups'): Promise<string[]> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${line}:\\s*(.*)$`, 'm').exec(status);
  assert.ok(m, status);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}

/** A folder `nobody` can read, with one file. */
async function publicRoot(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await tempDir(t, 'ftpkit-priv-');
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'hello.txt'), 'hello from a dropped server\n', { mode: 0o644 });
  return dir;
}

test('serve --run-user nobody --run-group nogroup: binds, drops to nobody, still serves', { skip: notRoot }, async (t) => {
  const root = await publicRoot(t);
  const s = await startServeProcess(t, [root, '--host', '127.0.0.1', '--run-user', 'nobody', '--run-group', 'nogroup'], undefined, STRICT);
  const pid = s.child.pid!;
  assert.deepEqual(await ids(pid, 'Uid'), ['65534', '65534', '65534', '65534']);
  assert.deepEqual(await ids(pid, 'Gid'), ['65534', '65534', '65534', '65534']);
  assert.deepEqual(await ids(pid, 'Groups'), ['65534'], 'root\'s supplementary groups are gone');
  assert.match(s.stdout(), /running as nobody:nogroup \(65534:65534\)/);
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', `ftp://127.0.0.1:${s.port}/hello.txt`]);
  assert.equal(stdout, 'hello from a dropped server\n');
});

test('serve started as root without --run-user: exit 2, the message names --run-user and --allow-root', { skip: notRoot }, async (t) => {
  const root = await publicRoot(t);
  const r = await runFtpkit(['serve', root, '--host', '127.0.0.1', '--port', '0'], { env: STRICT });
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /refusing to run as root/, describeCli(r));
  assert.match(r.stderr, /--run-user/);
  assert.match(r.stderr, /run\.allowRoot: true \(--allow-root, or FTPKIT_ALLOW_ROOT=1\)/);
  assert.equal(r.stdout, '', 'nothing was served');
});

test('serve --allow-root: runs as root', { skip: notRoot }, async (t) => {
  const root = await publicRoot(t);
  const s = await startServeProcess(t, [root, '--host', '127.0.0.1', '--allow-root'], undefined, STRICT);
  assert.equal((await ids(s.child.pid!, 'Uid'))[1], '0');
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', `ftp://127.0.0.1:${s.port}/hello.txt`]);
  assert.equal(stdout, 'hello from a dropped server\n');
});

test('serve --run-user with active.sourcePort 20: refused before binding, with what to do instead', { skip: notRoot }, async (t) => {
  const root = await publicRoot(t);
  const config = join(root, 'ftpkit.yaml');
  await writeFile(config, 'host: 127.0.0.1\nactive:\n  sourcePort: 20\n');
  const r = await runFtpkit(['serve', root, '--config', config, '--port', '0', '--run-user', 'nobody'], { env: STRICT });
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /active\.sourcePort: port 20 cannot be used after dropping to nobody/, describeCli(r));
  assert.match(r.stderr, /AmbientCapabilities/);
});

test('serve --run-user with a root the user cannot read: fatal after the drop, naming the root', { skip: notRoot }, async (t) => {
  const root = await tempDir(t, 'ftpkit-priv-closed-'); // mkdtemp: mode 0700, root's only
  const r = await runFtpkit(['serve', root, '--host', '127.0.0.1', '--port', '0', '--run-user', 'nobody'], { env: STRICT });
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /DIR: .*permission/, describeCli(r));
});

test('serve --run-user with a self-signed certificate kept where the user cannot read it: fatal, naming tls.stateDir', { skip: notRoot }, async (t) => {
  const root = await publicRoot(t);
  const state = await tempDir(t, 'ftpkit-priv-state-'); // mode 0700: root's only, like /root/.local/state
  const r = await runFtpkit(['serve', root, '--host', '127.0.0.1', '--port', '0', '--run-user', 'nobody', '--tls', 'explicit'],
    { env: { ...STRICT, XDG_STATE_HOME: state } });
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /tls\.stateDir: .*ftpkit-cert\.pem cannot be read by nobody/, describeCli(r));
});

test('serve --run-user with log files the user cannot reopen: a warning at start naming log.file (SIGHUP would fail), none once they are the user\'s', { skip: notRoot }, async (t) => {
  const root = await publicRoot(t);
  const logs = await tempDir(t, 'ftpkit-priv-logs-'); // mode 0700, root's: the files ftpkit creates are root's too
  const logFile = join(logs, 'ftpkit.log');
  const s = await startServeProcess(t, [root, '--host', '127.0.0.1', '--run-user', 'nobody', '--log-file', logFile], undefined, STRICT);
  assert.match(s.stderr(), /warning: log\.file: .*ftpkit\.log cannot be reopened by nobody/, s.stderr());
  assert.match(s.stderr(), /SIGHUP/);
  assert.match(await readFile(logFile, 'utf8'), /"event":"warning".*"code":"log-reopen"/);

  // The folder and the file belong to the run user (logrotate's `create 0640 nobody nogroup`): no warning.
  const mine = await tempDir(t, 'ftpkit-priv-logs-ok-');
  const ok = join(mine, 'ftpkit.log');
  await writeFile(ok, '', { mode: 0o640 });
  await run('chown', ['-R', 'nobody:nogroup', mine]);
  const s2 = await startServeProcess(t, [root, '--host', '127.0.0.1', '--run-user', 'nobody', '--log-file', ok], undefined, STRICT);
  assert.doesNotMatch(s2.stderr(), /warning/, s2.stderr());

  // A log file this start creates (as root), in the user's folder, is handed to the user: no warning.
  const open = await tempDir(t, 'ftpkit-priv-logs-new-');
  await run('chown', ['nobody:nogroup', open]);
  const created = join(open, 'ftpkit.log');
  const s3 = await startServeProcess(t, [root, '--host', '127.0.0.1', '--run-user', 'nobody', '--log-file', created], undefined, STRICT);
  assert.doesNotMatch(s3.stderr(), /warning/, s3.stderr());
  assert.equal((await stat(created)).uid, 65534, 'the created log file belongs to nobody');
});
