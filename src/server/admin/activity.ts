/**
 * Owns what the status page shows beyond a SessionInfo snapshot: each session's last command (and so how
 * long it has been idle), each running transfer's rate, and the last 15 minutes per minute (bytes in and
 * out, transfers, peak sessions, logins and failed logins). Fed by the server's events and a sample of
 * sessions() once a second (the page's update period); memory is bounded by the open sessions and the
 * 15 minute buckets.
 */
import type { FtpServer } from '../ftp-server.js';
import type { CommandEvent, FtpServerEvents, TransferEvent, TransferFailedEvent } from '../events.js';
import type { SessionInfo } from '../session/session-info.js';

export const HISTORY_MINUTES = 15;
const MINUTE_MS = 60_000;

export interface MinuteTotals {
  /** Start of the minute (ms since the epoch). */
  at: number;
  bytesIn: number;
  bytesOut: number;
  transfers: number;
  sessions: number;
  logins: number;
  failedLogins: number;
}

interface SessionActivity {
  lastVerb: string | undefined;
  lastAt: number;
  /** The transfer seen at the last sample: its start (identifies it), bytes, and the rate since the sample before. */
  transferStartedAt: number;
  sampledBytes: number;
  sampledAt: number;
  rate: number;
}

export interface SessionRow extends SessionInfo {
  lastCommand: string | undefined;
  /** Milliseconds since the last command finished (or since connect). */
  idleMs: number;
  /** Bytes per second of the running transfer over the last sample period (0 without one). */
  rate: number;
}

export class ActivityTracker {
  private readonly perSession = new Map<string, SessionActivity>();
  private readonly minutes: MinuteTotals[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly detachers: Array<() => void> = [];
  private totals = { logins: 0, failedLogins: 0, transfers: 0, bytesIn: 0, bytesOut: 0 };

  constructor(private readonly server: FtpServer, private readonly now: () => number = Date.now, sampleMs = 1000) {
    this.on('session-open', e => this.perSession.set(e.sessionId, this.fresh(this.now())));
    this.on('session-close', e => this.perSession.delete(e.sessionId));
    this.on('command', (e: CommandEvent) => {
      const a = this.activity(e.sessionId);
      a.lastVerb = e.verb.toUpperCase().slice(0, 8);
      a.lastAt = this.now();
    });
    this.on('login', () => { this.totals.logins++; this.bucket().logins++; });
    this.on('login-failed', () => { this.totals.failedLogins++; this.bucket().failedLogins++; });
    const ended = (direction: 'upload' | 'download' | 'list', e: TransferEvent) => {
      // The bytes not yet counted by the samples (the whole transfer when it ended between two).
      const a = this.perSession.get(e.sessionId);
      const counted = a && a.transferStartedAt !== 0 ? a.sampledBytes : 0;
      this.addBytes(direction, Math.max(0, e.bytes - counted));
      if (a) { a.transferStartedAt = 0; a.sampledBytes = 0; a.rate = 0; }
      this.totals.transfers++;
      this.bucket().transfers++;
    };
    this.on('upload', e => ended('upload', e));
    this.on('download', e => ended('download', e));
    this.on('transfer-failed', (e: TransferFailedEvent) => ended(e.direction, e));
    this.timer = setInterval(() => this.sample(), sampleMs);
    this.timer.unref();
  }

  private on<K extends keyof FtpServerEvents>(name: K, listener: (...args: FtpServerEvents[K]) => void): void {
    this.server.on(name, listener as never);
    this.detachers.push(() => this.server.off(name, listener as never));
  }

  private fresh(now: number): SessionActivity {
    return { lastVerb: undefined, lastAt: now, transferStartedAt: 0, sampledBytes: 0, sampledAt: now, rate: 0 };
  }

  private activity(id: string): SessionActivity {
    let a = this.perSession.get(id);
    if (!a) { a = this.fresh(this.now()); this.perSession.set(id, a); }
    return a;
  }

  /** The current minute's bucket (older ones beyond HISTORY_MINUTES dropped). */
  private bucket(): MinuteTotals {
    const at = Math.floor(this.now() / MINUTE_MS) * MINUTE_MS;
    let last = this.minutes.at(-1);
    if (!last || last.at !== at) {
      last = { at, bytesIn: 0, bytesOut: 0, transfers: 0, sessions: this.server.sessionCount, logins: 0, failedLogins: 0 };
      this.minutes.push(last);
      while (this.minutes.length > HISTORY_MINUTES) this.minutes.shift();
    }
    return last;
  }

  private addBytes(direction: 'upload' | 'download' | 'list', n: number): void {
    if (n <= 0) return;
    const b = this.bucket();
    if (direction === 'upload') { b.bytesIn += n; this.totals.bytesIn += n; } else { b.bytesOut += n; this.totals.bytesOut += n; }
  }

  /** Once a second: running transfers' progress into the minute's bytes and their rates. */
  sample(): SessionRow[] {
    const now = this.now();
    const infos = this.server.sessions();
    const b = this.bucket();
    b.sessions = Math.max(b.sessions, infos.length);
    return infos.map(info => {
      const a = this.activity(info.id);
      const t = info.transfer;
      if (t) {
        const started = t.startedAt.getTime();
        if (a.transferStartedAt !== started) { a.transferStartedAt = started; a.sampledBytes = 0; a.sampledAt = started; a.rate = 0; }
        const delta = t.bytes - a.sampledBytes;
        const seconds = (now - a.sampledAt) / 1000;
        if (seconds >= 0.2) {
          a.rate = Math.max(0, delta) / seconds;
          a.sampledAt = now;
          this.addBytes(t.direction, delta);
          a.sampledBytes = t.bytes;
        }
      }
      return Object.freeze({
        ...info, lastCommand: t ? t.command : a.lastVerb, idleMs: t ? 0 : Math.max(0, now - a.lastAt), rate: t ? a.rate : 0,
      });
    });
  }

  /** The last HISTORY_MINUTES minutes, oldest first, with empty minutes filled in. */
  history(): MinuteTotals[] {
    const current = this.bucket().at;
    const byMinute = new Map(this.minutes.map(m => [m.at, m]));
    const out: MinuteTotals[] = [];
    for (let i = HISTORY_MINUTES - 1; i >= 0; i--) {
      const at = current - i * MINUTE_MS;
      out.push({ ...(byMinute.get(at) ?? { at, bytesIn: 0, bytesOut: 0, transfers: 0, sessions: 0, logins: 0, failedLogins: 0 }) });
    }
    return out;
  }

  /** Since the tracker started. */
  get sinceStart(): Readonly<{ logins: number; failedLogins: number; transfers: number; bytesIn: number; bytesOut: number }> {
    return { ...this.totals };
  }

  stop(): void {
    clearInterval(this.timer);
    for (const d of this.detachers.splice(0)) d();
  }
}
