/**
 * LIST and MLSD of a folder of 10,000 files, ftpkit vs vsftpd (issue 10 target: no slower than vsftpd).
 * Both serve the same folder; curl is the client (`curl -X MLSD` for MLSD; vsftpd has no MLSD, so its LIST
 * is the reference). Interleaved repetitions, medians with min-max, wall time of the whole curl run; and the
 * ftpkit process's CPU time, all threads and the main thread alone (where sessions are served; the lstat
 * worker is another thread), utime+stime from /proc, 10 ms ticks: averaged over the repetitions.
 *
 *   npm run build; node --import tsx scripts/listing-time.ts [--files 10000] [--reps 7] [--build DIR] [--baseline DIR]
 *
 * vsftpd is started with the test harness (test/support/peers.ts: root, loopback, high ports); ftpkit is the
 * built `ftpkit serve` (dist/, or --build DIR). With --baseline DIR a second ftpkit (another build's dist/,
 * e.g. main's; it needs node_modules and a package.json with "type": "module" beside it) serves the same
 * folder and is measured interleaved with the first: an A/B in one run. Only loopback.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startVsftpd } from '../test/support/peers.js';

function curlMs(url: string, request?: string): number {
  const started = performance.now();
  const r = spawnSync('curl', ['-s', '-S', ...(request ? ['-X', request] : []), url, '-o', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`curl ${request ?? 'LIST'} ${url}: ${r.stderr.toString()}`);
  return performance.now() - started;
}

/**
 * CPU time (utime+stime) so far, ms, from /proc/PID/stat (fields 14 and 15, after the name): of the whole
 * process, or with `thread` of one thread (/proc/PID/task/TID/stat; the main thread's TID is the PID).
 */
function cpuMs(pid: number, thread?: number): number {
  const text = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ is 100 on Linux
}

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms (${s[0]!.toFixed(0)}-${s[s.length - 1]!.toFixed(0)})`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    files: { type: 'string', default: '10000' }, reps: { type: 'string', default: '7' },
    build: { type: 'string', default: fileURLToPath(new URL('../dist', import.meta.url)) },
    baseline: { type: 'string' },
  } });
  const vsftpd = await startVsftpd();
  const builds = [{ label: 'ftpkit', dir: values.build! }, ...(values.baseline ? [{ label: 'baseline', dir: values.baseline }] : [])];
  const servers = builds.map(b => ({ ...b, child: startFtpkit(b.dir, vsftpd.root) }));
  try {
    const big = path.join(vsftpd.root, 'big');
    await mkdir(big, { recursive: true });
    for (let i = 0; i < Number(values.files); i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, Number(values.files) - i) }, (_, j) =>
        writeFile(path.join(big, `file-${String(i + j).padStart(6, '0')}.txt`), `${i + j}\n`)));
    }
    const urls = await Promise.all(servers.map(async s => `ftp://127.0.0.1:${await portOf(s.child)}/big/`));
    const theirs = `${vsftpd.url}/big/`;
    for (const url of urls) { curlMs(url); curlMs(url, 'MLSD'); } // warm-up: page cache, JIT
    curlMs(theirs);
    const t = servers.map(() => ({ list: [] as number[], mlsd: [] as number[], cpuList: 0, cpuMlsd: 0, mainList: 0, mainMlsd: 0 }));
    const vsftpdList: number[] = [];
    for (let i = 0; i < Number(values.reps); i++) {
      vsftpdList.push(curlMs(theirs));
      // Alternate which build goes first, so neither always runs right after vsftpd.
      const order = i % 2 ? [...servers.keys()].reverse() : [...servers.keys()];
      for (const k of order) {
        const pid = servers[k]!.child.pid!;
        let c0 = cpuMs(pid);
        let m0 = cpuMs(pid, pid);
        t[k]!.list.push(curlMs(urls[k]!));
        t[k]!.cpuList += cpuMs(pid) - c0;
        t[k]!.mainList += cpuMs(pid, pid) - m0;
        c0 = cpuMs(pid);
        m0 = cpuMs(pid, pid);
        t[k]!.mlsd.push(curlMs(urls[k]!, 'MLSD'));
        t[k]!.cpuMlsd += cpuMs(pid) - c0;
        t[k]!.mainMlsd += cpuMs(pid, pid) - m0;
      }
    }
    const reps = Number(values.reps);
    let out = `${values.files} files, ${values.reps} interleaved runs, curl wall time:\n  vsftpd LIST: ${summary(vsftpdList)}\n`;
    for (const [k, s] of servers.entries()) {
      out += `  ${s.label} LIST: ${summary(t[k]!.list)}\n  ${s.label} MLSD: ${summary(t[k]!.mlsd)}\n`
        + `  ${s.label} server CPU per listing (mean): LIST ${(t[k]!.cpuList / reps).toFixed(0)} ms, MLSD ${(t[k]!.cpuMlsd / reps).toFixed(0)} ms;`
        + ` main thread LIST ${(t[k]!.mainList / reps).toFixed(0)} ms, MLSD ${(t[k]!.mainMlsd / reps).toFixed(0)} ms\n`;
    }
    process.stdout.write(out);
  } finally {
    for (const s of servers) {
      s.child.kill('SIGTERM');
      if (s.child.exitCode === null) await once(s.child, 'exit');
    }
    await vsftpd.stop();
  }
}

/** `ftpkit serve` of the build in `dir` on the folder `root`, a free loopback port. */
function startFtpkit(dir: string, root: string): ChildProcess {
  return spawn(process.execPath, [path.join(path.resolve(dir), 'cli', 'main.js'), 'serve', root,
    '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FTPKIT_ALLOW_ROOT: '1' } });
}

/** The port `ftpkit serve` prints in its banner. */
function portOf(child: ChildProcess): Promise<number> {
  let banner = '';
  return new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      banner += d;
      const m = /ftp:\/\/[^\s/]+:(\d+)/.exec(banner);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', code => reject(new Error(`ftpkit serve exited (${code}): npm run build first`)));
  });
}

await main();
