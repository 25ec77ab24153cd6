/**
 * Owns the database schema: numbered migrations shipped with ftpkit, applied in order by `ftpkit db
 * migrate`, each recorded in ftpkit_schema_migrations. All of one run happens in one transaction that
 * first takes a transaction-level advisory lock, so two nodes migrating at once are safe: the second
 * waits, then finds nothing left to do. A migration is never edited once released; a change is a new one.
 *
 * Every table is prefixed `ftpkit_`, so the schema can live in a database shared with other software.
 */
import { FtpDatabaseError } from '../../errors.js';
import type { Database, Queryable } from './database.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The key of the advisory lock migrations take (any constant; "ftpk" in ASCII). */
const MIGRATION_LOCK = 0x6674706b;

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'users, defender, quota usage',
    sql: `
      CREATE TABLE ftpkit_users (
        name text PRIMARY KEY CHECK (name <> '' AND name !~ '[\\r\\n]'),
        password_hash text NOT NULL,
        root text NOT NULL,
        home text NOT NULL DEFAULT '/',
        permissions jsonb,
        paths jsonb,
        folders jsonb,
        quota_bytes bigint CHECK (quota_bytes >= 0),
        quota_files bigint CHECK (quota_files >= 1),
        max_upload_bytes bigint CHECK (max_upload_bytes >= 0),
        upload_mode text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE ftpkit_defender_keys (
        book text NOT NULL,
        key text NOT NULL,
        banned_until bigint NOT NULL DEFAULT 0,
        bans integer NOT NULL DEFAULT 0,
        last_ban_end bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (book, key)
      );
      CREATE INDEX ftpkit_defender_keys_banned ON ftpkit_defender_keys (banned_until) WHERE banned_until > 0;
      CREATE TABLE ftpkit_defender_events (
        book text NOT NULL,
        key text NOT NULL,
        at bigint NOT NULL,
        points double precision NOT NULL
      );
      CREATE INDEX ftpkit_defender_events_key ON ftpkit_defender_events (book, key, at);
      CREATE TABLE ftpkit_failed_logins (
        address text NOT NULL,
        at bigint NOT NULL
      );
      CREATE INDEX ftpkit_failed_logins_address ON ftpkit_failed_logins (address, at);
      CREATE TABLE ftpkit_quota_usage (
        user_name text PRIMARY KEY,
        bytes bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
        files bigint NOT NULL DEFAULT 0 CHECK (files >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
]);

export interface MigrationStatus {
  /** Versions recorded in the database. */
  applied: Array<{ version: number; name: string; appliedAt: Date }>;
  /** Shipped migrations not applied yet. */
  pending: Migration[];
  /** Versions in the database that this ftpkit does not know (a newer ftpkit migrated it). */
  unknown: number[];
}

async function ensureTable(db: Queryable): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS ftpkit_schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
}

async function statusOn(db: Queryable, migrations: readonly Migration[]): Promise<MigrationStatus> {
  const rows = await db.query<{ version: number; name: string; applied_at: Date }>(
    'SELECT version, name, applied_at FROM ftpkit_schema_migrations ORDER BY version');
  const done = new Set(rows.map(r => r.version));
  const known = new Set(migrations.map(m => m.version));
  return {
    applied: rows.map(r => ({ version: r.version, name: r.name, appliedAt: r.applied_at })),
    pending: migrations.filter(m => !done.has(m.version)),
    unknown: rows.map(r => r.version).filter(v => !known.has(v)),
  };
}

/** Where the schema stands (read-only: a database never migrated shows every migration pending). */
export async function migrationStatus(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationStatus> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('ftpkit_schema_migrations')::text AS t");
  if (!exists[0]?.t) return { applied: [], pending: [...migrations], unknown: [] };
  return statusOn(db, migrations);
}

/** Apply what is pending, all or nothing, under the advisory lock. Returns the migrations applied now. */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<Migration[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await ensureTable(tx);
    const { pending } = await statusOn(tx, migrations);
    for (const m of pending) {
      await tx.query(m.sql);
      await tx.query('INSERT INTO ftpkit_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    return pending;
  });
}

/** For a node at start-up: refuse a database that is not migrated to exactly what this ftpkit ships. */
export async function requireCurrentSchema(db: Database): Promise<void> {
  const s = await migrationStatus(db);
  if (s.pending.length > 0) {
    throw new FtpDatabaseError('schema', `database ${db.address} needs migrations ${s.pending.map(m => m.version).join(', ')}: run \`ftpkit db migrate\``);
  }
  if (s.unknown.length > 0) {
    throw new FtpDatabaseError('schema', `database ${db.address} has migrations ${s.unknown.join(', ')} that this ftpkit does not know: upgrade ftpkit`);
  }
}
