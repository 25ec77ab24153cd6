/**
 * A scripted fake FTP server for client and doctor tests, in the spirit of curl's tests/FILEFORMAT.md:
 * a test says what the server answers to each command, what PASV/EPSV advertise, and what the data
 * listener does; the fake records every command it received so the test can assert what went on the wire.
 *
 * Real sockets on 127.0.0.1:0. Nothing here is a real FTP server: no paths, no permissions, no state beyond
 * `files` (served by RETR/SIZE/MDTM) and `uploads` (filled by STOR/APPE).
 *
 *   const fake = await startFakeServer({
 *     commands: { PASS: '530 Login incorrect.', EPSV: { never: true }, FEAT: '211-Features:\r\n MLST\r\n211 End' },
 *     pasv: { host: '10.0.0.5' },           // advertise a private address
 *     data: { onConnect: 'reset' },         // reset every data connection
 *   });
 *   ... client against fake.port ...
 *   assert.deepEqual(fake.verbs(), ['USER', 'PASS', ...]);
 *   await fake.close();
 */
import { createServer, createConnection, type Server, type Socket, type AddressInfo } from 'node:net';
import { EventEmitter, once } from 'node:events';

/** One step of an answer. A plain string is `{ reply: string }`. */
export type Step =
  | string
  | { reply: string }                 // reply line(s); "\r\n" is added to each line
  | { raw: string | Buffer }          // bytes as they are (malformed, unterminated or binary replies)
  | { delayMs: number }               // wait before the next step
  | { never: true }                   // swallow the command: never answer
  | { close: true }                   // end the control connection (FIN)
  | { reset: true }                   // reset the control connection (RST)
  | { transfer: TransferSpec };       // run a data transfer (see below)

export interface TransferSpec {
  /** Bytes to send on the data connection (downloads, listings). */
  send?: string | Buffer;
  /** Receive everything the client sends and record it under this name in `uploads`. */
  receiveAs?: string;
  /** Preliminary reply, default "150 Opening data connection." */
  preliminary?: string | null;
  /** Final reply, default "226 Transfer complete." */
  final?: string | null;
  /** Send the final reply before the data is written/closed (replies and data race in real servers). */
  finalFirst?: boolean;
  /** What to do with the data connection once it exists; overrides the server-wide `data.onConnect`. */
  onConnect?: DataBehaviour;
  /** Send `send` slowly: `bytes` at a time, one chunk every `everyMs` (a trickling server). */
  trickle?: { bytes: number; everyMs: number };
}

/** What the fake does with an accepted (passive) or established (active) data connection. */
export type DataBehaviour =
  | 'serve'      // transfer normally
  | 'drop'       // close it at once (FIN), then answer 426
  | 'reset'      // reset it at once (RST), then answer 426
  | 'hold';      // keep it open and do nothing (a stalled transfer)

export type Response = Step | Step[] | ((cmd: ReceivedCommand, session: FakeSession) => Step | Step[] | Promise<Step | Step[]>);

export interface ReceivedCommand {
  /** Upper-cased verb. */
  verb: string;
  /** Argument as sent (no verb, no CRLF); '' when none. */
  arg: string;
  /** The whole line without CRLF. */
  line: string;
  /** Index of the control connection (0 for the first). */
  session: number;
}

export interface FakeServerOptions {
  /** Greeting steps; default "220 ftpkit fake server". `{ never: true }` for a silent server. */
  greeting?: Response;
  /** Answers by verb (upper case). Overrides the defaults below; anything unknown answers 502. */
  commands?: Record<string, Response>;
  /** Files served by RETR, SIZE and MDTM, by the argument exactly as sent. */
  files?: Record<string, string | Buffer>;
  /** Body of LIST / NLST / MLSD, by argument ('' = no argument). A plain string is used for every argument. */
  listing?: string | Record<string, string>;
  nlst?: string | Record<string, string>;
  mlsd?: string | Record<string, string>;
  /** What PASV/EPSV advertise. By default the real data listener on 127.0.0.1. */
  pasv?: {
    /** IPv4 address in the 227 reply (e.g. a private or bogus one). */
    host?: string;
    /** Port to advertise: a number, or 'closed' for a port nobody listens on. */
    port?: number | 'closed';
    /** Do not open a data listener at all (data connections are refused). */
    listen?: boolean;
    /**
     * Called with what the 227 reply is about to advertise and the port the real listener has on 127.0.0.1,
     * before the reply is sent (e.g. to put a trap listener on the advertised host).
     */
    beforeReply?: (advertised: { host: string; port: number }, listenerPort: number | undefined) => Promise<void> | void;
  };
  /** Data connection behaviour (passive accept and active connect). */
  data?: {
    onConnect?: DataBehaviour;
    /** Wait this long after accepting / before connecting back in active mode. */
    delayMs?: number;
    /** How long a transfer command waits for the data connection before answering 425. Default 5000. */
    waitMs?: number;
    /** Active mode: don't connect back to PORT/EPRT at all (a firewall dropping the server's connect). */
    activeConnect?: boolean;
  };
}

