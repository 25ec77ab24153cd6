/**
 * Owns quota usage shared by every node on the database (ftpkit_quota_usage: bytes and files per user),
 * so uploads of one user through several nodes count against one quota.
 *
 * The model (docs/server.md#users-bans-and-quotas-in-postgresql):
 * - The row is the truth: stored bytes and files of the user, plus the bytes every node has reserved for
 *   its running uploads. Every change is one atomic UPDATE ... RETURNING; no node counts on its own.
 * - A node reserves quota bytes in blocks (`reserveBytes`, default 8 MiB) with an UPDATE that grants at
 *   most what is left under the limit; its uploads charge each chunk against its reservation without
 *   waiting for the database (UploadGuard.admit is synchronous), and it tops the reservation up in the
 *   background when half is used. When the node's uploads of that user end, what is left is given back.
 * - While a top-up is on its way an upload may run ahead of its reservation by at most `reserveBytes`
 *   (and only while the last known usage says it fits): **the bytes stored can pass the quota by at most
 *   `reserveBytes` per node uploading for that user at that moment**. Beyond that the upload waits for
 *   the top-up's answer (the data connection is not read meanwhile: TCP holds the sender back) and goes
 *   on with what it grants; once the database grants nothing more, the next chunk is refused (552). So a
 *   database slower than the upload slows the upload down, never refuses it while the quota has room
 *   (it did before: an upload faster than the database's answers got an early 552).
 * - Files: a new file is counted (+1) before its 150 from the last read of the row; nodes creating the
 *   last allowed file at the same moment can pass the file quota by one each.
 * - The row is made the first time a node needs it, from a scan of the user's root (quota/scan.ts); later
 *   logins do not rescan (the nodes keep it up to date). A change that cannot be written (the database
 *   is down) is reported as a 'warning' (quota-database) and lost: the counters may drift until the row
 *   is deleted (`DELETE FROM ftpkit_quota_usage WHERE user_name = ...`), which makes the next node rescan.
 */
import type { AuthenticatedUser, QuotaLimits } from '../auth/types.js';
import { QuotaBook, UserUsage, type QuotaBookOptions } from '../quota/usage.js';
import { DEFAULT_SCAN_CONCURRENCY, scanUsage } from '../quota/scan.js';
import type { Storage } from '../storage/types.js';
import type { Database } from './database.js';
import { DEFAULT_QUOTA_RESERVE_BYTES } from './options.js';

type UsageRow = { bytes: string; files: string };

export class SharedUserUsage extends UserUsage {
  /** Bytes reserved in the database for this node's uploads of the user and not charged yet. */
  private grant = 0;
  /** Bytes charged beyond the reservation while a top-up was on its way (at most reserveBytes). */
  private debt = 0;
  /** The database granted nothing more at the last top-up: no running ahead until it does. */
  private exhausted = false;
  private toppingUp = false;
  /** The last top-up, settled once it is over (toppingUp false again): what an upload beyond its reservation waits for. */
  private topping: Promise<void> = Promise.resolve();
  /** Database operations of this user on this node, one after the other. */
  private chain: Promise<unknown> = Promise.resolve();
  /** The byte limit last charged against (for top-ups). */
  private limit = Infinity;
  /** Bytes charged since the last top-up was asked for: a fast upload gets larger reservations. */
  private pace = 0;

  private readonly reserveBytes: number;

  constructor(storage: Storage, readonly name: string, private readonly db: Database, reserveBytes: number,
    private readonly warn: (message: string) => void, private readonly concurrency: number) {
    super(storage);
    // A chunk of an upload (up to 1 MiB: net/data-direct.ts) must fit in one reservation.
    this.reserveBytes = Math.max(reserveBytes, 1024 * 1024);
  }

