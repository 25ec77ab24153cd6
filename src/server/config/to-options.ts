/**
 * Owns the mapping of a validated ServeConfig (file + command line flags) onto FtpServerOptions, including
 * building the authenticator (configured users, then anonymous) and checking that every root folder
 * exists before the server starts. Also owns merging: flags override the file.
 *
 * Defaults of the server itself (timeouts, limits, passive range...) stay in src/server/resolved-options.ts;
 * only the serve-specific ones live here (anonymous on when nobody else can log in, the current folder).
 */
import { FtpConfigError, FtpStorageError } from '../../errors.js';
import { AnonymousAuthenticator, isAnonymousName } from '../auth/anonymous.js';
import { CompositeAuthenticator } from '../auth/composite.js';
import { describePermissions, resolvePermissions } from '../auth/permissions.js';
import { READ_ONLY, READ_WRITE, type Authenticator, type Permissions } from '../auth/types.js';
import { ConfigUserStore } from '../auth/user-store.js';
import { LocalStorage } from '../storage/local.js';
import type { FtpServerOptions } from '../options.js';
import { tlsConfigToOptions } from '../tls/config.js';
import type { LogLevel, ServeConfig } from './schema.js';

/** What the CLI banner tells the user about who may log in. */
export interface ServeSummary {
  anonymous?: { root: string; permissions: Permissions; description: string };
  users: { name: string; root: string; description: string }[];
}

