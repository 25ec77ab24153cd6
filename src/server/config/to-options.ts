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
import { ConfigUserStore, type UserAccount } from '../auth/user-store.js';
import { LocalStorage } from '../storage/local.js';
import type { Storage } from '../storage/types.js';
import { S3Roots, isS3Root } from './s3-roots.js';
import type { FtpServerOptions } from '../options.js';
import { tlsConfigToOptions } from '../tls/config.js';
import { proxyProtocolConfigToOptions } from '../proxy/config.js';
import type { LogLevel, ServeConfig } from './schema.js';
import type { VirtualFolder } from '../auth/user-tree.js';
import { isWithin } from '../../protocol/paths.js';
import type { PermissionSpec } from '../auth/permissions.js';

type FolderConfig = { path: string; root: string; permissions?: PermissionSpec };

/** Folders and per-path permissions of one account; a folder without permissions takes the account's. */
function treeOptions(folders: FolderConfig[] | undefined, paths: Record<string, PermissionSpec> | undefined, own: Permissions, s3: S3Roots, key: string):
  { folders?: VirtualFolder[]; paths?: Record<string, Permissions> } {
  return {
    ...(folders ? { folders: folders.map((f, i) => ({ path: f.path, ...s3.place(f.root, `${key}.folders.${i}.root`), ...(f.permissions !== undefined ? { permissions: resolvePermissions(f.permissions, own) } : {}) })) } : {}),
    ...(paths ? { paths: Object.fromEntries(Object.entries(paths).map(([p, spec]) => [p, resolvePermissions(spec, own)])) } : {}),
  };
}

/**
 * The folders of an account that the start-up sweep of temporary uploads walks: its root and mounted
 * folders when it may upload somewhere (write or append, in its own permissions, a folder's or a path's);
 * none for an account that is read-only everywhere (a big read-only tree is not walked).
 */
function uploadRoots(root: string, own: Permissions, folders: FolderConfig[] | undefined, paths: Record<string, PermissionSpec> | undefined): string[] {
  const sets = [own, ...(folders ?? []).map((f) => resolvePermissions(f.permissions, own)),
    ...Object.values(paths ?? {}).map((spec) => resolvePermissions(spec, own))];
  return sets.some((p) => p.write || p.append) ? [root, ...(folders ?? []).map((f) => f.root)] : [];
}

/** What the CLI banner tells the user about who may log in. */
export interface ServeSummary {
  anonymous?: { root: string; permissions: Permissions; description: string; folders?: FolderSummary[] };
  users: { name: string; root: string; description: string; folders?: FolderSummary[] }[];
}

/** A virtual folder as the banner shows it: "/pub: /srv/ftp/pub (read-only)". */
export interface FolderSummary {
  path: string;
  root: string;
  description: string;
}

/** What applies at each mount point: a `paths` entry for it, else the folder's permissions, else the account's. */
function folderSummaries(folders: FolderConfig[] | undefined, paths: Record<string, PermissionSpec> | undefined, own: Permissions): { folders?: FolderSummary[] } {
  if (!folders?.length) return {};
  return {
    folders: folders.map((f) => ({
      path: f.path, root: f.root, description: describePermissions(resolvePermissions(paths?.[f.path] ?? f.permissions, own)),
    })),
  };
}

export interface ServePlan {
  options: FtpServerOptions;
  log: { level: LogLevel; file?: string; xferlog?: string };
  summary: ServeSummary;
  /** Who may log in, in the order asked; `users` is the configured users' store and the accounts it holds. */
  logins: { anonymous?: AnonymousAuthenticator; users?: { store: ConfigUserStore; accounts: UserAccount[]; cacheKey: string } };
  /** The s3:// roots' storages (checked by checkRoots). */
  s3: S3Roots;
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
  // With a database (src/server/db/) users may all live there: anonymous access is then off unless asked for.
  const anonymousEnabled = config.anonymous?.enabled ?? (users.length === 0 && config.database === undefined);
  const authenticators: Authenticator[] = [];
  const summary: ServeSummary = { users: [] };
  const logins: ServePlan['logins'] = {};
  const s3 = new S3Roots(config.s3);

  // Anonymous first: its names are public, so answering them at once leaks nothing, and an anonymous
  // login then never waits for a scrypt verification (which costs ~0.4 s and is rationed).
  if (anonymousEnabled) {
    const anon = config.anonymous ?? {};
    const root = anon.root ?? defaultRoot;
    const permissions = resolvePermissions(anon.permissions, anon.write ? READ_WRITE : READ_ONLY);
    logins.anonymous = new AnonymousAuthenticator({
      ...s3.place(root, 'anonymous.root'), permissions, home: anon.home, quota: anon.quota, maxUploadBytes: anon.maxUploadBytes,
      ...treeOptions(anon.folders, anon.paths, permissions, s3, 'anonymous'),
    });
    authenticators.push(logins.anonymous);
    summary.anonymous = { root, permissions, description: describePermissions(permissions), ...folderSummaries(anon.folders, anon.paths, permissions) };
    users.forEach((u, i) => {
      if (isAnonymousName(u.name)) {
        throw new FtpConfigError(`users.${i}.name`, `"${u.name}" is an anonymous login name while anonymous access is on: rename the user or set anonymous.enabled: false`);
      }
    });
  }
  if (users.length > 0) {
    const accounts: UserAccount[] = users.map((u, i) => {
      const permissions = resolvePermissions(u.permissions, READ_WRITE);
      return {
        name: u.name,
        passwordHash: u.password,
        ...s3.place(u.root, `users.${i}.root`),
        home: u.home,
        permissions,
        quota: u.quota,
        maxUploadBytes: u.maxUploadBytes,
        uploadMode: u.uploadMode,
        ...treeOptions(u.folders, u.paths, permissions, s3, `users.${i}`),
      };
    });
    const storeOptions = {
      credentialCache: { ttlMs: config.credentialCache?.ttl, maxEntries: config.credentialCache?.maxEntries },
      verificationsPerAddress: config.defender?.verificationsPerAddress,
    };
    // Validates every account (hash format, names, homes): a reload is refused here, before anything changes.
    logins.users = { store: new ConfigUserStore(accounts, storeOptions), accounts, cacheKey: JSON.stringify(storeOptions) };
    authenticators.push(logins.users.store);
    for (const u of users) {
      const own = resolvePermissions(u.permissions, READ_WRITE);
      summary.users.push({ name: u.name, root: u.root, description: describePermissions(own), ...folderSummaries(u.folders, u.paths, own) });
    }
  }
  const anonymous = config.anonymous ?? {};
  const writableRoots = [
    ...(summary.anonymous ? uploadRoots(summary.anonymous.root, summary.anonymous.permissions, anonymous.folders, anonymous.paths) : []),
    ...users.flatMap((u) => uploadRoots(u.root, resolvePermissions(u.permissions, READ_WRITE), u.folders, u.paths)),
  ];
  if (authenticators.length === 0 && config.database === undefined) {
    throw new FtpConfigError('anonymous.enabled', 'nobody could log in: enable anonymous access or configure users');
  }