  private queue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op, op);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** The row as this node should see it: everyone's usage and reservations, minus its own unused reservation. */
  private seen(row: UsageRow | undefined): void {
    if (!row) return;
    this.bytes = Math.max(0, Number(row.bytes) - this.grant + this.debt);
    this.files = Number(row.files);
  }

  /** Read (or first make, from a scan) the user's row. */
  load(now: () => number): Promise<void> {
    this.ready = this.queue(async () => {
      let [row] = await this.db.query<UsageRow>('SELECT bytes, files FROM ftpkit_quota_usage WHERE user_name = $1', [this.name]);
      if (!row) {
        const scanned = await scanUsage(this.storage, this.concurrency);
        await this.db.query('INSERT INTO ftpkit_quota_usage (user_name, bytes, files) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [this.name, scanned.bytes, scanned.files]);
        [row] = await this.db.query<UsageRow>('SELECT bytes, files FROM ftpkit_quota_usage WHERE user_name = $1', [this.name]);
      }
      this.seen(row);
      this.scannedAt = now();
    });
    return this.ready;
  }

  /** Reserve before the 150, so an upload does not start on an empty reservation. */
  override async prepareUpload(limits: QuotaLimits): Promise<void> {
    if (limits.bytes === undefined || this.grant >= this.reserveBytes / 2) return;
    this.limit = limits.bytes;
    this.topUp();
    await this.chain;
  }

  override charge(bytes: number, limit: number): boolean | Promise<boolean> {
    this.limit = limit;
    this.pace += bytes;
    if (bytes <= this.grant) {
      this.grant -= bytes;
      this.bytes += bytes;
      if (this.grant < this.reserveBytes / 2) this.topUp();
      return true;
    }
    const short = bytes - this.grant;
    if (!this.exhausted && this.debt + short <= this.reserveBytes && this.bytes + bytes <= limit) {
      this.grant = 0;
      this.debt += short;
      this.bytes += bytes;
      this.topUp();
      return true;
    }
    this.topUp();
    if (this.exhausted) return false;
    // Beyond what may run ahead: wait for the database's answer (the data path holds the wire meanwhile,
    // net/data-direct.ts Admission) and charge again; refused only once it grants nothing more.
    return this.topping.then(() => this.charge(bytes, limit));
  }

  /**
   * Reserve the debt and another block, as much of it as the limit leaves (never less than the debt: those
   * bytes are stored). The block is at least reserveBytes, and twice what was charged since the last top-up
   * (a fast upload must not outrun its reservations); a larger grant never passes the quota, only the debt can.
   */
  private topUp(): void {
    if (this.toppingUp) return;
    this.toppingUp = true;
    const debt = this.debt;
    const want = debt + Math.max(this.reserveBytes, 2 * this.pace);
    this.pace = 0;
    this.topping = this.queue(async () => {
      const [row] = await this.db.query<UsageRow & { amount: string }>(
        `WITH old AS (SELECT bytes FROM ftpkit_quota_usage WHERE user_name = $1 FOR UPDATE),
              g AS (SELECT GREATEST($2::bigint, LEAST($3::bigint, $4::bigint - old.bytes)) AS amount FROM old)
         UPDATE ftpkit_quota_usage u SET bytes = u.bytes + g.amount, updated_at = now() FROM g
         WHERE u.user_name = $1 RETURNING u.bytes, u.files, g.amount`,
        [this.name, debt, want, Number.isFinite(this.limit) ? this.limit : Number.MAX_SAFE_INTEGER]);
      const granted = Number(row?.amount ?? 0);
      this.debt -= Math.min(debt, granted);
      this.grant += Math.max(0, granted - debt);
      this.exhausted = granted <= debt;
      this.seen(row);
    }).catch((err: unknown) => {
      this.exhausted = true;
      this.warn(`quota usage of ${this.name}: cannot reserve from the database: ${err instanceof Error ? err.message : String(err)}`);
    }).finally(() => {
      this.toppingUp = false;
      // The uploads ended while this reservation was on its way: give it back now, not at the next upload's end.
      if (this.inFlight === 0 && this.grant > 0) this.change(0, 0);
    });
  }

  override change(bytes: number, files: number): void {
    super.change(bytes, files);
    const giveBack = this.inFlight === 0 ? this.grant : 0;
    if (giveBack > 0) { this.grant = 0; this.exhausted = false; }
    void this.queue(async () => {
      const [row] = await this.db.query<UsageRow>(
        `UPDATE ftpkit_quota_usage SET bytes = GREATEST(0, bytes + $2), files = GREATEST(0, files + $3), updated_at = now()
         WHERE user_name = $1 RETURNING bytes, files`, [this.name, bytes - giveBack, files]);
      this.seen(row);
    }).catch((err: unknown) => {
      this.warn(`quota usage of ${this.name}: a change of ${bytes} bytes and ${files} files was not written: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** The changes queued so far are in the row (or failed, with a warning): the queue has run them. */
  override written(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  /** No rescans: the nodes keep the row up to date. */
  override rescan(): void {}
}

export interface SharedQuotaBookOptions extends QuotaBookOptions {
  reserveBytes?: number;
}

/** The QuotaBook of a node whose users' usage lives in the database. */
export class SharedQuotaBook extends QuotaBook {
  private readonly shared = new Map<string, SharedUserUsage>();
  private readonly clock: () => number;

  constructor(private readonly db: Database, private readonly sharedOptions: SharedQuotaBookOptions) {
    super(sharedOptions);
    this.clock = sharedOptions.now ?? Date.now;
  }

  override usageOf(user: AuthenticatedUser | undefined): SharedUserUsage | undefined {
    if (!user?.quota || (user.quota.bytes === undefined && user.quota.files === undefined)) return undefined;
    let usage = this.shared.get(user.name);
    if (!usage || usage.storage !== user.storage) {
      usage = new SharedUserUsage(user.storage, user.name, this.db, this.sharedOptions.reserveBytes ?? DEFAULT_QUOTA_RESERVE_BYTES,
        (message) => this.sharedOptions.warn?.('quota-database', message), this.sharedOptions.scanConcurrency ?? DEFAULT_SCAN_CONCURRENCY);
      this.shared.set(user.name, usage);
    }
    return usage;
  }

  /** The row read again before each upload, DELE, AVBL: other nodes' changes are seen. */
  override async measured(user: AuthenticatedUser | undefined): Promise<SharedUserUsage | undefined> {
    const usage = this.usageOf(user);
    if (!usage) return undefined;
    await usage.load(this.clock);
    return usage;
  }

  override loggedIn(user: AuthenticatedUser): void {
    const usage = this.usageOf(user);
    if (usage && Number.isNaN(usage.scannedAt)) usage.load(this.clock).catch((err: unknown) => this.sharedOptions.warn?.('quota-database', `quota usage of ${user.name}: ${err instanceof Error ? err.message : String(err)}`));
  }
}
