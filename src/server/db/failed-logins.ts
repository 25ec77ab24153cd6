/**
 * Owns PostgresFailedLoginRecord: the failed-login record (auth/failed-logins.ts) in PostgreSQL, so the
 * failures from one address are counted over every node. One row per failure; a success from the address
 * removes its rows; rows older than the window are removed as failures are added.
 */
import type { FailedLoginRecord, LoginAttempt } from '../auth/failed-logins.js';
import type { Database } from './database.js';

export class PostgresFailedLoginRecord implements FailedLoginRecord {
  constructor(private readonly db: Database, private readonly windowMs = 15 * 60_000, private readonly now: () => number = Date.now) {}

  async recordFailure(attempt: LoginAttempt): Promise<void> {
    const now = this.now();
    await this.db.query('INSERT INTO ftpkit_failed_logins (address, at) VALUES ($1, $2)', [attempt.remoteAddress, now]);
    await this.db.query('DELETE FROM ftpkit_failed_logins WHERE address = $1 AND at <= $2', [attempt.remoteAddress, now - this.windowMs]);
  }

  async recordSuccess(attempt: LoginAttempt): Promise<void> {
    await this.db.query('DELETE FROM ftpkit_failed_logins WHERE address = $1', [attempt.remoteAddress]);
  }

  async failuresFrom(remoteAddress: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ftpkit_failed_logins WHERE address = $1 AND at > $2',
      [remoteAddress, this.now() - this.windowMs]);
    return row?.n ?? 0;
  }
}
