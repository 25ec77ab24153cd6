/**
 * Owns the server-wide defender: allow and deny lists, scores and temporary bans per client address and
 * per user name, and the questions the server asks it (at accept: may this address connect; at PASS: may
 * this address log in, is this name banned).
 *
 * What it scores is decided in defender-events.ts from the server's own events (failed logins, refused
 * commands, protocol garbage), so the session code has no calls to it beyond those two questions.
 * Allow-listed addresses collect no points and are never refused; deny-listed ones are refused at connect
 * whether the defender is enabled or not. One Defender per FtpServer: two servers share nothing, unless
 * they are given the same SharedScores (shared-scores.ts: PostgreSQL, for several nodes), which then holds
 * every score and ban instead of this process.
 */
import { unmapIPv4 } from '../../protocol/hostport.js';
import type { BanEvent } from '../events.js';
import { resolveDefenderOptions, type DefenderOptions, type DefenderScores, type ResolvedDefenderOptions } from './defender-options.js';
import { ScoreBook, type NewBan } from './score-book.js';
import type { ScoreKind, SharedScores } from './shared-scores.js';

export type DefenderEventKind = keyof DefenderScores;

/** Kinds that are login attempts: they count against the user name too. */
const LOGIN_KINDS: ReadonlySet<DefenderEventKind> = new Set(['failedLogin', 'unknownUser']);

/** Why an address may not connect (or log in) now. */
export interface AddressRefusal {
  reason: 'denied' | 'banned';
  /** End of the ban (ms since the epoch); absent for the deny list. */
  until?: number;
}

/** A ban in force, as `bans()` lists it. */
export interface ActiveBan {
  kind: 'address' | 'user';
  key: string;
  until: number;
}

/** The address as the lists and scores know it: IPv4-mapped IPv6 unmapped, no zone index. */
export function addressKey(address: string): string {
  return unmapIPv4(address.replace(/%.*$/, '')).toLowerCase();
}

export class Defender {
  private settings: ResolvedDefenderOptions;
  private readonly addresses: ScoreBook;
  private users: ScoreBook | undefined;

  /** `onBan` hears every new ban (FtpServer emits it as the 'ban' event). Throws FtpConfigError. */
  constructor(
    options: DefenderOptions = {}, private readonly onBan?: (ban: BanEvent) => void,
    /** Scores and bans shared with other nodes; its failures are reported to `onSharedError`. */
    private readonly shared?: SharedScores, private readonly onSharedError?: (err: unknown) => void,
  ) {
    this.settings = resolveDefenderOptions(options);
    const { threshold, userThreshold, windowMs, banMs, maxBanMs, maxEntries, now } = this.settings;
    this.addresses = new ScoreBook({ threshold, windowMs, banMs, maxBanMs, maxEntries, now });
    this.users = userThreshold > 0 ? new ScoreBook({ threshold: userThreshold, windowMs, banMs, maxBanMs, maxEntries, now }) : undefined;
  }

  get options(): ResolvedDefenderOptions { return this.settings; }

  /**
   * Apply new options (FtpServer.reconfigure, after resolveDefenderOptions() validated them): allow and
   * deny lists, scores and on/off at once, for the next connection and the next login; thresholds and ban
   * lengths for the next points. Scores and bans in force are kept (a reload pardons nobody); turning
   * user-name bans off (userThreshold 0) forgets the names' scores. The clock stays the one given first.
   */
  reconfigure(resolved: ResolvedDefenderOptions): void {
    this.settings = { ...resolved, now: this.settings.now };
    const { threshold, userThreshold, windowMs, banMs, maxBanMs, maxEntries, now } = this.settings;
    this.addresses.retune({ threshold, windowMs, banMs, maxBanMs, maxEntries, now });
    const userBook = { threshold: userThreshold, windowMs, banMs, maxBanMs, maxEntries, now };
    if (userThreshold <= 0) this.users = undefined;
    else if (this.users) this.users.retune(userBook);
    else this.users = new ScoreBook(userBook);
  }

  /** The address is on the allow list: never banned, never refused. */
  isAllowed(address: string): boolean {
    return this.options.allow.has(addressKey(address));
  }

  /** Why a connection (or a login) from the address is refused now, or undefined. */
  addressRefusal(address: string): AddressRefusal | undefined {
    const key = addressKey(address);
    // A stream that is no socket (FtpServer.handleConnection) may have no address: never one key for all.
    if (!key || this.options.allow.has(key)) return undefined;
    if (this.options.deny.has(key)) return { reason: 'denied' };
    const until = this.shared ? this.shared.cachedBan('address', key) : this.addresses.bannedUntil(key);
    return until === undefined ? undefined : { reason: 'banned', until };
  }

