/**
 * One fuzz session against a server over a real socket, shared by test/fuzz/server-socket.test.ts and
 * bench/fuzz-run.ts: connect (optionally AUTH TLS first, RFC 4217 s4), send fuzzed lines (fuzz-lines.ts) in
 * batches cut at random chunk boundaries, and check the replies strictly:
 *
 * - every complete command line gets exactly one final reply (2xx-5xx; 1xx marks are preliminary), counted
 *   against our own framer run over the same bytes (CommandLineFramer: its chunk independence is fuzzed in
 *   test/fuzz/parsers.test.ts); a blank line gets none; an over-long line gets its one 500;
 * - replies are well formed (RFC 959 s4.2): CRLF line ends, a first line "NNN " or "NNN-", a multi-line
 *   reply closed by "NNN " with its code, and no text line in between that starts with three digits and a
 *   space or dash or is only three digits (the server must indent those);
 * - a closing 421 (a documented close: too many commands queued, a line never completed) ends the session
 *   early, and nothing else may; a batch with no reply for `replyTimeoutMs` is a hang;
 * - at the end a sentinel NOOP (fuzz-lines.ts SENTINEL) must get the last reply, a 200.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { CommandLineFramer, parseCommandLine } from '../../src/protocol/commands.js';
import { parseEpsvReply, parsePasvReply } from '../../src/protocol/hostport.js';
import { fuzzLines, randomChunks, SENTINEL, type LineOptions, type Rand } from './fuzz-lines.js';

/** Replies read strictly by RFC 959 s4.2; what breaks the form is recorded, not thrown. */
export class StrictReplyReader {
  private rest = Buffer.alloc(0);
  private open: { code: number; lines: string[] } | undefined;
  readonly codes: number[] = [];
  readonly violations: string[] = [];
  finals = 0;

  /** @param onReply called with each complete reply (its code and the text of its last line). */
  constructor(private readonly onReply?: (code: number, text: string) => void) {}

  push(chunk: Buffer): void {
    let buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    for (;;) {
      const lf = buf.indexOf(0x0a);
      if (lf < 0) break;
      if (lf === 0 || buf[lf - 1] !== 0x0d) this.violation(`a reply line not ended by CRLF: ${JSON.stringify(buf.subarray(0, lf).toString('latin1').slice(0, 80))}`);
      const line = buf.subarray(0, lf > 0 && buf[lf - 1] === 0x0d ? lf - 1 : lf).toString('utf8');
      if (line.includes('\r')) this.violation(`a bare CR inside a reply line: ${JSON.stringify(line.slice(0, 80))}`);
      this.line(line);
      buf = buf.subarray(lf + 1);
    }
    this.rest = Buffer.from(buf);
  }

  /** True while a reply has begun and not ended. */
  get pending(): boolean { return this.open !== undefined || this.rest.length > 0; }
  lastCode(): number | undefined { return this.codes.at(-1); }

  private violation(text: string): void {
    if (this.violations.length < 20) this.violations.push(text);
  }

  private line(line: string): void {
    if (this.open) {
      const { code } = this.open;
      if (line.startsWith(`${code} `)) { this.open = undefined; this.done(code, line); return; }
      if (/^\d{3}(?:[ -]|$)/.test(line)) this.violation(`RFC 959 s4.2: unindented text line ${JSON.stringify(line.slice(0, 80))} inside reply ${code}`);
      this.open.lines.push(line);
      return;
    }
    const m = /^([1-5]\d\d)([ -])/.exec(line);
    if (!m) { this.violation(`not a reply line: ${JSON.stringify(line.slice(0, 80))}`); return; }
    const code = Number(m[1]);
    if (m[2] === '-') this.open = { code, lines: [line] };
    else this.done(code, line);
  }

  private done(code: number, line: string): void {
    this.codes.push(code);
    if (code >= 200) this.finals++;
    this.onReply?.(code, line.slice(4));
  }
}

export interface FuzzTarget {
  host: string;
  port: number;
  /** AUTH TLS before the fuzz (the server's certificate is not verified: it is ours). */
  tls?: boolean;
}

