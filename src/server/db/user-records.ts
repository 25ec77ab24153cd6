/**
 * Owns the users table (ftpkit_users): what `ftpkit user add|passwd|del|list` change and what the
 * database authenticator (db-users.ts) reads. A row holds what a `users:` entry of the configuration file
 * holds (src/server/auth/user-store.ts): name, password hash (scrypt, SHA-crypt or bcrypt: stored-hash.ts),
 * root, home, permissions, per-path permissions, virtual folders, quota, largest upload, upload mode.
 */
import { FtpDatabaseError, FtpUsageError } from '../../errors.js';
import { parseStoredHash } from '../auth/stored-hash.js';
import type { Permissions } from '../auth/types.js';
import type { UploadMode } from '../storage/types.js';
import type { Database, Row } from './database.js';

/** A virtual folder as stored (a host folder mounted at a virtual path). */
export interface StoredFolder {
  path: string;
  root: string;
  permissions?: Permissions;
}

export interface UserRecord {
  name: string;
  passwordHash: string;
  root: string;
  home: string;
  /** Absent: read-write (a named user owns their folder), as for configured users. */
  permissions?: Permissions;
  paths?: Record<string, Permissions>;
  folders?: StoredFolder[];
  quotaBytes?: number;
  quotaFiles?: number;
  maxUploadBytes?: number;
  uploadMode?: UploadMode;
}

const COLUMNS = 'name, password_hash, root, home, permissions, paths, folders, quota_bytes, quota_files, max_upload_bytes, upload_mode';

function fromRow(r: Row): UserRecord {
  const rec: UserRecord = { name: r.name as string, passwordHash: r.password_hash as string, root: r.root as string, home: r.home as string };
  if (r.permissions) rec.permissions = r.permissions as Permissions;
  if (r.paths) rec.paths = r.paths as Record<string, Permissions>;
  if (r.folders) rec.folders = r.folders as StoredFolder[];
  // bigint columns come back as strings (node-postgres keeps 64-bit integers exact).
  if (r.quota_bytes !== null && r.quota_bytes !== undefined) rec.quotaBytes = Number(r.quota_bytes);
  if (r.quota_files !== null && r.quota_files !== undefined) rec.quotaFiles = Number(r.quota_files);
  if (r.max_upload_bytes !== null && r.max_upload_bytes !== undefined) rec.maxUploadBytes = Number(r.max_upload_bytes);
  if (r.upload_mode) rec.uploadMode = r.upload_mode as UploadMode;
  return rec;
}

function checkRecord(rec: UserRecord): void {
  if (!rec.name || /[\r\n\0]/.test(rec.name)) throw new FtpUsageError('a user name must be non-empty, without CR, LF or NUL');
  const hash = parseStoredHash(rec.passwordHash);
  if (typeof hash === 'string') throw new FtpUsageError(`user "${rec.name}": ${hash}`);
  if (!rec.root) throw new FtpUsageError(`user "${rec.name}": a root folder is required`);
  if (!rec.home.startsWith('/')) throw new FtpUsageError(`user "${rec.name}": home must be an absolute virtual path like "/" or "/incoming"`);
}

export class UserRecords {
  constructor(private readonly db: Database) {}

  async get(name: string): Promise<UserRecord | undefined> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM ftpkit_users WHERE name = $1`, [name]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM ftpkit_users ORDER BY name`)).map(fromRow);
  }

  /** Throws FtpDatabaseError('exists') when the name is taken. */
  async add(rec: UserRecord): Promise<void> {
    checkRecord(rec);
    const rows = await this.db.query(
      `INSERT INTO ftpkit_users (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (name) DO NOTHING RETURNING name`,
      [rec.name, rec.passwordHash, rec.root, rec.home, json(rec.permissions), json(rec.paths), json(rec.folders),
        rec.quotaBytes ?? null, rec.quotaFiles ?? null, rec.maxUploadBytes ?? null, rec.uploadMode ?? null]);
    if (rows.length === 0) throw new FtpDatabaseError('exists', `user "${rec.name}" already exists`);
  }

  /** Throws FtpDatabaseError('not-found'). */
  async setPassword(name: string, passwordHash: string): Promise<void> {
    const hash = parseStoredHash(passwordHash);
    if (typeof hash === 'string') throw new FtpUsageError(`user "${name}": ${hash}`);
    const rows = await this.db.query('UPDATE ftpkit_users SET password_hash = $2, updated_at = now() WHERE name = $1 RETURNING name', [name, passwordHash]);
    if (rows.length === 0) throw new FtpDatabaseError('not-found', `no such user "${name}"`);
  }

  /** Removes the user and their quota usage. Throws FtpDatabaseError('not-found'). */
  async delete(name: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = await tx.query('DELETE FROM ftpkit_users WHERE name = $1 RETURNING name', [name]);
      if (rows.length === 0) throw new FtpDatabaseError('not-found', `no such user "${name}"`);
      await tx.query('DELETE FROM ftpkit_quota_usage WHERE user_name = $1', [name]);
    });
  }
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
