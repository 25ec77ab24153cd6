/**
 * Test helper: start an FtpServer on loopback port 0 and talk to it with a raw control connection.
 *
 * startServer() gives {server, port, host, url, storage, close()}; RawControl sends a line and awaits the
 * reply (multi-line aware), for transcript-style tests with exact reply codes. Also small data-connection
 * helpers (openPassive, openActive, readAll). Everything it opens is closed by close() / control.close().
 */
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { FtpServer, LocalStorage, MemoryStorage, READ_ONLY, READ_WRITE } from '../../src/server/index.js';
import type {
  AuthenticatedUser, Authenticator, FtpServerExtensions, FtpServerOptions, Permissions, QuotaLimits, Storage,
} from '../../src/server/index.js';
import { parseEpsvReply, parsePasvReply } from '../../src/protocol/hostport.js';

export interface TestUser {
  password: string;
  permissions?: Permissions;
  storage?: Storage;
  home?: string;
  /** Quota (src/server/quota/) and largest single upload of this user. */
  quota?: QuotaLimits;
  maxUploadBytes?: number;
}

/**
 * A simple authenticator for tests: named users with plain-text passwords, and optionally anonymous
 * ("anonymous"/"ftp", any password) with the given permissions.
 */
export class TestAuthenticator implements Authenticator {
  constructor(
    private readonly users: Record<string, TestUser>,
    private readonly defaultStorage: Storage,
    private readonly anonymous: Permissions | false,
  ) {}

  async authenticate(username: string, password: string): Promise<AuthenticatedUser | null> {
    if (this.anonymous && (username === 'anonymous' || username === 'ftp')) {
      return { name: username, storage: this.defaultStorage, permissions: this.anonymous };
    }
    const u = Object.hasOwn(this.users, username) ? this.users[username] : undefined;
    if (!u || u.password !== password) return null;
    return {
      name: username, storage: u.storage ?? this.defaultStorage, permissions: u.permissions ?? { ...READ_WRITE }, home: u.home,
      ...(u.quota ? { quota: u.quota } : {}), ...(u.maxUploadBytes !== undefined ? { maxUploadBytes: u.maxUploadBytes } : {}),
    };
  }
}

export interface HarnessOptions {
  /** '127.0.0.1' (default) or '::1'. */
  host?: string;
  storage?: Storage;
  /** Default: { test: { password: 'test' } } with read-write permissions. */
  users?: Record<string, TestUser>;
  /** Permissions for anonymous logins; false (default) refuses them. */
  anonymous?: Permissions | false;
  /** Extra server options (timeouts, limits, passive...). authenticator replaces the test one. */
  options?: Partial<FtpServerOptions>;
  extensions?: FtpServerExtensions;
}

export interface Harness {
  server: FtpServer;
  host: string;
  port: number;
  /** ftp://user:password@host:port/ for the default user. */
  url: string;
  storage: Storage;
  close(): Promise<void>;
}

export async function startServer(opts: HarnessOptions = {}): Promise<Harness> {
  const host = opts.host ?? '127.0.0.1';
  const storage = opts.storage ?? new MemoryStorage();
  const users = opts.users ?? { test: { password: 'test' } };
  const server = new FtpServer({
    host,
    port: 0,
    authenticator: new TestAuthenticator(users, storage, opts.anonymous ?? false),
    passive: { portRange: { min: 1024, max: 65535 } },
    ...opts.options,
    limits: { loginFailureDelayMs: 10, ...opts.options?.limits },
  }, opts.extensions);
  const [addr] = await server.listen();
  const first = Object.keys(users)[0];
  const cred = first ? `${encodeURIComponent(first)}:${encodeURIComponent(users[first].password)}@` : '';
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    server, host, port: addr.port, storage,
    url: `ftp://${cred}${hostInUrl}:${addr.port}/`,
    close: () => server.close({ timeoutMs: 1000 }),
  };
}

/**
 * A server on a LocalStorage at `root` and a control connection logged in, in TYPE I; both closed after
 * the test.
 */
export async function localSession(t: TestContext, root: string, options: Partial<FtpServerOptions> = {}): Promise<{ h: Harness; c: RawControl }> {
  const h = await startServer({ storage: new LocalStorage(root), options });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  const type = await c.send('TYPE I');
  if (type.code !== 200) throw new Error(`TYPE I: ${type.code} ${type.text}`);
  return { h, c };
}

export interface RawReply {
  code: number;
  /** Lines without the code prefix of the first/last line, joined by "\n". */
  text: string;
  /** Raw lines as received. */
  lines: string[];
}

