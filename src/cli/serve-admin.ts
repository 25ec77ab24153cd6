/**
 * Owns `ftpkit serve`'s admin listener (the `admin:` section, `--admin HOST:PORT`; docs/server.md#admin-page):
 * started after the FTP listeners and before the privilege drop (its certificate and token file may be
 * readable by root only), its actions logged as 'admin-action' naming who did them, "reload" wired to
 * the same reload as SIGHUP.
 */
import type { FtpServer } from '../server/ftp-server.js';
import type { ServeConfig } from '../server/config/schema.js';
import type { LogLevel } from '../server/log/json-logger.js';
import type { AdminServer } from '../server/admin/admin-server.js';
import type { AdminOptions } from '../server/admin/options.js';
import { describeReload, type ReloadOutcome } from './serve-reload.js';

/** The environment variable that carries the admin token when the configuration names none. */
export const ADMIN_TOKEN_ENV = 'FTPKIT_ADMIN_TOKEN';

export interface ServeAdminHost {
  server: FtpServer;
  reload(): Promise<ReloadOutcome>;
  log(level: LogLevel, event: string, fields: Record<string, unknown>): void;
}

/**
 * The admin options of a configuration, its files read and checked (a non-loopback address without a
 * token refused), before anything is bound; undefined without an `admin` section. Throws FtpConfigError.
 */
export async function prepareServeAdmin(config: ServeConfig): Promise<AdminOptions | undefined> {
  if (!config.admin) return undefined;
  const [{ adminConfigToOptions }, { resolveAdminOptions }] = await Promise.all([
    import('../server/admin/config.js'), import('../server/admin/options.js'),
  ]);
  const options = await adminConfigToOptions(config.admin, process.env[ADMIN_TOKEN_ENV]);
  resolveAdminOptions(options);
  return options;
}

/** Start the admin listener with options from prepareServeAdmin(); undefined when there are none. */
export async function startServeAdmin(host: ServeAdminHost, options: AdminOptions | undefined): Promise<AdminServer | undefined> {
  if (!options) return undefined;
  const { AdminServer } = await import('../server/admin/admin-server.js');
  const admin = new AdminServer(host.server, options, {
    reload: async () => {
      const outcome = await host.reload();
      return { ok: outcome.ok, message: describeReload(outcome) };
    },
  });
  admin.on('action', a => host.log(a.ok ? 'info' : 'warn', 'admin-action', { ...a }));
  await admin.listen();
  host.log('info', 'admin-listening', { url: admin.url(), authentication: options.token !== undefined || !!options.users?.length });
  return admin;
}
