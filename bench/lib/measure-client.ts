/**
 * The client figures, all against vsftpd: ftpkit's CLI (`get`/`put`) vs curl, lftp and basic-ftp moving
 * the big file both ways, plain and explicit TLS; `ftpkit mirror --parallel N` vs `lftp mirror -P N` of a
 * tree of small files; and CLI start-up. Every figure is the wall time of the client process, start to
 * exit, as a user or a script meets it.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBounded, runCurl, runLftp, type RunResult } from '../../test/support/peers.js';
import {
  CPU_MS, MBPS, MIRROR_SECTION, SECONDS, STARTUP_SECTION, WALL_MS, addFailure, addSample, clientSection,
  type ClientDirection, type Results,
} from './results.js';
import { recyclePages } from './page-cache.js';
import { BIG_NAME, type BenchServer } from './servers.js';

export const CLIENTS = ['ftpkit', 'curl', 'lftp', 'basic-ftp'] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface ClientContext {
  repo: string;
  /** A scratch folder for downloads and the ftpkit CLI's HOME (no ~/.netrc, no state). */
  scratch: string;
  big: string;
  bytes: number;
  timeoutMs: number;
}

function cliEnv(c: ClientContext, s: BenchServer): NodeJS.ProcessEnv {
  return { ...process.env, HOME: c.scratch, FTPKIT_PASSWORD: s.main.password };
}

function ftpkitArgs(c: ClientContext, args: string[]): string[] {
  return [path.join(c.repo, 'dist/cli/main.js'), ...args];
}

async function runClient(
  name: ClientName, c: ClientContext, s: BenchServer, direction: ClientDirection, tls: boolean, local: string, remote: string,
): Promise<RunResult> {
  const url = `ftp://${s.host}:${s.port}${remote}`;
  switch (name) {
    case 'ftpkit': {
      const userUrl = `ftp://${s.main.user}@${s.host}:${s.port}${remote}`;
      const flags = tls ? ['--tls-required', '--insecure'] : [];
      const args = direction === 'download' ? ['get', ...flags, userUrl, local] : ['put', ...flags, local, userUrl];
      return runBounded(process.execPath, ftpkitArgs(c, args), { timeoutMs: c.timeoutMs, env: cliEnv(c, s) });
    }
    case 'curl':
      return runCurl(['-u', `${s.main.user}:${s.main.password}`, ...(tls ? ['--ssl-reqd', '-k'] : []),
        ...(direction === 'download' ? ['-o', local] : ['-T', local]), url], { timeoutMs: c.timeoutMs });
    case 'lftp': {
      const open = `open -u "${s.main.user}","${s.main.password}" ftp://${s.host}:${s.port}`;
      const cmd = direction === 'download' ? `get ${remote} -o ${local}` : `put ${local} -o ${remote}`;
      // lftp upgrades to TLS by itself when the server offers AUTH TLS: plain must say so.
      const settings: Record<string, boolean> = tls ? { 'ftp:ssl-force': true, 'ftp:ssl-protect-data': true } : { 'ftp:ssl-allow': false };
      return runLftp([open, cmd], { settings, debug: false, timeoutMs: c.timeoutMs });
    }
    case 'basic-ftp': {
      const spec = { host: s.host, port: s.port, user: s.main.user, password: s.main.password, tls, op: direction, remote, local };
      return runBounded(process.execPath, [path.join(c.repo, 'bench/basic-ftp-client.mjs'), JSON.stringify(spec)], { timeoutMs: c.timeoutMs });
    }
  }
}

