/**
 * LIST and MLSD of a folder of 10,000 files, ftpkit vs vsftpd (issue 10 target: no slower than vsftpd).
 * Both serve the same folder; curl is the client (`curl -X MLSD` for MLSD; vsftpd has no MLSD, so its LIST
 * is the reference). Interleaved repetitions, medians with min-max, wall time of the whole curl run; and the
 * ftpkit process's CPU time (utime+stime from /proc, 10 ms ticks: averaged over the repetitions).
 *
 *   npm run build; node --import tsx scripts/listing-time.ts [--files 10000] [--reps 7] [--build DIR]
 *
 * vsftpd is started with the test harness (test/support/peers.ts: root, loopback, high ports); ftpkit is the
 * built `ftpkit serve` (dist/, or --build DIR). Only loopback.
 */
import { spawn, spawnSync } from 'node:child_process';
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

/** CPU time (utime+stime) of a process so far, ms, from /proc/PID/stat (fields 14 and 15, after the name). */
function cpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
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
  } });
  const vsftpd = await startVsftpd();
  const ftpkit = spawn(process.execPath, [path.join(path.resolve(values.build!), 'cli', 'main.js'), 'serve', vsftpd.root,
    '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FTPKIT_ALLOW_ROOT: '1' } });
  try {
    const big = path.join(vsftpd.root, 'big');
    await mkdir(big, { recursive: true });
    for (let i = 0; i < Number(values.files); i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, Number(values.files) - i) }, (_, j) =>
        writeFile(path.join(big, `file-${String(i + j).padStart(6, '0')}.txt`), `${i + j}\n`)));
    }
    let banner = '';
    const port = await new Promise<number>((resolve, reject) => {
      ftpkit.stdout!.setEncoding('utf8').on('data', (d: string) => {
        banner += d;
        const m = /ftp:\/\/[^\s/]+:(\d+)/.exec(banner);
        if (m) resolve(Number(m[1]));
      });
      ftpkit.once('exit', code => reject(new Error(`ftpkit serve exited (${code}): npm run build first`)));
    });
    const ours = `ftp://127.0.0.1:${port}/big/`;
    const theirs = `${vsftpd.url}/big/`;
    curlMs(ours); curlMs(ours, 'MLSD'); curlMs(theirs); // warm-up: page cache, JIT
    const t = { ftpkitList: [] as number[], ftpkitMlsd: [] as number[], vsftpdList: [] as number[] };
    const cpu = { list: 0, mlsd: 0 };
    const pid = ftpkit.pid!;
    for (let i = 0; i < Number(values.reps); i++) {
      t.vsftpdList.push(curlMs(theirs));
      let c0 = cpuMs(pid);
      t.ftpkitList.push(curlMs(ours));
      cpu.list += cpuMs(pid) - c0;
      c0 = cpuMs(pid);
      t.ftpkitMlsd.push(curlMs(ours, 'MLSD'));
      cpu.mlsd += cpuMs(pid) - c0;
    }
    const reps = Number(values.reps);
    process.stdout.write(`${values.files} files, ${values.reps} interleaved runs, curl wall time:\n`
      + `  vsftpd LIST: ${summary(t.vsftpdList)}\n  ftpkit LIST: ${summary(t.ftpkitList)}\n  ftpkit MLSD: ${summary(t.ftpkitMlsd)}\n`
      + `  ftpkit server CPU per listing (mean): LIST ${(cpu.list / reps).toFixed(0)} ms, MLSD ${(cpu.mlsd / reps).toFixed(0)} ms\n`);
  } finally {
    ftpkit.kill('SIGTERM');
    await once(ftpkit, 'exit');
    await vsftpd.stop();
  }
}

await main();
