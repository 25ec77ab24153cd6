/** Public API of `ftpkit/server`. */
export type * from './options.js';
export type * from './auth/types.js';
export { READ_ONLY, READ_WRITE } from './auth/types.js';
export type * from './storage/types.js';
export { UPLOAD_MODES, canAppend, canChmod, canReportSpace, canSetModifiedTime, canSweepUploads, canWriteAtOffset } from './storage/types.js';
export type * from './events.js';
export { FtpServer } from './ftp-server.js';
export type { FtpServerExtensions, CloseOptions } from './ftp-server.js';
export { allow, deny, DEFAULT_HOOK_TIMEOUT_MS } from './hooks.js';
export type {
  FtpServerHooks, HookVerdict, HookResult, HookSession, LoginHookContext, UploadHookContext, DeleteHookContext,
  RenameHookContext, MkdirHookContext,
} from './hooks.js';
export { MountedStorage } from './storage/mounted.js';
export type { Mount } from './storage/mounted.js';
export type { ReconfigureResult } from './reconfigure.js';
export { MemoryStorage } from './storage/memory.js';
export { parseByteSize } from './quota/size.js';
export type { ByteSize, QuotaSpec } from './quota/size.js';
export type { UploadLimit } from './transfer.js';
export type { MemoryStorageOptions } from './storage/memory.js';
export type { ConnectionInfo, SessionHandle } from './session/session.js';
export type { SessionInfo, SessionTlsInfo, SessionTransferInfo } from './session/session-info.js';
export type {
  AnyCommandSpec, ArgumentRule, ArgumentSyntax, CommandContext, CommandModule, CommandSpec, ConnectionFacts, ControlSocketSwap,
  Gate, Handler, HandlerEvents, HandlerResult, Outcome, Parsed, SessionServices, TransferRequest,
} from './commands/contract.js';
export { command } from './commands/contract.js';
export type { SessionState, TlsState, LoginPhase, TransferType, HashAlgorithm } from './session/state.js';
export type { DataChannelSlot } from './session/data-slot.js';
export { MemoryFailedLoginRecord } from './auth/failed-logins.js';
export type { FailedLoginRecord, LoginAttempt, MemoryFailedLoginRecordOptions } from './auth/failed-logins.js';
export { defaultPassiveAddressResolver } from './data/passive-address-resolver.js';
export type {
  PassiveAddressResolver, PassiveAddressContext, PassiveAdvertisement,
} from './data/passive-address-resolver.js';
export * from '../errors.js';
// Operations: local storage, users, configuration file, JSON-lines log (server operations part).
export { LocalStorage } from './storage/local.js';
export type { LocalStorageOptions } from './storage/local.js';
export {
  AnonymousAuthenticator, ConfigUserStore, CompositeAuthenticator, hashPassword, verifyPassword, parsePasswordHash,
  resolvePermissions, parsePermissionText, permissionsAt, PERMISSION_NAMES, DEFAULT_SCRYPT_PARAMS, VerifiedCredentialCache,
} from './auth/index.js';
export type {
  AnonymousOptions, UserAccount, VirtualFolder, PermissionSpec, ScryptParams, ConfigUserStoreOptions, CredentialCacheOptions,
} from './auth/index.js';
export { Defender, ScoreBook, resolveDefenderOptions, DEFAULT_DEFENDER_SCORES } from './security/index.js';
export type { DefenderOptions, DefenderScores, ActiveBan, AddressRefusal, DefenderEventKind } from './security/index.js';
export { AddressGate } from './auth/address-gate.js';
export { loadConfigFile, validateConfig, planServe, mergeConfig, checkRoots } from './config/index.js';
export type { ServeConfig, ServeConfigInput, ServePlan } from './config/index.js';
export { JsonLogger, openLogFile, XferLogger } from './log/index.js';
export type { JsonLoggerOptions, LogLevel, XferLoggerOptions } from './log/index.js';
export { BandwidthLimiter, parseRate } from './limits/bandwidth.js';
export type { BandwidthOptions, BandwidthCaps } from './limits/bandwidth.js';
export type { ProxyProtocolOptions, ProxyProtocolMode } from './proxy/options.js';
export { AdminServer, resolveAdminOptions, isLoopbackHost, attachMetrics, DEFAULT_ADMIN_PORT } from './admin/index.js';
export type { AdminOptions, AdminUser, AdminAction, AdminServerExtras, StatusDocument, StatusSession, StatusBan, MinuteTotals, ServerMetrics } from './admin/index.js';
