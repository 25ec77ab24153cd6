/**
 * Owns what an operator can do from the admin listener: disconnect a session, ban or unban an address (or
 * lift a user-name ban), reload the configuration. Each is reported as an AdminAction naming who did it
 * (the admin server emits it as 'action'; `ftpkit serve` logs it as 'admin-action').
 */
import { isIP } from 'node:net';
import type { FtpServer } from '../ftp-server.js';
import type { AdminIdentity } from './auth.js';

export interface AdminAction {
  /** "token", "user:NAME" or "local" (auth.ts). */
  by: AdminIdentity;
  action: 'disconnect' | 'ban' | 'unban' | 'reload';
  /** The session id, the address or user name. */
  target?: string;
  ok: boolean;
  /** What happened, for the page and the log. */
  message: string;
}

/** What the host application does for "reload the configuration" (ftpkit serve: its SIGHUP reload). */
export type ReloadHook = () => Promise<{ ok: boolean; message: string }>;

/** Longest ban an operator can give from the page (30 days); the default is one hour. */
export const MAX_BAN_MINUTES = 30 * 24 * 60;

export class ActionError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

function text(body: Record<string, unknown>, key: string, max = 200): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '' || v.length > max) throw new ActionError(400, `"${key}" must be a non-empty string of at most ${max} characters`);
  return v;
}

export async function runAction(
  server: FtpServer, reload: ReloadHook | undefined, by: AdminIdentity, action: string, body: Record<string, unknown>,
): Promise<AdminAction> {
  switch (action) {
    case 'disconnect': {
      const id = text(body, 'session');
      const ok = await server.disconnect(id, `disconnected by the administrator (${by})`);
      if (!ok) throw new ActionError(404, `no open session ${id}`);
      return { by, action, target: id, ok, message: `session ${id} disconnected` };
    }
    case 'ban': {
      const address = text(body, 'address', 64);
      if (isIP(address) === 0) throw new ActionError(400, `"${address}" is not an IP address`);
      const minutes = body.minutes === undefined ? 60 : body.minutes;
      if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_BAN_MINUTES) {
        throw new ActionError(400, `"minutes" must be a number in (0, ${MAX_BAN_MINUTES}]`);
      }
      const ban = server.defender.ban('address', address, Math.round(minutes * 60_000));
      // Sessions already open from it go too: a ban that leaves them running would surprise the operator.
      const open = server.sessions().filter(s => s.remoteAddress === ban.key);
      for (const s of open) await server.disconnect(s.id, `address banned by the administrator (${by})`, 'Your address has been banned');
      return { by, action, target: ban.key, ok: true,
        message: `${ban.key} banned until ${new Date(ban.until).toISOString()}${open.length ? ` (${open.length} session${open.length > 1 ? 's' : ''} closed)` : ''}` };
    }
    case 'unban': {
      const kind = body.kind === 'user' ? 'user' : 'address';
      const key = text(body, 'key', 256);
      const ok = server.defender.unban(kind, key);
      if (!ok) throw new ActionError(404, `no ban of ${kind} ${key} in force`);
      return { by, action, target: key, ok, message: `ban of ${kind} ${key} lifted` };
    }
    case 'reload': {
      if (!reload) throw new ActionError(501, 'this server has no configuration to reload (it is not run by `ftpkit serve`)');
      const outcome = await reload();
      return { by, action, ok: outcome.ok, message: outcome.message };
    }
    default:
      throw new ActionError(404, `no action "${action}"`);
  }
}
