/**
 * FtpServerOptions with every default filled in, computed once per server (no global state).
 *
 * Owns: the default values of the server's options, in one place.
 */
import { FtpConfigError } from '../errors.js';
import type { FtpServerOptions, PortRange } from './options.js';
import { UPLOAD_MODES, type UploadMode } from './storage/types.js';

/**
 * Default passive range: 1000 ports, as many as the default session limit (DEFAULT_MAX_SESSIONS), so a
 * server full of sessions can still give each one a passive port (101 ports for 1000 sessions failed 86% of
 * transfers with 425 under load). It starts where the former default (50000-50100) did.
 */
export const DEFAULT_PASSIVE_PORT_RANGE: Readonly<PortRange> = Object.freeze({ min: 50000, max: 50999 });
export const DEFAULT_MAX_SESSIONS = 1000;
/**
 * Default per-address session limit, like SFTPGo's max_per_host_connections: one address must not be
 * able to take every session; NAT'd offices with many users raise it.
 */
export const DEFAULT_MAX_SESSIONS_PER_ADDRESS = 20;

/** A quota count older than this is measured again at the user's next login (files changed behind our back). */
export const DEFAULT_QUOTA_RESCAN_MS = 15 * 60_000;

/** Number of ports in a range. */
export function portCount(range: PortRange): number {
  return range.max - range.min + 1;
}

export interface ResolvedServerOptions {
  host: string | undefined;
  port: number;
  greeting: string;
  passive: { portRange: PortRange; address: string | undefined; allowForeignAddress: boolean };
  active: { requireSameAddress: boolean; refusePrivilegedPorts: boolean; sourceAddress?: string; sourcePort?: number };
  timeouts: {
    idleMs: number; loginMs: number; dataConnectMs: number; dataIdleMs: number; commandLineMs: number; passiveReclaimMs: number;
  };
  limits: {
    maxLineLength: number; loginFailureDelayMs: number; maxLoginFailures: number; maxSessions: number;
    maxSessionsPerAddress: number; maxUploadBytes: number; quotaRescanMs: number;
    /** Infinity: no limit. */
    maxSessionsPerUser: number;
    maxSessionsByUser: ReadonlyMap<string, number>;
    /** Infinity: no limit. */
    commandsPerSecond: number;
    commandBurst: number;
    commandRateCloseMs: number;
    /** Infinity: no limit. */
    maxDataSetupsWithoutTransfer: number;
    /** Infinity: no limit. */
    maxCompressedTransfers: number;
    /** 0: no ratio bound. */
    maxInflateRatio: number;
  };
  uploads: { mode: UploadMode; fsync: boolean };
  /** MODE Z offered and accepted (server/transfer-modes.ts). */
  modeZ: boolean;
}

/** A count limit where 0 means "none" (Infinity); throws FtpConfigError naming `limits.<key>`. */
function countLimit(key: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if ((!Number.isInteger(v) && v !== Infinity) || v < 0) throw new FtpConfigError(`limits.${key}`, 'must be an integer >= 0 (0: no limit)');
  return v === 0 ? Infinity : v;
}

/** limits.maxInflateRatio: 0 (none) or a ratio of at least 2. */
function ratioLimit(value: number | undefined): number {
  const v = value ?? 0;
  if (!Number.isFinite(v) || (v !== 0 && v < 2)) throw new FtpConfigError('limits.maxInflateRatio', 'must be 0 (no bound) or a number >= 2');
  return v;
}

/** Default command rate: far above what a mirror of small files sends, far below a flood of NOOPs. */
export const DEFAULT_COMMANDS_PER_SECOND = 500;

