/**
 * The server figures: curl RETR/STOR (plain and explicit TLS) with the server tree's CPU time, LIST/MLSD
 * of a big folder, sessions per second under N concurrent clients with peak memory, and memory per idle
 * logged-in session. Each function measures ONE server once; the runner interleaves them.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { runCurl } from '../../test/support/peers.js';
import { holdSessions, runLoad, timeListing } from './load-client.js';
import { recyclePages } from './page-cache.js';
import { settleTree, treePssKiB, treeSize } from './proc.js';
import {
  CPU_PER_GIB, FAILED, HELD, KIB_PER_SESSION, MBPS, MS, P50, P99, PEAK_MEM, RATE,
  addFailure, addSample, idleSection, listingSection, markSkipped, sessionsSection, transferSection,
  type ListingKind, type LoginKind, type Results, type TransferKind,
} from './results.js';
import { BIG_NAME, MANY_NAME, SMALL_NAME, type BenchServer } from './servers.js';
import { percentile } from './stats.js';

const GiB = 1024 ** 3;
/** Logins in flight while the idle sessions are opened: below vsftpd's fixed listen backlog of 32 (PEERS.md). */
const IDLE_BATCH = 25;

/** curl's own clock: -w fields after the transfer. */
interface CurlTimes { pretransfer: number; total: number; bytes: number }

function parseTimes(stdout: string): CurlTimes | undefined {
  const m = /(\S+) (\S+) (\d+)\s*$/.exec(stdout.trim());
  if (!m) return undefined;
  return { pretransfer: Number(m[1]), total: Number(m[2]), bytes: Number(m[3]) };
}

function urlOf(s: BenchServer, ftpPath: string): string {
  return `ftp://${s.host}:${s.port}${ftpPath}`;
}

function credentials(s: BenchServer): string[] {
  return ['-u', `${s.main.user}:${s.main.password}`];
}

/**
 * One curl transfer. MB/s = bytes / (time_total - time_pretransfer): from the transfer command to the
 * end, the data and the wait for the final reply; connect and login (a costly hash) excluded.
 */
export async function measureTransfer(
  r: Results, s: BenchServer, kind: TransferKind, local: { big: string; bytes: number; timeoutMs: number; tag: string },
): Promise<void> {
  const section = transferSection(kind);
  const tls = kind.startsWith('TLS');
  if (tls && s.tlsProblem) { markSkipped(r, section, s.name, s.tlsProblem); return; }
  const upload = kind.endsWith('STOR');
  const remote = upload ? `${s.uploadDir}/up-${local.tag}.bin` : `/${BIG_NAME}`;
  const args = [
    ...credentials(s), ...(tls ? ['--ssl-reqd', '-k'] : []),
    ...(upload ? ['-T', local.big] : ['-o', '/dev/null']),
    '-w', upload ? '%{time_pretransfer} %{time_total} %{size_upload}' : '%{time_pretransfer} %{time_total} %{size_download}',
    urlOf(s, remote),
  ];
  // The upload's page-cache pages: freshly freed ones for every server alike (page-cache.ts).
  if (upload) await recyclePages(path.dirname(local.big), local.bytes);
  const size0 = treeSize(s.pid);
  const cpu0 = s.cpuMs();
  const run = await runCurl(args, { timeoutMs: local.timeoutMs });
  await settleTree(s.pid, size0);
  const cpu = s.cpuMs() - cpu0;
  if (upload) await rm(path.join(s.localUploadDir, `up-${local.tag}.bin`), { force: true });
  const t = parseTimes(run.stdout);
  if (run.code !== 0 || !t || t.bytes !== local.bytes) {
    addFailure(r, section, s.name, run.timedOut ? 'curl timed out' : `curl exit ${run.code}: ${run.stderr.trim().split('\n').pop() ?? ''}`);
    return;
  }
  addSample(r, section, s.name, MBPS, t.bytes / 1e6 / Math.max(1e-6, t.total - t.pretransfer));
  addSample(r, section, s.name, CPU_PER_GIB, cpu / (t.bytes / GiB));
}

