/**
 * Sessions per user (limits.maxSessionsPerUser, limits.maxSessionsByUser): how many sessions each user
 * has logged in now, and whether one more may log in.
 *
 * Owns: the count per user name of one FtpServer (sessions add at login, remove at REIN or close). The
 * PASS handler (commands/auth.ts) asks before the password is checked, so a login over the limit costs no
 * hashing, and again after it succeeded (two logins of the same user may have been checked at once).
 * Memory: one entry per user with a session now.
 */
export interface UserSessionLimits {
  /** Infinity: no limit. */
  readonly maxSessionsPerUser: number;
  /** Per name: replaces maxSessionsPerUser (Infinity: no limit). */
  readonly maxSessionsByUser: ReadonlyMap<string, number>;
}

export class UserSessionCount {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limits: UserSessionLimits) {}

  /** The most sessions `name` may have (Infinity: no limit). */
  limitFor(name: string): number {
    return this.limits.maxSessionsByUser.get(name) ?? this.limits.maxSessionsPerUser;
  }

  /** Sessions of `name` logged in now. */
  count(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /** One more session of `name` would be over its limit. */
  full(name: string): boolean {
    return this.count(name) >= this.limitFor(name);
  }

  add(name: string): void {
    this.counts.set(name, this.count(name) + 1);
  }

  remove(name: string): void {
    const n = this.count(name) - 1;
    if (n > 0) this.counts.set(name, n);
    else this.counts.delete(name);
  }
}
