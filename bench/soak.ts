/**
 * `npm run bench:soak` (= `npm run bench -- --soak`): the soak run of issue 12. N concurrent sessions (default
 * 1,000) for M minutes (default 10) against `ftpkit serve` as a child process (bench/lib/serve-child.ts), each
 * doing mixed work over raw sockets (bench/lib/load-client.ts's control connection and passive transfers):
 * login, PWD, CWD/CDUP, LIST and MLSD, RETR of a small (4 KiB) and a medium (256 KiB) file with the length
 * checked, STOR then DELE, idle periods, reconnects. Reports sessions, operations, errors (must be zero),
 * p50/p99 latency per operation, and the server's RSS and descriptors at the start (all sessions logged in),
 * middle and end, and after they all closed; writes bench/SOAK.md (--out FILE elsewhere). Exit 1 on errors.
 *
 *   npm run bench:soak                                 # 1,000 sessions, 10 minutes
 *   npm run bench:soak -- --sessions 200 --minutes 2   # shortened
 *
 * Limits that would otherwise refuse the run are raised in the server's config: maxSessions, per-address
 * sessions (every session comes from 127.0.0.1), the defender's allow list (loopback) and verifications per
 * address, and a passive range of two ports per session. Descriptors: each session holds one control socket
 * and, while it transfers, a data socket and a passive listener, on both sides; bench/run.sh raises
 * `ulimit -n` (65536, else the hard limit), which the server child inherits; the report gives its limit.
 */
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runIfMain, writeReport } from './lib/entry.js';
import { parsePasvReply } from '../src/protocol/hostport.js';
import { freePortRange } from '../test/support/peers-common.js';
import { connect, login, retrieve, type Control, type Target } from './lib/load-client.js';
import { seededRandom, type Rand } from './lib/fuzz-lines.js';
import { probeClient, settle, startServeChild, type ServeChild } from './lib/serve-child.js';
import { percentile } from './lib/stats.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SMALL = 4 * 1024;
const MEDIUM = 256 * 1024;
const UPLOAD = 16 * 1024;
const OP_TIMEOUT_MS = 30_000;

interface SoakOptions { sessions: number; minutes: number; seed: number; out: string }

function parseArgs(argv: readonly string[]): SoakOptions {
  const o: SoakOptions = { sessions: 1000, minutes: 10, seed: 20_261_206, out: path.join(repo, 'bench/SOAK.md') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--sessions') o.sessions = Math.round(num());
    else if (a === '--minutes') o.minutes = num();
    else if (a === '--seed') o.seed = Math.round(num());
    else if (a === '--out') o.out = path.resolve(argv[++i] ?? '');
    else throw new Error(`unknown option ${a}; usage: npm run bench:soak [-- --sessions N --minutes M --seed N --out FILE]`);
  }
  return o;
}

type Op = 'login' | 'pwd' | 'cwd' | 'list' | 'mlsd' | 'retr-small' | 'retr-medium' | 'stor+dele' | 'idle' | 'reconnect';
const WEIGHTS: Array<[Op, number]> = [
  ['pwd', 15], ['cwd', 10], ['list', 10], ['mlsd', 10], ['retr-small', 20], ['retr-medium', 8], ['stor+dele', 12], ['idle', 10], ['reconnect', 5],
];
const TOTAL_WEIGHT = WEIGHTS.reduce((s, [, w]) => s + w, 0);

