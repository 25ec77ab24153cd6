/**
 * Probes that run an FtpClient (public API only): a login with given settings, kept open for the session
 * pool (session-pool.ts) or closed at once, and one data-connection matrix cell run on a logged-in session
 * (a listing, and where writable a small upload + download + delete).
 *
 * Evidence is the client's own transcript ('transcript' events), so the report shows the same
 * "Command:/Response:" lines a user would paste from FileZilla; it is only shown, never read back. What a
 * cell learned comes from the client's structured events: the address a 227/229 advertised and the one we
 * offered in PORT/EPRT ('dataChannel'), which commands got a reply ('reply'), the features (FEAT), and the
 * typed fields of the client's errors.
 */
import { Readable, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { FtpClient } from '../client/ftp-client.js';
import type { ClientSettings, FtpClientOptions } from '../client/options.js';
import type { DataChannelEvent, ReplyEvent, TranscriptEvent } from '../client/events.js';
import { FtpError, FtpNetworkError, FtpReplyError, FtpTlsError, FtpProtocolError } from '../errors.js';
import { outcomeKindOf, type DataProbeResult, type DataProbeSpec, type EvidenceLine, type Outcome } from './types.js';

export interface SessionTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /**
   * Remote directory to list and write in ('' = the login directory). A session entered it right after
   * login (openSession), so cells work relative to where they are.
   */
  path: string;
  connectMs: number;
  dataMs: number;
  /** Try upload + download + delete when the listing works. */
  writeCheck: boolean;
  signal: AbortSignal;
  /** Counts the logins and the sessions open at once (the report's "logins made, peak sessions open"). */
  counter?: SessionCounter;
}

/** Logins made and sessions open at once, over the whole diagnosis. */
export class SessionCounter {
  logins = 0;
  peak = 0;
  private readonly open = new Set<FtpClient>();
  loggedIn(client: FtpClient): void {
    this.logins++;
    this.open.add(client);
    this.peak = Math.max(this.peak, this.open.size);
  }
  ended(client: FtpClient): void { this.open.delete(client); }
  get openNow(): number { return this.open.size; }
  /** The end of the diagnosis: whatever is still open goes. */
  destroyAll(): void { for (const c of this.open) c.destroy(); this.open.clear(); }
}

/** Map a client error to an Outcome (which connection, which phase, refused vs dropped, how long). */
export function outcomeOf(err: unknown, ms: number): Outcome {
  if (err instanceof FtpNetworkError) {
    const kind = outcomeKindOf(err.failure);
    // The client names the command a control timeout waited on.
    const waited = err.connection === 'control' && err.phase === 'command' && err.command ? verbOf(err.command) : undefined;
    return { kind, ms: err.elapsedMs ?? ms, connection: err.connection, phase: err.phase,
      ...(err.endpoint ? { endpoint: err.endpoint } : {}), ...(waited ? { command: waited } : {}), message: err.message };
  }
  if (err instanceof FtpReplyError) {
    const verb = verbOf(err.command ?? '');
    return { kind: 'reply', ms, phase: verb === 'LOGIN' ? 'PASS' : verb, replyCode: err.replyCode, replyText: err.replyText, message: err.message };
  }
  if (err instanceof FtpTlsError) {
    return { kind: 'tls', ms, connection: err.connection, ...(err.reason ? { tlsFailure: err.reason } : {}), message: err.message };
  }
  if (err instanceof FtpProtocolError) return { kind: 'protocol', ms, message: err.message };
  if (err instanceof FtpError && err.code === 'ERR_FTP_ABORTED') return { kind: 'skipped', ms, message: 'time budget exhausted' };
  if (err instanceof FtpError && err.code === 'ERR_FTP_CLOSED') return { kind: 'skipped', ms, message: 'time budget exhausted' };
  return { kind: 'other', ms, message: (err as Error)?.message ?? String(err) };
}

function verbOf(command: string): string {
  return command.split(' ')[0]!.toUpperCase();
}

interface Recorder {
  evidence: EvidenceLine[];
  advertised?: { host?: string; port: number };
  offered?: string;
  /** Verbs that got a reply, in the order of their first reply. */
  answered: Set<string>;
  /** performance.now() of the last transcript line: a cell silent for long waits on something (session-pool.ts). */
  lastActivity: number;
  /** The current data connection is up ('connected' since the last setup step). */
  dataOpen: boolean;
}

