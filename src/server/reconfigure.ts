/**
 * Owns changing a running FtpServer's options without dropping a session (FtpServer.reconfigure; `ftpkit
 * serve` calls it on SIGHUP). All or nothing, like nginx's reload: every given option is validated first
 * (defaults resolved, defender lists parsed, TLS files read and the key matched to the certificate), and only
 * when all of it is good is anything changed; a bad option throws FtpConfigError naming its key and the
 * server runs on unchanged.
 *
 * What a change reaches:
 * - authenticator: the next PASS (sessions already logged in keep their user, storage and permissions);
 * - limits, timeouts, active: the next connection, command, login or transfer (maxLineLength and
 *   commandLineMs are fixed per session at connect, so new sessions only); bandwidth caps reach running
 *   transfers at their next piece (limits/bandwidth.ts);
 * - passive: the next PASV/EPSV (a new range gets a new port pool; listeners already open keep their port);
 * - defender: allow and deny lists at the next connect and PASS; scores and bans in force are kept;
 * - tls: the next AUTH TLS or implicit handshake gets the new certificate and protocol settings (running
 *   sessions keep their context, see tls/server-tls.ts), requirements apply to every session's next command;
 * - greeting: the next connection.
 * Listeners cannot change under a running server: host, port, turning TLS on or off, tls.explicit,
 * tls.implicitPort and tls.implicitHost are reported in `needsRestart` and not applied.
 */
import { FtpConfigError } from '../errors.js';
import type { SessionServices } from './commands/contract.js';
import { PassivePortPool } from './data/passive-pool.js';
import type { PassiveAddressResolver } from './data/passive-address-resolver.js';
import { checkActiveSourcePrivilege } from './nat/active-source.js';
import type { FtpServerOptions } from './options.js';
import { resolveOptions, type ResolvedServerOptions } from './resolved-options.js';
import { resolveDefenderOptions, type ResolvedDefenderOptions } from './security/defender-options.js';
import type { Defender } from './security/defender.js';
import type { DefendedAuthenticator } from './security/login-guard.js';
import type { PreparedTls, ServerSecurity } from './tls/security.js';
import { resolveBandwidth, type BandwidthLimiter } from './limits/bandwidth.js';

/** What FtpServer.reconfigure() did. */
export interface ReconfigureResult {
  /** Top-level option keys applied (each given key, except those in needsRestart). */
  applied: string[];
  /** Given options that differ from the running ones but need a restart: 'port', 'tls.implicitPort'... */
  needsRestart: string[];
  /** The certificate new TLS handshakes get (SHA-256 fingerprint), when options.tls was given. */
  certificateFingerprint?: string;
}

/** The parts of a server that reconfigure() changes (FtpServer passes its own). */
export interface ReconfigureTarget {
  /** The options the server was built with, as last reconfigured. */
  given: FtpServerOptions;
  /** The resolved options every session reads: changed in place. */
  resolved: ResolvedServerOptions;
  services: SessionServices;
  authenticator: DefendedAuthenticator;
  defender: Defender;
  /** Bandwidth caps (limits.bandwidth): running transfers follow a change at their next piece. */
  bandwidth: BandwidthLimiter;
  security: ServerSecurity | undefined;
  /** A new NAT resolver for new passive options; undefined when the host application supplied its own. */
  passiveResolver: ((options: FtpServerOptions['passive']) => PassiveAddressResolver) | undefined;
  /** Called after a new certificate store is in use (the server watches its reload errors). */
  onCertificates(): void;
}

/** TLS keys that are listeners or FEAT lines: fixed while the server runs. */
const TLS_LISTENER_KEYS = ['explicit', 'implicitPort', 'implicitHost'] as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Validate `next` against the running server and apply it (see the header). Keys absent from `next` keep
 * their value; a key given as undefined returns to its default. Throws FtpConfigError.
 */
