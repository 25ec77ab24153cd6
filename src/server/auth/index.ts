/** Owns the public surface of the server's user handling (re-exported by `ftpkit/server`). */
export * from './types.js';
export { AnonymousAuthenticator, ANONYMOUS_NAMES, isAnonymousName, type AnonymousOptions } from './anonymous.js';
export { ConfigUserStore, type UserAccount, type ConfigUserStoreOptions } from './user-store.js';
export {
  VerifiedCredentialCache, DEFAULT_CREDENTIAL_CACHE_TTL_MS, DEFAULT_CREDENTIAL_CACHE_ENTRIES, type CredentialCacheOptions,
} from './credential-cache.js';
export { CompositeAuthenticator } from './composite.js';
export { permissionsAt } from './path-permissions.js';
export { assembleUserTree, type VirtualFolder, type UserTreeSpec, type UserTree } from './user-tree.js';
export {
  hashPassword, verifyPassword, parsePasswordHash, DEFAULT_SCRYPT_PARAMS, type ScryptParams, type ParsedPasswordHash,
} from './password-hash.js';
export {
  PERMISSION_NAMES, PERMISSION_PRESETS, resolvePermissions, parsePermissionText, describePermissions,
  type PermissionSpec, type PermissionPreset,
} from './permissions.js';
