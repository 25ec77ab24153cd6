/**
 * FtpServerOptions with every default filled in, computed once per server (no global state).
 *
 * Owns: the default values of the server's options, in one place.
 */
import { FtpConfigError } from '../errors.js';
import type { FtpServerOptions, PortRange } from './options.js';

export interface ResolvedServerOptions {
  host: string | undefined;
  port: number;
  greeting: string;
  passive: { portRange: PortRange; address: string | undefined };
  active: { requireSameAddress: boolean; refusePrivilegedPorts: boolean; sourceAddress?: string; sourcePort?: number };
  timeouts: { idleMs: number; loginMs: number; dataConnectMs: number; dataIdleMs: number };
  limits: {
    maxLineLength: number; loginFailureDelayMs: number; maxLoginFailures: number; maxSessions: number;
    maxSessionsPerAddress: number;
  };
}

export function resolveOptions(o: FtpServerOptions): ResolvedServerOptions {
  const portRange = o.passive?.portRange ?? { min: 50000, max: 50100 };
  if (!Number.isInteger(portRange.min) || !Number.isInteger(portRange.max) || portRange.min < 1 ||
      portRange.max > 65535 || portRange.min > portRange.max) {
    throw new FtpConfigError('passive.portRange', `invalid port range ${portRange.min}-${portRange.max}`);
  }
  const maxLineLength = o.limits?.maxLineLength ?? 4096;
  if (!Number.isInteger(maxLineLength) || maxLineLength < 64) {
    throw new FtpConfigError('limits.maxLineLength', 'must be an integer >= 64');
  }
  const active = o.active as (FtpServerOptions['active'] & { sourceAddress?: string; sourcePort?: number }) | undefined;
  return {
    host: o.host,
    port: o.port ?? 2121,
    greeting: o.greeting ?? 'ftpkit FTP server ready',
    passive: { portRange: { min: portRange.min, max: portRange.max }, address: o.passive?.address },
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
    },
    limits: {
      maxLineLength,
      loginFailureDelayMs: o.limits?.loginFailureDelayMs ?? 1000,
      maxLoginFailures: o.limits?.maxLoginFailures ?? 3,
      maxSessions: o.limits?.maxSessions ?? 1000,
      maxSessionsPerAddress: o.limits?.maxSessionsPerAddress ?? Infinity,
    },
  };
}
