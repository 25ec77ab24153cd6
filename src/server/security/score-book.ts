/**
 * Owns scores and temporary bans for one kind of key (client addresses, or user names): points are added
 * per event, a key whose points within the observation window reach the threshold is banned, and each
 * new ban of the same key lasts twice as long as its previous one, up to a cap. SFTPGo's defender is the
 * model (score per event, observation time, threshold, growing ban time); this is our own, in memory.
 *
 * Bounded memory (docs/architecture.md#bound-every-input): a key holds at most `threshold` events (it is
 * banned, and its events dropped, when they add up), and at most `maxEntries` keys are remembered. When a
 * new key would exceed that, a stale key is forgotten, preferring one that is not banned: a scan from many
 * addresses cannot grow the book, and forgets at worst the oldest bans.
 *
 * Time comes from an injected clock, so expiry is tested without waiting.
 */

export interface ScoreBookOptions {
  /** Points within `windowMs` that ban a key. */
  threshold: number;
  /** How long a point counts. */
  windowMs: number;
  /** The first ban's length; each next ban of the same key doubles it. */
  banMs: number;
  /** The longest ban. A key whose last ban ended longer ago than this starts again at `banMs`. */
  maxBanMs: number;
  /** Keys remembered at most. */
  maxEntries: number;
  now: () => number;
}

/** A ban just decided. */
export interface NewBan {
  key: string;
  /** When it ends (ms since the epoch, the book's clock). */
  until: number;
  durationMs: number;
  /** The points that reached the threshold. */
  score: number;
  /** 1 for the first ban of this key (within the memory of its bans), 2 for the second... */
  count: number;
}

interface Entry {
  /** [time, points] of the events within the window, oldest first. */
  events: Array<[number, number]>;
  /** Ban end, 0 when not banned. */
  bannedUntil: number;
  /** Bans so far (for the doubling), and when the last one ended. */
  bans: number;
  lastBanEnd: number;
}

/** How many of the stalest keys are looked at for one that is not banned, before the stalest is dropped. */
const EVICTION_SCAN = 64;

export class ScoreBook {
  /** Insertion order is staleness: an entry is re-inserted whenever it changes. */
  private readonly entries = new Map<string, Entry>();

  constructor(private settings: Readonly<ScoreBookOptions>) {}

  get options(): Readonly<ScoreBookOptions> { return this.settings; }

  /**
   * New threshold, window, ban lengths or size (a configuration reload). Scores and bans already given are
   * kept: a reload must not pardon anyone. A smaller `maxEntries` takes effect as keys are added.
   */
  retune(options: Readonly<ScoreBookOptions>): void {
    this.settings = options;
  }

  /** Keys remembered now (for tests and operators). */
  get size(): number { return this.entries.size; }

  /** When the key's ban ends, or undefined when it is not banned. */
  bannedUntil(key: string): number | undefined {
    const entry = this.current(key);
    return entry && entry.bannedUntil > 0 ? entry.bannedUntil : undefined;
  }

  /** Points of the key within the window (0 while banned: a banned key collects no points). */
  score(key: string): number {
    const entry = this.current(key);
    return entry ? entry.events.reduce((sum, [, points]) => sum + points, 0) : 0;
  }

  /** Add points; returns the ban when they reach the threshold. A banned key ignores them. */
  add(key: string, points: number): NewBan | undefined {
    if (!(points > 0)) return undefined;
    const now = this.options.now();
    const entry = this.current(key) ?? { events: [], bannedUntil: 0, bans: 0, lastBanEnd: 0 };
    if (entry.bannedUntil > 0) return undefined;
    entry.events.push([now, points]);
    const score = entry.events.reduce((sum, [, p]) => sum + p, 0);
    let ban: NewBan | undefined;
    if (score >= this.options.threshold) {
      const durationMs = Math.min(this.options.banMs * 2 ** entry.bans, this.options.maxBanMs);
      entry.bans++;
      entry.bannedUntil = now + durationMs;
      entry.events = [];
      ban = { key, until: entry.bannedUntil, durationMs, score, count: entry.bans };
    }
    this.put(key, entry);
    return ban;
  }

  /** Forget the key's points (a successful login of a user name); its ban and ban history stay. */
  clearScore(key: string): void {
    const entry = this.current(key);
    if (entry) entry.events = [];
  }

  /** Lift the key's ban now (an operator's decision); the next ban still grows from its history. */
  unban(key: string): boolean {
    const entry = this.current(key);
    if (!entry || entry.bannedUntil === 0) return false;
    entry.bannedUntil = 0;
    entry.lastBanEnd = this.options.now();
    return true;
  }

  /**
   * Ban the key now for `durationMs` (an operator's decision), whatever its points; an earlier end of a
   * ban in force is extended, a later one kept. Counts as one more ban in the key's history.
   */
  banFor(key: string, durationMs: number): NewBan {
    const now = this.options.now();
    const entry = this.current(key) ?? { events: [], bannedUntil: 0, bans: 0, lastBanEnd: 0 };
    const score = entry.events.reduce((sum, [, p]) => sum + p, 0);
    entry.bans++;
    entry.bannedUntil = Math.max(entry.bannedUntil, now + durationMs);
    entry.events = [];
    this.put(key, entry);
    return { key, until: entry.bannedUntil, durationMs: entry.bannedUntil - now, score, count: entry.bans };
  }

  /** The bans in force: key and end. */
  bans(): Array<{ key: string; until: number }> {
    const out: Array<{ key: string; until: number }> = [];
    for (const key of [...this.entries.keys()]) {
      const until = this.bannedUntil(key);
      if (until !== undefined) out.push({ key, until });
    }
    return out;
  }

  /** The key's entry brought up to date (expired ban lifted, old points dropped), or undefined when nothing is left. */
  private current(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.options.now();
    if (entry.bannedUntil > 0 && entry.bannedUntil <= now) {
      entry.lastBanEnd = entry.bannedUntil;
      entry.bannedUntil = 0;
    }
    const since = now - this.options.windowMs;
    if (entry.events.length && entry.events[0]![0] <= since) entry.events = entry.events.filter(([at]) => at > since);
    // Ban history is kept as long as a ban could still grow from it.
    if (entry.bans > 0 && entry.bannedUntil === 0 && now - entry.lastBanEnd > this.options.maxBanMs) entry.bans = 0;
    if (entry.events.length === 0 && entry.bannedUntil === 0 && entry.bans === 0) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private put(key: string, entry: Entry): void {
    this.entries.delete(key);
    if (this.entries.size >= this.options.maxEntries) this.evictOne();
    this.entries.set(key, entry);
  }

  private evictOne(): void {
    let scanned = 0;
    for (const key of this.entries.keys()) {
      if (++scanned > EVICTION_SCAN) break;
      // current() may drop a key with nothing left: that frees the room as well.
      const entry = this.current(key);
      if (!entry || entry.bannedUntil === 0) {
        this.entries.delete(key);
        return;
      }
    }
    const stalest = this.entries.keys().next();
    if (!stalest.done) this.entries.delete(stalest.value);
  }
}