/** One listing of the big folder (LIST or MLSD) by the load client: ms from PASV to the final reply. */
export async function measureListing(r: Results, s: BenchServer, kind: ListingKind, files: number): Promise<void> {
  const section = listingSection(kind);
  if (kind === 'MLSD' && s.name === 'vsftpd') { markSkipped(r, section, s.name, 'vsftpd 3.0.3 has no MLSD'); return; }
  try {
    const { ms, bytes } = await timeListing({ host: s.host, port: s.port, login: s.main }, `${kind} /${MANY_NAME}`, 60_000);
    // Every entry takes at least its name (10+ bytes): a much shorter listing is a failure, not a fast one.
    if (bytes < files * 10) throw new Error(`short listing (${bytes} bytes)`);
    addSample(r, section, s.name, MS, ms);
  } catch (err) {
    const message = (err as Error).message;
    // 500/502: the server does not know the command.
    if (/^50[02] to /.test(message)) markSkipped(r, section, s.name, `no ${kind} (${message.slice(0, 3)})`);
    else addFailure(r, section, s.name, message);
  }
}

/** Samples the server tree's PSS every `everyMs` until stopped; returns the peak in KiB. */
function peakSampler(pid: number, everyMs: number): { stop: () => number } {
  let peak = treePssKiB(pid);
  const timer = setInterval(() => { peak = Math.max(peak, treePssKiB(pid)); }, everyMs);
  return { stop: () => { clearInterval(timer); return Math.max(peak, treePssKiB(pid)); } };
}

export async function measureSessions(
  r: Results, s: BenchServer, login: LoginKind, level: number, o: { seconds: number; smallBytes: number; timeoutMs: number },
): Promise<void> {
  const section = sessionsSection(login, level);
  const creds = login === 'named' ? s.named : s.anonymous;
  if (!creds) { markSkipped(r, section, s.name, `no ${login} login set up (notes)`); return; }
  const size0 = treeSize(s.pid);
  const sampler = peakSampler(s.pid, 500);
  const res = await runLoad({ host: s.host, port: s.port, login: creds }, {
    path: `/${SMALL_NAME}`, expectBytes: o.smallBytes, concurrency: level, durationMs: o.seconds * 1000, timeoutMs: o.timeoutMs,
  });
  const peak = sampler.stop();
  addSample(r, section, s.name, RATE, res.rate);
  addSample(r, section, s.name, FAILED, res.failed);
  const p50 = percentile(res.latencies, 50);
  const p99 = percentile(res.latencies, 99);
  if (p50 !== undefined) addSample(r, section, s.name, P50, p50);
  if (p99 !== undefined) addSample(r, section, s.name, P99, p99);
  addSample(r, section, s.name, PEAK_MEM, peak / 1024);
  for (const [why, n] of res.reasons) for (let i = 0; i < Math.min(n, 50); i++) addFailure(r, section, s.name, why);
  // Forking servers end their session processes after the client has gone.
  await settleTree(s.pid, size0, 10_000);
}


/** Memory per idle logged-in session: PSS of the server tree with `count` sessions held, minus before. */
export async function measureIdle(r: Results, s: BenchServer, count: number, timeoutMs: number): Promise<void> {
  const section = idleSection(count);
  const creds = s.named ?? s.anonymous!;
  const size0 = treeSize(s.pid);
  const before = treePssKiB(s.pid);
  const { held, reasons } = await holdSessions({ host: s.host, port: s.port, login: creds }, count, IDLE_BATCH, timeoutMs);
  const after = treePssKiB(s.pid);
  for (const sock of held) sock.destroy();
  addSample(r, section, s.name, HELD, held.length);
  if (held.length > 0) addSample(r, section, s.name, KIB_PER_SESSION, (after - before) / held.length);
  for (const [why, n] of reasons) addFailure(r, section, s.name, `${n}x ${why}`);
  await settleTree(s.pid, size0, 60_000);
}