export interface ServePlan {
  options: FtpServerOptions;
  log: { level: LogLevel; file?: string; xferlog?: string };
  summary: ServeSummary;
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Overlay `over` (from flags) on `base` (from the file): objects merge key by key, `undefined` means "not
 * given", users are concatenated (a --user adds to the file's users), other arrays and values replace.
 */
/** The keys that the configuration sets (an unset one falls back to the server's default). */
function withoutUnset<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function mergeConfig(base: ServeConfig, over: ServeConfig): ServeConfig {
  const merge = (a: unknown, b: unknown, key: string): unknown => {
    if (b === undefined) return a;
    if (key === 'users' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (isPlain(a) && isPlain(b)) {
      const out: Plain = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v, k);
      return out;
    }
    return b;
  };
  return merge(base, over, '') as ServeConfig;
}

/**
 * Build the server's options. `defaultRoot` is the folder anonymous users get when the configuration
 * names none (the `serve DIR` argument, or the current folder). Throws FtpConfigError.
 */
export function planServe(config: ServeConfig, defaultRoot: string): ServePlan {
  const users = config.users ?? [];
  const anonymousEnabled = config.anonymous?.enabled ?? users.length === 0;
  const authenticators: Authenticator[] = [];
  const summary: ServeSummary = { users: [] };

  // Anonymous first: its names are public, so answering them at once leaks nothing, and an anonymous
  // login then never waits for a scrypt verification (which costs ~0.4 s and is rationed).
  if (anonymousEnabled) {
    const anon = config.anonymous ?? {};
    const root = anon.root ?? defaultRoot;
    const permissions = resolvePermissions(anon.permissions, anon.write ? READ_WRITE : READ_ONLY);
    authenticators.push(new AnonymousAuthenticator({ root, permissions, home: anon.home }));
    summary.anonymous = { root, permissions, description: describePermissions(permissions) };
    users.forEach((u, i) => {
      if (isAnonymousName(u.name)) {
        throw new FtpConfigError(`users.${i}.name`, `"${u.name}" is an anonymous login name while anonymous access is on: rename the user or set anonymous.enabled: false`);
      }
    });
  }
  if (users.length > 0) {
    authenticators.push(new ConfigUserStore(users.map((u) => ({
      name: u.name,
      passwordHash: u.password,
      root: u.root,
      home: u.home,
      permissions: resolvePermissions(u.permissions, READ_WRITE),
    })), {
      credentialCache: { ttlMs: config.credentialCache?.ttl, maxEntries: config.credentialCache?.maxEntries },
      verificationsPerAddress: config.defender?.verificationsPerAddress,
    }));
    for (const u of users) {
      summary.users.push({ name: u.name, root: u.root, description: describePermissions(resolvePermissions(u.permissions, READ_WRITE)) });
    }
  }
  if (authenticators.length === 0) {
    throw new FtpConfigError('anonymous.enabled', 'nobody could log in: enable anonymous access or configure users');
  }

  const options: FtpServerOptions = {
    host: config.host,
    port: config.port,
    greeting: config.greeting,
    authenticator: authenticators.length === 1 ? authenticators[0]! : new CompositeAuthenticator(authenticators),
    passive: config.passive && {
      portRange: config.passive.ports,
      address: config.passive.address,
      addressRefreshMs: config.passive.addressRefresh,
      addressMap: config.passive.addressMap,
      advertisedPortRange: config.passive.advertisedPorts,
    },
    active: config.active && { ...config.active },
    timeouts: config.timeouts && withoutUnset({
      idleMs: config.timeouts.idle,
      loginMs: config.timeouts.login,
      dataConnectMs: config.timeouts.dataConnect,
      dataIdleMs: config.timeouts.dataIdle,
      commandLineMs: config.timeouts.commandLine,
      passiveReclaimMs: config.timeouts.passiveReclaim,
    }),
    limits: limitsToOptions(config),
    defender: config.defender && withoutUnset({
      enabled: config.defender.enabled,
      threshold: config.defender.threshold,
      windowMs: config.defender.window,
      banMs: config.defender.banTime,
      maxBanMs: config.defender.maxBanTime,
      userThreshold: config.defender.userThreshold,
      scores: config.defender.scores && withoutUnset(config.defender.scores),
      maxEntries: config.defender.maxEntries,
      allow: config.defender.allow,
      deny: config.defender.deny,
    }),
    // Paths are absolute by now (load.ts made file paths absolute; flags are relative to the current folder).
    tls: config.tls && tlsConfigToOptions(config.tls),
  };
  return { options, log: { level: config.log?.level ?? 'info', file: config.log?.file, xferlog: config.log?.xferlog }, summary };
}

/** limits, with the per-user values of users[] (maxSessions, bandwidth) folded in by name. */
function limitsToOptions(config: ServeConfig): FtpServerOptions['limits'] {
  const { limits } = config;
  const users = config.users ?? [];
  const byUser = <T>(pick: (u: (typeof users)[number]) => T | undefined): Record<string, T> | undefined => {
    const entries = users.flatMap(u => { const v = pick(u); return v === undefined ? [] : [[u.name, v] as const]; });
    return entries.length ? Object.fromEntries(entries) : undefined;
  };
  const maxSessionsByUser = byUser(u => u.maxSessions);
  const bandwidthUsers = byUser(u => u.bandwidth);
  if (!limits && !maxSessionsByUser && !bandwidthUsers) return undefined;
  const bandwidth = limits?.bandwidth || bandwidthUsers ? withoutUnset({ ...limits?.bandwidth, users: bandwidthUsers }) : undefined;
  return withoutUnset({
    maxLineLength: limits?.maxLineLength,
    loginFailureDelayMs: limits?.loginFailureDelay,
    maxLoginFailures: limits?.maxLoginFailures,
    maxSessions: limits?.maxSessions,
    maxSessionsPerAddress: limits?.maxSessionsPerAddress,
    maxSessionsPerUser: limits?.maxSessionsPerUser,
    maxSessionsByUser,
    commandsPerSecond: limits?.commandsPerSecond,
    commandBurst: limits?.commandBurst,
    commandRateCloseMs: limits?.commandRateClose,
    maxDataSetupsWithoutTransfer: limits?.maxDataSetupsWithoutTransfer,
    bandwidth,
  });
}

/**
 * Check that every root folder exists and is a folder, and that every home folder exists inside its root,
 * so a typo fails at start-up rather than as 550s after login. Throws FtpConfigError.
 */
export async function checkRoots(plan: ServePlan, config: ServeConfig): Promise<void> {
  const describe = (err: unknown) => {
    const what = err instanceof FtpStorageError ? err.failure : 'unusable';
    return what === 'not-found' ? 'no such folder' : what === 'not-a-directory' ? 'not a folder' : what;
  };
  const check = async (root: string, key: string, home: string | undefined, homeKey: string) => {
    let storage: LocalStorage;
    try {
      storage = await LocalStorage.open(root);
    } catch (err) {
      throw new FtpConfigError(key, `${root}: ${describe(err)}`, { cause: err });
    }
    if (home === undefined || home === '/') return;
    try {
      const info = await storage.stat(home);
      if (info.type !== 'dir') throw new FtpStorageError('not-a-directory', 'not a folder', home);
    } catch (err) {
      throw new FtpConfigError(homeKey, `${home} inside ${root}: ${describe(err)}`, { cause: err });
    }
  };
  if (plan.summary.anonymous) {
    await check(plan.summary.anonymous.root, config.anonymous?.root ? 'anonymous.root' : 'DIR', config.anonymous?.home, 'anonymous.home');
  }
  await Promise.all((config.users ?? []).map((u, i) => check(u.root, `users.${i}.root`, u.home, `users.${i}.home`)));
}
