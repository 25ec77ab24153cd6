/**
 * FtpClient: the public client API (`ftpkit/client`): the one-command-in-flight queue, keepalive while
 * idle, and the public methods. What the client knows of its connection is one ClientSession (session.ts)
 * that the operations take: session-open.ts connects and logs in, listings.ts and remote-ops.ts list and
 * manage files, file-transfers.ts downloads and uploads, run-transfer.ts and transfer.ts move the data.
 * Every decision is an event (events.ts); the transcript is one of their subscribers. Library code never prints.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { FtpReplyError, FtpUsageError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import type { FileEntry } from '../protocol/listing-types.js';
import { connectorFor } from './proxy.js';
import type { ControlConnection } from './control-connection.js';
import { ClientEventPublisher } from './diagnostics.js';
import { TaskQueue } from './task-queue.js';
import { checkLimitRate } from './rate-limit.js';
// FTPS: registers the hooks used for secure 'explicit' | 'implicit' (src/client/tls.ts).
import './tls.js';
import { downloadFile, uploadFile, type DownloadOptions, type UploadOptions, type TransferResult } from './file-transfers.js';
import { listEntries, listNames, type FolderHint } from './listings.js';
import { selectMatches, splitRemotePattern, type GlobMatch, type GlobOptions } from './wildcard-select.js';
import { makeDirectories, removeTree, readSize, readModifiedAt, statPath } from './remote-ops.js';
import { abortTransfer } from './run-transfer.js';
import { ClientSession } from './session.js';
import { mfmtCommand } from './timestamps.js';
// Segmented downloads, FXP and verification load when used: a plain command does not pay for them
// (start-up, issue 10; test/socket/cli-startup.test.ts).
import type { SegmentedOptions } from './segmented.js';
import type { FxpOptions, FxpResult } from './fxp.js';
import type { VerifyOutcome } from './verify.js';
import { openSession } from './session-open.js';
import type { DataConnectionSettings, FtpClientOptions, TimeoutSettings } from './options.js';
import type { FtpClientEvents } from './events.js';

export type { FtpResponse };

export type { TransferType, DownloadOptions, UploadOptions, TransferResult } from './file-transfers.js';
export type { GlobMatch, GlobOptions } from './wildcard-select.js';
export type { SegmentedOptions, SegmentConnection } from './segmented.js';
export type { VerifyOutcome } from './verify.js';
export type { FxpOptions, FxpResult } from './fxp.js';

const DEFAULT_TIMEOUTS: Required<TimeoutSettings> = {
  connectMs: 10_000, greetingMs: 10_000, commandMs: 30_000, dataMs: 30_000, keepaliveMs: 0,
  stall: { minBytesPerSecond: 10, seconds: 60 }, maxTimeMs: 0,
};

export class FtpClient extends EventEmitter<FtpClientEvents> {
  private readonly session: ClientSession;
  private readonly queue = new TaskQueue();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(options: FtpClientOptions) {
    super();
    if (!options || typeof options.host !== 'string' || !options.host) throw new FtpUsageError('FtpClient needs a host');
    const timeouts = { ...DEFAULT_TIMEOUTS, ...stripUndefined(options.timeouts ?? {}) };
    const { stall, maxTimeMs } = timeouts;
    if (!(stall.minBytesPerSecond >= 0) || !(stall.seconds > 0) || !Number.isFinite(stall.minBytesPerSecond) || !Number.isFinite(stall.seconds)) {
      throw new FtpUsageError(`timeouts.stall needs minBytesPerSecond >= 0 and seconds > 0, got ${JSON.stringify(stall)}`);
    }
    if (!(maxTimeMs >= 0) || !Number.isFinite(maxTimeMs)) throw new FtpUsageError(`timeouts.maxTimeMs must be >= 0, got ${maxTimeMs}`);
    checkLimitRate(options.limitRate);
    this.session = new ClientSession(options, timeouts, connectorFor(options), new ClientEventPublisher(this));
  }

  /** Connect, read the greeting, FEAT, log in, and set the transfer type. */
  static async connect(options: FtpClientOptions): Promise<FtpClient> {
    const client = new FtpClient(options);
    await client.connect();
    return client;
  }

  /** The options in use (setDataSettings() replaces their `data`). */
  get options(): Readonly<FtpClientOptions> { return this.session.options; }

  get connected(): boolean { return this.session.connected; }

  /** close() or destroy() was called and no connect() since: retries must not reconnect (retry.ts). */
  get stopped(): boolean { return this.closing; }

  /** FEAT result: upper-case feature name -> parameters (RFC 2389). */
  get features(): Map<string, string> { return this.session.features; }

  /** The control connection (for the TLS layer: `replaceSocket()`); undefined before connect(). */
  get control(): ControlConnection | undefined { return this.session.controlOrUndefined; }

  /** What worked in this session: the passive and active commands remembered by 'auto'. */
  get dataCommandsUsed(): Readonly<{ passive?: 'EPSV' | 'PASV'; active?: 'EPRT' | 'PORT' }> {
    const { passive, active } = this.session.memory;
    return { ...(passive ? { passive } : {}), ...(active ? { active } : {}) };
  }

  // ------------------------------------------------------------------ session

  connect(): Promise<void> {
    // A new lifetime for a reconnect after destroy(), taken now so that a destroy() right after this call
    // (before the queued task runs) still cancels it.
    const lifetime = this.session.renewLifetime();
    return this.run(async () => {
      this.closing = false;
      await openSession(this.session, lifetime);
    });
  }

  /** QUIT and close gracefully (after queued commands). */
  close(): Promise<void> {
    this.closing = true;
    this.stopKeepalive();
    return this.queue.run(async () => {
      const control = this.session.controlOrUndefined;
      if (!control || control.closed) return;
      try {
        control.write('QUIT');
        await control.nextReply(Math.min(this.session.timeouts.commandMs, 5000), 'close', 'QUIT');
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
    // A running transfer sees the control connection fail and rejects with this error.
    this.session.destroy();
  }

  /**
   * Use other data-connection settings (mode, PASV/EPSV, address policy, active port range...) from the next
   * operation on, on the same logged-in connection: the doctor tries one setting after another on a few
   * sessions instead of logging in once per setting.
   */
  setDataSettings(data: DataConnectionSettings | undefined): Promise<void> {
    return this.run(async () => { this.session.setDataSettings(data); });
  }

  // ------------------------------------------------------------------ commands

  /**
   * Send a raw command and return its final reply (preliminary 1xx replies are read past). Throws only on
   * network errors and timeouts, and FtpUsageError for CR/LF/NUL in the command.
   */
  send(command: string): Promise<FtpResponse> {
    return this.run(() => this.session.command(command));
  }

  cd(path: string): Promise<void> {
    return this.run(async () => { await this.session.expect(`CWD ${path}`, ReplyCode.FileActionOk, ReplyCode.Ok); });
  }

  pwd(): Promise<string> {
    return this.run(() => this.session.pwd());
  }

  site(args: string): Promise<FtpResponse> {
    return this.run(async () => {
      const r = await this.session.command(`SITE ${args}`);
      if (r.code >= 400) throw new FtpReplyError(r.code, r.message, `SITE ${args}`);
      return r;
    });
  }

  delete(path: string): Promise<void> {
    return this.run(async () => { await this.session.expect(`DELE ${path}`, ReplyCode.FileActionOk, ReplyCode.Ok); });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(async () => {
      await this.session.expect(`RNFR ${from}`, ReplyCode.PendingFurtherInformation);
      await this.session.expect(`RNTO ${to}`, ReplyCode.FileActionOk, ReplyCode.Ok);
    });
  }

  mkdir(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    return this.run(() => opts.recursive ? makeDirectories(this.session, path)
      : this.session.expect(`MKD ${path}`, ReplyCode.PathCreated, ReplyCode.FileActionOk).then(() => undefined));
  }

  rmdir(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    return this.run(() => opts.recursive ? removeTree(this.session, path)
      : this.session.expect(`RMD ${path}`, ReplyCode.FileActionOk, ReplyCode.Ok).then(() => undefined));
  }

  size(path: string): Promise<number> {
    return this.run(() => readSize(this.session, path));
  }

  modifiedAt(path: string): Promise<Date> {
    return this.run(() => readModifiedAt(this.session, path));
  }

  /** MFMT (draft-somers-ftp-mfxx): set the modification time, UTC. */
  setModifiedAt(path: string, date: Date): Promise<void> {
    return this.run(async () => {
      await this.session.expect(mfmtCommand(path, date), ReplyCode.FileStatus, ReplyCode.FileActionOk);
    });
  }

  /** MLST when offered (RFC 3659 s7), else SIZE/MDTM (and CWD to recognise a directory). */
  stat(path: string): Promise<FileEntry> {
    return this.run(() => statPath(this.session, path));
  }

  // ------------------------------------------------------------------ listings

  /**
   * MLSD when FEAT offers MLST (RFC 3659 s7), else LIST parsed (Unix, DOS/IIS, EPLF). With `folder` (what
   * the parent's listing said of it), an empty listing is checked instead of trusted (listings.ts).
   */
  list(path?: string, folder?: FolderHint): Promise<FileEntry[]> {
    return this.run(() => listEntries(this.session, path, folder));
  }

  /**
   * The files of a folder whose names match the wildcard in the last segment of `pattern` ("*", "?",
   * "[...]"): `glob('logs/*.csv')`. Matched here on the folder's listing (wildcard-select.ts); [] when
   * nothing matches.
   */
  glob(pattern: string, opts: GlobOptions = {}): Promise<GlobMatch[]> {
    const { folder, pattern: name } = splitRemotePattern(pattern);
    return this.run(async () => selectMatches(await listEntries(this.session, folder || undefined), folder, name, opts));
  }

  /** NLST (RFC 959 s4.1.3): names only. */
  nameList(path?: string): Promise<string[]> {
    return this.run(() => listNames(this.session, path));
  }

  // ------------------------------------------------------------------ transfers

  /**
   * Download to a local path or into a stream. A regular file (or a new one) is written under a temporary
   * name and renamed on success; a device or FIFO is written directly; a symbolic link is followed
   * (local-target.ts).
   */
  download(remotePath: string, destination: string | Writable, opts: DownloadOptions & SegmentedOptions = {}): Promise<TransferResult> {
    // `segments`: ranges on extra connections (segmented.ts); this session fetches the last one.
    if (opts.segments !== undefined && opts.segments !== 1) {
      const connect = opts.connect ?? (() => FtpClient.connect(this.session.options));
      return this.run(async () => (await import('./segmented.js')).downloadSegmented(this.session, remotePath, destination, opts, connect));
    }
    return this.run(() => downloadFile(this.session, remotePath, destination, opts));
  }

  /** Upload from a local path or a stream. */
  upload(source: string | Readable, remotePath: string, opts: UploadOptions & { createDirs?: boolean } = {}): Promise<TransferResult> {
    return this.run(async () => {
      // curl's --ftp-create-dirs: the missing folders of the remote path first (MKD each, as mkdir -p).
      const parent = remotePath.slice(0, Math.max(0, remotePath.lastIndexOf('/')));
      if (opts.createDirs && parent && parent !== '/') await makeDirectories(this.session, parent);
      return uploadFile(this.session, source, remotePath, opts);
    });
  }

  append(source: string | Readable, remotePath: string, opts: Omit<UploadOptions, 'append'> = {}): Promise<TransferResult> {
    return this.upload(source, remotePath, { ...opts, append: true });
  }

  /**
   * FXP: copy `sourcePath` of this server to `targetPath` on `target`'s server, the data going between the
   * two servers (fxp.ts; both must allow it, docs/client.md#fxp-server-to-server-copy). Waits for both queues.
   */
  copyTo(sourcePath: string, target: FtpClient, targetPath: string, opts: FxpOptions = {}): Promise<FxpResult> {
    if (target === this) return Promise.reject(new FtpUsageError('FXP copies between two connections: give a second client for the target'));
    return this.run(() => target.run(async () => (await import('./fxp.js')).fxpCopy(this.session, sourcePath, target.session, targetPath, opts)));
  }

  /**
   * Compare a remote file with a local one the strongest way the server offers (verify.ts: HASH, then
   * XSHA256/XSHA1/XMD5/XCRC, else SIZE); throws FtpVerifyError when they differ.
   */
  verify(remotePath: string, localPath: string): Promise<VerifyOutcome> {
    return this.run(async () => (await import('./verify.js')).verifyFile(this.session, remotePath, localPath));
  }

  /** Abort the running transfer (ABOR); it rejects with FtpAbortedError. Resolves when it has settled. */
  abort(): Promise<void> {
    return abortTransfer(this.session);
  }

  // ------------------------------------------------------------------ queue and keepalive

  /** Queue an operation; keepalive pauses while anything runs. */
  private run<T>(task: () => Promise<T>): Promise<T> {
    this.stopKeepalive();
    const p = this.queue.run(task);
    const reschedule = (): void => { if (this.queue.idle) this.scheduleKeepalive(); };
    p.then(reschedule, reschedule);
    return p;
  }

  private scheduleKeepalive(): void {
    const ms = this.session.timeouts.keepaliveMs;
    if (!ms || this.closing || !this.connected || this.keepaliveTimer) return;
    this.keepaliveTimer = setTimeout(() => {
      this.keepaliveTimer = undefined;
      if (!this.queue.idle || !this.connected || this.closing) return;
      this.session.status('idle: sending NOOP (keepalive)');
      this.run(() => this.session.command('NOOP')).catch(e => this.session.status(`keepalive NOOP failed: ${(e as Error).message}`));
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
