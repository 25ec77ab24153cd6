/**
 * Owns the `database:` part of `ftpkit serve` (docs/server.md#users-bans-and-quotas-in-postgresql): the
 * pool and the shared services of src/server/db/ opened before the server is made, the configured
 * authenticator combined with the database's users (precedence.ts), and the pool closed after the
 * server. The database section itself is read at start only; a reload keeps the pool.
 */
import type { Authenticator } from '../server/auth/types.js';
import type { ServeConfig } from '../server/config/schema.js';
import { isS3Root, type S3Roots } from '../server/config/s3-roots.js';
import { toDatabaseOptions } from '../server/db/config-schema.js';
import { nodeServices, type NodeServices } from '../server/db/index.js';
import { PrecedenceAuthenticator } from '../server/db/precedence.js';
import { LocalStorage } from '../server/storage/local.js';
import type { Storage } from '../server/storage/types.js';

export interface ServeDatabase {
  services: NodeServices;
  /** The configured authenticator with the database's users beside it, in the configured order. */
  combine(configured: Authenticator): Authenticator;
  /** The database users' folders for the start-up sweep of temporary uploads (ftp-server.ts listen()). */
  uploadStorages(): Promise<Storage[]>;
  /** For the banner. */
  description: string;
}

/**
 * `s3Roots` is the plan's one set of S3 storages (config/s3-roots.ts): a database user whose root or folder
 * is `s3://bucket/prefix/` gets the storage of that root on the process's one S3 client, like a configured
 * user (docs/scale-out.md). Any other root is a host folder on this node.
 */
export async function openServeDatabase(config: ServeConfig, s3Roots?: S3Roots): Promise<ServeDatabase | undefined> {
  if (!config.database) return undefined;
  const services = await nodeServices(toDatabaseOptions(config.database), {
    credentialCache: { ttlMs: config.credentialCache?.ttl, maxEntries: config.credentialCache?.maxEntries },
    verificationsPerAddress: config.defender?.verificationsPerAddress,
    ...(s3Roots ? { storageFor: (root: string) => (isS3Root(root) ? s3Roots.storageFor(root, 'database user root') : new LocalStorage(root)) } : {}),
  });
  const databaseFirst = config.database.precedence === 'database';
  return {
    services,
    combine: (configured) => databaseFirst
      ? new PrecedenceAuthenticator(services.users, configured)
      : new PrecedenceAuthenticator(configured, services.users, true),
    uploadStorages: () => services.users.uploadStorages(),
    description: `  users, bans and quota usage also in PostgreSQL at ${services.db.address} (${databaseFirst ? 'database' : 'configuration'} wins on a name in both)`,
  };
}