export function resolveOptions(o: FtpServerOptions): ResolvedServerOptions {
  const portRange = o.passive?.portRange ?? DEFAULT_PASSIVE_PORT_RANGE;
  if (!Number.isInteger(portRange.min) || !Number.isInteger(portRange.max) || portRange.min < 1 ||
      portRange.max > 65535 || portRange.min > portRange.max) {
    throw new FtpConfigError('passive.portRange', `invalid port range ${portRange.min}-${portRange.max}`);
  }
  const maxLineLength = o.limits?.maxLineLength ?? 4096;
  if (!Number.isInteger(maxLineLength) || maxLineLength < 64) {
    throw new FtpConfigError('limits.maxLineLength', 'must be an integer >= 64');
  }
  const maxSessionsPerAddress = o.limits?.maxSessionsPerAddress ?? DEFAULT_MAX_SESSIONS_PER_ADDRESS;
  if ((!Number.isInteger(maxSessionsPerAddress) && maxSessionsPerAddress !== Infinity) || maxSessionsPerAddress < 0) {
    throw new FtpConfigError('limits.maxSessionsPerAddress', 'must be an integer >= 0 (0: no per-address limit)');
  }
  const uploadMode = o.uploads?.mode ?? 'atomic';
  if (!UPLOAD_MODES.includes(uploadMode)) throw new FtpConfigError('uploads.mode', `expected one of ${UPLOAD_MODES.join(', ')}`);
  const maxUploadBytes = o.limits?.maxUploadBytes ?? Infinity;
  if (!(maxUploadBytes >= 1) || (!Number.isSafeInteger(maxUploadBytes) && maxUploadBytes !== Infinity)) {
    throw new FtpConfigError('limits.maxUploadBytes', 'must be a whole number of bytes >= 1 (leave it out for no limit)');
  }
  const quotaRescanMs = o.limits?.quotaRescanMs ?? DEFAULT_QUOTA_RESCAN_MS;
  if (!(quotaRescanMs >= 0)) throw new FtpConfigError('limits.quotaRescanMs', 'must be >= 0 (0: never rescan)');
  const commandsPerSecond = countLimit('commandsPerSecond', o.limits?.commandsPerSecond, DEFAULT_COMMANDS_PER_SECOND);
  const commandBurst = o.limits?.commandBurst ?? (Number.isFinite(commandsPerSecond) ? 2 * commandsPerSecond : Infinity);
  if (!(commandBurst >= 1)) throw new FtpConfigError('limits.commandBurst', 'must be a number >= 1');
  const maxSessionsByUser = new Map<string, number>();
  for (const [name, n] of Object.entries(o.limits?.maxSessionsByUser ?? {})) {
    maxSessionsByUser.set(name, countLimit(`maxSessionsByUser.${name}`, n, 0));
  }
  const active = o.active as (FtpServerOptions['active'] & { sourceAddress?: string; sourcePort?: number }) | undefined;
  return {
    host: o.host,
    port: o.port ?? 2121,
    greeting: o.greeting ?? 'ftpkit FTP server ready',
    modeZ: o.modeZ ?? true,
    passive: { portRange: { min: portRange.min, max: portRange.max }, address: o.passive?.address, allowForeignAddress: o.passive?.allowForeignAddress ?? false },
    active: {
      requireSameAddress: active?.requireSameAddress ?? true,
      refusePrivilegedPorts: active?.refusePrivilegedPorts ?? true,
      sourceAddress: active?.sourceAddress,
      sourcePort: active?.sourcePort,
    },
    timeouts: {
      idleMs: o.timeouts?.idleMs ?? 300_000,
      loginMs: o.timeouts?.loginMs ?? 60_000,
      dataConnectMs: o.timeouts?.dataConnectMs ?? 30_000,
      dataIdleMs: o.timeouts?.dataIdleMs ?? 300_000,
      commandLineMs: o.timeouts?.commandLineMs ?? 30_000,
      passiveReclaimMs: o.timeouts?.passiveReclaimMs ?? 2_000,
    },
    limits: {
      maxLineLength,
      loginFailureDelayMs: o.limits?.loginFailureDelayMs ?? 1000,
      maxLoginFailures: o.limits?.maxLoginFailures ?? 3,
      maxSessions: o.limits?.maxSessions ?? DEFAULT_MAX_SESSIONS,
      // 0 = no per-address limit.
      maxSessionsPerAddress: maxSessionsPerAddress === 0 ? Infinity : maxSessionsPerAddress,
      maxUploadBytes,
      quotaRescanMs,
      maxSessionsPerUser: countLimit('maxSessionsPerUser', o.limits?.maxSessionsPerUser, 0),
      maxSessionsByUser,
      commandsPerSecond,
      commandBurst,
      commandRateCloseMs: o.limits?.commandRateCloseMs ?? 10_000,
      maxDataSetupsWithoutTransfer: countLimit('maxDataSetupsWithoutTransfer', o.limits?.maxDataSetupsWithoutTransfer, 50),
      maxCompressedTransfers: countLimit('maxCompressedTransfers', o.limits?.maxCompressedTransfers, 8),
      maxInflateRatio: ratioLimit(o.limits?.maxInflateRatio),
    },
    uploads: { mode: uploadMode, fsync: o.uploads?.fsync ?? false },
  };
}
