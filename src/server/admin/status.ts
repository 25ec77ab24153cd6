/**
 * Owns the JSON the status page, `ftpkit who` and the API give: sessions (with idle time, last command,
 * the running transfer's rate and size), totals, bans with time left, the last 15 minutes and the health.
 * Plain data only: the page escapes every value when it shows it (user names, paths and addresses are the
 * clients' choice).
 */
import type { FtpServer } from '../ftp-server.js';
import type { ActivityTracker, MinuteTotals } from './activity.js';

export interface StatusSession {
  id: string;
  user: string | null;
  remoteAddress: string;
  remotePort: number;
  startedAt: string;
  idleMs: number;
  lastCommand: string | null;
  tls: { control: string; prot: 'C' | 'P'; implicit: boolean; protocol: string | null };
  transfer: null | {
    command: string; direction: string; path: string; bytes: number; offset: number; size: number | null;
    rate: number; dataMode: string; startedAt: string;
  };
}

export interface StatusBan { kind: 'address' | 'user'; key: string; until: string; leftMs: number }

export interface StatusDocument {
  now: string;
  health: 'ready' | 'draining';
  sessions: StatusSession[];
  totals: {
    sessions: number; transfersRunning: number; passivePortsInUse: number;
    logins: number; failedLogins: number; transfers: number; bytesIn: number; bytesOut: number;
  };
  bans: StatusBan[];
  history: MinuteTotals[];
}

export function healthOf(server: FtpServer): 'ready' | 'draining' {
  return server.isClosing ? 'draining' : 'ready';
}

export function statusDocument(server: FtpServer, activity: ActivityTracker, now = Date.now()): StatusDocument {
  const rows = activity.sample();
  const sessions: StatusSession[] = rows.map(r => ({
    id: r.id, user: r.user ?? null, remoteAddress: r.remoteAddress, remotePort: r.remotePort,
    startedAt: r.startedAt.toISOString(), idleMs: r.idleMs, lastCommand: r.lastCommand ?? null,
    tls: { control: r.tls.control, prot: r.tls.prot, implicit: r.tls.implicit, protocol: r.tls.protocol ?? null },
    transfer: r.transfer ? {
      command: r.transfer.command, direction: r.transfer.direction, path: r.transfer.path, bytes: r.transfer.bytes,
      offset: r.transfer.offset, size: r.transfer.size ?? null, rate: Math.round(r.rate), dataMode: r.transfer.dataMode,
      startedAt: r.transfer.startedAt.toISOString(),
    } : null,
  }));
  const since = activity.sinceStart;
  return {
    now: new Date(now).toISOString(),
    health: healthOf(server),
    sessions,
    totals: {
      sessions: sessions.length, transfersRunning: sessions.filter(s => s.transfer).length,
      passivePortsInUse: server.passivePortsInUse, ...since,
    },
    bans: server.defender.bans().map(b => ({ kind: b.kind, key: b.key, until: new Date(b.until).toISOString(), leftMs: Math.max(0, b.until - now) })),
    history: activity.history(),
  };
}
