/**
 * Sessions per second under concurrency (issue 10 target: >= 1.5 x ftp-srv's 893/s at 500 concurrent, zero
 * failures). Each session: connect, USER/PASS (anonymous), TYPE I, PASV, RETR of a 64 KiB file, QUIT, as
 * `concurrency` clients in parallel until `total` sessions ran. Prints sessions/s, failures and p50/p99 of a
 * session's duration, and the server's CPU time per session when it started the server itself.
 *
 *   ulimit -n 25000; npm run build
 *   node --import tsx scripts/session-load.ts --concurrency 500 --total 5000 [--json] [--cpu-prof DIR]
 *   node --import tsx scripts/session-load.ts --port 2121 [--host 127.0.0.1] [--user U --password P] [--file /f]
 *
 * Without --port it starts the built `ftpkit serve` (dist/, anonymous, a temporary folder with the 64 KiB
 * file, log at the default level into /dev/null) in a child process, so the client side does not share its
 * CPU; --cpu-prof DIR writes the server's V8 profile there; --build DIR runs another build (e.g. main's dist/)
 * to compare in the same conditions. Raw FTP over node:net (scripts/raw-ftp.ts).
 * Only loopback servers you run yourself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parsePasvReply } from '../src/protocol/hostport.js';
import { RawControl } from './raw-ftp.js';
import { parseProcStat } from '../bench/lib/proc-stat.js';
import { percentile } from '../bench/lib/stats.js';

const FILE_BYTES = 64 * 1024;

interface Target { host: string; port: number; user: string; password: string; file: string }

/** One whole session; resolves with its duration in ms. */
async function oneSession(t: Target, timeoutMs: number): Promise<number> {
  const started = performance.now();
  const c = await RawControl.open(t.host, t.port, timeoutMs);
  try {
    await c.login(t.user, t.password);
    await c.command('TYPE I', 200);
    const pasv = parsePasvReply((await c.command('PASV', 227)).message);
    const data = connect({ host: t.host, port: pasv.port });
    let bytes = 0;
    data.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    const dataDone = once(data, 'close');
    await once(data, 'connect');
    await c.command(`RETR ${t.file}`, 150, 125);
    await dataDone;
    const final = await c.next();
    if (final.code !== 226) throw new Error(`RETR: ${final.code} ${final.message}`);
    if (bytes !== FILE_BYTES) throw new Error(`RETR: ${bytes} bytes, expected ${FILE_BYTES}`);
    await c.command('QUIT', 221);
    return performance.now() - started;
  } finally {
    c.close();
  }
}

/**
 * CPU time (user + system, ms) of a process so far, from /proc (Linux): on a busy machine the server's CPU
 * per session is steadier than sessions/s. Undefined where /proc is missing.
 */
async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const { utime, stime } = parseProcStat(stat); // clock ticks of 10 ms (USER_HZ 100)
  return (utime + stime) * 10;
}

async function startServer(cpuProf: string | undefined, build: string, logLevel: string | undefined): Promise<{ child: ChildProcess; port: number; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ftpkit-load-'));
  await writeFile(path.join(dir, 'file64k'), Buffer.alloc(FILE_BYTES, 0x61));
  const main = path.join(build, 'cli', 'main.js');
  const args = [...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(cpuProf)] : []), main, 'serve', dir,
    '--port', '0', '--host', '127.0.0.1', '--max-sessions', '5000', '--max-sessions-per-address', '0', '--pasv-ports', '42000-47999', ...(logLevel ? ['--log-level', logLevel] : [])];
  // Bench runs as root: serve may stay root (builds before the run.allowRoot check ignore the variable).
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, FTPKIT_ALLOW_ROOT: '1' } });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /ftp:\/\/[^\s/]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', code => reject(new Error(`ftpkit serve exited (${code}) before its banner: run npm run build first`)));
  });
  return { child, port, dir };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '500' }, total: { type: 'string', default: '5000' },
      host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' },
      user: { type: 'string', default: 'anonymous' }, password: { type: 'string', default: 'load@example.com' },
      file: { type: 'string', default: 'file64k' }, timeout: { type: 'string', default: '60' },
      json: { type: 'boolean' }, 'cpu-prof': { type: 'string' },
      'log-level': { type: 'string' },
      build: { type: 'string', default: fileURLToPath(new URL('../dist', import.meta.url)) },
    },
  });
  const concurrency = Number(values.concurrency);
  const total = Number(values.total);
  const server = values.port ? undefined : await startServer(values['cpu-prof'], path.resolve(values.build!), values['log-level']);
  const target: Target = { host: values.host!, port: server?.port ?? Number(values.port), user: values.user!, password: values.password!, file: values.file! };
  const durations: number[] = [];
  const errors = new Map<string, number>();
  let started = 0;
  const cpuBefore = await cpuMs(server?.child.pid);
  const t0 = performance.now();
  const worker = async () => {
    while (started < total) {
      started++;
      try {
        durations.push(await oneSession(target, Number(values.timeout) * 1000));
      } catch (err) {
        const key = (err as Error).message.slice(0, 80);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = (performance.now() - t0) / 1000;
  const cpuAfter = await cpuMs(server?.child.pid);
  const serverCpuMsPerSession = cpuBefore !== undefined && cpuAfter !== undefined ? +((cpuAfter - cpuBefore) / total).toFixed(2) : undefined;
  durations.sort((a, b) => a - b);
  const failures = [...errors.values()].reduce((a, b) => a + b, 0);
  const result = {
    concurrency, total, ok: durations.length, failures, sessionsPerSecond: Math.round(durations.length / wall),
    p50ms: Math.round(percentile(durations, 50) ?? NaN), p99ms: Math.round(percentile(durations, 99) ?? NaN), wallSeconds: +wall.toFixed(2),
    serverCpuMsPerSession,
    errors: Object.fromEntries(errors),
  };
  if (server) {
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
    await once(server.child, 'exit');
    clearTimeout(timer);
    await rm(server.dir, { recursive: true, force: true });
  }
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n`
    : `${result.ok}/${total} sessions at ${concurrency} concurrent: ${result.sessionsPerSecond} sessions/s, ${failures} failures, p50 ${result.p50ms} ms, p99 ${result.p99ms} ms (${result.wallSeconds} s)${serverCpuMsPerSession !== undefined ? `, server CPU ${serverCpuMsPerSession} ms/session` : ''}${failures ? `\n${JSON.stringify(result.errors)}` : ''}\n`);
}

await main();
