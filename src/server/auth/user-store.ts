/**
 * Owns ConfigUserStore: named users from the configuration file (or the CLI's --user), each with a password
 * hash (scrypt, or a migrated SHA-crypt or bcrypt one: stored-hash.ts), a root folder that becomes the user's "/", an initial directory and a permission set.
 *
 * Timing: a known name with a wrong password and an unknown name both cost exactly one verification of
 * the same format and cost (a dummy hash like most users' stands in for the missing user) and are compared in constant time, so a
 * name cannot be told from its answer time. The server adds its own delay before 530 on top.
 *
 * A cache of recently verified credentials (credential-cache.ts) lets the next logins of a user with the
 * same password skip the hash; it never changes the answer, only its cost, and what the user may do is
 * always taken from the current account. `update()` replaces the accounts (a configuration reload): a
 * user whose stored hash changed is verified in full again.
 */
import { FtpConfigError } from '../../errors.js';
import { LocalStorage } from '../storage/local.js';
import type { Storage, UploadMode } from '../storage/types.js';
import { DEFAULT_SCRYPT_PARAMS, dummyPasswordHash } from './password-hash.js';
import { costKey, dummyLike, parseStoredHash, verifyStoredHash, type StoredPasswordHash } from './stored-hash.js';
import { VerifiedCredentialCache, type CredentialCacheOptions } from './credential-cache.js';
import { AddressGate } from './address-gate.js';
import { assembleUserTree, type VirtualFolder } from './user-tree.js';
import {
  READ_WRITE, type AuthenticatedUser, type Authenticator, type LoginContext, type PathPermission, type Permissions, type QuotaLimits,
} from './types.js';
import { byteSizeOption, quotaOption, type ByteSize, type QuotaSpec } from '../quota/size.js';

export interface UserAccount {
  name: string;
  /**
   * `$scrypt$ln=..,r=..,p=..$salt$hash` as printed by `ftpkit hash-password`, or a migrated `$6$`/`$5$`
   * SHA-crypt or `$2b$` bcrypt hash (stored-hash.ts).
   */
  passwordHash: string;
  /** Host folder that is this user's "/" (a LocalStorage confined to it is made once). */
  root?: string;
  /** Or any Storage. One of root/storage is required. */
  storage?: Storage;
  /** Initial working directory, virtual (inside the root). Default "/". */
  home?: string;
  /** Default: read-write (a named user owns their folder). */
  permissions?: Permissions;
  /** This user's upload mode (docs/server.md#uploads-atomic-resumable-or-direct); default: the server's. */
  uploadMode?: UploadMode;
  /** Other folders mounted into this user's tree (user-tree.ts), e.g. a read-only "/pub". */
  folders?: readonly VirtualFolder[];
  /** Permissions per virtual path prefix, replacing `permissions` below it (longest prefix wins). */
  paths?: Readonly<Record<string, Permissions>>;
  /** Bytes and files this user may store in all (server/quota/); sizes may have units ("10GiB"). Default: none. */
  quota?: QuotaSpec;
  /** Largest single upload, overriding the server's limits.maxUploadBytes (a number or "500MiB"). */
  maxUploadBytes?: ByteSize;
}

export interface ConfigUserStoreOptions {
  /** The cache of verified credentials, or its options (default: 5 minutes, 1000 users; ttlMs 0 turns it off). */
  credentialCache?: VerifiedCredentialCache | CredentialCacheOptions;
  /**
   * Full password verifications one client address may have in flight or queued at once (address-gate.ts);
   * one more login from it is refused at once (421) without a verification. Default 1; 0: no bound.
   * Logins answered by the credential cache, or joining the same verification, do not count.
   */
  verificationsPerAddress?: number;
}

interface Entry {
  name: string;
  /** The stored hash as configured: what a cached verification must have been made against. */
  encoded: string;
  hash: StoredPasswordHash;
  storage: Storage;
  home: string;
  permissions: Readonly<Permissions>;
  uploadMode?: UploadMode;
  pathPermissions?: readonly PathPermission[];
  quota: QuotaLimits | undefined;
  maxUploadBytes: number | undefined;
}

export class ConfigUserStore implements Authenticator {
  private users = new Map<string, Entry>();
  /** Stand-in for unknown names, with the parameters most users have. */
  private dummy: StoredPasswordHash;
  readonly credentialCache: VerifiedCredentialCache;
  /** Bounds the verifications of each client address (a brute force must not starve other logins). */
  readonly verifications: AddressGate;

  /** Throws FtpConfigError naming `users.N.<key>` for a bad account. */
  constructor(accounts: readonly UserAccount[], options: ConfigUserStoreOptions = {}) {
    const cache = options.credentialCache;
    this.credentialCache = cache instanceof VerifiedCredentialCache ? cache : new VerifiedCredentialCache(cache);
    this.verifications = new AddressGate(options.verificationsPerAddress);
    ({ users: this.users, dummy: this.dummy } = ConfigUserStore.build(accounts));
  }

