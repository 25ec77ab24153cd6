/**
 * The load client of the sessions test: raw FTP over node:net (our reply parser from src/protocol), so it
 * measures the server, not a client library. N workers each run sessions back to back for a fixed time:
 * connect, 220, USER/PASS, TYPE I, PASV, connect the data socket, RETR, read to the end, 226, QUIT.
 * Also holds idle logged-in sessions for the memory test.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ReplyParser, type FtpResponse } from '../../src/protocol/reply-parser.js';
import { parsePasvReply } from '../../src/protocol/hostport.js';
import type { Login } from './servers.js';

/** One control connection: replies in order, every wait bounded by the session's abort. */
export class Control {
  private readonly parser = new ReplyParser();
  private readonly replies: FtpResponse[] = [];
  private waiter: { resolve: (r: FtpResponse) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (b: Buffer) => {
      try {
        for (const r of this.parser.push(b)) this.deliver(r);
      } catch (err) { this.fail(err as Error); }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('control connection closed')));
  }

  private deliver(r: FtpResponse): void {
    if (this.waiter) { const w = this.waiter; this.waiter = undefined; w.resolve(r); } else this.replies.push(r);
  }

  fail(err: Error): void {
    this.failure ??= err;
    if (this.waiter) { const w = this.waiter; this.waiter = undefined; w.reject(this.failure); }
  }

  next(): Promise<FtpResponse> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  /** Sends a command and waits for a reply whose code starts with one of `expect` (e.g. ['2', '3']). */
  async send(line: string, expect: string[], step = line.split(' ')[0]!): Promise<FtpResponse> {
    if (line) this.socket.write(`${line}\r\n`);
    const r = await this.next();
    if (!expect.some((e) => String(r.code).startsWith(e))) throw new Error(`${r.code} to ${step}`);
    return r;
  }
}

/** A TCP connection; aborting the signal destroys it, before or after it is connected. */
export function connect(host: string, port: number, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const onAbort = (): void => { s.destroy(new Error('timeout')); };
    signal?.addEventListener('abort', onAbort, { once: true });
    s.once('close', () => signal?.removeEventListener('abort', onAbort));
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

export interface Target { host: string; port: number; login: Login }

/** Connects and logs in; the caller owns the returned control connection. */
export async function login(t: Target, signal?: AbortSignal): Promise<Control> {
  const socket = await connect(t.host, t.port, signal).catch((err: NodeJS.ErrnoException) => { throw new Error(`connect ${err.code ?? err.message}`); });
  const c = new Control(socket);
  await c.send('', ['220'], 'greeting');
  const user = await c.send(`USER ${t.login.user}`, ['2', '3']);
  if (user.code === 331) await c.send(`PASS ${t.login.password}`, ['230'], 'PASS');
  return c;
}

/** PASV, the data connection, `command` (RETR, LIST, MLSD), every byte, the final reply; returns the bytes. */
export async function retrieve(t: Target, control: Control, command: string, onData: (s: net.Socket) => void, signal?: AbortSignal): Promise<number> {
  const pasv = await control.send('PASV', ['227']);
  // Connect where the control connection goes (servers behind NAT aside, curl's default too).
  const hp = parsePasvReply(pasv.message);
  const data = await connect(t.host, hp.port, signal).catch((err: NodeJS.ErrnoException) => { throw new Error(`data connect ${err.code ?? err.message}`); });
  onData(data);
  try {
    const received = new Promise<number>((resolve, reject) => {
      let bytes = 0;
      data.on('data', (b: Buffer) => { bytes += b.length; });
      data.once('end', () => resolve(bytes));
      data.once('error', (err) => reject(new Error(`data ${err.message}`)));
    });
    received.catch(() => undefined);
    await control.send(command, ['1'], command.split(' ')[0]);
    const bytes = await received;
    await control.send('', ['2'], `${command.split(' ')[0]} end`);
    return bytes;
  } finally {
    data.destroy();
  }
}

/** One whole session; resolves with the bytes read, rejects with a short reason. */
async function session(t: Target, path: string, signal: AbortSignal): Promise<number> {
  let control: Control | undefined;
  let data: net.Socket | undefined;
  const onAbort = (): void => {
    control?.fail(new Error('timeout'));
    control?.socket.destroy();
    data?.destroy(new Error('timeout'));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    control = await login(t, signal);
    await control.send('TYPE I', ['200']);
    const bytes = await retrieve(t, control, `RETR ${path}`, (d) => { data = d; }, signal);
    await control.send('QUIT', ['2']);
    return bytes;
  } finally {
    signal.removeEventListener('abort', onAbort);
    data?.destroy();
    control?.socket.destroy();
  }
}

/**
 * One listing after login: ms from PASV to the final reply (the server's whole work: the data connection,
 * reading the folder, formatting, sending) and its bytes. Timed here rather than by curl, whose
 * pretransfer time ends only at the 150 reply: a server that reads the folder before its 150 would have
 * that work hidden.
 */
export async function timeListing(t: Target, command: string, timeoutMs: number): Promise<{ ms: number; bytes: number }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  let control: Control | undefined;
  let data: net.Socket | undefined;
  ac.signal.addEventListener('abort', () => { control?.socket.destroy(); data?.destroy(); }, { once: true });
  try {
    control = await login(t, ac.signal);
    const t0 = performance.now();
    const bytes = await retrieve(t, control, command, (d) => { data = d; }, ac.signal);
    const ms = performance.now() - t0;
    await control.send('QUIT', ['2']).catch(() => undefined);
    return { ms, bytes };
  } catch (err) {
    throw ac.signal.aborted ? new Error(`timeout after ${timeoutMs} ms`) : err;
  } finally {
    clearTimeout(timer);
    control?.socket.destroy();
  }
}