/** One client moving the big file one way; MB/s over the client process's wall time. */
export async function measureClient(
  r: Results, c: ClientContext, s: BenchServer, name: ClientName, direction: ClientDirection, tls: boolean, tag: string,
): Promise<void> {
  const section = clientSection(direction, tls);
  const local = direction === 'download' ? path.join(c.scratch, `down-${tag}.bin`) : c.big;
  const remote = direction === 'download' ? `/${BIG_NAME}` : `${s.uploadDir}/client-${tag}.bin`;
  // The written file's page-cache pages (the download's local file, the upload's stored one): freshly
  // freed ones for every client alike (page-cache.ts).
  await recyclePages(c.scratch, c.bytes);
  const t0 = performance.now();
  const run = await runClient(name, c, s, direction, tls, local, remote);
  const seconds = (performance.now() - t0) / 1000;
  const target = direction === 'download' ? local : path.join(s.localUploadDir, `client-${tag}.bin`);
  const size = await stat(target).then((st) => st.size, () => -1);
  await rm(target, { force: true });
  if (run.code !== 0 || size !== c.bytes) {
    addFailure(r, section, name, run.timedOut ? 'timed out' : `exit ${run.code}, ${size} bytes: ${run.stderr.trim().split('\n').pop() ?? ''}`);
    return;
  }
  addSample(r, section, name, MBPS, c.bytes / 1e6 / seconds);
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    n += e.isDirectory() ? await countFiles(path.join(dir, e.name)) : 1;
  }
  return n;
}

/** `ftpkit mirror --parallel N` or `lftp mirror -P N` of the tree into an empty folder; seconds. */
export async function measureMirror(
  r: Results, c: ClientContext, s: BenchServer, name: 'ftpkit' | 'lftp', remoteDir: string, files: number, parallel: number,
): Promise<void> {
  const dest = path.join(c.scratch, `mirror-${name}`);
  await rm(dest, { recursive: true, force: true });
  const t0 = performance.now();
  const run = name === 'ftpkit'
    ? await runBounded(process.execPath, ftpkitArgs(c, ['mirror', '--parallel', String(parallel), `ftp://${s.main.user}@${s.host}:${s.port}${remoteDir}/`, dest]),
      { timeoutMs: c.timeoutMs, env: cliEnv(c, s) })
    : await runLftp([`open -u "${s.main.user}","${s.main.password}" ftp://${s.host}:${s.port}`, `mirror -P ${parallel} ${remoteDir} ${dest}`],
      { settings: { 'ftp:ssl-allow': false }, debug: false, timeoutMs: c.timeoutMs });
  const seconds = (performance.now() - t0) / 1000;
  const got = await countFiles(dest);
  await rm(dest, { recursive: true, force: true });
  if (run.code !== 0 || got !== files) {
    addFailure(r, MIRROR_SECTION, name, `exit ${run.code}, ${got} of ${files} files: ${run.stderr.trim().split('\n').pop() ?? ''}`);
    return;
  }
  addSample(r, MIRROR_SECTION, name, SECONDS, seconds);
}

/**
 * One start-up: the command under bash, whose `times` prints the children's user and system CPU; wall
 * time around the whole (bash's own start-up is the same for every row).
 */
export async function measureStartup(r: Results, c: ClientContext, s: BenchServer, label: string, argv: string[]): Promise<void> {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const t0 = performance.now();
  const run = await runBounded('bash', ['-c', `${quoted} >/dev/null; rc=$?; times; exit $rc`], { timeoutMs: 60_000, env: cliEnv(c, s) });
  const wall = performance.now() - t0;
  // `times`: shell user/sys on the first line, children user/sys on the second ("0m0.123s 0m0.045s").
  const lines = run.stdout.trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines[lines.length - 1] ?? '');
  if (run.code !== 0 || !m) {
    addFailure(r, STARTUP_SECTION, label, `exit ${run.code}: ${run.stderr.trim().split('\n').pop() ?? ''}`);
    return;
  }
  const cpu = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
  addSample(r, STARTUP_SECTION, label, WALL_MS, wall);
  addSample(r, STARTUP_SECTION, label, CPU_MS, cpu);
}

/** The start-up commands, with the small folder's URL on `s`. */
export function startupCommands(c: ClientContext, s: BenchServer, smallDir: string): [string, string[]][] {
  const main = path.join(c.repo, 'dist/cli/main.js');
  return [
    ['node -e 0', [process.execPath, '-e', '0']],
    ['ftpkit --version', [process.execPath, main, '--version']],
    [`ftpkit ls (${s.name})`, [process.execPath, main, 'ls', `ftp://${s.main.user}@${s.host}:${s.port}${smallDir}/`]],
    [`curl (${s.name} listing)`, ['curl', '-sS', '-u', `${s.main.user}:${s.main.password}`, `ftp://${s.host}:${s.port}${smallDir}/`]],
  ];
}
