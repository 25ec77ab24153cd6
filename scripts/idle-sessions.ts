/**
 * Memory per idle logged-in session (issue 10: <= 8 KB with 10,000 sessions held). Starts `ftpkit serve`
 * (the CLI's own startServe(): anonymous, read-only, a temporary folder) in a child process with
 * --expose-gc, opens N anonymous sessions from this process (so the client side does not count), forces
 * GC in the server and prints its RSS and heapUsed before and after, per session.
 *
 *   ulimit -n 25000; node --import tsx scripts/idle-sessions.ts --n 1000 --n 10000 [--json] [--snapshot FILE]
 *
 * The server is the build in dist/ (run `npm run build` first), or the one of --build DIR (e.g. main's, to compare). Each count is measured from the same server: warm-up (200 sessions opened and closed), baseline, N
 * sessions logged in and idle, measurement, all closed. Only loopback, port 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RawControl } from './raw-ftp.js';

interface Memory { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number; sessions: number }

const HOST = '127.0.0.1';

// ---- the server child: `idle-sessions.ts --serve DIR` -------------------------------------------------

async function serve(dir: string): Promise<void> {
  // The built server (npm run build), as users run it: under tsx every function gets a "name" property
  // (esbuild keepNames), which adds a few hundred bytes per closure and would be measured too.
  const built = pathToFileURL(path.join(process.env.FTPKIT_BUILD ?? fileURLToPath(new URL('../dist', import.meta.url)), 'cli', 'serve.js'));
  const { startServe } = await import(built.href) as typeof import('../src/cli/serve.js');
  const banner = new Writable({ write(_c, _e, done) { done(); } });
  const running = await startServe(dir, {
    port: 0, host: HOST, maxSessions: 50_000, maxSessionsPerAddress: 0, logLevel: 'error', pasvPorts: '40000-40100',
    allowRoot: true, // bench runs as root; builds before run.allowRoot ignore it
  } as Parameters<typeof startServe>[1], banner);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the server with --expose-gc');
  process.stdout.write(`${JSON.stringify({ port: running.port })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'measure') {
      // Several rounds: weak references and finalizers free more on the second pass.
      for (let i = 0; i < 3; i++) { gc(); await new Promise(resolve => setImmediate(resolve)); }
      const m = process.memoryUsage();
      const out: Memory = { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, sessions: running.server.sessionCount };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    } else if (line.startsWith('snapshot ')) {
      // A heap snapshot for the Memory tab of Chrome DevTools (--snapshot FILE): what the sessions hold.
      const { writeHeapSnapshot } = await import('node:v8');
      writeHeapSnapshot(line.slice('snapshot '.length));
      process.stdout.write('{}\n');
    }
  }
  await running.stop();
}

// ---- the measuring parent ------------------------------------------------------------------------------

class ServerChild {
  private readonly lines: AsyncIterator<string>;
  constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }
  async line(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error('the server child exited');
    return r.value;
  }
  async measure(): Promise<Memory> {
    this.child.stdin!.write('measure\n');
    return JSON.parse(await this.line()) as Memory;
  }
}

/** Open `n` logged-in sessions, `parallel` at a time. */
async function openSessions(port: number, n: number, parallel = 200): Promise<RawControl[]> {
  const sessions: RawControl[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const c = await RawControl.open(HOST, port);
      await c.login('anonymous', 'idle@example.com');
      sessions.push(c);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return sessions;
}

async function closeAll(sessions: RawControl[], server: ServerChild): Promise<void> {
  for (const s of sessions) s.close();
  // Wait until the server has seen every close (bounded).
  for (let i = 0; i < 100; i++) {
    if ((await server.measure()).sessions === 0) return;
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: 'string', multiple: true }, json: { type: 'boolean' }, serve: { type: 'string' }, snapshot: { type: 'string' }, build: { type: 'string' } } });
  if (values.serve) { await serve(values.serve); return; }
  const counts = (values.n ?? ['1000']).map(Number);
  const dir = await mkdtemp(path.join(tmpdir(), 'ftpkit-idle-'));
  await writeFile(path.join(dir, 'hello.txt'), 'hello\n');
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', dir], {
    stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...(values.build ? { FTPKIT_BUILD: path.resolve(values.build) } : {}) },
  });
  const server = new ServerChild(child);
  try {
    const { port } = JSON.parse(await server.line()) as { port: number };
    await closeAll(await openSessions(port, 200), server); // warm-up: JIT, pools, first allocations
    for (const n of counts) {
      const before = await server.measure();
      const sessions = await openSessions(port, n);
      const after = await server.measure();
      const result = {
        sessions: n, held: after.sessions,
        rssBytesPerSession: Math.round((after.rss - before.rss) / n),
        heapBytesPerSession: Math.round((after.heapUsed - before.heapUsed) / n),
        heapTotalBytesPerSession: Math.round((after.heapTotal - before.heapTotal) / n),
        externalBytesPerSession: Math.round((after.external - before.external) / n),
        rssMiB: { before: +(before.rss / 2 ** 20).toFixed(1), after: +(after.rss / 2 ** 20).toFixed(1) },
      };
      process.stdout.write(values.json ? `${JSON.stringify(result)}\n`
        : `${n} idle sessions (server holds ${result.held}): RSS +${result.rssBytesPerSession} B/session, heapUsed +${result.heapBytesPerSession} B/session, heapTotal +${result.heapTotalBytesPerSession} B/session, external +${result.externalBytesPerSession} B/session (RSS ${result.rssMiB.before} -> ${result.rssMiB.after} MiB)\n`);
      if (values.snapshot) { server.child.stdin!.write(`snapshot ${path.resolve(values.snapshot)}\n`); await server.line(); }
      await closeAll(sessions, server);
    }
  } finally {
    child.stdin!.end();
    const exited = once(child, 'exit');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