function pickOp(r: Rand): Op {
  let x = r() * TOTAL_WEIGHT;
  for (const [op, w] of WEIGHTS) { if ((x -= w) < 0) return op; }
  return 'pwd';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** STOR of `bytes` zeros through a passive data connection, the final reply checked. */
async function store(t: Target, control: Control, remote: string, bytes: number, signal: AbortSignal): Promise<void> {
  const pasv = await control.send('PASV', ['227']);
  const data = await connect(t.host, parsePasvReply(pasv.message).port, signal);
  try {
    data.on('error', () => undefined);
    await control.send(`STOR ${remote}`, ['1'], 'STOR');
    await new Promise<void>((resolve) => data.end(Buffer.alloc(bytes), () => resolve()));
    await control.send('', ['2'], 'STOR end');
  } finally {
    data.destroy();
  }
}

interface Stats {
  sessions: number; ops: number; errors: number; reasons: Map<string, number>; latencies: Map<Op, number[]>;
  loggedIn: number;
}

/** One simulated user: logs in, works until `deadline`, reconnecting now and then. */
async function user(id: number, t: Target, r: Rand, deadline: number, stats: Stats, firstLogin: () => void): Promise<void> {
  let control: Control | undefined;
  let n = 0;
  let first = true;
  while (Date.now() < deadline) {
    const op: Op = control ? pickOp(r) : 'login';
    const ac = new AbortController();
    const data: net.Socket[] = [];
    const timer = setTimeout(() => ac.abort(), OP_TIMEOUT_MS);
    const onAbort = (): void => { control?.fail(new Error('timeout')); control?.socket.destroy(); for (const d of data) d.destroy(); };
    ac.signal.addEventListener('abort', onAbort, { once: true });
    const t0 = performance.now();
    try {
      const c = control;
      switch (op) {
        case 'login':
          control = await login(t, ac.signal);
          stats.sessions++;
          await control.send('TYPE I', ['200']);
          if (first) { first = false; firstLogin(); }
          break;
        case 'pwd': await c!.send('PWD', ['257']); break;
        case 'cwd': await c!.send('CWD /dir', ['250']); await c!.send('CDUP', ['2']); break;
        case 'list': await retrieve(t, c!, 'LIST /dir', (d) => data.push(d), ac.signal); break;
        case 'mlsd': await retrieve(t, c!, 'MLSD /dir', (d) => data.push(d), ac.signal); break;
        case 'retr-small': case 'retr-medium': {
          const [file, size] = op === 'retr-small' ? ['/small.bin', SMALL] : ['/medium.bin', MEDIUM];
          const got = await retrieve(t, c!, `RETR ${file}`, (d) => data.push(d), ac.signal);
          if (got !== size) throw new Error(`${op}: ${got} bytes instead of ${size}`);
          break;
        }
        case 'stor+dele': {
          const name = `/upload/s${id}-${n++}.bin`;
          await store(t, c!, name, UPLOAD, ac.signal);
          const size = await c!.send(`SIZE ${name}`, ['213']);
          if (Number(size.message) !== UPLOAD) throw new Error(`SIZE after STOR: ${size.message}`);
          await c!.send(`DELE ${name}`, ['250']);
          break;
        }
        case 'idle':
          clearTimeout(timer);
          await sleep(Math.min(2000 + r() * 8000, Math.max(0, deadline - Date.now())));
          await c!.send('NOOP', ['200']);
          break;
        case 'reconnect':
          await c!.send('QUIT', ['221']);
          c!.socket.destroy();
          control = undefined;
          break;
      }
      stats.ops++;
      if (op !== 'idle') {
        let list = stats.latencies.get(op);
        if (!list) stats.latencies.set(op, (list = []));
        list.push(performance.now() - t0);
      }
    } catch (err) {
      stats.errors++;
      const why = `${op}: ${ac.signal.aborted ? `timeout after ${OP_TIMEOUT_MS} ms` : (err as Error).message}`;
      stats.reasons.set(why, (stats.reasons.get(why) ?? 0) + 1);
      control?.socket.destroy();
      control = undefined;
      if (first) { first = false; firstLogin(); }
    } finally {
      clearTimeout(timer);
      ac.signal.removeEventListener('abort', onAbort);
      for (const d of data) d.destroy();
    }
    // Think time between operations, as a person or a sync tool has.
    await sleep(200 + r() * 1800);
  }
  if (control) {
    await control.send('QUIT', ['221']).catch(() => undefined);
    control.socket.destroy();
  }
}

interface Sample { label: string; atS: number; rssKiB: number; heapKiB: number; fds: number }

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
const ms = (v: number | undefined): string => (v === undefined ? '-' : v < 10 ? v.toFixed(1) : v.toFixed(0));

/** The whole run; resolves with the exit code (1 on any error, a crash, or a failed probe). */
export async function soakRun(argv: readonly string[]): Promise<number> {
  const o = parseArgs(argv);
  const started = new Date();
  const loadStart = os.loadavg().map((v) => v.toFixed(2)).join(' ');
  const pasv = await freePortRange(Math.min(4000, o.sessions * 2 + 50));
  const child: ServeChild = await startServeChild({
    repo,
    files: { 'small.bin': Buffer.alloc(SMALL, 1), 'medium.bin': Buffer.alloc(MEDIUM, 2), 'upload/': '', 'dir/a.txt': 'a', 'dir/b.txt': 'b', 'dir/sub/': '' },
    maxSessions: o.sessions + 200,
    config: {
      passive: { ports: `${pasv.min}-${pasv.max}` },
      limits: { maxSessions: o.sessions + 200, maxSessionsPerAddress: 0 },
    },
  });
  const t: Target = { host: child.host, port: child.port, login: child.login };
  const stats: Stats = { sessions: 0, ops: 0, errors: 0, reasons: new Map(), latencies: new Map(), loggedIn: 0 };
  const samples: Sample[] = [];
  const t0 = performance.now();
  const sample = async (label: string): Promise<void> => {
    if (!child.alive()) return;
    const s = await child.sampleAfterGc();
    samples.push({ label, atS: (performance.now() - t0) / 1000, ...s });
    process.stderr.write(`[soak] ${label}: ${stats.sessions} sessions, ${stats.ops} ops, ${stats.errors} errors; server RSS ${mib(s.rssKiB)}, heap ${mib(s.heapKiB)} (after GC), ${s.fds} fds\n`);
  };
  let exitCode = 0;
  try {
    await sample('fresh');
    const durationMs = o.minutes * 60_000;
    const deadline = Date.now() + durationMs;
    let resolveRamp: () => void = () => {};
    const ramped = new Promise<void>((resolve) => { resolveRamp = resolve; });
    const firstLogin = (): void => { if (++stats.loggedIn === o.sessions) resolveRamp(); };
    const users: Array<Promise<void>> = [];
    // Ramp up 50 sessions at a time, so the connects do not overflow the listen backlog.
    for (let i = 0; i < o.sessions; i++) {
      users.push(user(i, t, seededRandom((o.seed * 7919 + i) >>> 0), deadline, stats, firstLogin));
      if (i % 50 === 49) await sleep(100);
    }
    const progress = setInterval(() => { void sample('progress'); }, 30_000);
    try {
      await Promise.race([ramped, sleep(durationMs)]);
      await sample('start');
      await sleep(Math.max(0, deadline - durationMs / 2 - Date.now()));
      await sample('middle');
      await sleep(Math.max(0, deadline - 1000 - Date.now()));
      await sample('end');
      await Promise.all(users);
    } finally {
      clearInterval(progress);
    }
    const seconds = (performance.now() - t0) / 1000;
    await settle(5000);
    await sample('after');
    const alive = child.alive();
    const probe = alive ? await probeClient(child) : 'the server is gone';
    const loadEnd = os.loadavg().map((v) => v.toFixed(2)).join(' ');
    const ok = alive && stats.errors === 0 && probe === '';
    if (!ok) exitCode = 1;
    const all = [...stats.latencies.values()].flat();
    const rows = [...stats.latencies.entries()].sort((a, b) => a[0].localeCompare(b[0]))
      .map(([op, l]) => `| ${op} | ${l.length.toLocaleString('en')} | ${ms(percentile(l, 50))} | ${ms(percentile(l, 99))} |`);
    const reasons = [...stats.reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([why, n]) => `- ${n} x ${why}`);
    const md = [
      '# Soak run (issue 12)',
      '',
      `\`npm run bench:soak -- --sessions ${o.sessions} --minutes ${o.minutes}\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC;`
        + ` ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}; load average ${loadStart} at the start, ${loadEnd} at the end.`,
      '',
      'Against `ftpkit serve` (dist/) as a child process, sessions from one process on the same machine (the client',
      'work competes with the server for the 2 cores). How: [docs/bench.md](../docs/bench.md#the-soak-run).',
      '',
      '| figure | value |',
      '|---|---|',
      `| result | ${ok ? '**pass**' : '**FAIL**'} |`,
      `| concurrent sessions | ${o.sessions.toLocaleString('en')} (${stats.loggedIn.toLocaleString('en')} ramped up) |`,
      `| sessions (logins, with reconnects) | ${stats.sessions.toLocaleString('en')} |`,
      `| operations | ${stats.ops.toLocaleString('en')} (${(stats.ops / seconds).toFixed(0)}/s) |`,
      `| errors | ${stats.errors} |`,
      `| latency p50 / p99 (all but idle) | ${ms(percentile(all, 50))} / ${ms(percentile(all, 99))} ms |`,
      `| crashes | ${alive ? 0 : 1} |`,
      `| normal client afterwards | ${probe === '' ? 'logged in and downloaded probe.txt' : probe} |`,
      `| duration | ${seconds.toFixed(0)} s |`,
      `| server descriptor limit | ${child.fdLimit} |`,
      '',
      '| server | at | RSS | V8 heap in use | fds |',
      '|---|---|---|---|---|',
      ...samples.filter((s) => s.label !== 'progress').map((s) => `| ${s.label} | ${s.atS.toFixed(0)} s | ${mib(s.rssKiB)} | ${mib(s.heapKiB)} | ${s.fds} |`),
      '',
      '"start" is when every session has logged in; "end" one second before the sessions stop; "after" once all',
      'of them have closed and 5 s passed. Each sample is taken 0.5 s after a full GC in the server (SIGUSR2; bench/lib/serve-child.ts).',
      '',
      '| operation | count | p50 ms | p99 ms |',
      '|---|---|---|---|',
      ...rows,
      ...(reasons.length ? ['', '## Errors', '', ...reasons] : []),
      '',
    ].join('\n');
    writeReport(o.out, md, 'soak');
  } finally {
    await child.stop();
  }
  return exitCode;
}

runIfMain(import.meta.url, 'bench:soak', soakRun);
