/**
 * Reading /proc for the bench: every process's stat line, the process that owns a listening port (the
 * peer launchers do not expose their daemon's pid), and a server tree's CPU time and memory.
 */
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import {
  parseLimitsOpenFiles, parseProcStat, parseSmapsRollupPss, parseStatusVmRssKiB, treeCpuTicks, treePids, type ProcStat,
} from './proc-stat.js';

/** sysconf(_SC_CLK_TCK): 100 on every Linux the bench runs on (the kernel's USER_HZ). */
const TICK_MS = 10;

export function readAllStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try { out.push(parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'))); } catch { /* exited meanwhile */ }
  }
  return out;
}

/** CPU time of `pid` and its descendants so far, in ms (see treeCpuTicks for the exited children). */
export function treeCpuMs(pid: number): number {
  return treeCpuTicks(pid, readAllStats()) * TICK_MS;
}

export function treeSize(pid: number): number {
  return treePids(pid, readAllStats()).length;
}

/** Proportional set size of a process tree in KiB (shared pages divided among their users). */
export function treePssKiB(pid: number): number {
  let kib = 0;
  for (const p of treePids(pid, readAllStats())) {
    try { kib += parseSmapsRollupPss(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8')); } catch { /* exited meanwhile */ }
  }
  return kib;
}

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT" in hex; state 0A is LISTEN.
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  return inodes;
}

/**
 * The pid of the process that listens on `port`: of all holders of the listening socket (forked session
 * children may inherit it), the one whose parent does not hold it.
 */
export function pidListeningOn(port: number): number {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) throw new Error(`nothing listens on port ${port}`);
  const holders = new Set<number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[] = [];
    try { fds = readdirSync(`/proc/${name}/fd`); } catch { continue; }
    for (const fd of fds) {
      let link = '';
      try { link = readlinkSync(`/proc/${name}/fd/${fd}`); } catch { continue; }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) { holders.add(Number(name)); break; }
    }
  }
  const stats = readAllStats();
  const root = [...holders].find((pid) => !holders.has(stats.find((s) => s.pid === pid)?.ppid ?? -1));
  if (root === undefined) throw new Error(`no process holds the listening socket of port ${port}`);
  return root;
}

/**
 * Waits (bounded, polling every 50 ms) until the server tree is back to `size` processes: a forking
 * server's session child may still be finishing (and using CPU) after the client has gone.
 */
export async function settleTree(pid: number, size: number, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (treeSize(pid) > size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

const CPUACCT_ROOT = '/sys/fs/cgroup/cpuacct';

/**
 * A server's CPU time from a cgroup of its own (cgroup v1 cpuacct; `cpuacct.usage` in ns). Unlike the
 * process tree it also counts session processes that were re-parented to init when their parent exited
 * first (vsftpd's unprivileged session child), which no tree walk can find. The daemon is moved in once
 * it listens (before any session), so every process it forks starts inside. undefined when the hierarchy
 * is not there or not writable (then the /proc tree is used, see treeCpuMs).
 */
export interface CpuAccount {
  usageMs(): number;
  /** Removes the cgroup once the server has exited (bounded retries while its last processes go). */
  remove(): Promise<void>;
}

export function cpuAccount(name: string, pid: number): CpuAccount | undefined {
  const dir = `${CPUACCT_ROOT}/ftpkit-bench-${process.pid}-${name}`;
  try {
    mkdirSync(dir);
  } catch {
    return undefined;
  }
  try {
    writeFileSync(`${dir}/cgroup.procs`, String(pid));
  } catch {
    try { rmdirSync(dir); } catch { /* nothing to remove */ }
    return undefined;
  }
  return {
    usageMs: () => Number(readFileSync(`${dir}/cpuacct.usage`, 'utf8').trim()) / 1e6,
    async remove() {
      for (let i = 0; i < 50; i++) {
        try { rmdirSync(dir); return; } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      process.stderr.write(`[bench] could not remove ${dir} (processes left in it?)\n`);
    },
  };
}

/** One process's resident memory (VmRSS of /proc/PID/status), KiB. */
export function vmRssKiB(pid: number): number {
  return parseStatusVmRssKiB(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** How many descriptors a process has open (entries of /proc/PID/fd). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A process's soft limit of open files (/proc/PID/limits). */
export function openFilesLimit(pid: number): number {
  return parseLimitsOpenFiles(readFileSync(`/proc/${pid}/limits`, 'utf8'));
}
