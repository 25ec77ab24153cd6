/**
 * Owns DatabaseUserStore: an Authenticator whose users live in PostgreSQL (user-records.ts), read at each
 * login, so `ftpkit user add|passwd|del` on any machine takes effect on every node at the next login,
 * without a reload. It behaves like the configuration file's ConfigUserStore (auth/user-store.ts):
 * - the same hash formats (scrypt, SHA-crypt, bcrypt), verified through the same cache of recently
 *   verified credentials (a changed hash misses it) and the same bound on verifications per address;
 * - an unknown name costs one verification of a dummy scrypt hash, like a wrong password;
 * - a user's tree (root, virtual folders, per-path permissions) is built once per version of their row and
 *   reused, so their sessions share one Storage (and one quota count, quota/usage.ts).
 * When the database cannot be reached the login is refused with FtpLoginRefusedError('unavailable'): the
 * PASS handler answers 421 and closes (no password was judged), and the defender does not score it.
 */
import { FtpDatabaseError, FtpLoginRefusedError } from '../../errors.js';
import { AddressGate } from '../auth/address-gate.js';
import { VerifiedCredentialCache, type CredentialCacheOptions } from '../auth/credential-cache.js';
import { DEFAULT_SCRYPT_PARAMS, dummyPasswordHash } from '../auth/password-hash.js';
import { parseStoredHash, verifyStoredHash, type StoredPasswordHash } from '../auth/stored-hash.js';
import { READ_WRITE, type AuthenticatedUser, type Authenticator, type LoginContext, type PathPermission, type Permissions } from '../auth/types.js';
import { assembleUserTree } from '../auth/user-tree.js';
import { LocalStorage } from '../storage/local.js';
import type { Storage } from '../storage/types.js';
import type { Database } from './database.js';
import { UserRecords, type UserRecord } from './user-records.js';

export interface DatabaseUserStoreOptions {
  credentialCache?: VerifiedCredentialCache | CredentialCacheOptions;
  /** Full verifications one client address may have running (auth/address-gate.ts). Default 1. */
  verificationsPerAddress?: number;
  /** The Storage of a root or folder path. Default: a LocalStorage confined to that host folder. */
  storageFor?: (root: string) => Storage;
  /** Names whose answer knowsUser() remembers (for the defender), at most. Default 10000. */
  maxRemembered?: number;
}

interface Built {
  /** The row as JSON: a changed row builds a new tree. */
  signature: string;
  hash: StoredPasswordHash;
  storage: Storage;
  pathPermissions?: readonly PathPermission[];
  permissions: Readonly<Permissions>;
}

export class DatabaseUserStore implements Authenticator {
  readonly records: UserRecords;
  readonly credentialCache: VerifiedCredentialCache;
  readonly verifications: AddressGate;
  private readonly dummy: StoredPasswordHash = { format: 'scrypt', scrypt: dummyPasswordHash(DEFAULT_SCRYPT_PARAMS) };
  private readonly built = new Map<string, Built>();
  /** The last answer of the database about each name (bounded): what knowsUser() tells the defender. */
  private readonly known = new Map<string, boolean>();
  private readonly storageFor: (root: string) => Storage;
  private readonly maxRemembered: number;

  constructor(db: Database, options: DatabaseUserStoreOptions = {}) {
    this.records = new UserRecords(db);
    const cache = options.credentialCache;
    this.credentialCache = cache instanceof VerifiedCredentialCache ? cache : new VerifiedCredentialCache(cache);
    this.verifications = new AddressGate(options.verificationsPerAddress);
    this.storageFor = options.storageFor ?? ((root) => new LocalStorage(root));
    this.maxRemembered = options.maxRemembered ?? 10_000;
  }

  /** Known to the database at its last answer; undefined when this node has not asked about the name. */
  knowsUser(name: string): boolean | undefined {
    return this.known.get(name);
  }

  async authenticate(username: string, password: string, context: LoginContext): Promise<AuthenticatedUser | null> {
    let record: UserRecord | undefined;
    try {
      record = await this.records.get(username);
    } catch (err) {
      if (err instanceof FtpDatabaseError) throw new FtpLoginRefusedError('unavailable', `user database unavailable: ${err.message}`);
      throw err;
    }
    this.remember(username, record !== undefined);
    const built = record ? this.build(record) : undefined;
    const ok = await this.credentialCache.verify(username, record?.passwordHash ?? '', password,
      () => this.verifications.run(context.remoteAddress, () => verifyStoredHash(password, built?.hash ?? this.dummy)));
    if (!record || !built || !ok) return null;
    const user: AuthenticatedUser = { name: record.name, storage: built.storage, permissions: { ...built.permissions }, home: record.home };
    if (built.pathPermissions) user.pathPermissions = built.pathPermissions;
    if (record.uploadMode) user.uploadMode = record.uploadMode;
    if (record.quotaBytes !== undefined || record.quotaFiles !== undefined) {
      user.quota = { ...(record.quotaBytes !== undefined ? { bytes: record.quotaBytes } : {}), ...(record.quotaFiles !== undefined ? { files: record.quotaFiles } : {}) };
    }
    if (record.maxUploadBytes !== undefined) user.maxUploadBytes = record.maxUploadBytes;
    return user;
  }

  /** The user's tree for this version of their row (built once, then shared by their sessions). */
  private build(record: UserRecord): Built | undefined {
    const { passwordHash: _ignored, ...shape } = record;
    const signature = JSON.stringify(shape);
    const cached = this.built.get(record.name);
    const hash = parseStoredHash(record.passwordHash);
    // A row with a hash we cannot read (written by hand) is a user nobody can log in as.
    if (typeof hash === 'string') return undefined;
    if (cached && cached.signature === signature) return { ...cached, hash };
    const permissions = Object.freeze({ ...(record.permissions ?? READ_WRITE) });
    const tree = assembleUserTree({
      storage: this.storageFor(record.root),
      folders: record.folders?.map(f => ({ path: f.path, storage: this.storageFor(f.root), ...(f.permissions ? { permissions: f.permissions } : {}) })),
      paths: record.paths,
    }, `user ${record.name}`);
    const built: Built = { signature, hash, storage: tree.storage, permissions, ...(tree.pathPermissions ? { pathPermissions: tree.pathPermissions } : {}) };
    this.built.delete(record.name);
    this.built.set(record.name, built);
    while (this.built.size > this.maxRemembered) this.built.delete(this.built.keys().next().value!);
    return built;
  }

  /**
   * The storages the start-up sweep of temporary uploads walks for the database's users (start-up.ts), as
   * for configured users (config/to-options.ts uploadRoots): each root and mounted folder of a user who may
   * write or append somewhere; none for a user who is read-only everywhere. One storage per distinct root.
   */
  async uploadStorages(): Promise<Storage[]> {
    const roots = new Set<string>();
    for (const record of await this.records.list()) {
      const own = record.permissions ?? READ_WRITE;
      const sets = [own, ...(record.folders ?? []).map((f) => f.permissions ?? own), ...Object.values(record.paths ?? {})];
      if (!sets.some((p) => p.write || p.append)) continue;
      roots.add(record.root);
      for (const f of record.folders ?? []) roots.add(f.root);
    }
    return [...roots].map((root) => this.storageFor(root));
  }

  private remember(name: string, exists: boolean): void {
    this.known.delete(name);
    this.known.set(name, exists);
    while (this.known.size > this.maxRemembered) this.known.delete(this.known.keys().next().value!);
  }
}
