/** Public API of `ftpkit/client`. */
export type * from './options.js';
export type * from './events.js';
export * from '../errors.js';
export { FtpClient } from './ftp-client.js';
export type { DownloadOptions, UploadOptions, TransferResult, TransferType, FtpResponse } from './ftp-client.js';
export type { SegmentedOptions, SegmentConnection, VerifyOutcome, FxpOptions, FxpResult } from './ftp-client.js';
export type { FileEntry } from '../protocol/listing-types.js';
export type { FolderHint } from './listings.js';
export type { GlobMatch, GlobOptions } from './wildcard-select.js';
export { ControlConnection, type SocketLike, type ControlObserver } from './control-connection.js';
export { registerSecureHooks } from './transport.js';
export { clientChannels, type ClientChannelMessage } from './diagnostics.js';
export { connectTcp, formatEndpoint, type ConnectTarget } from '../net/connect.js';
export { classifyAddress, choosePasvTarget, DEFAULT_PASV_ADDRESS_POLICY, type AddressClass, type PasvTargetDecision } from '../protocol/address-policy.js';
export * from './tree/index.js';
export { Retrier, retryReason, type RetrySettings } from './retry.js';
export { retryingTreeClient } from './retry-tree.js';
export { proxyFromEnvironment, bypassesProxy, parseProxyUrl, maskProxyUrl } from './proxy.js';
