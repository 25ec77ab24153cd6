/** Public API of `ftpkit/server`. */
export type * from './options.js';
export type * from './auth/types.js';
export { READ_ONLY, READ_WRITE } from './auth/types.js';
export type * from './storage/types.js';
export { canChmod, canReportSpace, canSetModifiedTime } from './storage/types.js';
export type * from './events.js';
export { FtpServer } from './ftp-server.js';
export type { FtpServerExtensions, CloseOptions } from './ftp-server.js';
export { MemoryStorage } from './storage/memory.js';
export type { MemoryStorageOptions } from './storage/memory.js';
export { Session } from './session.js';
export type { ConnectionInfo } from './session.js';
export type { CommandModule, CommandSpec, Gate, HandlerResult, Outcome, TransferRequest } from './command-table.js';
export { defaultPassiveAddressResolver } from './data/passive-address.js';
export type { PassiveAddressResolver, PassiveAddressContext, PassiveAdvertisement } from './data/passive-address.js';
export * from '../errors.js';
// Operations: local storage, users, configuration file, JSON-lines log (server operations part).
export { LocalStorage } from './storage/local.js';
export type { LocalStorageOptions } from './storage/local.js';
export {
  AnonymousAuthenticator, ConfigUserStore, CompositeAuthenticator, hashPassword, verifyPassword, parsePasswordHash,
  resolvePermissions, parsePermissionText, PERMISSION_NAMES, DEFAULT_SCRYPT_PARAMS,
} from './auth/index.js';
export type { AnonymousOptions, UserAccount, PermissionSpec, ScryptParams } from './auth/index.js';
export { loadConfigFile, validateConfig, planServe, mergeConfig, checkRoots } from './config/index.js';
export type { ServeConfig, ServeConfigInput, ServePlan } from './config/index.js';
export { JsonLogger, openLogFile } from './log/index.js';
export type { JsonLoggerOptions, LogLevel } from './log/index.js';