export interface FuzzSessionOptions extends LineOptions {
  lines: number;
  /** USER/PASS sent (and counted like the other lines) before the fuzzed ones. */
  login?: { user: string; password: string };
  /** Lines per batch: the server refuses more than 64 queued commands, so stay well below. Default 12. */
  batch?: number;
  /** A batch whose replies do not all come within this is a hang. Default 10 s. */
  replyTimeoutMs?: number;
}

export interface FuzzSessionResult {
  /** Lines generated and sent (the login and the sentinel not counted). */
  linesSent: number;
  bytesSent: number;
  /** Complete command lines the server had to answer (our framer's count, sentinel included). */
  expected: number;
  finals: number;
  codes: number[];
  violations: string[];
  /** The server closed with 421 (a documented close) before the end. */
  closedWith421: boolean;
  /** No reply within replyTimeoutMs. */
  hang: boolean;
  /** Anything else that went wrong: an unexpected close, a wrong count, a failed TLS upgrade. */
  failure?: string;
  /** Data connections this session opened to passive ports. */
  dataConnections: number;
  /** What was sent, for a replay or a failure message (the last 4 KiB). */
  tail: string;
}

function connectPlain(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}

/** Connection state: replies in, and a way to wait for a number of final replies. */
class Conn {
  readonly reader: StrictReplyReader;
  closed = false;
  private wake: (() => void) | undefined;
  /** Data connections opened to the server's passive ports. */
  readonly data = new Set<net.Socket>();
  dataConnections = 0;

  constructor(public socket: Duplex, host: string) {
    // A passive reply is followed by a connection to its port, as a client would: the transfer then runs
    // (a download is read and dropped, an upload is empty; under PROT P the server refuses the plain one).
    this.reader = new StrictReplyReader((code, text) => {
      let port: number | undefined;
      try {
        if (code === 227) port = parsePasvReply(text).port;
        else if (code === 229) port = parseEpsvReply(text);
      } catch { return; }
      if (port === undefined) return;
      const d = net.connect({ host, port });
      this.dataConnections++;
      this.data.add(d);
      d.on('error', () => {});
      d.on('close', () => this.data.delete(d));
      d.resume();
      d.end();
    });
    this.listen(socket);
  }

  destroy(): void {
    this.socket.destroy();
    for (const d of this.data) d.destroy();
  }

  listen(s: Duplex): void {
    s.on('data', (b: Buffer) => { this.reader.push(b); this.wake?.(); });
    s.on('error', () => {});
    s.on('close', () => { this.closed = true; this.wake?.(); });
  }

  /** Resolves true when `finals` final replies have come, false on close or timeout (see `timedOut`). */
  async waitFinals(finals: number, timeoutMs: number): Promise<'ok' | 'closed' | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    while (this.reader.finals < finals) {
      if (this.closed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { this.wake = undefined; resolve(); }, left);
        this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
      });
    }
    return 'ok';
  }
}

async function upgrade(conn: Conn, host: string, timeoutMs: number): Promise<string | undefined> {
  conn.socket.write('AUTH TLS\r\n');
  const before = conn.reader.finals;
  if (await conn.waitFinals(before + 1, timeoutMs) !== 'ok') return 'no reply to AUTH TLS';
  if (conn.reader.lastCode() !== 234) return `AUTH TLS answered ${conn.reader.lastCode()}`;
  const raw = conn.socket as net.Socket;
  raw.removeAllListeners('data');
  raw.removeAllListeners('close');
  const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: host === '127.0.0.1' ? undefined : host });
  const ok = await new Promise<string | undefined>((resolve) => {
    const t = setTimeout(() => resolve('TLS handshake timed out'), timeoutMs);
    secure.once('secureConnect', () => { clearTimeout(t); resolve(undefined); });
    secure.once('error', (e) => { clearTimeout(t); resolve(`TLS handshake: ${e.message}`); });
  });
  if (ok) return ok;
  conn.socket = secure;
  conn.listen(secure);
  return undefined;
}

