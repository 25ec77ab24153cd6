/**
 * The server-wide record of failed logins, behind an interface: today in memory; bans of an address and a
 * record shared by several servers (PostgreSQL) are other implementations of the same interface.
 *
 * Owns: what is remembered about refused PASS commands across sessions. The per-connection limit
 * (limits.maxLoginFailures, the session state's loginFailures) is the session's own; this record sees every
 * failure and success of every session of the server, so it can count per client address.
 */

/** One login attempt, as the record sees it (never the password). */
export interface LoginAttempt {
  sessionId: string;
  remoteAddress: string;
  /** The name given to USER. */
  user: string;
}

export interface FailedLoginRecord {
  /** A PASS was refused. May be async (a shared database); the session awaits it before answering 530. */
  recordFailure(attempt: LoginAttempt): void | Promise<void>;
  /** A login succeeded. */
  recordSuccess(attempt: LoginAttempt): void | Promise<void>;
  /** Failures from this address still remembered (since its last successful login, within the window). */
  failuresFrom(remoteAddress: string): number | Promise<number>;
}

export interface MemoryFailedLoginRecordOptions {
  /** How long a failure is remembered. Default 15 minutes. */
  windowMs?: number;
  /** Addresses remembered at most; the oldest is forgotten first. Default 10000. */
  maxAddresses?: number;
  /** Clock for tests. */
  now?: () => number;
}

/** Failures per client address, in memory, bounded in time and in size (a scan from many addresses cannot grow it). */
export class MemoryFailedLoginRecord implements FailedLoginRecord {
  /** Failure times per address, oldest first; a Map keeps insertion order, so its first key is the stalest. */
  private readonly failures = new Map<string, number[]>();
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(options: MemoryFailedLoginRecordOptions = {}) {
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  recordFailure(attempt: LoginAttempt): void {
    const times = this.current(attempt.remoteAddress);
    times.push(this.now());
    // Re-insert so the most recently failing address is the last to be forgotten.
    this.failures.delete(attempt.remoteAddress);
    this.failures.set(attempt.remoteAddress, times);
    while (this.failures.size > this.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
  }

  recordSuccess(attempt: LoginAttempt): void {
    this.failures.delete(attempt.remoteAddress);
  }

  failuresFrom(remoteAddress: string): number {
    return this.current(remoteAddress).length;
  }

  /** The address's failures within the window (older ones dropped). */
  private current(remoteAddress: string): number[] {
    const since = this.now() - this.windowMs;
    const times = (this.failures.get(remoteAddress) ?? []).filter(t => t > since);
    if (times.length) this.failures.set(remoteAddress, times);
    else this.failures.delete(remoteAddress);
    return times;
  }
}
