/**
 * Owns the `database:` settings (docs/configuration.md#database) and turning them into node-postgres pool
 * settings: a `url` (postgres://user:password@host:port/name) or host/port/user/database, the password
 * given, or read from an environment variable (so it stays out of the file), and the pool's bounds.
 */
import { FtpConfigError } from '../../errors.js';

export interface DatabaseOptions {
  /** postgres://user:password@host:port/database[?sslmode=...]; the other keys override its parts. */
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  /** The name of an environment variable holding the password (read when the pool is made). */
  passwordEnv?: string;
  database?: string;
  /** Connections kept at most per node. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection (connect, or a free pooled one) before a query fails. Default 5 s. */
  connectTimeoutMs?: number;
  /** How long a query may run. Default 10 s. */
  queryTimeoutMs?: number;
  /**
   * How often each node reads the bans in force from the database, for the check at connect (the check
   * at PASS always asks the database). Default 1 s: a ban made on another node refuses a new connection
   * here at most this much later (docs/server.md#users-bans-and-quotas-in-postgresql).
   */
  banRefreshMs?: number;
  /**
   * Quota bytes a node reserves from the database at a time for its running uploads of one user. Default
   * 8 MiB, at least 1 MiB (uploads are charged in chunks of up to 1 MiB). Larger: fewer round trips and
   * more room for a slow database; the quota may then be passed by up to this much per node (shared-quota.ts).
   */
  quotaReserveBytes?: number;
}

/** What node-postgres's Pool is given (pg.PoolConfig, the keys we set). */
export interface PoolSettings {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  max: number;
  connectionTimeoutMillis: number;
  query_timeout: number;
  idleTimeoutMillis: number;
  application_name: string;
}

export const DEFAULT_BAN_REFRESH_MS = 1000;
export const DEFAULT_QUOTA_RESERVE_BYTES = 8 * 1024 * 1024;

/** Throws FtpConfigError naming `database.<key>`. `env` is process.env unless a test gives its own. */
export function poolSettings(o: DatabaseOptions, env: NodeJS.ProcessEnv = process.env): PoolSettings {
  if (!o.url && !o.host && !o.database) throw new FtpConfigError('database', 'give database.url, or database.host and database.database');
  if (o.url !== undefined && !/^postgres(ql)?:\/\//.test(o.url)) throw new FtpConfigError('database.url', 'expected postgres://user:password@host:port/database');
  let password = o.password;
  if (o.passwordEnv !== undefined) {
    password = env[o.passwordEnv];
    if (password === undefined) throw new FtpConfigError('database.passwordEnv', `the environment variable ${o.passwordEnv} is not set`);
  }
  const max = o.poolSize ?? 10;
  if (!Number.isInteger(max) || max < 1) throw new FtpConfigError('database.poolSize', 'must be an integer >= 1');
  return {
    ...(o.url !== undefined ? { connectionString: o.url } : {}),
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(o.database !== undefined ? { database: o.database } : {}),
    max,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    query_timeout: o.queryTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'ftpkit',
  };
}

/** The address for messages, never the password. */
export function describeDatabase(o: DatabaseOptions): string {
  if (o.url) {
    try {
      const u = new URL(o.url);
      return `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return 'the configured database';
    }
  }
  return `${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`;
}
