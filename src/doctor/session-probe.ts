/**
 * Probes that run an FtpClient (public API only): a login with given settings, and one data-connection
 * matrix cell (login, a listing, and where writable a small upload + download + delete).
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
import type { TranscriptEvent } from '../client/events.js';
import { FtpError, FtpNetworkError, FtpReplyError, FtpTlsError, FtpProtocolError } from '../errors.js';
import { outcomeKindOf, type DataProbeResult, type DataProbeSpec, type EvidenceLine, type Outcome } from './types.js';

export interface SessionTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Remote directory to list and write in ('' = the login directory). */
  path: string;
  connectMs: number;
  dataMs: number;
  /** Try upload + download + delete when the listing works. */
  writeCheck: boolean;
  signal: AbortSignal;
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
}

function record(client: FtpClient, t0: number): Recorder {
  const rec: Recorder = { evidence: [], answered: new Set() };
  client.on('transcript', (e: TranscriptEvent) => {
    const label = e.kind === 'command' ? 'Command' : e.kind === 'response' ? 'Response' : 'Status';
    if (rec.evidence.length < 200) rec.evidence.push({ atMs: performance.now() - t0, text: `${label}: ${e.text}` });
  });
  client.on('reply', e => { if (e.command) rec.answered.add(verbOf(e.command)); });
  client.on('dataChannel', e => {
    if (e.step === 'target') rec.advertised = { ...e.advertised };
    else if (e.step === 'offer') rec.offered = e.argument;
  });
  return rec;
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
    timeouts: { connectMs: t.connectMs, greetingMs: t.connectMs, commandMs: Math.max(t.connectMs, t.dataMs + 2000, 5000), dataMs: t.dataMs },
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

/** Connect and log in with `settings` (greeting, FEAT, AUTH TLS when secure, USER/PASS). */
export async function probeLogin(t: SessionTarget, settings: ClientSettings): Promise<LoginProbe> {
  const t0 = performance.now();
  const client = new FtpClient(clientOptions(t, settings));
  const rec = record(client, t0);
  const unbind = bindAbort(client, t.signal);
  try {
    await client.connect();
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
    await client.close().catch(() => {});
    return { outcome, features: featuresOf(client), evidence: rec.evidence, ...(pathProblem ? { pathProblem } : {}) };
  } catch (err) {
    // A login that fails after FEAT still tells which features the server offers.
    return { outcome: outcomeOf(err, performance.now() - t0), features: featuresOf(client), evidence: rec.evidence };
  } finally {
    unbind();
    client.destroy();
  }
}

function isPermissionRefusal(err: unknown): boolean {
  // RFC 959 s4.2: 550 no access, 553 name not allowed, 532 need account for storing; 450/452 busy/full.
  return err instanceof FtpReplyError && [450, 452, 532, 550, 553].includes(err.replyCode);
}

/** One matrix cell. */
export async function probeDataCell(t: SessionTarget, spec: DataProbeSpec, settings: ClientSettings): Promise<DataProbeResult> {
  const t0 = performance.now();
  const client = new FtpClient(clientOptions(t, settings));
  const rec = record(client, t0);
  const unbind = bindAbort(client, t.signal);
  const result = (outcome: Outcome, transfer?: DataProbeResult['transfer']): DataProbeResult => ({
    spec, outcome, evidence: rec.evidence, answered: [...rec.answered],
    ...(rec.advertised ? { advertised: rec.advertised } : {}),
    ...(rec.offered ? { offered: rec.offered } : {}),
    ...(transfer ? { transfer } : {}),
  });
  try {
    try {
      await client.connect();
    } catch (err) {
      const o = outcomeOf(err, performance.now() - t0);
      // A failed login is not a data-connection result; the phase says so.
      return result({ ...o, connection: o.connection ?? 'control' });
    }
    const dir = t.path;
    const tList = performance.now();
    try {
      await client.list(dir || undefined);
    } catch (err) {
      return result(outcomeOf(err, performance.now() - tList));
    }
    const listed: Outcome = { kind: 'ok', ms: performance.now() - tList };
    if (!t.writeCheck) return result(listed);
    // Upload + download + delete of a small file with a unique name.
    const name = `${dir ? `${dir.replace(/\/+$/, '')}/` : ''}.ftpkit-doctor-${spec.id.replace(/\W/g, '-')}-${randomBytes(4).toString('hex')}.txt`;
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
      return result(outcomeOf(err, performance.now() - tList), transfer);
    }
    try {
      const chunks: Buffer[] = [];
      await client.download(name, new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } }));
      const got = Buffer.concat(chunks);
      transfer.download = got.equals(payload) ? 'ok' : 'failed';
      if (transfer.download === 'failed') transfer.note = `downloaded ${got.length} bytes, expected the ${payload.length} uploaded`;
    } catch (err) {
      transfer.download = 'failed';
      transfer.note = `download failed: ${(err as Error).message}`;
    }
    try {
      await client.delete(name);
      transfer.delete = 'ok';
    } catch (err) {
      transfer.delete = isPermissionRefusal(err) ? 'readonly' : 'failed';
      transfer.note = `${transfer.note ? `${transfer.note}; ` : ''}could not delete ${name}: ${(err as Error).message}`;
    }
    await client.close().catch(() => {});
    return result(listed, transfer);
  } finally {
    unbind();
    client.destroy();
  }
}
