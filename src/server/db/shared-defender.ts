/**
 * Owns PostgresScores: the defender's scores and bans in PostgreSQL (security/shared-scores.ts), shared by
 * every node on the database, so a ban earned on one node refuses the address on all of them.
 *
 * - Points: each event is one row (ftpkit_defender_events); adding one locks the key's row in
 *   ftpkit_defender_keys (SELECT ... FOR UPDATE) in a transaction, drops its points older than the window,
 *   sums the rest and, at the threshold, bans: the same rules as the in-memory ScoreBook (score-book.ts),
 *   each next ban of a key twice as long, up to maxBanMs. Two nodes scoring one address at once are
 *   serialised by the row lock, so no point is lost and one ban is made, not two.
 * - Bans: the PASS-time check reads the address's and the name's row (refresh). The accept-time check reads
 *   a cache of every ban in force, read again every `refreshMs` (default 1 s): a ban made on another node
 *   turns connections away here at most that much later; it refuses their logins at once.
 * - When the database cannot be read, the cache keeps its last contents (bans stay in force) and the
 *   failure is reported once per outage; PASS answers 421 (login-guard.ts).
 * - Times are each node's clock (ms since the epoch): nodes need synchronised clocks (NTP).
 */
import type { NewBan } from '../security/score-book.js';
import type { BanRules, ScoreKind, SharedScores } from '../security/shared-scores.js';
import type { Database } from './database.js';
import { DEFAULT_BAN_REFRESH_MS } from './options.js';

export interface PostgresScoresOptions {
  refreshMs?: number;
  /** The refresh failed (first failure of an outage) or works again. */
  onRefreshError?: (err: unknown) => void;
  now?: () => number;
}

/** Stale rows (no ban, no recent points) are removed this often, by whichever node's turn it is. */
const CLEANUP_EVERY_MS = 60_000;

export class PostgresScores implements SharedScores {
  /** "kind\0key" -> ban end. */
  private cache = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private refreshing = false;
  private failing = false;
  private lastCleanup = 0;
  private readonly now: () => number;
  /** The longest window and ban seen in rules, for the cleanup. */
  private keepMs = 24 * 3_600_000;

