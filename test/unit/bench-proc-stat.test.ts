// The /proc parsers of the bench (bench/lib/proc-stat.ts): a server's CPU time and memory as a process tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  parseLimitsOpenFiles, parseProcStat, parseSmapsRollupPss, parseStatusVmRssKiB, treeCpuTicks, treePids, treeRssKiB, type ProcStat,
} from '../../bench/lib/proc-stat.js';

// A real line layout (proc(5)): pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
// cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss ...
const line = (pid: number, comm: string, ppid: number, utime: number, stime: number, cutime: number, cstime: number, rss: number): string =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 500 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 1234 10000000 ${rss} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0`;

test('parseProcStat reads the fields after the last ")" even when the name holds spaces and parentheses', () => {
  const p = parseProcStat(line(4242, 'vsftpd (x) y', 1, 120, 30, 5, 7, 900));
  assert.deepEqual(p, { pid: 4242, comm: 'vsftpd (x) y', state: 'S', ppid: 1, utime: 120, stime: 30, cutime: 5, cstime: 7, rssPages: 900 });
});

test('parseProcStat parses this process\'s own stat line', () => {
  const p = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  assert.equal(p.pid > 0, true);
  assert.equal(p.ppid > 0, true);
  assert.equal(Number.isFinite(p.utime + p.stime + p.rssPages), true);
});

test('parseProcStat refuses a line that is not a stat line', () => {
  assert.throws(() => parseProcStat('garbage'), /not a \/proc\/PID\/stat line/);
});

const stats: ProcStat[] = [
  { pid: 1, comm: 'init', state: 'S', ppid: 0, utime: 1000, stime: 1000, cutime: 0, cstime: 0, rssPages: 100 },
  { pid: 10, comm: 'vsftpd', state: 'S', ppid: 1, utime: 5, stime: 5, cutime: 40, cstime: 10, rssPages: 200 },
  { pid: 11, comm: 'vsftpd', state: 'S', ppid: 10, utime: 20, stime: 10, cutime: 0, cstime: 0, rssPages: 300 },
  { pid: 12, comm: 'vsftpd', state: 'S', ppid: 11, utime: 1, stime: 2, cutime: 0, cstime: 0, rssPages: 400 },
  { pid: 20, comm: 'other', state: 'S', ppid: 1, utime: 77, stime: 77, cutime: 0, cstime: 0, rssPages: 500 },
];

test('treePids: the root and every descendant, nothing else; a gone root gives none', () => {
  assert.deepEqual(treePids(10, stats).sort((a, b) => a - b), [10, 11, 12]);
  assert.deepEqual(treePids(99, stats), []);
});

test('treeCpuTicks: own and waited-for children\'s time of every member', () => {
  // 10: 5+5+40+10, 11: 20+10, 12: 1+2
  assert.equal(treeCpuTicks(10, stats), 93);
});

test('treeCpuTicks counts a session child that exits between two samples once', () => {
  const before = treeCpuTicks(10, stats);
  // Child 11 (with its child 12) used 10 more ticks, exited and was waited for: its time is now the parent's cutime.
  const after: ProcStat[] = stats.filter((p) => p.pid !== 11 && p.pid !== 12).map((p) =>
    (p.pid === 10 ? { ...p, cutime: p.cutime + 20 + 10 + 1 + 2 + 10 } : p));
  assert.equal(treeCpuTicks(10, after) - before, 10);
});

test('treeRssKiB sums the tree\'s resident pages', () => {
  assert.equal(treeRssKiB(10, stats), (200 + 300 + 400) * 4);
});

test('parseSmapsRollupPss reads the Pss line in KiB', () => {
  const text = '55d0c0a00000-7ffd1b1ff000 ---p 00000000 00:00 0                          [rollup]\nRss:               10240 kB\nPss:                6123 kB\nPss_Anon:           4000 kB\n';
  assert.equal(parseSmapsRollupPss(text), 6123);
  assert.throws(() => parseSmapsRollupPss('Rss: 1 kB\n'), /no Pss line/);
});

test('parseStatusVmRssKiB and parseLimitsOpenFiles read this process\'s own /proc files (the fuzz and soak runs)', () => {
  const rss = parseStatusVmRssKiB(readFileSync('/proc/self/status', 'utf8'));
  assert.ok(rss > 1000 && rss < 16 * 1024 * 1024, `VmRSS ${rss} KiB`);
  assert.equal(parseStatusVmRssKiB('Name:\tx\nVmRSS:\t   2048 kB\nThreads: 1\n'), 2048);
  assert.throws(() => parseStatusVmRssKiB('Name:\tkthreadd\n'), /VmRSS/);
  assert.ok(parseLimitsOpenFiles(readFileSync('/proc/self/limits', 'utf8')) >= 64);
  assert.equal(parseLimitsOpenFiles('Limit  Soft Limit  Hard Limit  Units\nMax open files            unlimited            unlimited            files\n'), Infinity);
});
