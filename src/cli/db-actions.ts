/**
 * What `ftpkit db ...` and `ftpkit user ...` do (declared in db-command.ts): open the database named on
 * the command line, act, close it. Errors are FtpDatabaseError / FtpUsageError / FtpConfigError, which
 * runCli turns into the exit codes of exit-codes.ts (7 the user exists, 8 no such user, 5 unreachable).
 */
import { FtpDatabaseError, FtpUsageError } from '../errors.js';
import { hashPassword } from '../server/auth/password-hash.js';
import { describePermissions, parsePermissionText } from '../server/auth/permissions.js';
import { loadConfigFile } from '../server/config/load.js';
import { toDatabaseOptions } from '../server/db/config-schema.js';
import { Database } from '../server/db/database.js';
import { migrate, migrationStatus } from '../server/db/migrations.js';
import { UserRecords, type StoredFolder, type UserRecord } from '../server/db/user-records.js';
import { formatByteSize, parseByteSize } from '../server/quota/size.js';
import { readNewPassword } from './hash-password.js';

export interface DatabaseFlags {
  url?: string;
  config?: string;
}

export interface UserAddFlags extends DatabaseFlags {
  root: string;
  home?: string;
  permissions?: string;
  folder?: string[];
  quotaBytes?: string;
  quotaFiles?: number;
  maxUpload?: string;
  passwordHash?: string;
  passwordStdin?: boolean;
}

async function openDatabase(flags: DatabaseFlags): Promise<Database> {
  const url = flags.url ?? process.env.FTPKIT_DATABASE_URL;
  if (url) return new Database({ url, connectTimeoutMs: 10_000 });
  if (flags.config) {
    const config = await loadConfigFile(flags.config);
    if (!config.database) throw new FtpUsageError(`${flags.config} has no database section`);
    return new Database(toDatabaseOptions(config.database));
  }
  throw new FtpUsageError('which database? give --url postgres://..., set FTPKIT_DATABASE_URL, or --config FILE with a database section');
}

async function withDatabase<T>(flags: DatabaseFlags, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(flags);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

export function dbMigrate(flags: DatabaseFlags): Promise<void> {
  return withDatabase(flags, async (db) => {
    const applied = await migrate(db);
    process.stdout.write(applied.length === 0
      ? `database ${db.address}: schema up to date\n`
      : applied.map(m => `applied ${m.version} ${m.name}\n`).join(''));
  });
}

export function dbStatus(flags: DatabaseFlags): Promise<void> {
  return withDatabase(flags, async (db) => {
    const s = await migrationStatus(db);
    const lines = [
      ...s.applied.map(a => `applied  ${a.version} ${a.name} (${a.appliedAt.toISOString()})`),
      ...s.pending.map(m => `pending  ${m.version} ${m.name}`),
      ...s.unknown.map(v => `unknown  ${v} (applied by a newer ftpkit)`),
    ];
    process.stdout.write(`${lines.join('\n')}${lines.length ? '\n' : ''}`);
    if (s.pending.length > 0) {
      process.stderr.write('ftpkit: migrations are pending: run `ftpkit db migrate`\n');
      process.exitCode = 1;
    }
  });
}

function size(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseByteSize(text);
  if (typeof bytes !== 'number') throw new FtpUsageError(`${flag}: ${bytes.error}`);
  return bytes;
}

/** "/pub=/srv/pub" or "/pub=/srv/pub:read-only". */
function parseFolder(text: string): StoredFolder {
  const m = /^(\/[^=]*)=(.+?)(?::([a-z,-]+))?$/.exec(text);
  if (!m) throw new FtpUsageError(`--folder expects /virtual/path=/host/dir[:permissions], got ${JSON.stringify(text)}`);
  return { path: m[1]!, root: m[2]!, ...(m[3] ? { permissions: parsePermissionText(m[3]) } : {}) };
}

async function newHash(flags: { passwordHash?: string; passwordStdin?: boolean }): Promise<string> {
  if (flags.passwordHash !== undefined) return flags.passwordHash;
  return hashPassword(await readNewPassword(flags.passwordStdin === true));
}

export async function userAdd(name: string, flags: UserAddFlags): Promise<void> {
  const rec: UserRecord = {
    name,
    passwordHash: '',
    root: flags.root,
    home: flags.home ?? '/',
    ...(flags.permissions !== undefined ? { permissions: parsePermissionText(flags.permissions) } : {}),
    ...(flags.folder?.length ? { folders: flags.folder.map(parseFolder) } : {}),
  };
  const quotaBytes = size('--quota-bytes', flags.quotaBytes);
  if (quotaBytes !== undefined) rec.quotaBytes = quotaBytes;
  if (flags.quotaFiles !== undefined) rec.quotaFiles = flags.quotaFiles;
  const maxUpload = size('--max-upload', flags.maxUpload);
  if (maxUpload !== undefined) rec.maxUploadBytes = maxUpload;
  // The database is asked first: a bad connection or a taken name fails before a password is asked.
  await withDatabase(flags, async (db) => {
    const users = new UserRecords(db);
    if (await users.get(name)) throw new FtpDatabaseError('exists', `user "${name}" already exists`);
    rec.passwordHash = await newHash(flags);
    await users.add(rec);
    process.stdout.write(`user ${name} added\n`);
  });
}

export function userPasswd(name: string, flags: DatabaseFlags & { passwordHash?: string; passwordStdin?: boolean }): Promise<void> {
  return withDatabase(flags, async (db) => {
    const users = new UserRecords(db);
    if (!(await users.get(name))) throw new FtpDatabaseError('not-found', `no such user "${name}"`);
    await users.setPassword(name, await newHash(flags));
    process.stdout.write(`password of ${name} changed\n`);
  });
}

export function userDel(name: string, flags: DatabaseFlags): Promise<void> {
  return withDatabase(flags, async (db) => {
    await new UserRecords(db).delete(name);
    process.stdout.write(`user ${name} removed\n`);
  });
}

export function userList(flags: DatabaseFlags & { json?: boolean }): Promise<void> {
  return withDatabase(flags, async (db) => {
    for (const u of await new UserRecords(db).list()) {
      const { passwordHash: _hidden, ...shown } = u;
      if (flags.json) { process.stdout.write(`${JSON.stringify(shown)}\n`); continue; }
      const quota = [u.quotaBytes !== undefined ? formatByteSize(u.quotaBytes) : '', u.quotaFiles !== undefined ? `${u.quotaFiles} files` : ''].filter(Boolean).join(', ');
      const perms = u.permissions ? describePermissions(u.permissions) : 'read-write';
      process.stdout.write(`${u.name}\t${u.root}\t${u.home}\t${perms}${quota ? `\tquota ${quota}` : ''}\n`);
    }
  });
}
