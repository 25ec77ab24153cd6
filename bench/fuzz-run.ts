/**
 * `npm run bench:fuzz` (= `npm run bench -- --fuzz`): the long fuzz run of issue 12. Fuzzed command lines
 * (bench/lib/fuzz-lines.ts: verbs of the command table with random arguments, bytes 0-255, Telnet, over-long
 * lines, random chunking; before and after login, 10% of the sessions under AUTH TLS) over many sessions
 * against `ftpkit serve` as a child process (bench/lib/serve-child.ts). Checks, with the strict reply checks
 * of bench/lib/fuzz-session.ts:
 * - no crash: the child is alive at the end;
 * - no hang: every batch of every session is answered within --timeout (10 s);
 * - one well-formed final reply per complete line (RFC 959 s4.2), only documented 421 closes;
 * - memory and descriptors flat: VmRSS and /proc/PID/fd count after a warm-up and a settle, and at the end
 *   after the same settle;
 * - a normal client (FtpClient) still logs in and downloads afterwards.
 * Prints the figures and writes them to bench/FUZZ.md (--out FILE elsewhere). Exit 1 when a check fails.
 *
 *   npm run bench:fuzz                              # 10^6 lines
 *   npm run bench:fuzz -- --lines 100000 --concurrency 8 --seed 7 --out /tmp/FUZZ.md
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runIfMain, writeReport } from './lib/entry.js';
import { runFuzzSession, startDataSink, type FuzzSessionResult } from './lib/fuzz-session.js';
import { seededRandom } from './lib/fuzz-lines.js';
import { probeClient, settle, startServeChild, type MemorySample, type ServeChild } from './lib/serve-child.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAX_LINE = 4096;

interface FuzzRunOptions { lines: number; perSession: number; concurrency: number; seed: number; timeoutMs: number; out: string }

function parseArgs(argv: readonly string[]): FuzzRunOptions {
  const o: FuzzRunOptions = { lines: 1_000_000, perSession: 200, concurrency: 16, seed: 20_261_206, timeoutMs: 10_000, out: path.join(repo, 'bench/FUZZ.md') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--lines') o.lines = Math.round(num());
    else if (a === '--per-session') o.perSession = Math.round(num());
    else if (a === '--concurrency') o.concurrency = Math.round(num());
    else if (a === '--seed') o.seed = Math.round(num());
    else if (a === '--timeout') o.timeoutMs = num() * 1000;
    else if (a === '--out') o.out = path.resolve(argv[++i] ?? '');
    else throw new Error(`unknown option ${a}; usage: npm run bench:fuzz [-- --lines N --per-session N --concurrency N --seed N --timeout S --out FILE]`);
  }
  return o;
}

interface Totals {
  sessions: number; lines: number; bytes: number; /** Lines given to sessions already started. */ reserved: number; replies: number; closes421: number; hangs: number; failures: number;
  tls: number; loggedIn: number; passive: number; codes: Map<number, number>; firstFailures: string[];
}

function describe(res: FuzzSessionResult, seed: number): string {
  return `session seed ${seed}: ${res.failure ?? 'violations'}${res.violations.length ? ` [${res.violations.slice(0, 3).join('; ')}]` : ''}`
    + `\n    last bytes sent: ${JSON.stringify(res.tail.slice(-300))}`;
}

