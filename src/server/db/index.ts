/**
 * PostgreSQL for several server nodes (issue 13; docs/server.md#users-bans-and-quotas-in-postgresql):
 * users, the defender's scores and bans, failed logins and quota usage in one database, so a node keeps
 * no state of its own. `nodeServices()` makes everything one FtpServer needs from one pool.
 */
import type { EventEmitter } from 'node:events';
import type { FtpServerEvents } from '../events.js';
import type { FtpServerExtensions } from '../ftp-server.js';
import { Database } from './database.js';
import { DatabaseUserStore, type DatabaseUserStoreOptions } from './db-users.js';
import { PostgresFailedLoginRecord } from './failed-logins.js';
import { requireCurrentSchema } from './migrations.js';
import type { DatabaseOptions } from './options.js';
import { PostgresScores } from './shared-defender.js';
import { SharedQuotaBook } from './shared-quota.js';

export { Database, databaseError } from './database.js';
export { DatabaseUserStore, type DatabaseUserStoreOptions } from './db-users.js';
export { PostgresFailedLoginRecord } from './failed-logins.js';
export { MIGRATIONS, migrate, migrationStatus, requireCurrentSchema, type Migration, type MigrationStatus } from './migrations.js';
export { describeDatabase, poolSettings, type DatabaseOptions } from './options.js';
export { PostgresScores } from './shared-defender.js';
export { SharedQuotaBook, SharedUserUsage } from './shared-quota.js';
export { UserRecords, type StoredFolder, type UserRecord } from './user-records.js';

export interface NodeServices {
  db: Database;
  /** Users in the database (combine with configured users: CompositeAuthenticator). */
  users: DatabaseUserStore;
  /** What FtpServer takes for shared bans, failed logins and quota usage. */
  extensions: Pick<FtpServerExtensions, 'sharedScores' | 'quotaBook' | 'failedLoginRecord'>;
  /** Once the server exists: its warnings about the database go out as its 'warning' events. */
  attach(events: EventEmitter<FtpServerEvents>): void;
  close(): Promise<void>;
}

/**
 * Open the pool and check the schema (throws FtpDatabaseError 'schema' or 'unreachable': a node does not
 * start without its database). Throws FtpConfigError for bad options.
 */
export async function nodeServices(options: DatabaseOptions, users: DatabaseUserStoreOptions = {}): Promise<NodeServices> {
  let events: EventEmitter<FtpServerEvents> | undefined;
  const warn = (code: string, message: string) => events?.emit('warning', { code, message });
  const db = new Database(options, (err) => warn('database-connection', `a pooled database connection failed: ${err.message}`));
  try {
    await requireCurrentSchema(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  const scores = new PostgresScores(db, {
    refreshMs: options.banRefreshMs,
    onRefreshError: (err) => warn('defender-shared', err === undefined
      ? 'shared bans: the database answers again'
      : `shared bans: cannot read the bans in force (the last ones read stay in force): ${err instanceof Error ? err.message : String(err)}`),
  });
  return {
    db,
    users: new DatabaseUserStore(db, users),
    extensions: {
      sharedScores: scores,
      failedLoginRecord: new PostgresFailedLoginRecord(db),
      quotaBook: (o) => new SharedQuotaBook(db, { ...o, reserveBytes: options.quotaReserveBytes }),
    },
    attach(e) { events = e; },
    async close() {
      scores.close();
      await db.close();
    },
  };
}
