/**
 * Owns the options of the admin listener (the status page, /metrics, /health, the JSON API and actions) and
 * the one rule checked before it binds: an address other than loopback needs authentication
 * (docs/server.md#admin-page). The `admin:` section of the configuration file maps onto these (config.ts).
 */
import { isIP } from 'node:net';
import { FtpConfigError } from '../../errors.js';
import { addressScope } from '../../protocol/address-class.js';
import { parseStoredHash, type StoredPasswordHash } from '../auth/stored-hash.js';

export interface AdminUser {
  name: string;
  /** A stored hash as FTP users have (`ftpkit hash-password`: scrypt; SHA-crypt and bcrypt accepted). */
  password: string;
}

export interface AdminOptions {
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 8021. */
  port?: number;
  /** A bearer token (`Authorization: Bearer TOKEN`), compared in constant time. At least 16 characters. */
  token?: string;
  /** Operators who log in with a name and password (`Authorization: Basic`). */
  users?: AdminUser[];
  /** HTTPS: PEM certificate (and chain) and key, as given to FTPS (tls.cert, tls.key). */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface ResolvedAdminOptions {
  host: string;
  port: number;
  token: string | undefined;
  users: Map<string, StoredPasswordHash>;
  tls: { cert: string | Buffer; key: string | Buffer } | undefined;
}

export const DEFAULT_ADMIN_PORT = 8021;
export const MIN_TOKEN_LENGTH = 16;

/** The host names that are loopback without asking a resolver. */
const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost']);

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (LOOPBACK_NAMES.has(bare.toLowerCase())) return true;
  return isIP(bare) !== 0 && addressScope(bare) === 'loopback';
}

/** Validate and fill defaults. Throws FtpConfigError naming the admin.* key. */
export function resolveAdminOptions(options: AdminOptions): ResolvedAdminOptions {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_ADMIN_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FtpConfigError('admin.port', `expected a port number 0-65535, got ${port}`);
  const token = options.token;
  if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
    throw new FtpConfigError('admin.token', `must be at least ${MIN_TOKEN_LENGTH} characters without spaces (e.g. \`openssl rand -hex 24\`)`);
  }
  const users = new Map<string, StoredPasswordHash>();
  (options.users ?? []).forEach((u, i) => {
    const hash = parseStoredHash(u.password);
    if (typeof hash === 'string') throw new FtpConfigError(`admin.users.${i}.password`, `user "${u.name}": ${hash}`);
    if (users.has(u.name)) throw new FtpConfigError(`admin.users.${i}.name`, `duplicate user "${u.name}"`);
    users.set(u.name, hash);
  });
  // Anyone who can reach a non-loopback listener could disconnect sessions and ban addresses.
  if (token === undefined && users.size === 0 && !isLoopbackHost(host)) {
    throw new FtpConfigError('admin.host', `${host} is not a loopback address: set admin.token (or admin.users) first, or listen on 127.0.0.1`);
  }
  return { host, port, token, users, tls: options.tls };
}
