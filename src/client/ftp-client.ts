/**
 * FtpClient: the public client API (`ftpkit/client`).
 *
 * Owns the session: connect (greeting, FEAT, hooks for TLS, login, TYPE), the one-command-in-flight queue,
 * keepalive while idle, and the operations (list, download, upload, ...). Sockets live in
 * control-connection.ts, data connections in data-channel.ts, the both-halves transfer logic in transfer.ts.
 * Every decision goes to the 'transcript' event as a 'status' line; library code never prints.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import {
  FtpAbortedError, FtpClosedError, FtpError, FtpReplyError, FtpUsageError, FtpProtocolError,
} from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { isPreliminary, type FtpResponse } from '../protocol/reply-parser.js';
import { unquotePath } from '../protocol/reply.js';
import { parseListingDetailed, parseMlsd } from '../protocol/listing-parse.js';
import type { FileEntry } from '../protocol/listing-types.js';
import { connectTcp, formatEndpoint } from '../net/connect.js';
import { ControlConnection, type SocketLike } from './control-connection.js';
import { isDataConnectionFailure, type DataMode, type SessionMemory } from './data-channel.js';
import { Transfer, type TransferContext, type TransferSpec } from './transfer.js';
import { TaskQueue } from './task-queue.js';
import { parseFeatures } from './features.js';
import { secureHooksFor, type Connector, type SessionContext, type SessionHooks } from './transport.js';
// FTPS: registers the hooks used for secure 'explicit' | 'implicit' (src/client/tls.ts).
import './tls.js';
import { collectListing } from './remote-paths.js';
import { downloadFile, uploadFile, type FileTransferOps, type DownloadOptions, type UploadOptions, type TransferResult } from './file-transfers.js';
import { makeDirectories, removeTree, readSize, readModifiedAt, statPath, stripFacts, type RemoteOps } from './remote-ops.js';
import type { FtpClientOptions, TimeoutSettings } from './options.js';
import type { FtpClientEvents, TranscriptEvent } from './events.js';

export type { FtpResponse };

export type { TransferType, DownloadOptions, UploadOptions, TransferResult } from './file-transfers.js';

const DEFAULT_TIMEOUTS: Required<TimeoutSettings> = {
  connectMs: 10_000, greetingMs: 10_000, commandMs: 30_000, dataMs: 30_000, keepaliveMs: 0,
  stall: { minBytesPerSecond: 10, seconds: 60 }, maxTimeMs: 0,
};

/** Largest listing accepted into memory (DESIGN principle 12: bound every input). */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;

export class FtpClient extends EventEmitter<FtpClientEvents> {
  readonly options: Readonly<FtpClientOptions>;
  /** FEAT result: upper-case feature name -> parameters (RFC 2389). */
  readonly features = new Map<string, string>();
  private readonly timeouts: Required<TimeoutSettings>;
  private readonly queue = new TaskQueue();
  private readonly connector: Connector;
  private hooks: SessionHooks | undefined;
  private controlConnection: ControlConnection | undefined;
  private currentType: 'A' | 'I' | undefined;
  private currentTransfer: Transfer | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private readonly memory: SessionMemory = {};
  private closing = false;
  private mlsdRefused = false;
  /** Aborted by destroy(): stops connects in progress (control or data) at once. */
  private lifetime = new AbortController();

