/**
 * Runners for third-party FTP CLIENTS (curl, lftp, Python ftplib), each bounded in time: a client that
 * hangs is killed (with its whole process group) and reported as timedOut, never left running. Passwords go
 * through stdin or a 0600 script file, never argv.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PYTHON, SUPPORT_DIR, assertPeer, makeTempDir, trackGroup } from './peers-common.js';

export interface RunResult {
  /** Exit code; null when killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  /** Kill the client after this long. Default 60 s. */
  timeoutMs?: number;
  input?: string | Uint8Array;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each stderr chunk (e.g. to wait for a line before interrupting the client). */
  onStderr?: (chunk: string) => void;
  /** Aborting kills the client (like a timeout, but reported as not timed out). */
  signal?: AbortSignal;
  /** A command prefix, e.g. ['nsenter', '--net=/proc/PID/ns/net'] to run the client in a namespace. */
  wrap?: string[];
}

/** Runs a program to completion in its own process group, bounded by timeoutMs. */
export function runBounded(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const argv = [...(opts.wrap ?? []), cmd, ...args];
    const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const killAll = () => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    };
    const timer = setTimeout(() => { timedOut = true; killAll(); }, opts.timeoutMs ?? 60000);
    const onAbort = () => killAll();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const untrack = child.pid !== undefined ? trackGroup(child.pid) : () => undefined;
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr.on('data', (b: Buffer) => {
      const s = b.toString('utf8');
      stderr += s;
      opts.onStderr?.(s);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    const done = (code: number | null, extra = '') => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // Children the client forked (lftp's background jobs) go with it.
      killAll();
      untrack();
      resolve({ code, stdout, stderr: stderr + extra, timedOut, durationMs: Date.now() - started });
    };
    child.once('error', (err) => done(null, `\nspawn error: ${err.message}`));
    child.once('close', (code) => done(code));
  });
}

