/**
 * Owns the `database:` section of the server configuration (docs/configuration.md#database): where the
 * PostgreSQL database of users, bans and quota usage is. Validated with zod like every section (strict:
 * a misspelt key is an error); `toDatabaseOptions` maps it to DatabaseOptions (options.ts).
 */
import { z } from 'zod';
import type { DatabaseOptions } from './options.js';

const duration = z
  .union([z.number().nonnegative(), z.string().regex(/^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$/)], {
    error: 'expected a duration: seconds as a number, or a string like "250ms", "30s", "5m"',
  })
  .transform((value) => {
    if (typeof value === 'number') return Math.round(value * 1000);
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value)!;
    return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']);
  });

export const databaseConfigSchema = z.strictObject({
  /** postgres://user:password@host:port/database (a password in it is better given by passwordEnv). */
  url: z.string().regex(/^postgres(ql)?:\/\//, { error: 'expected postgres://user:password@host:port/database' }).optional(),
  host: z.string().min(1).optional(),
  port: z.int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  /** The environment variable holding the password, e.g. FTPKIT_DB_PASSWORD. */
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }).optional(),
  database: z.string().min(1).optional(),
  poolSize: z.int().min(1).max(1000).optional(),
  connectTimeout: duration.optional(),
  queryTimeout: duration.optional(),
  /** How often each node reads the bans in force (the accept-time check). Default 1s. */
  banRefresh: duration.refine((ms) => ms >= 100, { error: 'must be at least 100ms' }).optional(),
  /** Quota bytes a node reserves at a time for a user's uploads (bytes; at least 1 MiB, one network chunk). Default 8 MiB. */
  quotaReserveBytes: z.int().min(1024 * 1024, { error: 'must be at least 1 MiB (1048576): an upload is charged in chunks of up to 1 MiB' }).optional(),
  /** Who wins when a name is both in `users:` and in the database. Default "config". */
  precedence: z.enum(['config', 'database']).optional(),
}).refine((d) => d.url !== undefined || d.host !== undefined || d.database !== undefined, {
  error: 'give url, or host and database',
});

export type DatabaseConfig = z.output<typeof databaseConfigSchema>;

export function toDatabaseOptions(d: DatabaseConfig): DatabaseOptions {
  const o: DatabaseOptions = {};
  if (d.url !== undefined) o.url = d.url;
  if (d.host !== undefined) o.host = d.host;
  if (d.port !== undefined) o.port = d.port;
  if (d.user !== undefined) o.user = d.user;
  if (d.password !== undefined) o.password = d.password;
  if (d.passwordEnv !== undefined) o.passwordEnv = d.passwordEnv;
  if (d.database !== undefined) o.database = d.database;
  if (d.poolSize !== undefined) o.poolSize = d.poolSize;
  if (d.connectTimeout !== undefined) o.connectTimeoutMs = d.connectTimeout;
  if (d.queryTimeout !== undefined) o.queryTimeoutMs = d.queryTimeout;
  if (d.banRefresh !== undefined) o.banRefreshMs = d.banRefresh;
  if (d.quotaReserveBytes !== undefined) o.quotaReserveBytes = d.quotaReserveBytes;
  return o;
}
