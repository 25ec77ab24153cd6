/**
 * `npm run bench -- --modes [--size MiB] [--out FILE]` (issue 15): what MODE Z saves on compressible data
 * and costs on incompressible data. ftpkit's client against ftpkit's server (both from dist/, in this one
 * process, loopback), a text file (web-server log lines, seeded) and a random file of the same size (100 MiB
 * by default), each downloaded and uploaded in MODE S and in MODE Z (level 6): wire bytes, seconds, and the
 * CPU time of the process per GiB of file data. Both ends run here, so a MODE Z figure is the deflate of one
 * end plus the inflate of the other; Z's cost is its figure minus MODE S's. Writes bench/MODES.md (or --out)
 * and prints it. docs/bench.md#mode-z.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runIfMain } from './lib/entry.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;

interface Row { file: string; mode: 'S' | 'Z'; direction: 'download' | 'upload'; fileBytes: number; wireBytes: number; seconds: number; cpuMsPerGiB: number }

/** Web-server log lines with varied fields (seeded, so every run moves the same text). */
function logText(bytes: number): Buffer {
  let seed = 15;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const paths = ['/index.html', '/api/v1/orders', '/static/app.js', '/img/logo.png', '/login', '/search', '/reports/2026/q4.csv'];
  const agents = ['Mozilla/5.0 (X11; Linux x86_64)', 'curl/8.5.0', 'Go-http-client/1.1', 'python-requests/2.31'];
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = `2026-12-06T${String(rnd(24)).padStart(2, '0')}:${String(rnd(60)).padStart(2, '0')}:${String(rnd(60)).padStart(2, '0')}.${rnd(1000)}Z `
      + `10.${rnd(256)}.${rnd(256)}.${rnd(256)} ${rnd(10) < 8 ? 'GET' : 'POST'} ${paths[rnd(paths.length)]}?id=${rnd(1_000_000)} `
      + `${[200, 200, 200, 304, 404, 500][rnd(6)]} ${rnd(100_000)} "${agents[rnd(agents.length)]}"\n`;
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

function parseArgs(argv: readonly string[]): { sizeMiB: number; out: string } {
  let sizeMiB = 100;
  let out = path.join(repo, 'bench', 'MODES.md');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--size') sizeMiB = Number(argv[++i]);
    else if (argv[i] === '--out') out = path.resolve(argv[++i] ?? '');
    else throw new Error(`unknown option ${argv[i]}; usage: npm run bench -- --modes [--size MiB] [--out FILE]`);
  }
  if (!(sizeMiB > 0)) throw new Error('--size needs a number of MiB > 0');
  return { sizeMiB, out };
}

export async function modesRun(argv: readonly string[]): Promise<number> {
  const { sizeMiB, out } = parseArgs(argv);
  const dist = (p: string): string => pathToFileURL(path.join(repo, 'dist', p)).href;
  const { FtpServer, LocalStorage, READ_WRITE } = await import(dist('server/index.js')) as typeof import('../src/server/index.js');
  const { FtpClient } = await import(dist('client/index.js')) as typeof import('../src/client/index.js');
  const work = await mkdtemp(path.join(os.tmpdir(), 'ftpkit-bench-modes-'));
  const root = path.join(work, 'root');
  const local = path.join(work, 'local');
  await mkdir(root);
  await mkdir(local);
  const bytes = Math.round(sizeMiB * MiB);
  await writeFile(path.join(root, 'text.log'), logText(bytes));
  await writeFile(path.join(root, 'random.bin'), randomBytes(bytes));
  const storage = new LocalStorage(root);
  const server = new FtpServer({
    host: '127.0.0.1', port: 0, passive: { portRange: { min: 30000, max: 60000 } },
    authenticator: { authenticate: async (user: string, password: string) => (user === 'bench' && password === 'bench'
      ? { name: 'bench', storage, permissions: READ_WRITE } : null) },
    // The bench measures speed, not durability: no fsync per upload.
    uploads: { fsync: false },
  });
  const [address] = await server.listen();
  const client = new FtpClient({ host: '127.0.0.1', port: address!.port, user: 'bench', password: 'bench', timeouts: { commandMs: 120_000, dataMs: 120_000 } });
  const rows: Row[] = [];
  try {
    await client.connect();
    for (const file of ['text.log', 'random.bin']) {
      for (const mode of ['S', 'Z'] as const) {
        for (const direction of ['download', 'upload'] as const) {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const r = direction === 'download'
            ? await client.download(file, path.join(local, file), { mode })
            : await client.upload(path.join(local, file), `up-${file}`, { mode });
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          const fileBytes = r.fileBytes ?? r.bytes;
          rows.push({ file, mode, direction, fileBytes, wireBytes: r.bytes, seconds, cpuMsPerGiB: ((cpu.user + cpu.system) / 1000) / (fileBytes / 1024 ** 3) });
          process.stderr.write(`[bench modes] ${file} ${direction} MODE ${mode}: ${r.bytes} wire bytes, ${seconds.toFixed(2)} s\n`);
        }
      }
    }
  } finally {
    client.destroy();
    await server.close({ timeoutMs: 2000 });
    await rm(work, { recursive: true, force: true });
  }
  const report = render(rows, sizeMiB);
  await writeFile(out, report);
  process.stdout.write(report);
  return 0;
}

function render(rows: Row[], sizeMiB: number): string {
  const mb = (b: number): string => (b / MiB).toFixed(1);
  const lines = [
    '# MODE Z vs MODE S: wire bytes, time and CPU',
    '',
    `\`npm run bench -- --modes --size ${sizeMiB}\`, ${new Date().toISOString()}, ${os.cpus().length} CPUs, load ${os.loadavg().map(l => l.toFixed(2)).join(' ')}.`,
    'ftpkit client <-> ftpkit server in one process on loopback (dist/), MODE Z at level 6. CPU is the whole process',
    '(both ends: the deflate of the sender plus the inflate of the receiver) per GiB of file data; Z\'s own cost is its',
    'CPU minus MODE S\'s. On a shared machine single figures vary; compare within one run.',
    '',
    '| file | direction | mode | file MiB | wire MiB | wire / file | seconds | MiB/s (file) | CPU ms per GiB |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.file} | ${r.direction} | ${r.mode} | ${mb(r.fileBytes)} | ${mb(r.wireBytes)} | ${(r.wireBytes / r.fileBytes * 100).toFixed(1)}% | ${r.seconds.toFixed(2)} | ${(r.fileBytes / MiB / r.seconds).toFixed(1)} | ${Math.round(r.cpuMsPerGiB)} |`);
  }
  lines.push('', '| file | direction | Z saves on the wire | Z time vs S | Z extra CPU ms per GiB |', '|---|---|---:|---:|---:|');
  for (const file of ['text.log', 'random.bin']) {
    for (const direction of ['download', 'upload'] as const) {
      const s = rows.find(r => r.file === file && r.direction === direction && r.mode === 'S');
      const z = rows.find(r => r.file === file && r.direction === direction && r.mode === 'Z');
      if (!s || !z) continue;
      lines.push(`| ${file} | ${direction} | ${((1 - z.wireBytes / s.wireBytes) * 100).toFixed(1)}% | ${(z.seconds / s.seconds).toFixed(2)}x | ${Math.round(z.cpuMsPerGiB - s.cpuMsPerGiB)} |`);
    }
  }
  return lines.join('\n') + '\n';
}

runIfMain(import.meta.url, 'bench --modes', modesRun);
