/**
 * Owns the `database:` part of `ftpkit serve` (docs/server.md#users-bans-and-quotas-in-postgresql): the
 * pool and the shared services of src/server/db/ opened before the server is made, the configured
 * authenticator combined with the database's users (precedence.ts), and the pool closed after the
 * server. The database section itself is read at start only; a reload keeps the pool.
 */
import type { Authenticator } from '../server/auth/types.js';
import type { ServeConfig } from '../server/config/schema.js';
import { toDatabaseOptions } from '../server/db/config-schema.js';
import { nodeServices, type NodeServices } from '../server/db/index.js';
import { PrecedenceAuthenticator } from '../server/db/precedence.js';

export interface ServeDatabase {
  services: NodeServices;
  /** The configured authenticator with the database's users beside it, in the configured order. */
  combine(configured: Authenticator): Authenticator;
  /** For the banner. */
  description: string;
}

export async function openServeDatabase(config: ServeConfig): Promise<ServeDatabase | undefined> {
  if (!config.database) return undefined;
  const services = await nodeServices(toDatabaseOptions(config.database), {
    credentialCache: { ttlMs: config.credentialCache?.ttl, maxEntries: config.credentialCache?.maxEntries },
    verificationsPerAddress: config.defender?.verificationsPerAddress,
  });
  const databaseFirst = config.database.precedence === 'database';
  return {
    services,
    combine: (configured) => databaseFirst
      ? new PrecedenceAuthenticator(services.users, configured)
      : new PrecedenceAuthenticator(configured, services.users, true),
    description: `  users, bans and quota usage also in PostgreSQL at ${services.db.address} (${databaseFirst ? 'database' : 'configuration'} wins on a name in both)`,
  };
}