/** Formats a result for assertion messages. */
export function describeRun(r: RunResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''} after ${r.durationMs} ms\n--- stdout ---\n${r.stdout.slice(-4000)}\n--- stderr ---\n${r.stderr.slice(-8000)}`;
}

// ---------------------------------------------------------------------------------------------- curl

export interface CurlOptions extends RunOptions {
  /** Add -v so stderr holds the protocol trace ("> EPSV", "< 229 ..."); see curlCommands(). */
  verbose?: boolean;
}

/**
 * curl with `-sS`, a connect timeout and --max-time derived from timeoutMs prepended to `args`.
 * Credentials: pass `-u user:password` in args only for test accounts, or use netrc via args.
 */
export function runCurl(args: string[], opts: CurlOptions = {}): Promise<RunResult> {
  assertPeer('curl');
  const timeoutMs = opts.timeoutMs ?? 60000;
  const base = ['-sS', '--connect-timeout', '10', '--max-time', String(Math.max(1, Math.floor(timeoutMs / 1000) - 1))];
  if (opts.verbose) base.push('-v');
  return runBounded('curl', [...base, ...args], { ...opts, timeoutMs });
}

/** The FTP commands curl sent, from a -v trace ("> CMD args" lines; PASS masked by us). */
export function curlCommands(stderr: string): string[] {
  return stderr.split('\n')
    .filter((l) => l.startsWith('> '))
    .map((l) => l.slice(2).replace(/\r$/, ''))
    .map((l) => (/^PASS /i.test(l) ? 'PASS ****' : l));
}

// ---------------------------------------------------------------------------------------------- lftp

export interface LftpOptions extends RunOptions {
  /** Extra `set NAME VALUE` lines, applied after the defaults (so they override them). */
  settings?: Record<string, string | number | boolean>;
  /** ssl:verify-certificate; default false (test certificates are self-signed). */
  verifyCertificate?: boolean;
  /** lftp -d: protocol trace on stderr ("---> CMD", "<--- reply"). Default true. */
  debug?: boolean;
}

/** Quotes a word for lftp's command parser (double quotes, backslash escapes). */
export function lftpQuote(word: string): string {
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `open` command for a server: user and password quoted, URL host bracketed for IPv6. */
export function lftpOpen(server: { url: string; user: string; password: string }): string {
  return `open -u ${lftpQuote(server.user)},${lftpQuote(server.password)} ${server.url}`;
}

/**
 * Runs lftp on a script (written to a 0600 temp file, so passwords stay out of argv). The defaults keep
 * lftp from retrying for minutes (PEERS.md): net:timeout 10 s, net:max-retries 2 (one reconnect, which its
 * own EPSV->PASV fallback needs), reconnect interval 1 s, fail on the first failing command.
 */
export async function runLftp(commands: string | string[], opts: LftpOptions = {}): Promise<RunResult> {
  assertPeer('lftp');
  const defaults: Record<string, string | number | boolean> = {
    'cmd:fail-exit': true,
    'cmd:interactive': false,
    'net:timeout': 10,
    'net:max-retries': 2,
    'net:reconnect-interval-base': 1,
    'net:reconnect-interval-max': 1,
    'net:persist-retries': 0,
    'ssl:verify-certificate': opts.verifyCertificate ?? false,
    'xfer:clobber': true,
    'dns:order': 'inet inet6',
  };
  const settings = { ...defaults, ...(opts.settings ?? {}) };
  const script = [
    ...Object.entries(settings).map(([k, v]) => `set ${k} ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : lftpQuote(String(v))}`),
    ...(Array.isArray(commands) ? commands : [commands]),
  ].join('\n') + '\n';
  const { dir, cleanup } = await makeTempDir('lftp');
  try {
    const file = path.join(dir, 'script.lftp');
    await writeFile(file, script, { mode: 0o600 });
    // HOME in the temp dir: no ~/.lftprc, no history or bookmarks written into the real home.
    const env = { ...process.env, HOME: dir, ...(opts.env ?? {}) };
    return await runBounded('lftp', [...((opts.debug ?? true) ? ['-d'] : []), '--norc', '-f', file], { ...opts, env });
  } finally {
    await cleanup();
  }
}

/** The FTP commands lftp sent, from its -d trace ("---> CMD"). */
export function lftpCommands(stderr: string): string[] {
  return stderr.split('\n')
    .map((l) => /---> (.*)$/.exec(l.replace(/\r$/, ''))?.[1])
    .filter((l): l is string => l !== undefined)
    .map((l) => (/^PASS /i.test(l) ? 'PASS ****' : l));
}

// ---------------------------------------------------------------------------------------------- ftplib

export type FtplibAction =
  | { op: 'pwd' } | { op: 'cwd'; path: string }
  | { op: 'list'; path?: string } | { op: 'nlst'; path?: string } | { op: 'mlsd'; path?: string }
  | { op: 'retr'; remote: string; local: string; rest?: number; ascii?: boolean }
  | { op: 'stor'; local: string; remote: string; rest?: number; ascii?: boolean }
  | { op: 'appe'; local: string; remote: string }
  | { op: 'size'; path: string } | { op: 'mdtm'; path: string }
  | { op: 'mkd'; path: string } | { op: 'rmd'; path: string } | { op: 'dele'; path: string }
  | { op: 'rename'; from: string; to: string }
  /** A raw command; `expect` is the reply code class ftplib accepts ("2" by default: sendcmd + check). */
  | { op: 'cmd'; line: string; expectError?: boolean };

export interface FtplibSpec {
  host: string;
  port: number;
  user?: string;
  password?: string;
  /**
   * pasv: ftplib's default (PASV on IPv4, EPSV on IPv6); epsv: EPSV on IPv4 too; active: set_pasv(False)
   * (PORT on IPv4, EPRT on IPv6); eprt: active with EPRT on IPv4 too.
   */
  mode?: 'pasv' | 'epsv' | 'active' | 'eprt';
  /** Connect to the address in the 227 reply (ftplib ignores it by default and uses the control host). */
  trustPasvAddress?: boolean;
  tls?: 'none' | 'explicit' | 'implicit';
  /** Resume the control connection's TLS session on data connections (what vsftpd/proftpd demand). */
  reuseSession?: boolean;
  /** PROT P (default with TLS) or PROT C. */
  prot?: 'P' | 'C';
  /** Verify the server certificate against this CA file (default: no verification). */
  caFile?: string;
  /** Force a TLS version on the client side. */
  tlsVersion?: '1.2' | '1.3';
  /** Socket timeout, seconds. Default 20. */
  socketTimeout?: number;
  actions: FtplibAction[];
}

export interface FtplibStep {
  op: string;
  ok: boolean;
  /** Final reply of the step (e.g. "226 Transfer complete"). */
  reply?: string;
  /** Parsed data: MLSD facts, LIST/NLST lines, SIZE, PWD... */
  lines?: string[];
  entries?: [string, Record<string, string>][];
  value?: string | number;
  bytes?: number;
  sha256?: string;
  error?: string;
}

export interface FtplibResult extends RunResult {
  /** Parsed JSON report of test/support/ftplib_client.py (undefined if it crashed). */
  report?: { ok: boolean; steps: FtplibStep[]; transcript: string[]; error?: string; welcome?: string };
}

/**
 * Runs test/support/ftplib_client.py with the spec as JSON on stdin; it stops at the first failing action
 * and reports every step, the protocol transcript (PASS masked) and the error.
 */
export async function runFtplib(spec: FtplibSpec, opts: RunOptions = {}): Promise<FtplibResult> {
  assertPeer('python3');
  const r = await runBounded(PYTHON, [path.join(SUPPORT_DIR, 'ftplib_client.py')], { ...opts, input: JSON.stringify(spec) });
  let report: FtplibResult['report'];
  try { report = JSON.parse(r.stdout); } catch { report = undefined; }
  return { ...r, report };
}

/** Runs a Python script given as text (for one-off ftplib experiments), bounded. */
export function runPython(script: string, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  assertPeer('python3');
  return runBounded(PYTHON, ['-c', script, ...args], opts);
}