/** A raw control connection: send lines, read replies. */
export class RawControl {
  private buffer = '';
  private readonly replies: RawReply[] = [];
  private waiters: Array<{ resolve: (r: RawReply) => void; reject: (e: Error) => void }> = [];
  private pending: string[] = [];
  private ended = false;
  greeting!: RawReply;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.onData(d));
    const fail = (): void => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error('control connection closed'));
    };
    socket.on('close', fail);
    socket.on('error', fail);
  }

  static async connect(host: string, port: number): Promise<RawControl> {
    const socket = connect({ host, port });
    await once(socket, 'connect');
    const c = new RawControl(socket);
    c.greeting = await c.read();
    return c;
  }

  /** Take over a connected socket (after the test wrote something first, e.g. a PROXY header) and read the greeting. */
  static async adopt(socket: Socket): Promise<RawControl> {
    const c = new RawControl(socket);
    c.greeting = await c.read();
    return c;
  }

  /** One USER/PASS on a fresh connection (closed afterwards): the code answered to PASS. */
  static async loginCode(host: string, port: number, user: string, password: string): Promise<number> {
    const c = await RawControl.connect(host, port);
    try {
      const r1 = await c.send(`USER ${user}`);
      if (r1.code !== 331) throw new Error(`USER: ${r1.code} ${r1.text}`);
      return (await c.send(`PASS ${password}`)).code;
    } finally {
      c.close();
    }
  }

  /** Connect and log in (default user test/test). */
  static async login(h: Harness, user = 'test', password = 'test'): Promise<RawControl> {
    const c = await RawControl.connect(h.host, h.port);
    const r1 = await c.send(`USER ${user}`);
    if (r1.code !== 331) throw new Error(`USER: ${r1.code} ${r1.text}`);
    const r2 = await c.send(`PASS ${password}`);
    if (r2.code !== 230) throw new Error(`PASS: ${r2.code} ${r2.text}`);
    return c;
  }

  get closed(): boolean { return this.ended; }

  private onData(d: string): void {
    this.buffer += d;
    let i: number;
    while ((i = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    this.pending.push(line);
    const first = this.pending[0];
    const m = /^(\d{3})([ -])/.exec(first) ?? /^(\d{3})$/.exec(first);
    if (!m) { this.pending = []; return; }
    const code = m[1];
    const multi = m[2] === '-';
    const done = !multi || (this.pending.length > 1 && (line.startsWith(`${code} `) || line === code));
    if (!done) return;
    const lines = this.pending;
    this.pending = [];
    const text = lines.map((l, idx) => (idx === 0 || idx === lines.length - 1 ? l.slice(4) : l)).join('\n');
    const r: RawReply = { code: Number(code), text, lines };
    const w = this.waiters.shift();
    if (w) w.resolve(r);
    else this.replies.push(r);
  }

  /** The next reply (already received or coming). */
  read(): Promise<RawReply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.ended) return Promise.reject(new Error('control connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Write raw bytes/text (no CRLF added). */
  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Send a command line (CRLF added) and await its reply. */
  async send(line: string): Promise<RawReply> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  /** Resolves when the server closed the connection. */
  async waitClosed(): Promise<void> {
    if (this.ended) return;
    await once(this.socket, 'close');
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Send EPSV (or PASV) and connect the data socket. */
/**
 * Read replies until a final one (>= 200) or `ms` pass. Resolves with that reply (undefined on time-out) and
 * the codes read on the way, for a test asserting that the server answers at all (no hang).
 */
export async function finalReplyWithin<R extends { code: number }>(
  c: { read(): Promise<R> }, ms: number,
): Promise<{ final: R | undefined; codes: number[] }> {
  const codes: number[] = [];
  const final = await Promise.race([
    (async () => { for (;;) { const r = await c.read(); codes.push(r.code); if (r.code >= 200) return r; } })(),
    delay(ms, undefined, { ref: false }).then(() => undefined),
  ]);
  return { final, codes };
}

export async function openPassive(c: RawControl, verb: 'EPSV' | 'PASV' = 'EPSV'): Promise<Socket> {
  const r = await c.send(verb);
  if (verb === 'EPSV' && r.code !== 229) throw new Error(`EPSV: ${r.code} ${r.text}`);
  if (verb === 'PASV' && r.code !== 227) throw new Error(`PASV: ${r.code} ${r.text}`);
  const host = c.socket.remoteAddress!;
  const port = verb === 'EPSV' ? parseEpsvReply(r.text) : parsePasvReply(r.text).port;
  const socket = connect({ host, port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

export interface ActiveListener {
  server: Server;
  port: number;
  /** Resolves with the server's data connection. */
  accepted: Promise<Socket>;
  close(): void;
}

/** Listen on loopback for an active-mode data connection and send PORT (IPv4) or EPRT. */
export async function openActive(c: RawControl, verb: 'EPRT' | 'PORT' = 'EPRT'): Promise<ActiveListener> {
  const host = c.socket.localAddress!;
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const accepted = new Promise<Socket>(resolve => server.once('connection', (s: Socket) => { s.on('error', () => {}); resolve(s); }));
  const arg = verb === 'PORT'
    ? `${host.split('.').join(',')},${port >> 8},${port & 255}`
    : `|${host.includes(':') ? 2 : 1}|${host}|${port}|`;
  const r = await c.send(`${verb} ${arg}`);
  if (r.code !== 200) { server.close(); throw new Error(`${verb}: ${r.code} ${r.text}`); }
  return { server, port, accepted, close: () => server.close() };
}

/** Read a socket to its end. */
export async function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of socket) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** What arrives on `socket` until it closes, however it closes (end or reset): for connections a server refuses. */
export function readUntilClosed(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  return new Promise(resolve => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

/** Write data and end the socket, resolving when flushed. */
export function writeAll(socket: Socket, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.end(data, () => resolve());
  });
}

export { READ_ONLY, READ_WRITE, MemoryStorage };
