/**
 * Socket activation (src/cli/systemd-fds.ts) the way systemd does it: a parent opens the listening socket,
 * puts it on descriptor 3, sets LISTEN_FDS=1 and LISTEN_PID to the pid that will run serve, and exec()s
 * serve in the same process, so that pid is known. A small Python wrapper plays systemd (Python can
 * dup2 and exec; Node cannot). serve then accepts on that socket, prints its port, and serves; with a
 * LISTEN_PID of another process it ignores the socket and binds its own port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/ftpkit-cli.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const PYTHON = process.env.FTPKIT_PYTHON ?? '/usr/bin/python3';
const noPython = existsSync(PYTHON) ? false : `${PYTHON} not found (set FTPKIT_PYTHON): it plays systemd in this test`;

/** Listen on 127.0.0.1:0, print the port, move the socket to fd 3, set LISTEN_*, exec the rest of argv. */
const SYSTEMD = `
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(16)
print("bound", s.getsockname()[1], flush=True)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid() + (1 if os.environ.get("WRONG_PID") else 0))
os.execv(sys.argv[1], sys.argv[1:])
`;

async function activated(t: { after(fn: () => unknown): void }, dir: string, env: Record<string, string> = {}): Promise<{ bound: number; served: number }> {
  const child = spawn(PYTHON, ['-c', SYSTEMD, process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'serve', dir, '--host', '127.0.0.1', '--port', '0'], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FTPKIT_ALLOW_ROOT: '1', ...env },
  });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no banner within 30 s; stdout: ${out}; stderr: ${err}`)), 30_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      const bound = /^bound (\d+)$/m.exec(out);
      const served = /ftp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (bound && served) finish(undefined, { bound: Number(bound[1]), served: Number(served[1]) });
    };
    const onExit = () => finish(new Error(`exited early; stdout: ${out}; stderr: ${err}`));
    const finish = (e?: Error, r?: { bound: number; served: number }) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      if (e) reject(e); else resolve(r!);
    };
    child.stdout!.on('data', onData);
    child.on('exit', onExit);
  });
}

test('LISTEN_FDS=1 with our pid: serve accepts on the inherited socket', { skip: noPython }, async (t) => {
  const dir = await tempDir(t, 'ftpkit-activation-');
  await writeFile(join(dir, 'hello.txt'), 'activated\n');
  const { bound, served } = await activated(t, dir);
  assert.equal(served, bound, 'the banner shows the inherited socket, not a port of its own');
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', `ftp://127.0.0.1:${bound}/hello.txt`]);
  assert.equal(stdout, 'activated\n');
});

test('LISTEN_PID of another process: the variables are not for serve, it binds its own port', { skip: noPython }, async (t) => {
  const dir = await tempDir(t, 'ftpkit-activation-');
  const { bound, served } = await activated(t, dir, { WRONG_PID: '1' });
  assert.notEqual(served, bound);
});
