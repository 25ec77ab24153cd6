/**
 * Users behind an interface: the server asks an Authenticator, which returns the user's view of storage
 * and what the user may do. Anonymous access, a config file with hashed passwords, and later PostgreSQL
 * are implementations of this interface.
 */
import type { Storage, UploadMode } from '../storage/types.js';

export interface Permissions {
  list: boolean;
  read: boolean;
  write: boolean;    // STOR/STOU (create or overwrite)
  append: boolean;   // APPE, and REST + STOR (resume)
  delete: boolean;   // DELE
  rename: boolean;   // RNFR/RNTO
  mkdir: boolean;    // MKD
  rmdir: boolean;    // RMD
  chmod: boolean;    // SITE CHMOD, MFMT
}

export type Permission = keyof Permissions;

export const READ_ONLY: Readonly<Permissions> = Object.freeze({
  list: true, read: true, write: false, append: false, delete: false, rename: false, mkdir: false, rmdir: false, chmod: false,
});
export const READ_WRITE: Readonly<Permissions> = Object.freeze({
  list: true, read: true, write: true, append: true, delete: true, rename: true, mkdir: true, rmdir: true, chmod: true,
});

export interface AuthenticatedUser {
  name: string;
  /** The user's view of storage; paths are virtual and "/" is the user's root (it can never be widened). */
  storage: Storage;
  permissions: Permissions;
  /** Initial working directory (virtual), default "/". */
  home?: string;
  /** An anonymous login (RFC 1635); transfer events and the xferlog say so. */
  anonymous?: boolean;
  /** This user's upload mode (docs/server.md#uploads-atomic-resumable-or-direct); default: the server's uploads.mode. */
  uploadMode?: UploadMode;
  /**
   * Permission sets that replace `permissions` at and below a virtual path (path-permissions.ts): the
   * longest matching path wins. Absent: `permissions` applies everywhere.
   */
  pathPermissions?: readonly PathPermission[];
  /** What the user may store in all (server/quota/): shared by all their sessions. Default: no quota. */
  quota?: QuotaLimits;
  /** Largest single upload in bytes; overrides the server's limits.maxUploadBytes. */
  maxUploadBytes?: number;
}

/** One per-path rule: at `path` (absolute, normalized) and below it, `permissions` apply. */
export interface PathPermission {
  path: string;
  permissions: Readonly<Permissions>;
}

/** A per-user quota (RFC 959 s4.2: 552 "exceeded storage allocation" past it); an unset limit is none. */
export interface QuotaLimits {
  /** Bytes of regular files under the user's root. */
  bytes?: number;
  /** Regular files under the user's root (folders and links do not count). */
  files?: number;
}

export interface LoginContext {
  remoteAddress: string;
  /** Whether the control connection is protected by TLS (FTPS issue). */
  secure: boolean;
}

export interface Authenticator {
  /**
   * Called after PASS. Returns the user, or null for a wrong name or password (the server answers 530
   * after a delay either way, so names cannot be probed). Anonymous logins ("anonymous"/"ftp", any
   * password, RFC 1635) are an authenticator like any other.
   */
  authenticate(username: string, password: string, context: LoginContext): Promise<AuthenticatedUser | null>;
  /**
   * Optional: whether a name is one this authenticator knows. Only the defender asks it, after a failed
   * login, to score an unknown name higher than a wrong password (security/defender-events.ts); clients
   * never see the answer. Without it every failure counts as a wrong password.
   */
  knowsUser?(username: string): boolean | undefined;
}
