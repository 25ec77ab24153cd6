/**
 * `ftpkit serve` (the built CLI, dist/cli/main.js) as a child process for the fuzz and soak runs
 * (bench/fuzz-run.ts, bench/soak.ts): a config file of their own (limits raised, the defender allow-listing
 * loopback, a cheap password hash), a temp root, a self-signed certificate for AUTH TLS, and the child's pid
 * for /proc (VmRSS, descriptors). A child, so that a crash is seen as an exit and its memory is its own.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeTempDir, spawnManaged, writeCertificate, type ManagedProcess } from '../../test/support/peers-common.js';
import { openFds, openFilesLimit, vmRssKiB } from './proc.js';
import { servedPort, type Login } from './servers.js';

/** A memory sample of the child: VmRSS and V8 heap in use (KiB; NaN when the child did not answer), descriptors. */
export interface MemorySample { rssKiB: number; fds: number; heapKiB: number }

/** The content of probe.txt in the probe user's root. */
export const PROBE_TEXT = 'a normal client can still download this\n'.repeat(200);

export interface ServeChild {
  host: string;
  port: number;
  pid: number;
  login: Login;
  /** The served folder ("/" of `login` and of anonymous). */
  root: string;
  /**
   * A second user (same password) with a root of its own holding probe.txt (PROBE_TEXT): what a run checks
   * a normal client can still download, out of reach of what the run's sessions delete or overwrite.
   */
  probe: Login;
  /** The child's own limit of open files (inherited; bench/run.sh raises it). */
  fdLimit: number;
  proc: ManagedProcess;
  /** Still running? (false: it crashed or was stopped) */
  alive(): boolean;
  /** VmRSS KiB and open descriptors now. */
  sample(): { rssKiB: number; fds: number };
  /** The same and the V8 heap in use (KiB), right after a full garbage collection in the child (SIGUSR2). */
  sampleAfterGc(): Promise<MemorySample>;
  stop(): Promise<void>;
}

export interface ServeChildOptions {
  repo: string;
  /** Files to create under the root (relative path -> content; a path ending in "/" is a folder). */
  files: Record<string, string | Buffer>;
  /** Sections merged over the defaults (limits, timeouts, passive...). */
  config?: Record<string, unknown>;
  maxSessions?: number;
}

/**
 * Starts the child and waits for its banner. The user's password hash is made by `ftpkit hash-password
 * --cost 10` (scrypt N=2^10): the default cost (2^17) is a login figure of its own, and the fuzz sends
 * thousands of wrong passwords (each one a full verification, by design).
 */
export async function startServeChild(o: ServeChildOptions): Promise<ServeChild> {
  const { dir, cleanup } = await makeTempDir('bench-serve-child');
  const root = path.join(dir, 'root');
  await mkdir(root, { recursive: true });
  const probeRoot = path.join(dir, 'probe');
  await mkdir(probeRoot, { recursive: true });
  await writeFile(path.join(probeRoot, 'probe.txt'), PROBE_TEXT);
  for (const [rel, content] of Object.entries(o.files)) {
    const file = path.join(root, rel);
    // "name/" is a folder.
    await mkdir(rel.endsWith('/') ? file : path.dirname(file), { recursive: true });
    if (!rel.endsWith('/')) await writeFile(file, content);
  }
  const certs = await writeCertificate(dir);
  const login = { user: 'bench', password: 'bench-secret-1' };
  const main = path.join(o.repo, 'dist/cli/main.js');
  const hashed = spawnSync(process.execPath, [main, 'hash-password', '--cost', '10'], { input: login.password, encoding: 'utf8', timeout: 30_000 });
  if (hashed.status !== 0) throw new Error(`ftpkit hash-password failed: ${hashed.stderr}`);
  const hash = hashed.stdout.trim();
  const maxSessions = o.maxSessions ?? 2000;
  const config = {
    host: '127.0.0.1',
    users: [
      { name: login.user, password: hash, root, permissions: 'read-write' },
      { name: 'probe', password: hash, root: probeRoot, permissions: 'read-only' },
    ],
    anonymous: { enabled: true, root },
    limits: { maxSessions, maxSessionsPerAddress: 0 },
    // Every session of the run comes from 127.0.0.1: the garbage of a fuzz or a thousand logins would
    // otherwise get loopback banned or queued behind one verification at a time (that is the defender's job).
    defender: { allow: ['127.0.0.0/8', '::1'], verificationsPerAddress: 0 },
    tls: { cert: certs.cert, key: certs.key },
    log: { level: 'warn', file: path.join(dir, 'ftpkit.log') },
    ...o.config,
  };
  const configFile = path.join(dir, 'ftpkit.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  // SIGUSR2 makes the child collect its garbage (a preload; ftpkit itself uses no SIGUSR2): a memory sample
  // taken right after a full GC shows what the server holds, not how far its heap has grown since the last GC.
  // It then writes process.memoryUsage() to a file: heapUsed after a full GC is what the server really keeps
  // (RSS also holds pages V8 has not given back yet).
  const gcOnSignal = path.join(dir, 'gc-on-signal.mjs');
  const memoryFile = path.join(dir, 'memory.json');
  await writeFile(gcOnSignal, [
    "import { writeFileSync } from 'node:fs';",
    `process.on('SIGUSR2', () => { globalThis.gc?.(); writeFileSync(${JSON.stringify(memoryFile)}, JSON.stringify(process.memoryUsage())); });`,
    '',
  ].join('\n'));
  const proc = spawnManaged(process.execPath, ['--expose-gc', '--import', gcOnSignal, main, 'serve', '--config', configFile, '--port', '0'],
    { env: { ...process.env, HOME: dir, FTPKIT_ALLOW_ROOT: '1' } });
  const port = await servedPort(proc);
  const pid = proc.child.pid!;
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1', port, pid, login, root, proc, probe: { user: 'probe', password: login.password },
    fdLimit: openFilesLimit(pid),
    alive: () => !exited,
    sample: () => ({ rssKiB: vmRssKiB(pid), fds: openFds(pid) }),
    sampleAfterGc: async () => {
      await rm(memoryFile, { force: true });
      process.kill(pid, 'SIGUSR2');
      let heapKiB = NaN;
      for (let i = 0; i < 50 && Number.isNaN(heapKiB); i++) {
        await settle(100);
        try { heapKiB = Math.round((JSON.parse(await readFile(memoryFile, 'utf8')) as { heapUsed: number }).heapUsed / 1024); } catch { /* not yet */ }
      }
      return { rssKiB: vmRssKiB(pid), fds: openFds(pid), heapKiB };
    },
    stop: () => (stopped ??= proc.stop().then(cleanup)),
  };
}

/** Waits `ms` (a settle before a memory sample: timers of closed sessions fire, the GC gets its turn). */
export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A normal client (our FtpClient) logs in as the probe user and downloads probe.txt: '' when it worked. */
export async function probeClient(child: ServeChild): Promise<string> {
  const { FtpClient } = await import('../../src/client/index.js');
  const { Writable } = await import('node:stream');
  try {
    const client = await FtpClient.connect({ host: child.host, port: child.port, user: child.probe.user, password: child.probe.password });
    try {
      const chunks: Buffer[] = [];
      await client.download('/probe.txt', new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } }));
      const got = Buffer.concat(chunks).toString();
      return got === PROBE_TEXT ? '' : `probe.txt came back with ${got.length} bytes instead of ${PROBE_TEXT.length}`;
    } finally {
      await client.close().catch(() => client.destroy());
    }
  } catch (err) {
    return `the probe client failed: ${(err as Error).message}`;
  }
}