/** A control connection as the scripts see it. */
export class FakeSession {
  readonly index: number;
  readonly socket: Socket;
  /** How many times each verb was received on this connection. */
  readonly calls = new Map<string, number>();
  /** Where the next data connection comes from. */
  dataSource: { kind: 'passive'; server: Server; pending: Socket[]; waiters: ((s: Socket) => void)[] }
    | { kind: 'active'; host: string; port: number } | undefined;
  readonly server: FakeFtpServer;

  constructor(server: FakeFtpServer, index: number, socket: Socket) {
    this.server = server; this.index = index; this.socket = socket;
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  reply(text: string): void {
    this.write(text.split(/\r?\n/).map(l => `${l}\r\n`).join(''));
  }

  /** The data connection for the current transfer: the next accepted passive socket, or a connect back. */
  async dataSocket(): Promise<Socket | undefined> {
    const src = this.dataSource;
    const opts = this.server.options.data ?? {};
    const waitMs = opts.waitMs ?? 5000;
    if (!src) return undefined;
    if (src.kind === 'active') {
      if (opts.activeConnect === false) return undefined;
      if (opts.delayMs) await delay(opts.delayMs);
      const sock = createConnection({ host: src.host, port: src.port });
      this.server.track(sock);
      try {
        await withTimeout(once(sock, 'connect'), waitMs);
      } catch {
        sock.destroy();
        return undefined;
      }
      this.server.dataConnections++;
      return sock;
    }
    let waiter: ((s: Socket) => void) | undefined;
    const sock = src.pending.shift() ?? await withTimeout(new Promise<Socket>(resolve => { waiter = resolve; src.waiters.push(resolve); }), waitMs)
      .catch(() => {
        // Nobody connected in time: forget the waiter so a late connection is not handed to it.
        const i = waiter ? src.waiters.indexOf(waiter) : -1;
        if (i >= 0) src.waiters.splice(i, 1);
        return undefined;
      });
    if (sock && opts.delayMs) await delay(opts.delayMs);
    return sock;
  }

  closeDataListener(): void {
    if (this.dataSource?.kind === 'passive') {
      this.dataSource.server.close();
      for (const s of this.dataSource.pending) s.destroy();
    }
    this.dataSource = undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); }),
  ]).finally(() => clearTimeout(timer));
}

function pick(table: string | Record<string, string> | undefined, arg: string): string | undefined {
  if (table === undefined) return undefined;
  if (typeof table === 'string') return table;
  return table[arg];
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed; good enough on loopback). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise<void>(resolve => s.close(() => resolve()));
  return port;
}

export class FakeFtpServer extends EventEmitter {
  readonly options: FakeServerOptions;
  readonly host = '127.0.0.1';
  port = 0;
  /** Every command received, in order, all connections. */
  readonly received: ReceivedCommand[] = [];
  /** Bytes received by STOR/APPE, by name. */
  readonly uploads = new Map<string, Buffer>();
  readonly sessions: FakeSession[] = [];
  /** Data connections accepted or established. */
  dataConnections = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly servers = new Set<Server>();

  constructor(options: FakeServerOptions = {}) {
    super();
    this.options = options;
    this.server = createServer(socket => this.onConnection(socket));
  }