export interface LoadResult {
  /** Sessions completed within the measuring window, per second. */
  rate: number;
  completed: number;
  failed: number;
  /** Reasons of the failures with their counts. */
  reasons: Map<string, number>;
  /** Session durations (connect to QUIT reply) of the completed sessions, ms. */
  latencies: number[];
}

/**
 * `concurrency` workers run sessions back to back for `durationMs`; sessions still running at the end are
 * waited for (bounded by `timeoutMs` each) and count for latency and failures, not for the rate.
 */
export async function runLoad(
  t: Target, opts: { path: string; expectBytes: number; concurrency: number; durationMs: number; timeoutMs: number },
): Promise<LoadResult> {
  const start = performance.now();
  const end = start + opts.durationMs;
  const reasons = new Map<string, number>();
  const latencies: number[] = [];
  let inWindow = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), opts.timeoutMs);
      try {
        const bytes = await session(t, opts.path, ac.signal);
        if (bytes !== opts.expectBytes) throw new Error(`short download (${bytes} bytes)`);
        const t1 = performance.now();
        latencies.push(t1 - t0);
        if (t1 <= end) inWindow++;
      } catch (err) {
        failed++;
        const why = ac.signal.aborted ? `timeout after ${opts.timeoutMs} ms` : (err as Error).message;
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { rate: inWindow / (opts.durationMs / 1000), completed: latencies.length, failed, reasons, latencies };
}

/**
 * Opens `count` logged-in sessions, `batch` at a time (a burst of thousands of connects would overflow
 * listen backlogs, which is not what this test measures), and returns them with the failures.
 */
export async function holdSessions(
  t: Target, count: number, batch: number, timeoutMs: number,
): Promise<{ held: net.Socket[]; reasons: Map<string, number> }> {
  const held: net.Socket[] = [];
  const reasons = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), timeoutMs);
      try {
        const c = await login(t, ac.signal);
        held.push(c.socket);
      } catch (err) {
        const why = ac.signal.aborted ? `timeout after ${timeoutMs} ms` : (err as Error).message;
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(batch, count) }, worker));
  // A server that closes an idle session later (a timeout) must not crash the bench.
  for (const s of held) s.on('error', () => undefined);
  return { held, reasons };
}
