/**
 * Owns anonymous access (RFC 1635): the names "anonymous" and "ftp" (any case) with any password (by
 * custom an e-mail address, never checked and never logged by us), confined to their own root.
 * Read-only unless configured writable.
 */
import { LocalStorage } from '../storage/local.js';
import type { Storage } from '../storage/types.js';
import {
  READ_ONLY, READ_WRITE, type AuthenticatedUser, type Authenticator, type LoginContext, type PathPermission, type Permissions, type QuotaLimits,
} from './types.js';
import { assembleUserTree, type VirtualFolder } from './user-tree.js';
import { byteSizeOption, quotaOption, type ByteSize, type QuotaSpec } from '../quota/size.js';

export const ANONYMOUS_NAMES: readonly string[] = Object.freeze(['anonymous', 'ftp']);

export interface AnonymousOptions {
  /** Host folder served to anonymous users (a LocalStorage is made for it). */
  root?: string;
  /** Or any Storage (in-memory for tests and embedding). One of root/storage is required. */
  storage?: Storage;
  /** Shorthand: true gives the read-write set (like `pyftpdlib -w`). Default false: read-only. */
  write?: boolean;
  /** Exact permissions; overrides `write`. */
  permissions?: Permissions;
  /** Initial working directory (virtual). Default "/". */
  home?: string;
  /**
   * Other folders mounted into the anonymous tree (user-tree.ts). The classic drop box: a read-only
   * "/pub" and a write-only "/incoming" ({ path: '/incoming', root: ..., permissions: ['write'] }).
   */
  folders?: readonly VirtualFolder[];
  /** Permissions per virtual path prefix, replacing `permissions` below it (longest prefix wins). */
  paths?: Readonly<Record<string, Permissions>>;
  /** What anonymous users may store in all, together (server/quota/); meaningful when they may write. */
  quota?: QuotaSpec;
  /** Largest single anonymous upload, overriding the server's limits.maxUploadBytes. */
  maxUploadBytes?: ByteSize;
}

export function isAnonymousName(name: string): boolean {
  return ANONYMOUS_NAMES.includes(name.toLowerCase());
}

export class AnonymousAuthenticator implements Authenticator {
  readonly storage: Storage;
  readonly permissions: Readonly<Permissions>;
  private readonly home: string;
  private readonly pathPermissions: readonly PathPermission[] | undefined;
  private readonly quota: QuotaLimits | undefined;
  private readonly maxUploadBytes: number | undefined;

  /** Throws FtpConfigError (key "anonymous...") for a bad folder or paths entry. */
  constructor(options: AnonymousOptions) {
    let base: Storage;
    if (options.storage) base = options.storage;
    else if (options.root !== undefined) base = new LocalStorage(options.root);
    else throw new TypeError('AnonymousAuthenticator needs a root folder or a storage');
    const tree = assembleUserTree({ storage: base, folders: options.folders, paths: options.paths }, 'anonymous');
    this.storage = tree.storage;
    this.pathPermissions = tree.pathPermissions;
    this.permissions = Object.freeze({ ...(options.permissions ?? (options.write ? READ_WRITE : READ_ONLY)) });
    this.home = options.home ?? '/';
    this.quota = quotaOption(options.quota, 'anonymous.quota');
    this.maxUploadBytes = byteSizeOption(options.maxUploadBytes, 'anonymous.maxUploadBytes');
  }

  knowsUser(username: string): boolean {
    return isAnonymousName(username);
  }

  async authenticate(username: string, _password: string, _context: LoginContext): Promise<AuthenticatedUser | null> {
    if (!isAnonymousName(username)) return null;
    const user: AuthenticatedUser = { name: 'anonymous', storage: this.storage, permissions: { ...this.permissions }, home: this.home, anonymous: true };
    if (this.pathPermissions) user.pathPermissions = this.pathPermissions;
    if (this.quota) user.quota = { ...this.quota };
    if (this.maxUploadBytes !== undefined) user.maxUploadBytes = this.maxUploadBytes;
    return user;
  }
}