/** Listen to one client for the length of a login or a cell; `detach()` stops (a pooled session goes on). */
function record(client: FtpClient, t0: number): Recorder & { detach(): void } {
  const rec: Recorder = { evidence: [], answered: new Set(), lastActivity: performance.now(), dataOpen: false };
  const onTranscript = (e: TranscriptEvent) => {
    rec.lastActivity = performance.now();
    const label = e.kind === 'command' ? 'Command' : e.kind === 'response' ? 'Response' : 'Status';
    if (rec.evidence.length < 200) rec.evidence.push({ atMs: performance.now() - t0, text: `${label}: ${e.text}` });
  };
  const onReply = (e: ReplyEvent) => { if (e.command) rec.answered.add(verbOf(e.command)); };
  const onData = (e: DataChannelEvent) => {
    if (e.step === 'target') rec.advertised = { ...e.advertised };
    else if (e.step === 'offer') rec.offered = e.argument;
    // Every setup step starts a new data connection; a refused stranger leaves the awaited one as it was.
    if (e.step !== 'refused-peer') rec.dataOpen = e.step === 'connected';
  };
  client.on('transcript', onTranscript);
  client.on('reply', onReply);
  client.on('dataChannel', onData);
  return Object.assign(rec, { detach: () => {
    client.off('transcript', onTranscript); client.off('reply', onReply); client.off('dataChannel', onData);
  } });
}

/** FEAT as the client parsed it (RFC 2389), one "NAME PARAMETERS" string per feature, upper case. */
function featuresOf(client: FtpClient): string[] {
  return [...client.features].map(([k, v]) => (v ? `${k} ${v}` : k).toUpperCase());
}

function clientOptions(t: SessionTarget, settings: ClientSettings): FtpClientOptions {
  return {
    host: t.host, port: t.port, user: t.user, password: t.password, ...settings,
    // The data wait ends before the command wait: a server connecting back in active mode answers the
    // transfer command only after its connect, and "never connected back" is the observation we want.
    // One second after the data wait is enough to tell them apart; a server still stuck in its own connect
    // (vsftpd tries for 60 s) does not answer the ABOR either, so this wait bounds an active cell's time
    // and with it the doctor's (issue 11: the connect timeout + 3 s where packets are dropped).
    timeouts: { connectMs: t.connectMs, greetingMs: t.connectMs, commandMs: Math.max(t.connectMs, t.dataMs + 1000, 5000), dataMs: t.dataMs },
  };
}

