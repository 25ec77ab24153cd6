/**
 * Owns per-path permissions: a user's permission set may be replaced below a virtual path ("/pub"
 * read-only, "/incoming" write-only), as proftpd's <Directory>/<Limit> and SFTPGo's per-directory
 * permissions do. The longest matching prefix wins; elsewhere the user's own set applies. The command
 * table's permission gate asks permissionsAt() with the command's resolved path (command-table.ts).
 */
import { FtpConfigError } from '../../errors.js';
import { isWithin, normalizePath } from '../../protocol/paths.js';
import type { AuthenticatedUser, PathPermission, Permissions } from './types.js';

/** The permissions that apply at a virtual path: the rule with the longest prefix containing it, or the user's. */
export function permissionsAt(user: Pick<AuthenticatedUser, 'permissions' | 'pathPermissions'>, path: string): Readonly<Permissions> {
  const rules = user.pathPermissions;
  if (!rules || rules.length === 0) return user.permissions;
  let best: PathPermission | undefined;
  for (const rule of rules) {
    if (isWithin(rule.path, path) && (!best || rule.path.length > best.path.length)) best = rule;
  }
  return best ? best.permissions : user.permissions;
}

/**
 * A configured virtual path checked: absolute and already normalized ("/pub", not "pub", "/pub/" or
 * "/a/../pub"), so what the operator wrote is exactly what is matched. Throws FtpConfigError naming `key`.
 */
export function checkVirtualPath(path: string, key: string, allowRoot: boolean): string {
  let normal: string | undefined;
  try {
    normal = normalizePath(path);
  } catch {
    normal = undefined;
  }
  if (!path.startsWith('/') || normal !== path) {
    throw new FtpConfigError(key, `"${path}" must be an absolute virtual path without "..", "." or a trailing "/", e.g. "/pub"`);
  }
  if (!allowRoot && path === '/') throw new FtpConfigError(key, 'must not be "/" (the user\'s root is `root`)');
  return path;
}
