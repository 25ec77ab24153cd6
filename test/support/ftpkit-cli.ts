/**
 * Test helper: run the `ftpkit` CLI as users do (`node --import tsx src/cli/main.ts ...`) in a child process
 * with a clean environment (HOME without a .netrc unless given, no FTPKIT_PASSWORD/NETRC inherited), bounded
 * by a timeout, and collect exit code, stdout (text and bytes) and stderr.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = path.join(REPO_ROOT, 'src/cli/main.ts');

export interface CliResult { code: number | null; stdout: string; stderr: string; raw: Buffer }

export interface CliOptions {
  env?: Record<string, string>;
  /** HOME for the child (default: a folder that does not exist, so no ~/.netrc). */
  home?: string;
  /** Bytes for stdin (default: stdin is closed). */
  input?: Buffer | string;
  /** Kill the child after this long. Default 60 s. */
  timeoutMs?: number;
}

export function runFtpkit(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.FTPKIT_PASSWORD;
    delete env.NETRC;
    // Bookmarks (src/cli/bookmarks.ts) come from HOME unless a test gives a file.
    delete env.FTPKIT_BOOKMARKS;
    delete env.XDG_CONFIG_HOME;
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: REPO_ROOT,
      // Tests run as root in CI: `serve` may run as root unless a test says otherwise (serve-privileges.test.ts).
      env: { ...env, HOME: opts.home ?? path.join(tmpdir(), 'ftpkit-no-home'), FTPKIT_ALLOW_ROOT: '1', ...opts.env },
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', err => { clearTimeout(timer); reject(err); });
    child.on('close', code => {
      clearTimeout(timer);
      const raw = Buffer.concat(out);
      resolve({ code, stdout: raw.toString('utf8'), stderr, raw });
    });
  });
}

/** Assertion message with everything the CLI printed. */
export function describeCli(r: CliResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout.slice(0, 4000)}\nstderr: ${r.stderr.slice(0, 4000)}`;
}
