/**
 * Measures a burst of concurrent logins against an FTP server: N control connections opened at once, each
 * USER/PASS then QUIT, the way a tool that opens one connection per job logs in (the connection doctor's
 * matrix, `mirror --parallel N`). Prints the wall time to the last 230 and the per-login time (connect to
 * 230) p50 and max, as text and, with --json, as one JSON line.
 *
 *   node --import tsx scripts/login-burst.ts --port 2121 --user alice --password secret --n 19 [--host 127.0.0.1] [--json]
 *
 * It talks raw FTP (RFC 959 s4.2 reply framing) over node:net so that it measures the server, not a client
 * library. Every connection has a deadline (--timeout seconds, default 60); a failure is counted and shown.
 * Only run it against a server you run yourself (loopback).
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { percentile } from '../bench/lib/stats.js';

interface LoginResult {
  ok: boolean;
  /** Connect to 230 (or to the failure), ms. */
  ms: number;
  /** Since the burst started, ms. */
  endedAt: number;
  error?: string;
}

/** Reads complete replies (multi-line aware: the last line is "NNN " with the first line's code). */
class ReplyReader {
  private buffer = '';
  private waiting: ((reply: string) => void) | undefined;
  private readonly replies: string[] = [];

  constructor(socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (;;) {
        const reply = this.takeReply();
        if (reply === undefined) break;
        if (this.waiting) { const w = this.waiting; this.waiting = undefined; w(reply); } else this.replies.push(reply);
      }
    });
  }

  private takeReply(): string | undefined {
    const lines = this.buffer.split('\r\n');
    if (lines.length < 2) return undefined;
    const code = lines[0]!.slice(0, 3);
    const multi = lines[0]![3] === '-';
    for (let i = 0; i < lines.length - 1; i++) {
      const line = lines[i]!;
      if (!multi || (line.startsWith(code) && line[3] === ' ')) {
        this.buffer = lines.slice(i + 1).join('\r\n');
        return lines.slice(0, i + 1).join('\n');
      }
    }
    return undefined;
  }

  next(): Promise<string> {
    const ready = this.replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => { this.waiting = resolve; });
  }
}

async function oneLogin(host: string, port: number, user: string, password: string, timeoutMs: number, burstStart: number): Promise<LoginResult> {
  const started = performance.now();
  const socket = connect({ host, port });
  const reader = new ReplyReader(socket);
  const fail = (error: string): LoginResult => ({ ok: false, ms: performance.now() - started, endedAt: performance.now() - burstStart, error });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<LoginResult>((resolve) => { timer = setTimeout(() => resolve(fail(`no 230 within ${timeoutMs} ms`)), timeoutMs); });
  const closed = new Promise<LoginResult>((resolve) => {
    socket.on('error', (err) => resolve(fail(err.message)));
    socket.on('close', () => resolve(fail('connection closed before 230')));
  });
  const dialogue = (async (): Promise<LoginResult> => {
    const greeting = await reader.next();
    if (!greeting.startsWith('220')) return fail(`greeting: ${greeting}`);
    socket.write(`USER ${user}\r\n`);
    const userReply = await reader.next();
    if (!userReply.startsWith('331') && !userReply.startsWith('230')) return fail(`USER: ${userReply}`);
    if (userReply.startsWith('331')) {
      socket.write(`PASS ${password}\r\n`);
      const passReply = await reader.next();
      if (!passReply.startsWith('230')) return fail(`PASS: ${passReply}`);
    }
    const result: LoginResult = { ok: true, ms: performance.now() - started, endedAt: performance.now() - burstStart };
    socket.write('QUIT\r\n');
    return result;
  })();
  try {
    return await Promise.race([dialogue, deadline, closed]);
  } finally {
    clearTimeout(timer);
    socket.end();
    socket.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      n: { type: 'string', default: '19' },
      timeout: { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  const n = Number(values.n);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !values.user || values.password === undefined || !Number.isInteger(n) || n < 1 || n > 1000) {
    process.stderr.write('usage: node --import tsx scripts/login-burst.ts --port N --user U --password P [--n 19] [--host 127.0.0.1] [--timeout 60] [--json]\n');
    process.exitCode = 2;
    return;
  }
  const burstStart = performance.now();
  const results = await Promise.all(Array.from({ length: n }, () => oneLogin(values.host!, port, values.user!, values.password!, Number(values.timeout) * 1000, burstStart)));
  const ok = results.filter((r) => r.ok);
  const times = ok.map((r) => r.ms).sort((a, b) => a - b);
  const summary = {
    n,
    ok: ok.length,
    failed: n - ok.length,
    wallToLast230Ms: Math.round(Math.max(0, ...ok.map((r) => r.endedAt))),
    p50Ms: Math.round(percentile(times, 50) ?? NaN),
    maxMs: Math.round(times.at(-1) ?? NaN),
    errors: results.filter((r) => !r.ok).map((r) => r.error),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(`${summary.ok}/${n} logins: last 230 after ${summary.wallToLast230Ms} ms; per login p50 ${summary.p50Ms} ms, max ${summary.maxMs} ms\n`);
    for (const e of summary.errors) process.stdout.write(`  failed: ${e}\n`);
  }
  if (summary.failed > 0) process.exitCode = 1;
}

await main();