  const options: FtpServerOptions = {
    host: config.host,
    port: config.port,
    greeting: config.greeting,
    modeZ: config.modeZ,
    authenticator: authenticators.length === 1 ? authenticators[0]! : new CompositeAuthenticator(authenticators),
    passive: config.passive && {
      portRange: config.passive.ports,
      address: config.passive.address,
      addressRefreshMs: config.passive.addressRefresh,
      addressMap: config.passive.addressMap,
      advertisedPortRange: config.passive.advertisedPorts,
      allowForeignAddress: config.passive.allowForeignAddress,
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
    proxyProtocol: config.proxyProtocol && proxyProtocolConfigToOptions(config.proxyProtocol),
    // Every root someone may upload to is swept of temporary uploads a crash left behind
    // (docs/server.md#uploads-atomic-resumable-or-direct); a read-only tree, however big, is not walked.
    uploads: { mode: config.uploads?.mode, fsync: config.uploads?.fsync, sweep: [...new Set([...new Set(writableRoots)].map((root) => (isS3Root(root) ? s3.storageFor(root, 'root') : new LocalStorage(root))))] },
  };
  return { options, log: { level: config.log?.level ?? 'info', file: config.log?.file, xferlog: config.log?.xferlog }, summary, logins, s3 };
}

/**
 * For a reload: the authenticator of `next`, but with the running user store of `previous` kept when its
 * cache settings are the same, so the verified-credential cache and the per-address bound on verifications
 * (brute-force protection) survive the reload. `commit()` then puts next's accounts into that store
 * (ConfigUserStore.update: cached verifications of changed or removed users are dropped); call it once the
 * new options are in use. Until then the kept store answers with the previous accounts, as before the reload.
 */
export function keepUserStore(previous: ServePlan, next: ServePlan): { authenticator: Authenticator; commit(): void } {
  const kept = previous.logins.users;
  const fresh = next.logins.users;
  if (!kept || !fresh || kept.cacheKey !== fresh.cacheKey) return { authenticator: next.options.authenticator, commit: () => {} };
  const list = [next.logins.anonymous, kept.store].filter((a): a is NonNullable<typeof a> => a !== undefined);
  return {
    authenticator: list.length === 1 ? list[0]! : new CompositeAuthenticator(list),
    commit: () => {
      kept.store.update(fresh.accounts);
      next.logins.users = kept.accounts === fresh.accounts ? kept : { ...fresh, store: kept.store };
    },
  };
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
    maxUploadBytes: limits?.maxUploadBytes,
    quotaRescanMs: limits?.quotaRescan,
    maxSessionsPerUser: limits?.maxSessionsPerUser,
    maxSessionsByUser,
    commandsPerSecond: limits?.commandsPerSecond,
    commandBurst: limits?.commandBurst,
    commandRateCloseMs: limits?.commandRateClose,
    maxDataSetupsWithoutTransfer: limits?.maxDataSetupsWithoutTransfer,
    maxCompressedTransfers: limits?.maxCompressedTransfers,
    maxInflateRatio: limits?.maxInflateRatio,
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
    let storage: LocalStorage | Storage;
    try {
      // An s3:// root: the bucket exists and the credentials may list it (storage/s3/check.ts).
      storage = isS3Root(root) ? await plan.s3.check(root, key) : await LocalStorage.open(root);
    } catch (err) {
      if (err instanceof FtpConfigError) throw err;
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
  // A home inside a virtual folder is in that folder's root, not the account's: not checked here.
  const baseHome = (home: string | undefined, folders: { path: string }[] | undefined) =>
    home !== undefined && (folders ?? []).some((f) => isWithin(f.path, home)) ? undefined : home;
  if (plan.summary.anonymous) {
    await check(plan.summary.anonymous.root, config.anonymous?.root ? 'anonymous.root' : 'DIR', baseHome(config.anonymous?.home, config.anonymous?.folders), 'anonymous.home');
    await Promise.all((config.anonymous?.folders ?? []).map((f, i) => check(f.root, `anonymous.folders.${i}.root`, undefined, '')));
  }
  await Promise.all((config.users ?? []).map((u, i) => check(u.root, `users.${i}.root`, baseHome(u.home, u.folders), `users.${i}.home`)));
  await Promise.all((config.users ?? []).flatMap((u, i) => (u.folders ?? []).map((f, j) => check(f.root, `users.${i}.folders.${j}.root`, undefined, ''))));
}
