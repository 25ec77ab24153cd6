/**
 * Test helper: `ftpkit serve ...` as a separate process (the real CLI under tsx), for tests that must not
 * share an event loop with the server: a server blocked by a costly command would otherwise block the
 * test's own timers too, and the test would hang instead of failing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(REPO, 'src', 'cli', 'main.ts');

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
}

/**
 * Spawn `ftpkit serve <args> --port 0`, wait (bounded) for the banner's URL, and return its port.
 * The process is killed after the test. Tests run as root in CI: FTPKIT_ALLOW_ROOT=1 lets serve run as root
 * unless `env` says otherwise (test/socket/serve-privileges.test.ts).
 */
export async function startServeProcess(
  t: { after(fn: () => unknown): void }, args: string[], deadlineMs = 30_000, env: Record<string, string> = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args, '--port', '0'], {
    cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FTPKIT_ALLOW_ROOT: '1', ...env },
  });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no banner within ${deadlineMs} ms; stderr: ${err}`)), deadlineMs);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /ftp:\/\/[^\s/]+:(\d+)/.exec(out);
      if (m) done(undefined, Number(m[1]));
    };
    const onExit = () => done(new Error(`serve exited early; stderr: ${err}`));
    const done = (e?: Error, p?: number) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      if (e) reject(e); else resolve(p!);
    };
    child.stdout!.on('data', onData);
    child.on('exit', onExit);
  });
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  return { child, port, stdout: () => out, stderr: () => err };
}