  async listen(): Promise<this> {
    this.server.listen(0, this.host);
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string { return `ftp://${this.host}:${this.port}`; }

  /** Verbs received, in order (all connections, or one). */
  verbs(session?: number): string[] {
    return this.received.filter(c => session === undefined || c.session === session).map(c => c.verb);
  }

  /** Resolves with the next (or an already received) command with this verb. */
  waitFor(verb: string, { already = true } = {}): Promise<ReceivedCommand> {
    const v = verb.toUpperCase();
    const seen = already ? this.received.find(c => c.verb === v) : undefined;
    if (seen) return Promise.resolve(seen);
    return new Promise(resolve => {
      const on = (c: ReceivedCommand) => { if (c.verb === v) { this.off('command', on); resolve(c); } };
      this.on('command', on);
    });
  }

  track(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => { /* tests assert on the client side */ });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const srv of this.servers) srv.close();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private onConnection(socket: Socket): void {
    this.track(socket);
    const session = new FakeSession(this, this.sessions.length, socket);
    this.sessions.push(session);
    socket.on('close', () => session.closeDataListener());
    // One command at a time, like a real server: the next line waits for the previous answer.
    let chain: Promise<void> = this.run(session, this.options.greeting ?? '220 ftpkit fake server', undefined);
    let buffered = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).replace(/\r$/, '');
        buffered = buffered.slice(nl + 1);
        const sp = line.indexOf(' ');
        const cmd: ReceivedCommand = {
          verb: (sp < 0 ? line : line.slice(0, sp)).toUpperCase(),
          arg: sp < 0 ? '' : line.slice(sp + 1),
          line,
          session: session.index,
        };
        this.received.push(cmd);
        session.calls.set(cmd.verb, (session.calls.get(cmd.verb) ?? 0) + 1);
        this.emit('command', cmd);
        chain = chain.then(() => this.run(session, this.responseFor(cmd), cmd)).catch(err => { this.emit('error-in-script', err); });
      }
    });
  }

  private responseFor(cmd: ReceivedCommand): Response {
    const custom = this.options.commands?.[cmd.verb];
    if (custom !== undefined) return custom;
    return (c, s) => this.defaultAnswer(c, s);
  }

  private async run(session: FakeSession, response: Response, cmd: ReceivedCommand | undefined): Promise<void> {
    let steps = typeof response === 'function' ? await response(cmd!, session) : response;
    if (!Array.isArray(steps)) steps = [steps];
    for (const step of steps) {
      if (session.socket.destroyed) return;
      if (typeof step === 'string') session.reply(step);
      else if ('reply' in step) session.reply(step.reply);
      else if ('raw' in step) session.write(step.raw);
      else if ('delayMs' in step) await delay(step.delayMs);
      else if ('never' in step) return;
      else if ('close' in step) { session.socket.end(); return; }
      else if ('reset' in step) { session.socket.resetAndDestroy(); return; }
      else if ('transfer' in step) await this.transfer(session, step.transfer);
    }
  }

  private async transfer(session: FakeSession, spec: TransferSpec): Promise<void> {
    const sock = await session.dataSocket();
    if (!sock) {
      session.reply("425 Can't open data connection.");
      session.closeDataListener();
      return;
    }
    const behaviour = spec.onConnect ?? this.options.data?.onConnect ?? 'serve';
    if (spec.preliminary !== null) session.reply(spec.preliminary ?? '150 Opening data connection.');
    if (behaviour === 'drop' || behaviour === 'reset') {
      if (behaviour === 'drop') sock.end(); else sock.resetAndDestroy();
      session.reply('426 Connection closed; transfer aborted.');
      session.closeDataListener();
      return;
    }
    if (behaviour === 'hold') { session.closeDataListener(); return; }
    const final = spec.final === undefined ? '226 Transfer complete.' : spec.final;
    if (spec.finalFirst && final) session.reply(final);
    if (spec.receiveAs !== undefined) {
      const chunks: Buffer[] = [];
      sock.on('data', (c: Buffer) => chunks.push(c));
      await once(sock, 'close').catch(() => undefined);
      this.uploads.set(spec.receiveAs, Buffer.concat(chunks));
    } else if (spec.trickle) {
      const data = Buffer.from(spec.send ?? '');
      const { bytes, everyMs } = spec.trickle;
      for (let at = 0; at < data.length && !sock.destroyed; at += bytes) {
        sock.write(data.subarray(at, at + bytes));
        await delay(everyMs);
      }
      if (!sock.destroyed) {
        const closed = once(sock, 'close').catch(() => undefined);
        sock.end();
        await closed;
      }
    } else {
      const closed = once(sock, 'close').catch(() => undefined);
      sock.end(spec.send ?? '');
      await closed;
    }
    session.closeDataListener();
    if (!spec.finalFirst && final) session.reply(final);
  }

  private async openPassive(session: FakeSession): Promise<{ host: string; port: number } | undefined> {
    session.closeDataListener();
    const pasv = this.options.pasv ?? {};
    let port: number;
    if (pasv.listen === false) {
      port = await closedPort();
    } else {
      const srv = createServer();
      this.servers.add(srv);
      const pending: Socket[] = [];
      const waiters: ((s: Socket) => void)[] = [];
      srv.on('connection', s => {
        this.track(s);
        this.dataConnections++;
        const w = waiters.shift();
        if (w) w(s); else pending.push(s);
      });
      srv.on('close', () => this.servers.delete(srv));
      srv.listen(0, this.host);
      await once(srv, 'listening');
      port = (srv.address() as AddressInfo).port;
      session.dataSource = { kind: 'passive', server: srv, pending, waiters };
    }
    const listenerPort = pasv.listen === false ? undefined : port;
    if (pasv.port === 'closed') port = await closedPort();
    else if (typeof pasv.port === 'number') port = pasv.port;
    const advertised = { host: pasv.host ?? this.host, port };
    await pasv.beforeReply?.(advertised, listenerPort);
    return advertised;
  }

  private async defaultAnswer(cmd: ReceivedCommand, session: FakeSession): Promise<Step | Step[]> {
    const file = this.options.files?.[cmd.arg];
    switch (cmd.verb) {
      case 'USER': return '331 Password required.';
      case 'PASS': return '230 Logged in.';
      case 'SYST': return '215 UNIX Type: L8';
      case 'FEAT': return '211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n MDTM\r\n REST STREAM\r\n UTF8\r\n211 End';
      case 'OPTS': case 'TYPE': case 'NOOP': case 'MODE': case 'STRU': return '200 OK.';
      case 'PWD': return '257 "/" is the current directory.';
      case 'CWD': case 'CDUP': case 'DELE': case 'RMD': case 'RNTO': return '250 OK.';
      case 'MKD': return `257 "${cmd.arg}" created.`;
      case 'RNFR': case 'REST': return '350 Pending.';
      case 'QUIT': return ['221 Goodbye.', { close: true }];
      case 'ABOR': return '226 Abort successful.';
      case 'SIZE': return file !== undefined ? `213 ${Buffer.byteLength(file)}` : '550 No such file.';
      case 'MDTM': return file !== undefined ? '213 20240115103000' : '550 No such file.';
      case 'PASV': {
        const hp = await this.openPassive(session);
        const [a, b, c, d] = hp!.host.split('.');
        return `227 Entering Passive Mode (${a},${b},${c},${d},${hp!.port >> 8},${hp!.port & 255}).`;
      }
      case 'EPSV': {
        const hp = await this.openPassive(session);
        return `229 Entering Extended Passive Mode (|||${hp!.port}|)`;
      }
      case 'PORT': {
        const n = cmd.arg.split(',').map(Number);
        if (n.length !== 6 || n.some(x => !Number.isInteger(x))) return '501 Bad PORT.';
        session.closeDataListener();
        session.dataSource = { kind: 'active', host: n.slice(0, 4).join('.'), port: n[4] * 256 + n[5] };
        return '200 PORT command successful.';
      }
      case 'EPRT': {
        const parts = cmd.arg.split(cmd.arg[0] ?? '|');
        if (parts.length !== 5) return '501 Bad EPRT.';
        session.closeDataListener();
        session.dataSource = { kind: 'active', host: parts[2], port: Number(parts[3]) };
        return '200 EPRT command successful.';
      }
      case 'LIST': return { transfer: { send: pick(this.options.listing, cmd.arg) ?? '' } };
      case 'NLST': return { transfer: { send: pick(this.options.nlst, cmd.arg) ?? '' } };
      case 'MLSD': return { transfer: { send: pick(this.options.mlsd, cmd.arg) ?? '' } };
      case 'RETR':
        if (file === undefined) return '550 No such file.';
        return { transfer: { send: file } };
      case 'STOR': case 'APPE': return { transfer: { receiveAs: cmd.arg } };
      default: return `502 ${cmd.verb} not implemented.`;
    }
  }
}

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeFtpServer> {
  return new FakeFtpServer(options).listen();
}