  constructor(options: FtpClientOptions) {
    super();
    if (!options || typeof options.host !== 'string' || !options.host) throw new FtpUsageError('FtpClient needs a host');
    this.options = options;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...stripUndefined(options.timeouts ?? {}) };
    const { stall, maxTimeMs } = this.timeouts;
    if (!(stall.minBytesPerSecond >= 0) || !(stall.seconds > 0) || !Number.isFinite(stall.minBytesPerSecond) || !Number.isFinite(stall.seconds)) {
      throw new FtpUsageError(`timeouts.stall needs minBytesPerSecond >= 0 and seconds > 0, got ${JSON.stringify(stall)}`);
    }
    if (!(maxTimeMs >= 0) || !Number.isFinite(maxTimeMs)) throw new FtpUsageError(`timeouts.maxTimeMs must be >= 0, got ${maxTimeMs}`);
    this.connector = options.connector ?? connectTcp;
  }

  /** Connect, read the greeting, FEAT, log in, and set the transfer type. */
  static async connect(options: FtpClientOptions): Promise<FtpClient> {
    const client = new FtpClient(options);
    await client.connect();
    return client;
  }

  get connected(): boolean { return this.controlConnection !== undefined && !this.controlConnection.closed; }

  /** The control connection (for the TLS layer: `replaceSocket()`); undefined before connect(). */
  get control(): ControlConnection | undefined { return this.controlConnection; }

  /** What worked in this session: the passive and active commands remembered by 'auto'. */
  get dataCommandsUsed(): Readonly<{ passive?: 'EPSV' | 'PASV'; active?: 'EPRT' | 'PORT' }> {
    const { passive, active } = this.memory;
    return { ...(passive ? { passive } : {}), ...(active ? { active } : {}) };
  }

  // ------------------------------------------------------------------ session

  connect(): Promise<void> {
    // A new lifetime for a reconnect after destroy(), taken now so that a destroy() right after this call
    // (before the queued task runs) still cancels it.
    if (this.lifetime.signal.aborted) this.lifetime = new AbortController();
    const lifetime = this.lifetime;
    return this.run(async () => {
      if (lifetime.signal.aborted) throw new FtpClosedError('the client was destroyed before connecting');
      if (this.connected) throw new FtpUsageError('already connected');
      this.closing = false;
      this.currentType = undefined;
      this.features.clear();
      this.mlsdRefused = false;
      // What worked is remembered per session: a new connection may reach another server behind the name.
      for (const key of Object.keys(this.memory)) delete this.memory[key as keyof SessionMemory];
      const o = this.options;
      const secure = o.secure ?? 'none';
      this.hooks = o.hooks ?? (secure !== 'none' ? secureHooksFor(o) : undefined);
      if (secure !== 'none' && !this.hooks) {
        throw new FtpUsageError(`secure: '${secure}' needs the FTPS module (no TLS hooks are registered)`);
      }
      const port = o.port ?? (secure === 'implicit' ? 990 : 21);
      const endpoint = formatEndpoint(o.host, port);
      this.status(`connecting to ${endpoint} (timeout ${this.timeouts.connectMs} ms)`, 'control');
      const tcp = await this.connector({ host: o.host, port, timeoutMs: this.timeouts.connectMs, connection: 'control',
        signal: lifetime.signal }).catch((e: unknown) => {
        throw lifetime.signal.aborted ? new FtpClosedError('the client was destroyed while connecting', { cause: e }) : e;
      });
      let socket: SocketLike = tcp;
      try {
        tcp.setNoDelay(true);
        // During a long transfer the control connection is silent; NAT routers and firewalls forget idle
        // mappings (often after 5-15 min) and the final 226 never arrives. TCP keepalive probes keep them.
        tcp.setKeepAlive(true, 60_000);
        this.status(`connected to ${formatEndpoint(tcp.remoteAddress ?? o.host, tcp.remotePort ?? port)} from ${formatEndpoint(tcp.localAddress ?? '?', tcp.localPort ?? 0)}`, 'control');
        if (this.hooks?.onControlConnected) {
          socket = await this.hooks.onControlConnected(tcp, {
            options: o, features: this.features, host: o.host, status: (t, c) => this.status(t, c),
          });
        }
      } catch (e) {
        tcp.destroy();
        throw e;
      }
      if (lifetime.signal.aborted) {
        socket.destroy();
        throw new FtpClosedError('the client was destroyed while connecting');
      }
      const control = new ControlConnection(socket, e => this.transcript(e), endpoint);
      this.controlConnection = control;
      try {
        let greeting = await control.nextReply(this.timeouts.greetingMs, 'greeting', 'the greeting');
        // RFC 959 s4.2: 120 "service ready in nnn minutes" precedes the 220.
        while (greeting.code === ReplyCode.ServiceReadyInMinutes) {
          greeting = await control.nextReply(this.timeouts.greetingMs, 'greeting', 'the greeting');
        }
        if (greeting.code !== ReplyCode.ServiceReady) throw new FtpReplyError(greeting.code, greeting.message, 'greeting');
        const feat = await this.command('FEAT');
        for (const [k, v] of parseFeatures(feat)) this.features.set(k, v);
        if (this.hooks?.beforeLogin) await this.hooks.beforeLogin(this.session());
        await this.login();
        if (this.hooks?.afterLogin) await this.hooks.afterLogin(this.session());
        // RFC 2640 s3.1: UTF-8 path names; harmless when refused.
        if (this.features.has('UTF8')) await this.command('OPTS UTF8 ON');
        await this.ensureType(this.options.transferType === 'ascii' ? 'A' : 'I');
      } catch (e) {
        control.fail(e as Error);
        throw e;
      }
    });
  }

  private async login(): Promise<void> {
    const user = this.options.user ?? 'anonymous';
    const password = this.options.password ?? (user === 'anonymous' || user === 'ftp' ? 'anonymous@' : '');
    let r = await this.command(`USER ${user}`);
    let command = `USER ${user}`;
    if (r.code === ReplyCode.NeedPassword) {
      r = await this.command(`PASS ${password}`);
      command = 'PASS ****';
    }
    // RFC 959 s5.4: 332 asks for ACCT, which we have no setting for.
    if (r.code !== ReplyCode.LoggedIn && r.code !== ReplyCode.NotImplementedSuperfluous) {
      throw new FtpReplyError(r.code, r.message, command);
    }
  }

  /** QUIT and close gracefully (after queued commands). */
  close(): Promise<void> {
    this.closing = true;
    this.stopKeepalive();
    return this.queue.run(async () => {
      const control = this.controlConnection;
      if (!control || control.closed) return;
      try {
        control.write('QUIT');
        await control.nextReply(Math.min(this.timeouts.commandMs, 5000), 'close', 'QUIT');
      } catch {
        // a server that vanishes on QUIT is closed too
      }
      await control.end(1000);
    });
  }

  /** Close at once: the running operation rejects with FtpClosedError. */
  destroy(): void {
    this.closing = true;
    this.stopKeepalive();
    this.lifetime.abort();
    // A running transfer sees the control connection fail and rejects with this error.
    this.controlConnection?.fail(new FtpClosedError('the client was destroyed'));
  }

  // ------------------------------------------------------------------ commands

  /**
   * Send a raw command and return its final reply (preliminary 1xx replies are read past). Throws only on
   * network errors and timeouts, and FtpUsageError for CR/LF/NUL in the command.
   */
  send(command: string): Promise<FtpResponse> {
    return this.run(() => this.command(command));
  }

  /** Send and expect a reply code; FtpReplyError otherwise. */
  private async expect(command: string, ...codes: number[]): Promise<FtpResponse> {
    const r = await this.command(command);
    if (!codes.includes(r.code)) throw new FtpReplyError(r.code, r.message, command);
    return r;
  }

  /** One command, unqueued (callers hold the queue). */
  private async command(line: string): Promise<FtpResponse> {
    const control = this.requireControl();
    for (const stray of control.takeUnsolicited()) {
      this.status(`ignoring an unsolicited reply: ${stray.code} ${stray.message}`);
      if (stray.code === ReplyCode.ServiceNotAvailable) {
        const err = new FtpReplyError(stray.code, stray.message, 'the server closed the session');
        control.fail(err);
        throw err;
      }
    }
    control.write(line);
    let r = await control.nextReply(this.timeouts.commandMs, 'command', line.split(' ')[0]);
    while (isPreliminary(r.code)) r = await control.nextReply(this.timeouts.commandMs, 'command', line.split(' ')[0]);
    return r;
  }

  private requireControl(): ControlConnection {
    const c = this.controlConnection;
    if (!c) throw new FtpClosedError('not connected: call connect() first');
    if (c.closed) {
      // A server that says goodbye first (421 on idle timeout or shutdown) is reported by its words.
      const bye = c.takeUnsolicited().find(r => r.code === ReplyCode.ServiceNotAvailable);
      if (bye) throw new FtpReplyError(bye.code, bye.message, 'the server closed the session', { cause: c.closedReason });
      throw c.closedReason ?? new FtpClosedError();
    }
    return c;
  }

  cd(path: string): Promise<void> {
    return this.run(async () => { await this.expect(`CWD ${path}`, ReplyCode.FileActionOk, ReplyCode.Ok); });
  }

  pwd(): Promise<string> {
    return this.run(() => this.pwdUnqueued());
  }

  private async pwdUnqueued(): Promise<string> {
    const r = await this.expect('PWD', ReplyCode.PathCreated);
    const p = unquotePath(r.message);
    if (p === undefined) throw new FtpProtocolError(`PWD reply without a quoted path: ${r.message}`);
    return p;
  }

  site(args: string): Promise<FtpResponse> {
    return this.run(async () => {
      const r = await this.command(`SITE ${args}`);
      if (r.code >= 400) throw new FtpReplyError(r.code, r.message, `SITE ${args}`);
      return r;
    });
  }

  delete(path: string): Promise<void> {
    return this.run(async () => { await this.expect(`DELE ${path}`, ReplyCode.FileActionOk, ReplyCode.Ok); });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(async () => {
      await this.expect(`RNFR ${from}`, ReplyCode.PendingFurtherInformation);
      await this.expect(`RNTO ${to}`, ReplyCode.FileActionOk, ReplyCode.Ok);
    });
  }

  mkdir(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    return this.run(() => opts.recursive ? makeDirectories(this.ops(), path)
      : this.expect(`MKD ${path}`, ReplyCode.PathCreated, ReplyCode.FileActionOk).then(() => undefined));
  }

  rmdir(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    return this.run(() => opts.recursive ? removeTree(this.ops(), path)
      : this.expect(`RMD ${path}`, ReplyCode.FileActionOk, ReplyCode.Ok).then(() => undefined));
  }

  size(path: string): Promise<number> {
    return this.run(() => readSize(this.ops(), path));
  }

  modifiedAt(path: string): Promise<Date> {
    return this.run(() => readModifiedAt(this.ops(), path));
  }

  /** MFMT (draft-somers-ftp-mfxx): set the modification time, UTC. */
  setModifiedAt(path: string, date: Date): Promise<void> {
    return this.run(async () => {
      const t = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
      await this.expect(`MFMT ${t} ${path}`, ReplyCode.FileStatus, ReplyCode.FileActionOk);
    });
  }

  /** MLST when offered (RFC 3659 s7), else SIZE/MDTM (and CWD to recognise a directory). */
  stat(path: string): Promise<FileEntry> {
    return this.run(() => statPath(this.ops(), path));
  }

  /** What remote-ops.ts needs, bound to this session (callers hold the queue). */
  private ops(): RemoteOps {
    return {
      features: this.features,
      command: l => this.command(l),
      expect: (l, ...codes) => this.expect(l, ...codes),
      pwd: () => this.pwdUnqueued(),
      list: p => this.listUnqueued(p),
      ensureType: t => this.ensureType(t),
      status: t => this.status(t),
    };
  }

  // ------------------------------------------------------------------ listings

  /** MLSD when FEAT offers MLST (RFC 3659 s7), else LIST parsed (Unix, DOS/IIS, EPLF). */
  list(path?: string): Promise<FileEntry[]> {
    return this.run(() => this.listUnqueued(path));
  }

  private async listUnqueued(path?: string): Promise<FileEntry[]> {
    if (this.features.has('MLST') && !this.mlsdRefused) {
      try {
        const text = await this.transferText(path ? `MLSD ${path}` : 'MLSD', path ?? '.');
        return parseMlsd(text).map(stripFacts);
      } catch (e) {
        // Some servers list MLST in FEAT but refuse MLSD: use LIST for the rest of the session.
        if (!(e instanceof FtpReplyError) || ![500, 502, 504].includes(e.replyCode)) throw e;
        this.mlsdRefused = true;
        this.status(`MLSD refused with ${e.replyCode}: using LIST`);
      }
    }
    const text = await this.transferText(path ? `LIST ${path}` : 'LIST', path ?? '.');
    const { entries, unparsed } = parseListingDetailed(text);
    // Said in the transcript (-v), so a listing that looks short has a visible reason.
    if (unparsed.length) {
      const longest = Math.max(...unparsed.map(l => l.length));
      this.status(`LIST: ${unparsed.length} line(s) not understood and left out (longest ${longest} characters)`);
    }
    return entries;
  }

  /** NLST (RFC 959 s4.1.3): names only. */
  nameList(path?: string): Promise<string[]> {
    return this.run(async () => {
      const text = await this.transferText(path ? `NLST ${path}` : 'NLST', path ?? '.');
      return text.split('\n').map(l => l.replace(/\r$/, '')).filter(l => l.length > 0);
    });
  }

  private async transferText(command: string, path: string): Promise<string> {
    // Listings go in TYPE A by RFC 959; servers send the same bytes in TYPE I and CRLF is stripped here,
    // so no TYPE switch is needed.
    const chunks = collectListing(MAX_LISTING_BYTES);
    await this.transfer(() => ({ command, direction: 'list', sink: chunks.sink }), path);
    return chunks.text();
  }

  // ------------------------------------------------------------------ transfers

  /**
   * Download to a local path or into a stream. A regular file (or a new one) is written under a temporary
   * name and renamed on success; a device or FIFO is written directly; a symbolic link is followed
   * (local-target.ts).
   */
  download(remotePath: string, destination: string | Writable, opts: DownloadOptions = {}): Promise<TransferResult> {
    return this.run(() => downloadFile(this.fileOps(), remotePath, destination, opts));
  }

  /** Upload from a local path or a stream. */
  upload(source: string | Readable, remotePath: string, opts: UploadOptions = {}): Promise<TransferResult> {
    return this.run(() => uploadFile(this.fileOps(), source, remotePath, opts));
  }

  private fileOps(): FileTransferOps {
    return {
      ...this.ops(),
      defaultType: this.options.transferType ?? 'binary',
      transfer: (makeSpec, path, signal) => this.transfer(makeSpec, path, signal),
      progress: e => this.emit('progress', e),
      wantsProgress: () => this.listenerCount('progress') > 0,
      destroyedSignal: this.lifetime.signal,
    };
  }

  append(source: string | Readable, remotePath: string, opts: Omit<UploadOptions, 'append'> = {}): Promise<TransferResult> {
    return this.upload(source, remotePath, { ...opts, append: true });
  }

  /** Abort the running transfer (ABOR); it rejects with FtpAbortedError. Resolves when it has settled. */
  async abort(): Promise<void> {
    const t = this.currentTransfer;
    if (!t) return;
    t.abort();
    await t.promise.then(() => undefined, () => undefined);
  }

  /** Run one transfer, with `fallback` to the other mode when the data connection itself fails. */
  private async transfer(makeSpec: () => TransferSpec | Promise<TransferSpec>, path: string, signal?: AbortSignal)
    : Promise<{ reply: FtpResponse; bytes: number; mode: DataMode }> {
    if (signal?.aborted) throw new FtpAbortedError(`transfer of ${path} aborted before it started`);
    const settings = this.options.data ?? {};
    const first: DataMode = settings.mode ?? 'passive';
    try {
      return await this.transferOnce(first, await makeSpec(), signal);
    } catch (e) {
      if (!settings.fallback || !isDataConnectionFailure(e) || (e as { movedData?: boolean }).movedData
        || !this.connected) throw e;
      const other: DataMode = first === 'passive' ? 'active' : 'passive';
      this.status(`the ${first} data connection failed (${(e as Error).message}): retrying once in ${other} mode (fallback)`, 'data');
      return await this.transferOnce(other, await makeSpec(), signal);
    }
  }

  private async transferOnce(mode: DataMode, spec: TransferSpec, signal?: AbortSignal)
    : Promise<{ reply: FtpResponse; bytes: number; mode: DataMode }> {
    const t = new Transfer(this.transferContext(), mode, spec);
    this.currentTransfer = t;
    const onAbort = (): void => t.abort('aborted by the AbortSignal');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await t.run();
      return { reply, bytes: t.bytes, mode };
    } catch (e) {
      if (this.lifetime.signal.aborted && !(e instanceof FtpClosedError)) {
        throw new FtpClosedError('the client was destroyed', { cause: e });
      }
      if (e instanceof FtpError && t.movedData) (e as { movedData?: boolean }).movedData = true;
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (this.currentTransfer === t) this.currentTransfer = undefined;
    }
  }

  private transferContext(): TransferContext {
    const hooks = this.hooks;
    return {
      control: this.requireControl(),
      settings: this.options.data ?? {},
      connector: t => this.connector({ ...t,
        signal: t.signal ? AbortSignal.any([t.signal, this.lifetime.signal]) : this.lifetime.signal }),
      dataTimeoutMs: this.timeouts.dataMs,
      commandTimeoutMs: this.timeouts.commandMs,
      stall: this.timeouts.stall,
      maxTimeMs: this.timeouts.maxTimeMs,
      command: l => this.command(l),
      status: (t, c) => this.status(t, c),
      memory: this.memory,
      session: this.session(),
      wrapDataSocket: hooks?.wrapDataSocket ? (s, info) => hooks.wrapDataSocket!(s, info) : undefined,
    };
  }

  private async ensureType(t: 'A' | 'I'): Promise<void> {
    if (this.currentType === t) return;
    await this.expect(`TYPE ${t}`, ReplyCode.Ok);
    this.currentType = t;
  }

  // ------------------------------------------------------------------ plumbing

  private session(): SessionContext {
    return {
      options: this.options,
      control: this.requireControl(),
      features: this.features,
      host: this.options.host,
      command: l => this.command(l),
      status: (t, c) => this.status(t, c),
    };
  }

  private transcript(e: Omit<TranscriptEvent, 'time'>): void {
    this.emit('transcript', { ...e, time: new Date() });
  }

  private status(text: string, connection: 'control' | 'data' = 'control'): void {
    this.transcript({ kind: 'status', text, connection });
  }

  /** Queue an operation; keepalive pauses while anything runs. */
  private run<T>(task: () => Promise<T>): Promise<T> {
    this.stopKeepalive();
    const p = this.queue.run(task);
    const reschedule = (): void => { if (this.queue.idle) this.scheduleKeepalive(); };
    p.then(reschedule, reschedule);
    return p;
  }

  private scheduleKeepalive(): void {
    const ms = this.timeouts.keepaliveMs;
    if (!ms || this.closing || !this.connected || this.keepaliveTimer) return;
    this.keepaliveTimer = setTimeout(() => {
      this.keepaliveTimer = undefined;
      if (!this.queue.idle || !this.connected || this.closing) return;
      this.status('idle: sending NOOP (keepalive)');
      this.run(() => this.command('NOOP')).catch(e => this.status(`keepalive NOOP failed: ${(e as Error).message}`));
    }, ms);
    this.keepaliveTimer.unref();
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer) { clearTimeout(this.keepaliveTimer); this.keepaliveTimer = undefined; }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