export async function reconfigureServer(target: ReconfigureTarget, next: Partial<FtpServerOptions>): Promise<ReconfigureResult> {
  const has = (key: keyof FtpServerOptions) => Object.hasOwn(next, key);
  const { given } = target;
  const needsRestart: string[] = [];
  for (const key of ['host', 'port'] as const) if (has(key) && next[key] !== given[key]) needsRestart.push(key);
  // The PROXY protocol is read at accept, by listeners built at listen(): a change waits for a restart.
  if (has('proxyProtocol') && JSON.stringify(next.proxyProtocol) !== JSON.stringify(given.proxyProtocol)) needsRestart.push('proxyProtocol');

  // ---- validate everything, change nothing ------------------------------------------------------------
  if (has('authenticator') && typeof next.authenticator?.authenticate !== 'function') {
    throw new FtpConfigError('authenticator', 'must be an Authenticator (an object with authenticate())');
  }
  const merged: FtpServerOptions = { ...given, ...next, host: given.host, port: given.port, proxyProtocol: given.proxyProtocol };
  const resolved = resolveOptions(merged);
  // limits.bandwidth is checked here too (resolveOptions leaves it to the limiter), so a bad cap refuses the whole reload.
  if (has('limits')) resolveBandwidth(merged.limits?.bandwidth);
  if (has('active')) await checkActiveSourcePrivilege(next.active);
  const defender: ResolvedDefenderOptions | undefined = has('defender') ? resolveDefenderOptions(next.defender) : undefined;
  const passiveChanged = has('passive') || has('timeouts');
  const resolver = has('passive') ? target.passiveResolver?.(next.passive) : undefined;
  let tls: PreparedTls | undefined;
  if (has('tls')) {
    if (!target.security !== !next.tls) {
      needsRestart.push('tls');
    } else if (target.security && next.tls) {
      const running = target.security.options;
      const fixed = TLS_LISTENER_KEYS.filter((k) => next.tls![k] !== running[k]);
      needsRestart.push(...fixed.map((k) => `tls.${k}`));
      // The listener settings stay as they are; everything else is checked now (files read, key matched).
      const keep = Object.fromEntries(TLS_LISTENER_KEYS.map((k) => [k, running[k]]));
      tls = await target.security.prepare({ ...next.tls, ...keep });
    }
  }

  // ---- apply: nothing below throws ---------------------------------------------------------------------
  const services = target.services as Mutable<SessionServices>;
  const live = target.resolved;
  const samePool = live.passive.portRange.min === resolved.passive.portRange.min && live.passive.portRange.max === resolved.passive.portRange.max
    && live.timeouts.passiveReclaimMs === resolved.timeouts.passiveReclaimMs;
  live.greeting = resolved.greeting;
  live.modeZ = resolved.modeZ;
  Object.assign(live.active, resolved.active);
  Object.assign(live.timeouts, resolved.timeouts);
  Object.assign(live.limits, resolved.limits);
  // The upload mode and fsync of uploads that start from now on (docs/server.md#uploads-atomic-resumable-or-direct).
  Object.assign(live.uploads, resolved.uploads);
  if (passiveChanged) {
    live.passive.portRange = resolved.passive.portRange;
    live.passive.address = resolved.passive.address;
    live.passive.allowForeignAddress = resolved.passive.allowForeignAddress;
    // Listeners already open keep a reference to the pool they joined and leave it when they close.
    if (!samePool) services.passivePool = new PassivePortPool(resolved.passive.portRange, resolved.timeouts.passiveReclaimMs);
  }
  if (resolver) services.passiveAddressResolver = resolver;
  if (defender) target.defender.reconfigure(defender);
  if (has('authenticator')) target.authenticator.inner = next.authenticator!;
  if (tls) {
    target.security!.adopt(tls);
    target.onCertificates();
  }
  // Quotas follow the user records (authenticator) and limits.maxUploadBytes/quotaRescanMs (limits above).
  if (has('limits')) target.bandwidth.set(merged.limits?.bandwidth);
  const applied = (Object.keys(next) as Array<keyof FtpServerOptions>).filter((k) => !needsRestart.includes(k) && !(k === 'tls' && !tls));
  target.given = { ...merged, ...(tls ? { tls: tls.options } : { tls: given.tls }) };
  return {
    applied,
    needsRestart,
    ...(tls ? { certificateFingerprint: tls.certificates.current().fingerprint256 } : {}),
  };
}