/** Destroy the client when the budget runs out; returns a disposer. */
function bindAbort(client: FtpClient, signal: AbortSignal): () => void {
  const onAbort = () => client.destroy();
  if (signal.aborted) client.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

export interface LoginProbe {
  outcome: Outcome;
  features: string[];
  evidence: EvidenceLine[];
  /** The URL's folder could not be entered (CWD refused): the matrix then works in the login folder. */
  pathProblem?: Outcome;
}

/** A login kept open: `client` is logged in (and in the URL's folder when it could be entered). */
export interface OpenedSession extends LoginProbe {
  client?: FtpClient;
}

/** Close a session politely (QUIT), bounded; it no longer counts as open from here on. */
export async function endSession(t: SessionTarget, client: FtpClient): Promise<void> {
  t.counter?.ended(client);
  await Promise.race([client.close().catch(() => {}), new Promise(r => setTimeout(r, 1000).unref())]);
  client.destroy();
}

/** End a session in doubt at once (no QUIT: its control connection may be out of step). */
export function dropSession(t: SessionTarget, client: FtpClient): void {
  t.counter?.ended(client);
  client.destroy();
}

/**
 * Connect and log in with `settings` (greeting, FEAT, AUTH TLS when secure, USER/PASS), then enter the
 * URL's folder. The session stays open for the caller (the pool); `endSession()` ends it.
 */
export async function openSession(t: SessionTarget, settings: ClientSettings): Promise<OpenedSession> {
  const t0 = performance.now();
  const client = new FtpClient(clientOptions(t, settings));
  const rec = record(client, t0);
  const unbind = bindAbort(client, t.signal);
  try {
    await client.connect();
    t.counter?.loggedIn(client);
    const outcome: Outcome = { kind: 'ok', ms: performance.now() - t0 };
    // A missing folder would make every listing fail with 550 and look like a data problem: check it here.
    let pathProblem: Outcome | undefined;
    if (t.path) {
      const t1 = performance.now();
      try { await client.cd(t.path); } catch (err) {
        if (!(err instanceof FtpReplyError)) throw err;
        pathProblem = outcomeOf(err, performance.now() - t1);
      }
    }
    return { outcome, features: featuresOf(client), evidence: [...rec.evidence], client, ...(pathProblem ? { pathProblem } : {}) };
  } catch (err) {
    t.counter?.ended(client);
    client.destroy();
    // A login that fails after FEAT still tells which features the server offers.
    return { outcome: outcomeOf(err, performance.now() - t0), features: featuresOf(client), evidence: rec.evidence };
  } finally {
    rec.detach();
    unbind();
  }
}

/** Connect and log in with `settings`, then close (a step of the report). */
export async function probeLogin(t: SessionTarget, settings: ClientSettings): Promise<LoginProbe> {
  const { client, ...probe } = await openSession(t, settings);
  if (client) await endSession(t, client);
  return probe;
}

function isPermissionRefusal(err: unknown): boolean {
  // RFC 959 s4.2: 550 no access, 553 name not allowed, 532 need account for storing; 450/452 busy/full.
  return err instanceof FtpReplyError && [450, 452, 532, 550, 553].includes(err.replyCode);
}

/**
 * After an error, whether the control connection is still in step with the server: a refusal (a reply)
 * leaves it so; a timeout, a reset, a TLS failure or 421 leave it in a state no later cell should inherit.
 */
function keepsSession(err: unknown): boolean {
  return err instanceof FtpReplyError && err.replyCode !== 421;
}

/** A cell's result, and whether its session can serve the next cell. */
export interface CellRun {
  result: DataProbeResult;
  healthy: boolean;
}

/** What a running cell shows of itself (the pool reads `lastActivity` to tell a waiting cell from a busy one). */
export interface CellWatch {
  lastActivity: number;
}

/**
 * One matrix cell on a logged-in session (in the URL's folder): the data settings of the cell, a listing,
 * then where writable a small upload + download + delete.
 */
export async function probeCellOn(client: FtpClient, t: SessionTarget, spec: DataProbeSpec, settings: ClientSettings,
  watch?: (w: CellWatch) => void): Promise<CellRun> {
  const t0 = performance.now();
  const rec = record(client, t0);
  watch?.(rec);
  const unbind = bindAbort(client, t.signal);
  let healthy = true;
  const result = (outcome: Outcome, transfer?: DataProbeResult['transfer']): CellRun => ({
    healthy: healthy && client.connected,
    result: {
      spec, outcome, evidence: rec.evidence, answered: [...rec.answered],
      ...(rec.advertised ? { advertised: rec.advertised } : {}),
      ...(rec.offered ? { offered: rec.offered } : {}),
      ...(transfer ? { transfer } : {}),
    },
  });
  const failed = (err: unknown, since: number, transfer?: DataProbeResult['transfer']): CellRun => {
    if (!keepsSession(err)) healthy = false;
    const outcome = outcomeOf(err, performance.now() - since);
    return result(rec.dataOpen ? { ...outcome, dataOpened: true } : outcome, transfer);
  };
  try {
    await client.setDataSettings(settings.data);
    const tList = performance.now();
    try {
      await client.list();
    } catch (err) {
      return failed(err, tList);
    }
    const listed: Outcome = { kind: 'ok', ms: performance.now() - tList };
    if (!t.writeCheck) return result(listed);
    // Upload + download + delete of a small file with a unique name, in the folder the session is in.
    const name = `.ftpkit-doctor-${spec.id.replace(/\W/g, '-')}-${randomBytes(4).toString('hex')}.txt`;
    const payload = Buffer.from(`ftpkit doctor ${spec.id} ${new Date().toISOString()}\n`);
    const transfer: NonNullable<DataProbeResult['transfer']> = { upload: 'skipped', download: 'skipped', delete: 'skipped' };
    try {
      await client.upload(Readable.from([payload]), name);
      transfer.upload = 'ok';
    } catch (err) {
      if (isPermissionRefusal(err)) {
        transfer.upload = 'readonly';
        transfer.note = `upload refused: ${(err as FtpReplyError).replyCode} ${(err as FtpReplyError).replyText}`;
        return result(listed, transfer);
      }
      transfer.upload = 'failed';
      transfer.note = `upload failed: ${(err as Error).message}`;
      return failed(err, tList, transfer);
    }
    try {
      const chunks: Buffer[] = [];
      await client.download(name, new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } }));
      const got = Buffer.concat(chunks);
      transfer.download = got.equals(payload) ? 'ok' : 'failed';
      if (transfer.download === 'failed') transfer.note = `downloaded ${got.length} bytes, expected the ${payload.length} uploaded`;
    } catch (err) {
      if (!keepsSession(err)) healthy = false;
      transfer.download = 'failed';
      transfer.note = `download failed: ${(err as Error).message}`;
    }
    try {
      await client.delete(name);
      transfer.delete = 'ok';
    } catch (err) {
      if (!keepsSession(err)) healthy = false;
      transfer.delete = isPermissionRefusal(err) ? 'readonly' : 'failed';
      transfer.note = `${transfer.note ? `${transfer.note}; ` : ''}could not delete ${name}: ${(err as Error).message}`;
    }
    return result(listed, transfer);
  } catch (err) {
    return failed(err, t0);
  } finally {
    rec.detach();
    unbind();
  }
}
