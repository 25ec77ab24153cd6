/**
 * Owns the admin listener of one FtpServer (docs/server.md#admin-page): HTTP, or HTTPS with the given
 * certificate, and its routes:
 *
 *   GET  /  /status.js  /status.css   the status page (no data in them: no authentication needed)
 *   GET  /health                      200 {"status":"ready"}, 503 {"status":"draining"} once close() began
 *   GET  /metrics                     Prometheus text format (metrics.ts)
 *   GET  /api/status                  the status document (status.ts)
 *   GET  /api/events                  the same document as server-sent events, once a second
 *   POST /api/actions/NAME            disconnect, ban, unban, reload (actions.ts), a JSON body
 *
 * Everything but the page and /health needs the Authorization header (auth.ts); a wrong one scores as a
 * failed login with the defender, and a banned address is refused. Actions need a JSON body
 * (a cross-site form cannot send one without a preflight, which is never granted) and, when the browser
 * sends an Origin, this listener's own. Request URLs are never logged.
 */
import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { FtpUsageError } from '../../errors.js';
import type { FtpServer } from '../ftp-server.js';
import { ActionError, runAction, type AdminAction, type ReloadHook } from './actions.js';
import { ActivityTracker } from './activity.js';
import { AdminAuth } from './auth.js';
import { attachMetrics, type ServerMetrics } from './metrics.js';
import { resolveAdminOptions, type AdminOptions, type ResolvedAdminOptions } from './options.js';
import { loadPageFiles, PAGE_CSP, type PageFile } from './page-files.js';
import { healthOf, statusDocument } from './status.js';

export interface AdminServerEvents {
  /** An operator's action, with who did it. */
  action: [AdminAction];
}

export interface AdminServerExtras {
  /** "Reload the configuration" (ftpkit serve passes its SIGHUP reload). Without it the action answers 501. */
  reload?: ReloadHook;
  /** How often the live feed sends the status. Default 1000 ms. */
  updateMs?: number;
}

const MAX_BODY = 4096;
/** Live feeds open at once: each costs a snapshot a second. */
const MAX_STREAMS = 32;
/** Bytes a live feed may have unread before it is closed. */
const MAX_UNREAD = 1 << 20;

const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY',
  'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-store',
};

export class AdminServer extends EventEmitter<AdminServerEvents> {
  readonly options: ResolvedAdminOptions;
  private readonly auth: AdminAuth;
  private readonly metrics: ServerMetrics;
  private readonly activity: ActivityTracker;
  private readonly http: Server;
  private readonly streams = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private page: Map<string, PageFile> | undefined;
  private ticker: NodeJS.Timeout | undefined;

  /** Throws FtpConfigError for bad options (a non-loopback host without authentication among them). */
  constructor(private readonly server: FtpServer, options: AdminOptions, private readonly extras: AdminServerExtras = {}) {
    super();
    this.options = resolveAdminOptions(options);
    this.auth = new AdminAuth(this.options);
    this.metrics = attachMetrics(server);
    this.activity = new ActivityTracker(server);
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.route(req, res).catch(err => this.fail(res, 500, `internal error: ${(err as Error).message}`));
    };
    this.http = this.options.tls ? createHttpsServer({ cert: this.options.tls.cert, key: this.options.tls.key }, handler) : createHttpServer(handler);
    this.http.on('connection', s => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
  }

  /** `https:` or `http:`. */
  get protocol(): 'http:' | 'https:' { return this.options.tls ? 'https:' : 'http:'; }

