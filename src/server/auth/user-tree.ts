/**
 * Owns assembling a user's tree from configuration: the root folder (or Storage) as "/", virtual folders
 * mounted at virtual paths (storage/mounted.ts), and the per-path permission rules (path-permissions.ts)
 * that folders and `paths` entries give. Both ConfigUserStore and AnonymousAuthenticator use it, once per
 * account, so a login only copies references.
 */
import { FtpConfigError } from '../../errors.js';
import { LocalStorage } from '../storage/local.js';
import { MountedStorage } from '../storage/mounted.js';
import type { Storage } from '../storage/types.js';
import { checkVirtualPath } from './path-permissions.js';
import type { PathPermission, Permissions } from './types.js';

export interface VirtualFolder {
  /** Where the folder appears in the user's tree, e.g. "/pub" (absolute; not "/"). */
  path: string;
  /** Host folder mounted there (a LocalStorage confined to it is made once). */
  root?: string;
  /** Or any Storage. One of root/storage is required. */
  storage?: Storage;
  /** What the user may do in it; default: the user's own permissions. */
  permissions?: Permissions;
}

export interface UserTreeSpec {
  /** The storage that is "/". */
  storage: Storage;
  folders?: readonly VirtualFolder[];
  /** Permissions per virtual path prefix, e.g. { "/pub": READ_ONLY }. */
  paths?: Readonly<Record<string, Permissions>>;
}

export interface UserTree {
  storage: Storage;
  /** Absent when no rule was given (the user's permissions apply everywhere, at no cost). */
  pathPermissions?: readonly PathPermission[];
}

/** Build the storage and rules of one account. `key` prefixes configuration keys in errors ("users.0"). */
export function assembleUserTree(spec: UserTreeSpec, key: string): UserTree {
  const rules = new Map<string, PathPermission>();
  const addRule = (path: string, permissions: Permissions, ruleKey: string) => {
    if (rules.has(path)) throw new FtpConfigError(ruleKey, `permissions for ${path} are given twice (a folder's and a paths entry)`);
    rules.set(path, { path, permissions: Object.freeze({ ...permissions }) });
  };
  const mounts = (spec.folders ?? []).map((folder, i) => {
    const k = `${key}.folders.${i}`;
    const path = checkVirtualPath(folder.path, `${k}.path`, false);
    let storage: Storage;
    if (folder.storage) storage = folder.storage;
    else if (folder.root !== undefined) storage = new LocalStorage(folder.root);
    else throw new FtpConfigError(`${k}.root`, `required: the folder mounted at ${path}`);
    if (folder.permissions) addRule(path, folder.permissions, `${k}.permissions`);
    return { path, storage };
  });
  const seen = new Set<string>();
  mounts.forEach((m, i) => {
    if (seen.has(m.path)) throw new FtpConfigError(`${key}.folders.${i}.path`, `${m.path} is mounted twice`);
    seen.add(m.path);
  });
  for (const [path, permissions] of Object.entries(spec.paths ?? {})) {
    addRule(checkVirtualPath(path, `${key}.paths.${path}`, true), permissions, `${key}.paths.${path}`);
  }
  return {
    storage: mounts.length > 0 ? new MountedStorage(spec.storage, mounts) : spec.storage,
    ...(rules.size > 0 ? { pathPermissions: Object.freeze([...rules.values()]) } : {}),
  };
}
