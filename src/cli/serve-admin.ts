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
import { describeReload, type ReloadOutcome } from './serve-reload.js';

/** The environment variable that carries the admin token when the configuration names none. */
export const ADMIN_TOKEN_ENV = 'FTPKIT_ADMIN_TOKEN';

export interface ServeAdminHost {
  server: FtpServer;
  config: ServeConfig;
  reload(): Promise<ReloadOutcome>;
  log(level: LogLevel, event: string, fields: Record<string, unknown>): void;
}

/** Start the admin listener when the configuration has an `admin` section; undefined otherwise. */
export async function startServeAdmin(host: ServeAdminHost): Promise<AdminServer | undefined> {
  if (!host.config.admin) return undefined;
  const [{ AdminServer }, { adminConfigToOptions }] = await Promise.all([
    import('../server/admin/admin-server.js'), import('../server/admin/config.js'),
  ]);
  const options = await adminConfigToOptions(host.config.admin, process.env[ADMIN_TOKEN_ENV]);
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