  /** The user name is banned, and `address` is not allow-listed. */
  userBanned(name: string, address: string): boolean {
    if (!this.users || this.isAllowed(address)) return false;
    if (this.shared) return this.shared.cachedBan('user', name) !== undefined;
    return this.users.bannedUntil(name) !== undefined;
  }

  /**
   * With shared scores: bring what addressRefusal() and userBanned() answer for this address and name up
   * to the store's current word (the PASS-time check awaits it). Throws when the store cannot be asked.
   */
  async refreshShared(address: string, user?: string): Promise<void> {
    await this.shared?.refresh(addressKey(address), user);
  }

  /** An event from `address` (about `user`, for logins): its points, and a ban when they add up. */
  record(kind: DefenderEventKind, address: string, user?: string): void {
    if (!this.options.enabled) return;
    const key = addressKey(address);
    if (!key || this.options.allow.has(key)) return;
    const points = this.options.scores[kind];
    if (this.shared) {
      this.addShared('address', key, points, key);
      if (this.users && user !== undefined && LOGIN_KINDS.has(kind)) this.addShared('user', user, this.options.scores.failedLogin, key);
      return;
    }
    const ban = this.addresses.add(key, points);
    if (ban) this.banned('address', ban, key);
    if (this.users && user !== undefined && LOGIN_KINDS.has(kind)) {
      const userBan = this.users.add(user, this.options.scores.failedLogin);
      if (userBan) this.banned('user', userBan, key);
    }
  }

  /** Points to the shared store, in the background: the event's path does not wait for the database. */
  private addShared(kind: ScoreKind, key: string, points: number, remoteAddress: string): void {
    if (!(points > 0)) return;
    const { threshold, userThreshold, windowMs, banMs, maxBanMs, now } = this.settings;
    const rules = { threshold: kind === 'address' ? threshold : userThreshold, windowMs, banMs, maxBanMs, now };
    this.shared!.add(kind, key, points, rules).then(
      (ban) => { if (ban) this.banned(kind, ban, remoteAddress); },
      (err: unknown) => this.onSharedError?.(err));
  }

  /** A user logged in: the name's points are forgotten (its bans are not). */
  loginSucceeded(user: string): void {
    if (this.shared && this.users) this.shared.clearScore('user', user).catch((err: unknown) => this.onSharedError?.(err));
    this.users?.clearScore(user);
  }

  /** Current points of an address (for operators and tests). */
  scoreOf(address: string): number {
    return this.addresses.score(addressKey(address));
  }

  /** The bans in force. */
  bans(): ActiveBan[] {
    if (this.shared) return this.shared.bans();
    return [
      ...this.addresses.bans().map(b => ({ kind: 'address' as const, ...b })),
      ...(this.users?.bans() ?? []).map(b => ({ kind: 'user' as const, ...b })),
    ];
  }

  /**
   * Ban an address (or a user name) now for `durationMs`, an operator's decision (the admin page): emitted
   * as a 'ban' like the defender's own, even when the defender's scoring is off. The allow list still wins
   * at connect. Returns the ban.
   */
  ban(kind: 'address' | 'user', key: string, durationMs: number): NewBan {
    if (kind === 'user' && !this.users) {
      const { windowMs, banMs, maxBanMs, maxEntries, now } = this.settings;
      this.users = new ScoreBook({ threshold: Number.POSITIVE_INFINITY, windowMs, banMs, maxBanMs, maxEntries, now });
    }
    const book = kind === 'address' ? this.addresses : this.users!;
    const ban = book.banFor(kind === 'address' ? addressKey(key) : key, durationMs);
    this.banned(kind, ban, kind === 'address' ? ban.key : '');
    return ban;
  }

  /** Lift a ban now (an operator's decision). Returns whether there was one. */
  unban(kind: 'address' | 'user', key: string): boolean {
    if (this.shared) {
      const k = kind === 'address' ? addressKey(key) : key;
      const had = this.shared.cachedBan(kind, k) !== undefined;
      this.shared.unban(kind, k, this.settings.now()).catch((err: unknown) => this.onSharedError?.(err));
      return had;
    }
    return kind === 'address' ? this.addresses.unban(addressKey(key)) : (this.users?.unban(key) ?? false);
  }

  private banned(kind: 'address' | 'user', ban: NewBan, remoteAddress: string): void {
    this.onBan?.({
      kind, remoteAddress, ...(kind === 'user' ? { user: ban.key } : {}),
      until: new Date(ban.until).toISOString(), durationMs: ban.durationMs, score: ban.score, count: ban.count,
    });
  }
}
