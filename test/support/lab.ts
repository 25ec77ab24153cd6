/**
 * Test harness for ../shared/lab (network namespaces with NAT routers, ALGs and firewalls).
 *
 * Owns: locating lab.sh, deciding skip-vs-fail (root needed; FTPKIT_REQUIRE_LAB=1 turns a skip into a
 * failure, as CI wants), unique LAB_IDs so scenarios run in parallel, running commands in the lab's
 * namespaces with bounded time, starting long-running processes there (our server), and always tearing
 * the lab down.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** FTPKIT_LAB_DIR points elsewhere when the repo is not checked out beside shared/ (e.g. a CI clone). */
export const LAB_DIR = process.env.FTPKIT_LAB_DIR ? path.resolve(process.env.FTPKIT_LAB_DIR) : path.resolve(REPO_ROOT, '..', 'shared', 'lab');
/** The unpacked pure-ftpd lab.sh uses (LAB_PUREFTPD), defaulting to where .ci/run unpacks it. */
export const LAB_PUREFTPD = process.env.LAB_PUREFTPD
  ?? path.join(process.env.FTPKIT_PEERS_DIR ?? '/opt/ftpkit-peers', 'pure-ftpd', 'usr', 'sbin', 'pure-ftpd');
export const LAB_SH = path.join(LAB_DIR, 'lab.sh');
/** Our own scenario files (passed to `lab.sh up` by path). */
export const OWN_SCENARIOS = path.join(REPO_ROOT, 'test', 'lab', 'scenarios');
/** The CLI entry, run with tsx so the tests need no build. */
export const CLI = path.join(REPO_ROOT, 'src', 'cli', 'main.ts');

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function which(cmd: string): boolean {
  // sbin folders too: a non-login root shell (CI, npm scripts) may not have them in PATH, lab.sh finds them.
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin'];
  return dirs.some(d => d && existsSync(path.join(d, cmd)));
}

/** Why the lab cannot run here, or undefined when it can. */
export function labUnavailableReason(needs: string[] = []): string | undefined {
  if (process.platform !== 'linux') return 'the lab needs Linux network namespaces';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the lab needs root (ip netns, nft)';
  if (!existsSync(LAB_SH)) return `lab not found at ${LAB_SH}`;
  for (const c of ['ip', 'nft', ...needs]) if (!which(c)) return `${c} is not installed`;
  return undefined;
}

/**
 * Options for node:test's test(): skip with the reason when the lab cannot run, except under
 * FTPKIT_REQUIRE_LAB=1, where the test runs and `requireLab()` fails it.
 */
export function labTestOptions(needs: string[] = []): { skip: string | false } {
  const reason = labUnavailableReason(needs);
  if (reason && process.env.FTPKIT_REQUIRE_LAB !== '1') return { skip: reason };
  return { skip: false };
}

/** Throws when the lab cannot run (called first in every lab test). */
export function requireLab(needs: string[] = []): void {
  const reason = labUnavailableReason(needs);
  if (reason) throw new Error(`lab required (FTPKIT_REQUIRE_LAB=1) but unavailable: ${reason}`);
}

/** A fresh LAB_ID matching [a-z0-9]{1,8}. */
export function uniqueLabId(prefix = 'k'): string {
  return (prefix + randomBytes(6).toString('hex')).slice(0, 8);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, input?: string): Promise<ExecResult> {
  const started = performance.now();
  return new Promise(resolve => {
    const child = execFile(cmd, args, { env, cwd: REPO_ROOT, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout), stderr: String(stderr),
          ms: performance.now() - started,
        });
      });
    if (input !== undefined) child.stdin?.end(input); else child.stdin?.end();
  });
}

export type LabTarget = 'client' | 'server' | 'rtrc' | 'rtrs' | 'inet';

export class Lab {
  readonly env: Record<string, string>;
  readonly #children = new Set<ChildProcess>();
  #down = false;

  private constructor(readonly id: string, readonly scenario: string, env: Record<string, string>) {
    this.env = env;
  }