async function runSessions(child: ServeChild, o: FuzzRunOptions, sinkPort: number, first: number, count: number, totals: Totals,
  progress: (done: number) => void): Promise<void> {
  let next = first;
  const end = first + count;
  const worker = async (): Promise<void> => {
    while (next < end && child.alive()) {
      const index = next++;
      const seed = (o.seed * 1_000_003 + index) >>> 0;
      const r = seededRandom(seed);
      const kind = r();
      const tls = kind < 0.1;
      const login = kind < 0.55 ? child.login : kind < 0.65 ? { user: 'anonymous', password: 'fuzz@example.org' } : undefined;
      const lines = Math.min(o.perSession, o.lines - totals.reserved);
      if (lines <= 0) return;
      totals.reserved += lines;
      const res = await runFuzzSession({ host: child.host, port: child.port, tls }, r, {
        lines, maxLineLength: MAX_LINE, sinkPort, login, replyTimeoutMs: o.timeoutMs,
      });
      totals.sessions++;
      totals.lines += res.linesSent;
      totals.bytes += res.bytesSent;
      totals.replies += res.finals;
      totals.passive += res.dataConnections;
      if (tls) totals.tls++;
      if (login) totals.loggedIn++;
      if (res.closedWith421) totals.closes421++;
      for (const c of res.codes) totals.codes.set(c, (totals.codes.get(c) ?? 0) + 1);
      if (res.hang) totals.hangs++;
      if (res.failure || res.violations.length) {
        totals.failures++;
        if (totals.firstFailures.length < 10) totals.firstFailures.push(describe(res, seed));
      }
      progress(totals.lines);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, () => worker()));
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

/** The whole run; resolves with the exit code (1 when a check failed). */
export async function fuzzRun(argv: readonly string[]): Promise<number> {
  const o = parseArgs(argv);
  const started = new Date();
  const loadStart = os.loadavg().map((v) => v.toFixed(2)).join(' ');
  const child = await startServeChild({
    repo,
    files: { 'hello.txt': 'hello\n', 'dir/a b.txt': 'x'.repeat(70_000), 'dir/sub/': '', 'upload/': '' },
    config: {
      limits: { maxSessions: 2000, maxSessionsPerAddress: 0, maxLineLength: MAX_LINE, maxLoginFailures: 1_000_000, loginFailureDelay: '10ms' },
      timeouts: { dataConnect: '1s', passiveReclaim: '1s' },
    },
  });
  const sink = await startDataSink();
  const totals: Totals = {
    sessions: 0, lines: 0, bytes: 0, reserved: 0, replies: 0, closes421: 0, hangs: 0, failures: 0, tls: 0, loggedIn: 0, passive: 0,
    codes: new Map(), firstFailures: [],
  };
  let exitCode = 0;
  try {
    const fresh = await child.sampleAfterGc();
    const t0 = performance.now();
    let lastPrint = 0;
    const progress = (done: number): void => {
      const now = performance.now();
      if (now - lastPrint < 5000) return;
      lastPrint = now;
      if (!child.alive()) return;
      void child.sampleAfterGc().then((s) => process.stderr.write(`[fuzz] ${done.toLocaleString('en')} / ${o.lines.toLocaleString('en')} lines, ${totals.sessions} sessions, `
        + `${totals.failures} failed, ${totals.hangs} hangs; server RSS ${mib(s.rssKiB)}, heap ${mib(s.heapKiB)} (after GC), ${s.fds} fds; ${((now - t0) / 1000).toFixed(0)} s\n`), () => undefined);
    };
    // Warm-up (1% of the lines): JIT, pools and caches reach their working size before "before" is taken.
    const warmupLines = Math.max(o.perSession, Math.round(o.lines / 100));
    const warmupSessions = Math.ceil(warmupLines / o.perSession);
    await runSessions(child, { ...o, lines: warmupLines }, sink.port, 0, warmupSessions, totals, progress);
    totals.reserved = totals.lines;
    await settle(3000);
    const before = await child.sampleAfterGc();
    // The middle sample: memory that keeps growing between the middle and the end is a leak; growth
    // before the middle can be the heap finding its working size.
    let middle: Promise<MemorySample> | undefined;
    const half = (done: number): void => {
      if (!middle && done >= o.lines / 2 && child.alive()) middle = child.sampleAfterGc();
      progress(done);
    };
    await runSessions(child, o, sink.port, warmupSessions, Math.ceil(o.lines / o.perSession) * 2, totals, half);
    const seconds = (performance.now() - t0) / 1000;
    const alive = child.alive();
    await settle(3000);
    const after = alive ? await child.sampleAfterGc() : undefined;
    const probe = alive ? await probeClient(child) : 'the server is gone';
    const loadEnd = os.loadavg().map((v) => v.toFixed(2)).join(' ');
    const mid = (await middle) ?? before;
    const rssGrowth = after ? (after.rssKiB - mid.rssKiB) / mid.rssKiB : Infinity;
    const heapGrowth = after ? (after.heapKiB - mid.heapKiB) / mid.heapKiB : Infinity;
    // Flat: descriptors back to their level (the listeners and log files), memory (RSS and, when the child
    // reported it, the heap in use after GC) at the end within 15% of the middle of the run.
    const flat = !!after && after.fds <= before.fds + 2 && rssGrowth < 0.15 && !(heapGrowth >= 0.15);
    const ok = alive && totals.hangs === 0 && totals.failures === 0 && probe === '' && flat;
    if (!ok) exitCode = 1;
    const codes = [...totals.codes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 16).map(([c, n]) => `${c}: ${n.toLocaleString('en')}`).join(', ');
    const md = [
      '# Fuzz run (issue 12)',
      '',
      `\`npm run bench:fuzz -- --lines ${o.lines} --per-session ${o.perSession} --concurrency ${o.concurrency} --seed ${o.seed}\``
        + ` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}),`
        + ` Node ${process.version}; load average ${loadStart} at the start, ${loadEnd} at the end.`,
      '',
      'Against `ftpkit serve` (dist/) as a child process: limits raised (sessions, failed logins per session), loopback',
      'allow-listed in the defender, data-connect timeout 1 s, maxLineLength 4096. How: [docs/bench.md](../docs/bench.md#the-fuzz-run).',
      '',
      '| figure | value |',
      '|---|---|',
      `| result | ${ok ? '**pass**' : '**FAIL**'} |`,
      `| command lines (inputs) | ${totals.lines.toLocaleString('en')} (${(totals.bytes / 1024 / 1024).toFixed(1)} MiB sent) |`,
      `| sessions | ${totals.sessions.toLocaleString('en')} (${totals.loggedIn.toLocaleString('en')} logged in first, ${totals.tls.toLocaleString('en')} under AUTH TLS), ${o.concurrency} at a time |`,
      `| final replies | ${totals.replies.toLocaleString('en')} |`,
      `| data connections | ${totals.passive.toLocaleString('en')} passive, ${sink.accepted().toLocaleString('en')} active |`,
      `| crashes | ${alive ? 0 : 1} |`,
      `| hangs (no reply within ${o.timeoutMs / 1000} s) | ${totals.hangs} |`,
      `| sessions with a wrong reply count or a malformed reply | ${totals.failures} |`,
      `| sessions closed with 421 (documented) | ${totals.closes421} |`,
      `| server RSS fresh / before / middle / after | ${mib(fresh.rssKiB)} / ${mib(before.rssKiB)} / ${mib(mid.rssKiB)} / ${after ? mib(after.rssKiB) : '-'} (middle to after ${after ? `${rssGrowth >= 0 ? '+' : ''}${(rssGrowth * 100).toFixed(1)}%` : '-'}) |`,
      `| server V8 heap in use fresh / before / middle / after | ${mib(fresh.heapKiB)} / ${mib(before.heapKiB)} / ${mib(mid.heapKiB)} / ${after ? mib(after.heapKiB) : '-'} (middle to after ${after ? `${heapGrowth >= 0 ? '+' : ''}${(heapGrowth * 100).toFixed(1)}%` : '-'}) |`,
      `| server fds fresh / before / middle / after | ${fresh.fds} / ${before.fds} / ${mid.fds} / ${after?.fds ?? '-'} (limit ${child.fdLimit}) |`,
      `| memory and descriptors flat | ${flat ? 'yes' : '**no**'} (fds after at most before + 2, RSS and heap after within 15% of the middle) |`,
      `| normal client afterwards | ${probe === '' ? 'logged in and downloaded probe.txt' : probe} |`,
      `| duration | ${seconds.toFixed(0)} s (${Math.round(totals.lines / seconds).toLocaleString('en')} lines/s) |`,
      '',
      `Reply codes seen (most frequent): ${codes}.`,
      '',
      '"before" is after a warm-up of 1% of the lines and a 3 s settle; "middle" when half of the lines were sent',
      '(sessions running); "after" after the same 3 s settle at the end. Each sample is taken 0.5 s after a full GC in',
      'the server (SIGUSR2 to a preload that calls gc(); bench/lib/serve-child.ts).',
      ...(totals.firstFailures.length ? ['', '## Failures', '', ...totals.firstFailures.map((f) => `- ${f}`)] : []),
      '',
    ].join('\n');
    writeReport(o.out, md, 'fuzz');
  } finally {
    await sink.close();
    await child.stop();
  }
  return exitCode;
}

runIfMain(import.meta.url, 'bench:fuzz', fuzzRun);
