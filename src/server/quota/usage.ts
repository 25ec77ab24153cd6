/**
 * Quota usage per user, shared by every session of that user on one server (SFTPGo's model: a per-user
 * total of bytes and files, measured once and then kept up to date by the server's own operations).
 *
 * Owns: the counters and when they are (re)measured. The model:
 * - A user's root is scanned (quota/scan.ts) at their first login after the server started; the 230 does
 *   not wait for it, but the first upload, DELE or AVBL does. Sessions of the same user share one
 *   UserUsage, so two sessions uploading at once charge one counter.
 * - Then every STOR/APPE/STOU, DELE and RNTO over a file updates it (quota/upload-guard.ts, quota/removal.ts).
 *   Uploads charge their bytes as they arrive, so concurrent uploads see each other at once.
 * - Files changed behind the server's back (by a shell, another service) are seen at the next scan: a
 *   login more than `rescanAfterMs` after the last scan rescans, unless an upload of that user is running
 *   (its partial bytes would be counted twice). 0: never rescan while the server runs.
 * The counters live in memory: a restart rescans at the first login.
 */
import type { AuthenticatedUser, QuotaLimits } from '../auth/types.js';
import type { Storage } from '../storage/types.js';
import { DEFAULT_SCAN_CONCURRENCY, scanUsage } from './scan.js';

export class UserUsage {
  /** Bytes stored, plus what running uploads have charged so far. */
  bytes = 0;
  /** Regular files stored, plus the new files running uploads have reserved. */
  files = 0;
  /** Uploads of this user running now (a rescan waits for none to run). */
  inFlight = 0;
  /** When the last scan finished (ms since the epoch); NaN until the first one has. */
  scannedAt = NaN;
  /** Resolves once the running (or last) scan has finished; counters are meaningful after it. */
  ready: Promise<void> = Promise.resolve();
  private scanning = false;

  /** Resolves when no scan runs: code that follows synchronously sees counters no scan will overwrite. */
  async idle(): Promise<void> {
    while (this.scanning) await this.ready;
  }

  constructor(readonly storage: Storage) {}

  /** The counters' share of the limits still free (Infinity for an unset limit). */
  left(limits: QuotaLimits): { bytes: number; files: number } {
    return {
      bytes: limits.bytes === undefined ? Infinity : Math.max(0, limits.bytes - this.bytes),
      files: limits.files === undefined ? Infinity : Math.max(0, limits.files - this.files),
    };
  }

  /**
   * Charge `bytes` of a running upload against a byte `limit`: false, and nothing charged, when they would
   * pass it. A usage shared by several nodes (src/server/db/shared-quota.ts) charges its reservation instead,
   * and answers later (a promise) when it must wait for the database to top that reservation up.
   */
  charge(bytes: number, limit: number): boolean | Promise<boolean> {
    if (this.bytes + bytes > limit) return false;
    this.bytes += bytes;
    return true;
  }

  /**
   * Called before an upload's 150, after its checks: a usage shared by several nodes reserves room for it
   * here (it cannot wait for the database once the bytes flow). Nothing to do in memory.
   */
  async prepareUpload(_limits: QuotaLimits): Promise<void> {}

  /** Add (or with negative numbers, remove) stored bytes and files; never below zero. */
  change(bytes: number, files: number): void {
    this.bytes = Math.max(0, this.bytes + bytes);
    this.files = Math.max(0, this.files + files);
  }

  /**
   * Resolves once every change made so far is where other sessions read it: at once in memory; a usage
   * shared by several nodes waits for its database writes (a DELE's freed room is seen by the next upload
   * on any node once DELE has answered). Never rejects: a write that fails is a warning.
   */
  async written(): Promise<void> {}

  /** Measure the root again unless an upload runs; the counters are replaced when it finishes. */
  rescan(concurrency: number, now: () => number, onScanned: (unreadable: number) => void): void {
    if (this.scanning || this.inFlight > 0) return;
    this.scanning = true;
    this.ready = scanUsage(this.storage, concurrency).then((r) => {
      this.bytes = r.bytes;
      this.files = r.files;
      onScanned(r.unreadable);
    }, () => { /* scanUsage skips what it cannot read; nothing else can fail */ }).finally(() => {
      this.scanning = false;
      this.scannedAt = now();
    });
  }
}

export interface QuotaBookOptions {
  /** A login this long after the last scan rescans the user's root; 0: never. */
  rescanAfterMs: number;
  /** Folders listed at once by a scan. */
  scanConcurrency?: number;
  /** A scan found folders it could not list (the operator's 'warning'). */
  warn?: (code: string, message: string) => void;
  now?: () => number;
}

/** The usage of every user with a quota, for one server. */
export class QuotaBook {
  private readonly users = new Map<string, UserUsage>();
  private readonly now: () => number;

  constructor(private readonly options: QuotaBookOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The usage of `user`, or undefined when the user has no quota (nothing is counted for them). Keyed by
   * the user's name and storage: a reload that gives the user another root starts a new count.
   */
  usageOf(user: AuthenticatedUser | undefined): UserUsage | undefined {
    if (!user?.quota || (user.quota.bytes === undefined && user.quota.files === undefined)) return undefined;
    let usage = this.users.get(user.name);
    if (!usage || usage.storage !== user.storage) {
      usage = new UserUsage(user.storage);
      this.users.set(user.name, usage);
    }
    return usage;
  }

  /** The usage of `user` once its first scan (started here if no login did) and any rescan are done. */
  async measured(user: AuthenticatedUser | undefined): Promise<UserUsage | undefined> {
    const usage = this.usageOf(user);
    if (!usage) return undefined;
    if (Number.isNaN(usage.scannedAt)) this.loggedIn(user!);
    await usage.ready;
    return usage;
  }

  /** A login: scan the root the first time, and again when the last scan is older than rescanAfterMs. */
  loggedIn(user: AuthenticatedUser): void {
    const usage = this.usageOf(user);
    if (!usage) return;
    const age = this.now() - usage.scannedAt;
    const stale = Number.isNaN(age) || (this.options.rescanAfterMs > 0 && age >= this.options.rescanAfterMs);
    if (!stale) return;
    usage.rescan(this.options.scanConcurrency ?? DEFAULT_SCAN_CONCURRENCY, this.now, (unreadable) => {
      if (unreadable > 0) {
        this.options.warn?.('quota-scan-incomplete', `quota scan of user ${user.name}: ${unreadable} folder(s) could not be listed and are not counted`);
      }
    });
  }
}
