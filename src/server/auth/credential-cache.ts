/**
 * Owns the cache of recently verified credentials: after a password was verified against a user's stored
 * hash, the next logins of that user with the same password within the TTL skip the costly hash (scrypt
 * at ~0.4 s, behind a gate of two) — what SFTPGo does. A burst of logins by one user (a `mirror
 * --parallel N`, the doctor's matrix) then costs one hash instead of N.
 *
 * What is remembered: per user name, the stored hash string it was verified against, an HMAC-SHA-256 of
 * the password under a random key made with the cache (never written anywhere, gone with the process) and
 * the time of the verification. Never the password. The trade-off: while an entry lives, whoever reads the
 * process memory can test password guesses at HMAC speed instead of scrypt speed for that user (they need
 * the key from the same memory); the TTL bounds that window, and `ttlMs: 0` turns the cache off.
 *
 * Rules (each tested):
 * - Only a successful verification adds an entry; a wrong password never does.
 * - An entry counts only for the stored hash it was made with: a changed password (configuration reload,
 *   `ConfigUserStore.update`) makes it miss, and the next verification is a full one.
 * - An entry lives `ttlMs` from its verification; a hit does not extend it.
 * - At most `maxEntries` users are remembered; the least recently used is forgotten first.
 * - `matches()` computes the keyed hash and compares in constant time whether or not the user has an entry,
 *   so a wrong password costs the same HMAC (and then the same full hash) for a cached and an uncached user.
 * - `verify()` runs one full verification for concurrent logins with the same user, hash and password.
 *   Such a join happens for a wrong password too (it only saves work: an attacker repeating one guess in
 *   parallel gets one hash's worth of answers), and its waiting time is that of a full verification.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The default lifetime of an entry: long enough for a burst of parallel logins and a working session. */
export const DEFAULT_CREDENTIAL_CACHE_TTL_MS = 5 * 60_000;
/** The default number of users remembered. */
export const DEFAULT_CREDENTIAL_CACHE_ENTRIES = 1000;

export interface CredentialCacheOptions {
  /** How long a verification is remembered, ms. 0 disables the cache. Default 5 minutes. */
  ttlMs?: number;
  /** Users remembered at most (least recently used forgotten first). Default 1000. */
  maxEntries?: number;
  /** Clock for tests. */
  now?: () => number;
}

interface CachedVerification {
  /** The stored hash string the password was verified against. */
  storedHash: string;
  /** HMAC-SHA-256(key, password). */
  mac: Buffer;
  verifiedAt: number;
}

const MAC_BYTES = 32;

export class VerifiedCredentialCache {
  readonly ttlMs: number;
  readonly maxEntries: number;
  private readonly now: () => number;
  private readonly key = randomBytes(32);
  /** Compared against when the user has no usable entry, so a miss costs what a hit costs. */
  private readonly nothing = randomBytes(MAC_BYTES);
  /** Insertion order is recency: the first key is the least recently used. */
  private readonly entries = new Map<string, CachedVerification>();
  /** Verifications running now, by user, stored hash and keyed password hash. */
  private readonly running = new Map<string, Promise<boolean>>();
  /**
   * Since the cache was made: lookups answered yes (a hash skipped) and no, and logins that waited for the
   * same verification already running. For operators and tests.
   */
  readonly stats = { hits: 0, misses: 0, joined: 0 };

  constructor(options: CredentialCacheOptions = {}) {
    const ttlMs = options.ttlMs ?? DEFAULT_CREDENTIAL_CACHE_TTL_MS;
    const maxEntries = options.maxEntries ?? DEFAULT_CREDENTIAL_CACHE_ENTRIES;
    if (!Number.isFinite(ttlMs) || ttlMs < 0) throw new RangeError('credential cache ttlMs must be a number >= 0');
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('credential cache maxEntries must be an integer >= 1');
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** Users currently remembered (expired entries may still count until they are looked at). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Whether `password` was verified for `user` against exactly `storedHash` within the TTL. Constant time
   * in the password and in whether an entry exists.
   */
  matches(user: string, storedHash: string, password: string): boolean {
    if (!this.enabled) return false;
    return this.lookup(user, storedHash, this.macOf(password));
  }

  /**
   * The password check with the cache in front: a hit answers at once; otherwise `fullVerification` runs
   * and a yes is remembered. Logins of the same user with the same password that arrive while that
   * verification runs wait for it instead of starting their own, so a burst from a cold cache (19
   * connections opened at once) costs one hash, not 19. Each caller gets the answer of a full verification
   * made against `storedHash`; a wrong password is never remembered.
   */
  async verify(user: string, storedHash: string, password: string, fullVerification: () => Promise<boolean>): Promise<boolean> {
    if (!this.enabled) return fullVerification();
    const mac = this.macOf(password);
    if (this.lookup(user, storedHash, mac)) return true;
    const key = `${user}\0${storedHash}\0${mac.toString('hex')}`;
    const running = this.running.get(key);
    if (running) {
      this.stats.joined++;
      return running;
    }
    const run = (async () => {
      try {
        const ok = await fullVerification();
        if (ok) this.store(user, storedHash, mac);
        return ok;
      } finally {
        this.running.delete(key);
      }
    })();
    this.running.set(key, run);
    return run;
  }

  private lookup(user: string, storedHash: string, mac: Buffer): boolean {
    const entry = this.entries.get(user);
    const usable = entry !== undefined && entry.storedHash === storedHash && this.now() - entry.verifiedAt < this.ttlMs;
    if (entry && !usable) this.entries.delete(user);
    const equal = timingSafeEqual(mac, usable ? entry.mac : this.nothing);
    if (!usable || !equal) {
      this.stats.misses++;
      return false;
    }
    this.stats.hits++;
    // Most recently used goes last.
    this.entries.delete(user);
    this.entries.set(user, entry);
    return true;
  }

  /** Remember a successful verification (call only after the full hash said yes). */
  remember(user: string, storedHash: string, password: string): void {
    if (this.enabled) this.store(user, storedHash, this.macOf(password));
  }

  private store(user: string, storedHash: string, mac: Buffer): void {
    this.entries.delete(user);
    this.entries.set(user, { storedHash, mac, verifiedAt: this.now() });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /**
   * Drop every entry whose user no longer has the stored hash it was made with (`currentHash` returns
   * undefined for a user that is gone). Lookups already miss for those; this frees them at once.
   */
  prune(currentHash: (user: string) => string | undefined): void {
    for (const [user, entry] of this.entries) {
      if (currentHash(user) !== entry.storedHash) this.entries.delete(user);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  private macOf(password: string): Buffer {
    // The exact string that was verified, not a normalised form: a hash format that does not normalise
    // (SHA-crypt, bcrypt) must not be answered yes by the cache for a spelling it would refuse.
    return createHmac('sha256', this.key).update(password, 'utf8').digest();
  }
}
