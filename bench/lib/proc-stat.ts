/**
 * Pure parsers for Linux /proc files (proc(5)): the per-process stat line (CPU ticks, parent, RSS) and
 * smaps_rollup (PSS). The bench measures a server as its whole process tree, because the forking servers
 * (vsftpd, proftpd, pure-ftpd) do their work in per-session children.
 */

export interface ProcStat {
  pid: number;
  /** The executable name (field 2, without the parentheses; it may itself contain spaces and ')'). */
  comm: string;
  state: string;
  ppid: number;
  /** Clock ticks (sysconf(_SC_CLK_TCK), 100 on Linux) in user and kernel mode, and of waited-for children. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Resident set size in pages (field 24). */
  rssPages: number;
}

/**
 * Parses /proc/PID/stat. Field 2 (comm) is in parentheses and may contain anything, so the fields after it
 * are counted from the LAST ')' (proc(5)).
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/PID/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const field = (n: number): number => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`field ${n} missing in /proc/${pid}/stat`);
    return v;
  };
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
    rssPages: field(24),
  };
}

/** The pids of `root` and all its descendants among `all` (one snapshot of every process). */
export function treePids(root: number, all: readonly ProcStat[]): number[] {
  if (!all.some((p) => p.pid === root)) return [];
  const children = new Map<number, number[]>();
  for (const p of all) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid); else children.set(p.ppid, [p.pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU ticks used by a process tree so far: each live member's own time plus the time of its children that
 * it has already waited for (cutime/cstime). A session child that exits between two samples moves its
 * time into its parent's cutime, so the difference of two samples counts it exactly once.
 */
export function treeCpuTicks(root: number, all: readonly ProcStat[]): number {
  const members = new Set(treePids(root, all));
  let ticks = 0;
  for (const p of all) {
    if (members.has(p.pid)) ticks += p.utime + p.stime + p.cutime + p.cstime;
  }
  return ticks;
}

/** Sum of the RSS of a process tree in KiB. */
export function treeRssKiB(root: number, all: readonly ProcStat[], pageBytes = 4096): number {
  const members = new Set(treePids(root, all));
  let pages = 0;
  for (const p of all) if (members.has(p.pid)) pages += p.rssPages;
  return (pages * pageBytes) / 1024;
}

/**
 * The "Pss:" line of /proc/PID/smaps_rollup in KiB: the process's share of its resident pages, shared
 * pages divided among the processes mapping them. Summed over a forking server's tree it gives the memory
 * the sessions really add, where summed RSS would count the shared executable once per session.
 */
export function parseSmapsRollupPss(text: string): number {
  const m = /^Pss:\s+(\d+)\s+kB/m.exec(text);
  if (!m) throw new Error('no Pss line in smaps_rollup');
  return Number(m[1]);
}

/** VmRSS of /proc/PID/status in KiB (proc(5): "VmRSS:    12345 kB"). */
export function parseStatusVmRssKiB(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  if (!m) throw new Error('no VmRSS line in /proc/PID/status');
  return Number(m[1]);
}

/** The soft "Max open files" limit of /proc/PID/limits ("unlimited" as Infinity). */
export function parseLimitsOpenFiles(text: string): number {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m) throw new Error('no "Max open files" line in /proc/PID/limits');
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}
