/**
 * What FtpServer.listen() checks and does before the first session, kept out of ftp-server.ts: the sweep of
 * temporary uploads a crash left behind, the warning for a passive range smaller than the session limit, and
 * the error that says why a port cannot be bound.
 */
import type { EventEmitter } from 'node:events';
import { FtpNetworkError, classifySocketError } from '../errors.js';
import type { FtpServerEvents, WarningEvent } from './events.js';
import { portCount, type ResolvedServerOptions } from './resolved-options.js';
import { canSweepUploads, type Storage } from './storage/types.js';

/**
 * Temporary files of atomic uploads cut by a crash of an earlier server (kill -9) are removed before the
 * first session, one 'uploads-swept' event per storage that had some (docs/server.md#uploads-atomic-resumable-or-direct).
 * A storage that cannot be swept now is a warning, not a failed start.
 */
export async function sweepUploadTemps(storages: readonly Storage[], events: EventEmitter<FtpServerEvents>): Promise<void> {
  for (const storage of storages) {
    if (!canSweepUploads(storage)) continue;
    const { root } = storage as { root?: unknown };
    try {
      const removed = await storage.sweepUploadTemps();
      if (removed > 0) events.emit('uploads-swept', { ...(typeof root === 'string' ? { root } : {}), removed });
    } catch (err) {
      events.emit('warning', { code: 'uploads-sweep-failed', message: `temporary uploads${typeof root === 'string' ? ` under ${root}` : ''} not swept: ${(err as Error).message}` });
    }
  }
}

/**
 * Each session holds at most one passive port at a time: a range smaller than the session limit means
 * PASV/EPSV answer 425 once that many sessions transfer at once (101 ports for 1000 sessions failed 86% of
 * transfers under load). Said at start, with both numbers and the fix; undefined when the range is wide enough.
 */
export function passiveRangeWarning(options: ResolvedServerOptions): WarningEvent | undefined {
  const { portRange } = options.passive;
  const ports = portCount(portRange);
  const { maxSessions } = options.limits;
  if (ports >= maxSessions) return undefined;
  return {
    code: 'passive-range-too-small',
    message: `the passive port range ${portRange.min}-${portRange.max} has ${ports} ports for up to ${maxSessions} sessions `
      + `(limits.maxSessions): once more than ${ports} sessions use passive mode at the same time, PASV/EPSV answer 425. `
      + `Widen passive.ports (--pasv-ports) to at least ${maxSessions} ports, or lower limits.maxSessions (--max-sessions) to ${ports}`,
  };
}

/** The error for a port that cannot be bound, saying why in words (in use, privileges, no such address). */
export function listenError(err: unknown, host: string, port: number): Error {
  const failure = classifySocketError(err);
  const endpoint = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const why = failure === 'address-in-use' ? 'the port is already in use (another server listens on it)'
    : failure === 'permission' ? 'permission denied (ports below 1024 need privileges)'
      : (err as NodeJS.ErrnoException)?.code === 'EADDRNOTAVAIL' ? 'this machine has no such address'
        : (err as Error)?.message ?? String(err);
  return new FtpNetworkError({
    connection: 'control', phase: 'listen', failure, endpoint, cause: err, message: `cannot listen on ${endpoint}: ${why}`,
  });
}