  constructor(private readonly db: Database, private readonly options: PostgresScoresOptions = {}) {
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => void this.reload(), options.refreshMs ?? DEFAULT_BAN_REFRESH_MS);
    this.timer.unref();
    void this.reload();
  }

  async add(kind: ScoreKind, key: string, points: number, r: BanRules): Promise<NewBan | undefined> {
    this.keepMs = Math.max(r.windowMs, r.maxBanMs);
    const now = r.now();
    const ban = await this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO ftpkit_defender_keys (book, key) VALUES ($1, $2) ON CONFLICT DO NOTHING', [kind, key]);
      const [row] = await tx.query<{ banned_until: string; bans: number; last_ban_end: string }>(
        'SELECT banned_until, bans, last_ban_end FROM ftpkit_defender_keys WHERE book = $1 AND key = $2 FOR UPDATE', [kind, key]);
      let bannedUntil = Number(row!.banned_until);
      let bans = row!.bans;
      let lastBanEnd = Number(row!.last_ban_end);
      if (bannedUntil > now) return undefined; // a banned key collects no points
      if (bannedUntil > 0) { lastBanEnd = bannedUntil; bannedUntil = 0; }
      if (bans > 0 && now - lastBanEnd > r.maxBanMs) bans = 0;
      await tx.query('DELETE FROM ftpkit_defender_events WHERE book = $1 AND key = $2 AND at <= $3', [kind, key, now - r.windowMs]);
      await tx.query('INSERT INTO ftpkit_defender_events (book, key, at, points) VALUES ($1, $2, $3, $4)', [kind, key, now, points]);
      const [sum] = await tx.query<{ score: number }>(
        'SELECT coalesce(sum(points), 0)::float8 AS score FROM ftpkit_defender_events WHERE book = $1 AND key = $2', [kind, key]);
      let made: NewBan | undefined;
      if (sum!.score >= r.threshold) {
        const durationMs = Math.min(r.banMs * 2 ** bans, r.maxBanMs);
        bans++;
        bannedUntil = now + durationMs;
        await tx.query('DELETE FROM ftpkit_defender_events WHERE book = $1 AND key = $2', [kind, key]);
        made = { key, until: bannedUntil, durationMs, score: sum!.score, count: bans };
      }
      await tx.query('UPDATE ftpkit_defender_keys SET banned_until = $3, bans = $4, last_ban_end = $5 WHERE book = $1 AND key = $2',
        [kind, key, bannedUntil, bans, lastBanEnd]);
      return made;
    });
    if (ban) this.cache.set(`${kind}\0${key}`, ban.until);
    return ban;
  }

  cachedBan(kind: ScoreKind, key: string): number | undefined {
    const until = this.cache.get(`${kind}\0${key}`);
    return until !== undefined && until > this.now() ? until : undefined;
  }

  async refresh(addressKey: string, user?: string): Promise<void> {
    const rows = await this.db.query<{ book: ScoreKind; key: string; banned_until: string }>(
      `SELECT book, key, banned_until FROM ftpkit_defender_keys
       WHERE (book = 'address' AND key = $1) OR (book = 'user' AND key = $2)`, [addressKey, user ?? null]);
    const fresh = new Map(rows.map(r => [`${r.book}\0${r.key}`, Number(r.banned_until)]));
    for (const k of [`address\0${addressKey}`, ...(user !== undefined ? [`user\0${user}`] : [])]) {
      const until = fresh.get(k);
      if (until !== undefined && until > this.now()) this.cache.set(k, until);
      else this.cache.delete(k);
    }
  }

  async clearScore(kind: ScoreKind, key: string): Promise<void> {
    await this.db.query('DELETE FROM ftpkit_defender_events WHERE book = $1 AND key = $2', [kind, key]);
  }

  async unban(kind: ScoreKind, key: string, now: number): Promise<boolean> {
    this.cache.delete(`${kind}\0${key}`);
    const rows = await this.db.query(
      'UPDATE ftpkit_defender_keys SET banned_until = 0, last_ban_end = $3 WHERE book = $1 AND key = $2 AND banned_until > $3 RETURNING key',
      [kind, key, now]);
    return rows.length > 0;
  }

  bans(): Array<{ kind: ScoreKind; key: string; until: number }> {
    const now = this.now();
    return [...this.cache].filter(([, until]) => until > now).map(([k, until]) => {
      const [kind, key] = k.split('\0') as [ScoreKind, string];
      return { kind, key, until };
    });
  }

  /** Read every ban in force (the accept-time cache); now and then remove stale rows. */
  async reload(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const now = this.now();
      const rows = await this.db.query<{ book: ScoreKind; key: string; banned_until: string }>(
        'SELECT book, key, banned_until FROM ftpkit_defender_keys WHERE banned_until > $1', [now]);
      this.cache = new Map(rows.map(r => [`${r.book}\0${r.key}`, Number(r.banned_until)]));
      if (now - this.lastCleanup >= CLEANUP_EVERY_MS) {
        this.lastCleanup = now;
        await this.db.query('DELETE FROM ftpkit_defender_events WHERE at < $1', [now - this.keepMs]);
        await this.db.query(`DELETE FROM ftpkit_defender_keys k WHERE banned_until < $1 AND last_ban_end < $1
          AND NOT EXISTS (SELECT 1 FROM ftpkit_defender_events e WHERE e.book = k.book AND e.key = k.key)`, [now - this.keepMs]);
      }
      if (this.failing) { this.failing = false; this.options.onRefreshError?.(undefined); }
    } catch (err) {
      if (!this.failing) { this.failing = true; this.options.onRefreshError?.(err); }
    } finally {
      this.refreshing = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
