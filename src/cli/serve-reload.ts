/**
 * Owns `ftpkit serve`'s configuration reload (SIGHUP, `systemctl reload ftpkit`): re-read the file, merge
 * the command line flags again, validate all of it (schema, password hashes, root folders, TLS files read and
 * parsed), and only then hand the new options to the running server (FtpServer.reconfigure, which checks its
 * part first too). A bad configuration is refused with the key named and the running one stays, like
 * `nginx -s reload`; no session is dropped either way.
 *
 * Two log records, beside the stderr line: 'config-reloaded' (what changed, what needs a restart, the
 * certificate now served) and 'config-reload-failed' (the key and the problem).
 */
import { FtpConfigError } from '../errors.js';
import type { FtpServer } from '../server/ftp-server.js';
import type { Authenticator } from '../server/auth/types.js';
import type { ServeConfig } from '../server/config/schema.js';
import { checkRoots, keepUserStore, planServe, type ServePlan } from '../server/config/to-options.js';
import type { LogLevel } from '../server/log/json-logger.js';

export interface ReloadOutcome {
  ok: boolean;
  /** Configuration keys whose value changed ('users (added carol)', 'defender.deny', ...). */
  changed: string[];
  /** Changed keys that only a restart applies (listeners, run user, log files). */
  needsRestart: string[];
  /** SHA-256 fingerprint of the certificate new TLS handshakes get. */
  certificate?: string;
  /** When refused: the offending key ('' when the file itself could not be read or parsed) and why. */
  key?: string;
  message?: string;
}

export interface ReloadHost {
  server: FtpServer;
  /** The file and the flags merged again (throws FtpConfigError). */
  readConfig(): Promise<ServeConfig>;
  /** The folder anonymous users get when the configuration names none. */
  defaultRoot: string;
  /** The configuration in force; replaced by a successful reload. */
  current: { config: ServeConfig; plan: ServePlan };
  log(level: LogLevel, event: string, fields: Record<string, unknown>): void;
  /** After the privilege drop: the folders must be usable by the new user too (privileges.ts). */
  checkAccess?(plan: ServePlan, config: ServeConfig): Promise<void>;
  /** With a database (serve-database.ts): the configured users combined with the database's again. */
  combine?(configured: Authenticator): Authenticator;
}

/** Configuration sections that only take effect at start. */
// `s3`: the process has one S3 client, which the database users' storages share (serve-database.ts); a
// reload that gave configured users a client with other settings would split them, so it waits for a restart.
const START_ONLY = new Set(['host', 'port', 'run', 'log', 'database', 'admin', 's3']);

/** The certificate store names its options; the file calls them tls.cert and tls.key. */
const CONFIG_KEY: Record<string, string> = { 'tls.certFile': 'tls.cert', 'tls.keyFile': 'tls.key' };

/**
 * `err` in the configuration file's terms: an FtpConfigError naming a library option that the file spells
 * otherwise (tls.certFile) names the file's key instead (tls.cert), for start, --check and reload alike.
 */
export function inFileKeys(err: unknown): unknown {
  if (!(err instanceof FtpConfigError)) return err;
  const key = CONFIG_KEY[err.key];
  if (key === undefined) return err;
  const detail = err.message.startsWith(`${err.key}: `) ? err.message.slice(err.key.length + 2) : err.message;
  return new FtpConfigError(key, detail, { cause: err.cause ?? err });
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What differs between two configurations, by section (and key within a section), users by name. */
export function configChanges(before: ServeConfig, after: ServeConfig): string[] {
  const out: string[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])] as Array<keyof ServeConfig>;
  for (const key of keys) {
    const a: unknown = before[key];
    const b: unknown = after[key];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (key === 'users') {
      const old = new Map((before.users ?? []).map((u) => [u.name, JSON.stringify(u)]));
      const now = new Map((after.users ?? []).map((u) => [u.name, JSON.stringify(u)]));
      const added = [...now.keys()].filter((n) => !old.has(n));
      const removed = [...old.keys()].filter((n) => !now.has(n));
      const changed = [...now.keys()].filter((n) => old.has(n) && old.get(n) !== now.get(n));
      const parts = [added.length && `added ${added.join(', ')}`, removed.length && `removed ${removed.join(', ')}`, changed.length && `changed ${changed.join(', ')}`];
      out.push(`users (${parts.filter(Boolean).join('; ') || 'reordered'})`);
    } else if (isPlain(a) && isPlain(b)) {
      for (const sub of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (JSON.stringify(a[sub]) !== JSON.stringify(b[sub])) out.push(`${key}.${sub}`);
      }
    } else {
      out.push(key);
    }
  }
  return out;
}

/** One reload: validate everything, then apply, or refuse and keep what runs. Never throws. */
export async function reloadServe(host: ReloadHost): Promise<ReloadOutcome> {
  try {
    const config = await host.readConfig();
    const plan = planServe({ ...config, s3: host.current.config.s3 }, host.defaultRoot);
    await checkRoots(plan, config);
    await host.checkAccess?.(plan, config);
    const users = keepUserStore(host.current.plan, plan);
    const result = await host.server.reconfigure({ ...plan.options, authenticator: host.combine ? host.combine(users.authenticator) : users.authenticator });
    users.commit();
    const changed = configChanges(host.current.config, config);
    const startOnly = changed.filter((c) => START_ONLY.has(c.split('.')[0]!));
    const needsRestart = [...new Set([...result.needsRestart, ...startOnly])];
    // What runs now: the new configuration, except the start-only sections (reported again on the next reload).
    const running: Record<string, unknown> = { ...config };
    for (const section of START_ONLY) running[section] = host.current.config[section as keyof ServeConfig];
    host.current = { config: running as ServeConfig, plan: { ...plan, log: host.current.plan.log } };
    const outcome: ReloadOutcome = { ok: true, changed, needsRestart, ...(result.certificateFingerprint ? { certificate: result.certificateFingerprint } : {}) };
    host.log('info', 'config-reloaded', { changed, needsRestart, certificate: outcome.certificate });
    return outcome;
  } catch (err) {
    const named = inFileKeys(err);
    const key = named instanceof FtpConfigError && named.key !== '' ? named.key : undefined;
    const message = named instanceof Error ? named.message : String(named);
    host.log('error', 'config-reload-failed', { key, message });
    return { ok: false, changed: [], needsRestart: [], key, message };
  }
}

/** The stderr line for an outcome. */
export function describeReload(outcome: ReloadOutcome): string {
  if (!outcome.ok) return `configuration reload refused, the running configuration stays: ${outcome.message}`;
  const parts = [outcome.changed.length ? `changed: ${outcome.changed.join(', ')}` : 'nothing changed'];
  if (outcome.needsRestart.length) parts.push(`needs a restart, not applied: ${outcome.needsRestart.join(', ')}`);
  return `configuration reloaded (${parts.join('; ')})`;
}
