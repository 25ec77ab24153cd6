/** Owns the public surface of the admin listener (re-exported by `ftpkit/server`): status page, metrics, health, actions. */
export { AdminServer, type AdminServerEvents, type AdminServerExtras } from './admin-server.js';
export { resolveAdminOptions, isLoopbackHost, DEFAULT_ADMIN_PORT, type AdminOptions, type AdminUser, type ResolvedAdminOptions } from './options.js';
export type { AdminAction, ReloadHook } from './actions.js';
export type { StatusDocument, StatusSession, StatusBan } from './status.js';
export type { MinuteTotals } from './activity.js';
export { attachMetrics, type ServerMetrics } from './metrics.js';