/** Run one fuzz session; never throws for what the server does (that is in the result). */
export async function runFuzzSession(target: FuzzTarget, r: Rand, o: FuzzSessionOptions): Promise<FuzzSessionResult> {
  const timeoutMs = o.replyTimeoutMs ?? 10_000;
  const batch = o.batch ?? 12;
  const res: FuzzSessionResult = {
    linesSent: 0, bytesSent: 0, expected: 0, finals: 0, codes: [], violations: [], closedWith421: false, hang: false, tail: '', dataConnections: 0,
  };
  let sent = Buffer.alloc(0);
  const remember = (b: Buffer): void => { sent = Buffer.concat([sent, b]).subarray(-4096); };
  let conn: Conn;
  try {
    conn = new Conn(await connectPlain(target.host, target.port), target.host);
  } catch (err) {
    res.failure = `connect: ${(err as Error).message}`;
    return res;
  }
  const finish = (): FuzzSessionResult => {
    res.finals = conn.reader.finals;
    res.codes = conn.reader.codes;
    res.violations = conn.reader.violations;
    res.tail = sent.toString('latin1');
    res.dataConnections = conn.dataConnections;
    conn.destroy();
    return res;
  };
  // The greeting (220) is the first final reply.
  if (await conn.waitFinals(1, timeoutMs) !== 'ok') { res.failure = 'no greeting'; return finish(); }
  if (conn.reader.lastCode() !== 220) { res.failure = `greeting ${conn.reader.lastCode()}`; return finish(); }
  let base = 1;
  if (target.tls) {
    const err = await upgrade(conn, target.host, timeoutMs);
    if (err) { res.failure = err; return finish(); }
    base = conn.reader.finals;
  }
  const framer = new CommandLineFramer(o.maxLineLength);
  const lines = fuzzLines(r, o.lines, o);
  const script: Buffer[] = [];
  if (o.login) script.push(Buffer.from(`USER ${o.login.user}\r\n`), Buffer.from(`PASS ${o.login.password}\r\n`));
  script.push(...lines);
  res.linesSent = lines.length;
  const batches: Buffer[][] = [];
  for (let i = 0; i < script.length; i += batch) batches.push(script.slice(i, i + batch));
  batches.push([SENTINEL]);
  for (const group of batches) {
    const bytes = Buffer.concat(group);
    for (const ev of framer.push(bytes)) {
      if (ev.kind === 'too-long' || parseCommandLine(ev.text)) res.expected++;
    }
    for (const chunk of randomChunks(r, bytes, 6)) {
      if (conn.closed) break;
      conn.socket.write(chunk);
      res.bytesSent += chunk.length;
      remember(chunk);
    }
    const outcome = await conn.waitFinals(base + res.expected, timeoutMs);
    if (outcome === 'timeout') {
      res.hang = true;
      res.failure = `no reply within ${timeoutMs} ms: ${conn.reader.finals - base} final replies for ${res.expected} lines`;
      return finish();
    }
    if (outcome === 'closed') {
      if (conn.reader.lastCode() === 421) res.closedWith421 = true;
      else res.failure = `connection closed after ${conn.reader.finals - base} final replies for ${res.expected} lines (last reply ${conn.reader.lastCode()})`;
      return finish();
    }
  }
  // One more turn of the event loop for a reply that should not be there, then the count must be exact.
  await new Promise((resolve) => setTimeout(resolve, 20));
  if (conn.reader.finals !== base + res.expected) {
    res.failure = `${conn.reader.finals - base} final replies for ${res.expected} lines`;
  } else if (conn.reader.lastCode() !== 200) {
    res.failure = `the sentinel NOOP got ${conn.reader.lastCode()}`;
  }
  return finish();
}

/**
 * A data sink on 127.0.0.1 that PORT/EPRT lines may point at: it accepts, reads what comes, and closes
 * its side, so active-mode transfers run to an end (a download is discarded, an upload is empty).
 */
export async function startDataSink(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.resume();
    s.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