  async listen(): Promise<AddressInfo> {
    this.page = await loadPageFiles();
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', err => reject(new FtpUsageError(`admin page: cannot listen on ${this.options.host} port ${this.options.port}: ${err.message}`, { cause: err })));
      this.http.listen(this.options.port, this.options.host, () => { this.http.removeAllListeners('error'); resolve(); });
    });
    this.ticker = setInterval(() => this.broadcast(), this.extras.updateMs ?? 1000);
    this.ticker.unref();
    return this.address()!;
  }

  address(): AddressInfo | null {
    return (this.http.address() as AddressInfo | null) ?? null;
  }

  /** The page's URL (loopback for a wildcard listener). */
  url(): string {
    const a = this.address();
    const host = !a || a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.address;
    return `${this.protocol}//${host.includes(':') ? `[${host}]` : host}:${a?.port ?? this.options.port}/`;
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    for (const s of this.streams) s.end();
    this.streams.clear();
    this.metrics.detach();
    this.activity.stop();
    const closed = new Promise<void>(resolve => this.http.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const page = this.page?.get(path);
    if (page) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.fail(res, 405, 'GET only');
      res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': page.type, 'Content-Length': page.body.length });
      res.end(req.method === 'HEAD' ? undefined : page.body);
      return;
    }
    if (path === '/health') {
      const status = healthOf(this.server);
      return this.json(res, status === 'ready' ? 200 : 503, { status, sessions: this.server.sessionCount });
    }
    // Guessing the token or a password costs points with the FTP server's defender, as a wrong FTP password
    // does; a banned or denied address gets nothing here either (docs/server.md#the-defender-bans-allow-and-deny-lists).
    const remote = req.socket.remoteAddress ?? '';
    if (this.server.defender.addressRefusal(remote)) return this.fail(res, 403, 'this address is banned');
    const by = await this.auth.identify(req.headers.authorization);
    if (by === undefined) {
      if (req.headers.authorization) this.server.defender.record('failedLogin', remote);
      return this.fail(res, 401, 'unauthorised: send "Authorization: Bearer TOKEN" (or Basic with an admin user)');
    }
    if (path === '/metrics' && req.method === 'GET') {
      const text = await this.metrics.text();
      res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': this.metrics.contentType });
      res.end(text);
      return;
    }
    if (path === '/api/status' && req.method === 'GET') return this.json(res, 200, statusDocument(this.server, this.activity));
    if (path === '/api/events' && req.method === 'GET') return this.openStream(res);
    const action = /^\/api\/actions\/([a-z]+)$/.exec(path)?.[1];
    if (action !== undefined) {
      if (req.method !== 'POST') return this.fail(res, 405, 'POST only');
      return this.act(req, res, by, action);
    }
    this.fail(res, 404, 'not found');
  }

  private async act(req: IncomingMessage, res: ServerResponse, by: string, action: string): Promise<void> {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return this.fail(res, 415, 'actions take a JSON body (Content-Type: application/json)');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `${this.protocol}//${req.headers.host}`) return this.fail(res, 403, 'cross-origin actions are refused');
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await readBody(req));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch (err) {
      return this.fail(res, 400, `bad JSON body: ${(err as Error).message}`);
    }
    try {
      const done = await runAction(this.server, this.extras.reload, by, action, body);
      this.emit('action', done);
      this.json(res, done.ok ? 200 : 409, { ok: done.ok, message: done.message });
      this.broadcast();
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      this.emit('action', { by, action: action as AdminAction['action'], ok: false, message: err.message,
        ...(typeof body.session === 'string' || typeof body.address === 'string' || typeof body.key === 'string'
          ? { target: String(body.session ?? body.address ?? body.key).slice(0, 256) } : {}) });
      this.fail(res, err.status, err.message);
    }
  }

  private openStream(res: ServerResponse): void {
    if (this.streams.size >= MAX_STREAMS) return this.fail(res, 503, `too many live feeds open (${MAX_STREAMS})`);
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
    res.write(`retry: 2000\ndata: ${JSON.stringify(statusDocument(this.server, this.activity))}\n\n`);
  }

  private broadcast(): void {
    if (this.streams.size === 0) return;
    const data = `data: ${JSON.stringify(statusDocument(this.server, this.activity))}\n\n`;
    for (const s of this.streams) {
      // A reader that stopped reading is dropped rather than buffered for without end (its page reconnects).
      if (s.writableLength > MAX_UNREAD) { s.destroy(); this.streams.delete(s); continue; }
      s.write(data);
    }
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private fail(res: ServerResponse, status: number, message: string): void {
    if (res.headersSent) { res.end(); return; }
    this.json(res, status, { error: message });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new Error(`larger than ${MAX_BODY} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
