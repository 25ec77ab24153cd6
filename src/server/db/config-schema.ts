/**
 * Owns the `database:` section of the server configuration (docs/configuration.md#database): where the
 * PostgreSQL database of users, bans and quota usage is. Validated with zod like every section (strict:
 * a misspelt key is an error); `toDatabaseOptions` maps it to DatabaseOptions (options.ts).
 */
import { z } from 'zod';
import type { DatabaseOptions } from './options.js';

/**
 * The section's schema, given the configuration's duration type (config/schema.ts durationSchema: seconds,
 * or "250ms", "30s", "5m"; output ms), which cannot be imported from here without an import circle.
 */
export function databaseConfigSchema(duration: z.ZodType<number, number | string>) {
  return z.strictObject({
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
}

export type DatabaseConfig = z.output<ReturnType<typeof databaseConfigSchema>>;

export function toDatabaseOptions(d: DatabaseConfig): DatabaseOptions {
  // Durations are ms already (the schema's transform); only their names change. `precedence` is serve's.
  const { connectTimeout, queryTimeout, banRefresh, precedence: _serves, ...same } = d;
  const options: DatabaseOptions = { ...same, connectTimeoutMs: connectTimeout, queryTimeoutMs: queryTimeout, banRefreshMs: banRefresh };
  for (const key of Object.keys(options) as Array<keyof DatabaseOptions>) if (options[key] === undefined) delete options[key];
  return options;
}