  /** `lab.sh up SCENARIO` with a unique LAB_ID; a scenario is a shared id (S2) or a file path. */
  static async up(scenario: string, opts: { ftpd?: 'vsftpd' | 'pyftpdlib' | 'pure-ftpd' | 'none'; id?: string } = {}): Promise<Lab> {
    if (opts.ftpd === 'pure-ftpd' && !existsSync(LAB_PUREFTPD)) throw new Error(`pure-ftpd not found at ${LAB_PUREFTPD} (set LAB_PUREFTPD)`);
    const id = opts.id ?? uniqueLabId();
    const env = { ...process.env, LAB_ID: id, LAB_PUREFTPD };
    const args = ['up', scenario, ...(opts.ftpd ? ['--ftpd', opts.ftpd] : [])];
    const r = await run(LAB_SH, args, env, 120_000);
    if (r.code !== 0) {
      await run(LAB_SH, ['down'], env, 60_000);
      throw new Error(`lab.sh up ${scenario} failed (LAB_ID=${id}, exit ${r.code ?? r.signal}):\n${r.stderr.slice(-3000)}`);
    }
    const e = await run(LAB_SH, ['env'], env, 30_000);
    const vars: Record<string, string> = {};
    for (const line of e.stdout.split('\n')) {
      const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
      if (m) vars[m[1]] = m[2].replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
    }
    return new Lab(id, scenario, vars);
  }

  /** Run a command in a namespace (the host's file system, the lab's network), bounded. */
  exec(target: LabTarget, argv: string[], opts: { timeoutMs?: number; input?: string; env?: Record<string, string> } = {}): Promise<ExecResult> {
    const env = { ...process.env, LAB_ID: this.id, ...(opts.env ?? {}) };
    return run(LAB_SH, ['exec', target, ...argv], env, opts.timeoutMs ?? 60_000, opts.input);
  }

  /** A shell snippet in a namespace (the lab's FTP_* variables are set). */
  sh(target: LabTarget, script: string, opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
    return this.exec(target, ['sh', '-c', script], opts);
  }

  /**
   * Start a long-running process in a namespace (e.g. our server). It lives in the namespace, so
   * `down()` stops it in any case; we also kill it ourselves.
   */
  spawn(target: LabTarget, argv: string[], opts: { env?: Record<string, string> } = {}): ChildProcess & { output: () => string } {
    const child = spawn(LAB_SH, ['exec', target, ...argv], {
      env: { ...process.env, LAB_ID: this.id, ...(opts.env ?? {}) }, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { out = (out + d).slice(-20000); });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { out = (out + d).slice(-20000); });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return Object.assign(child, { output: () => out });
  }

  /** Wait until something listens on TCP `port` in the namespace (polls ss; bounded). */
  async waitListening(target: LabTarget, port: number, timeoutMs = 20_000, isAlive?: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.exec(target, ['ss', '-Hltn', `sport = :${port}`], { timeoutMs: 5000 });
      if (r.stdout.trim()) return;
      if (isAlive && !isAlive()) throw new Error(`process exited before listening on ${port}`);
      if (Date.now() > deadline) throw new Error(`nothing listens on ${port} in ${this.id}/${target} after ${timeoutMs} ms`);
      // Polling a namespace has no event to wait for; ss is the readiness probe.
      await new Promise(r2 => setTimeout(r2, 150));
    }
  }

  /** Tear down (idempotent): our children, then every process in the namespaces, the namespaces, the state. */
  async down(): Promise<void> {
    if (this.#down) return;
    this.#down = true;
    for (const c of this.#children) c.kill('SIGKILL');
    await run(LAB_SH, ['down'], { ...process.env, LAB_ID: this.id }, 60_000);
  }
}

/** Run `fn` with a lab that is always torn down afterwards. */
export async function withLab<T>(scenario: string, opts: Parameters<typeof Lab.up>[1], fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.up(scenario, opts);
  try { return await fn(lab); } finally { await lab.down(); }
}

/** Shell-quote one argument. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