  /**
   * Replace the accounts (a configuration reload), all or nothing: a bad account throws FtpConfigError and
   * the current ones stay. Cached verifications of users whose stored hash changed, or who are gone, are
   * dropped; sessions already logged in are not touched.
   */
  update(accounts: readonly UserAccount[]): void {
    ({ users: this.users, dummy: this.dummy } = ConfigUserStore.build(accounts));
    this.credentialCache.prune((name) => this.users.get(name)?.encoded);
  }

  private static build(accounts: readonly UserAccount[]): { users: Map<string, Entry>; dummy: StoredPasswordHash } {
    const users = new Map<string, Entry>();
    const costCounts = new Map<string, { like: StoredPasswordHash; count: number }>();
    accounts.forEach((account, i) => {
      const hash = parseStoredHash(account.passwordHash);
      if (typeof hash === 'string') throw new FtpConfigError(`users.${i}.password`, `user "${account.name}": ${hash}`);
      if (!account.name || /[\r\n\0]/.test(account.name)) throw new FtpConfigError(`users.${i}.name`, 'must be a non-empty name without CR, LF or NUL');
      if (users.has(account.name)) throw new FtpConfigError(`users.${i}.name`, `duplicate user "${account.name}"`);
      const home = account.home ?? '/';
      if (!home.startsWith('/')) throw new FtpConfigError(`users.${i}.home`, 'must be an absolute path inside the user\'s root, e.g. "/" or "/incoming"');
      let base: Storage;
      if (account.storage) base = account.storage;
      else if (account.root !== undefined) base = new LocalStorage(account.root);
      else throw new FtpConfigError(`users.${i}.root`, 'required: the folder this user sees as "/"');
      const tree = assembleUserTree({ storage: base, folders: account.folders, paths: account.paths }, `users.${i}`);
      users.set(account.name, {
        name: account.name,
        encoded: account.passwordHash,
        hash,
        storage: tree.storage,
        home,
        permissions: Object.freeze({ ...(account.permissions ?? READ_WRITE) }),
        uploadMode: account.uploadMode,
        pathPermissions: tree.pathPermissions,
        quota: quotaOption(account.quota, `users.${i}.quota`),
        maxUploadBytes: byteSizeOption(account.maxUploadBytes, `users.${i}.maxUploadBytes`),
      });
      const key = costKey(hash);
      const seen = costCounts.get(key) ?? { like: hash, count: 0 };
      seen.count++;
      costCounts.set(key, seen);
    });
    const common = [...costCounts.values()].sort((a, b) => b.count - a.count)[0];
    return { users, dummy: common ? dummyLike(common.like) : { format: 'scrypt', scrypt: dummyPasswordHash(DEFAULT_SCRYPT_PARAMS) } };
  }

  /** Names of the configured users (for banners; never their hashes). */
  get names(): string[] {
    return [...this.users.keys()];
  }

  /** The storage a user is confined to (e.g. to check at start-up that every root exists). */
  storageOf(name: string): Storage | undefined {
    return this.users.get(name)?.storage;
  }

  /** Whether the name is a configured user (the defender scores unknown names higher; never shown to clients). */
  knowsUser(name: string): boolean {
    return this.users.has(name);
  }

  /**
   * Throws FtpLoginRefusedError('busy') when the client's address already has its share of full
   * verifications running (address-gate.ts).
   */
  async authenticate(username: string, password: string, context: LoginContext): Promise<AuthenticatedUser | null> {
    const entry = this.users.get(username);
    // The cache is asked for every name, known or not (a miss costs what a hit costs); only the right
    // password for the current stored hash hits. Otherwise one full verification, against the dummy when
    // the name is unknown, shared with the same login running at the same moment, and within the
    // address's share of verifications.
    const ok = await this.credentialCache.verify(username, entry?.encoded ?? '', password,
      () => this.verifications.run(context.remoteAddress, () => verifyStoredHash(password, entry?.hash ?? this.dummy)));
    if (!entry || !ok) return null;
    return this.userOf(entry);
  }

  /** A fresh copy for one session: one session cannot widen another's permissions. */
  private userOf(entry: Entry): AuthenticatedUser {
    const user: AuthenticatedUser = { name: entry.name, storage: entry.storage, permissions: { ...entry.permissions }, home: entry.home };
    if (entry.uploadMode) user.uploadMode = entry.uploadMode;
    if (entry.pathPermissions) user.pathPermissions = entry.pathPermissions; // frozen: shared safely
    if (entry.quota) user.quota = { ...entry.quota };
    if (entry.maxUploadBytes !== undefined) user.maxUploadBytes = entry.maxUploadBytes;
    return user;
  }
}
