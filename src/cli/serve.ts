/**
 * Owns `ftpkit serve [DIR]`: the FTP daemon. Flags and/or a configuration file (flags win) become a
 * ServeConfig, which src/server/config maps onto FtpServerOptions; the JSON-lines logger subscribes to the
 * server's events; SIGINT/SIGTERM close it gracefully; SIGHUP reopens the log files and reloads the
 * configuration (serve-reload.ts). Started as root it drops to run.user after binding (privileges.ts).
 *
 * Without options it behaves like `python -m pyftpdlib`: DIR (default the current folder) served
 * anonymously and read-only on port 2121, with a banner saying where and how to connect. The banner goes to
 * stdout, the log to stderr (or --log-file).
 */
import { parsePasvAddressMap } from '../server/nat/cli-syntax.js';
import { existsSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { FtpConfigError, FtpUsageError } from '../errors.js';
import { parsePermissionText, isPermissionName } from '../server/auth/permissions.js';
import { loadConfigFile, validateConfig } from '../server/config/load.js';
import { checkRoots, mergeConfig, planServe, type ServePlan } from '../server/config/to-options.js';
import { openServeDatabase } from './serve-database.js';
import type { ServeConfig, ServeConfigInput } from '../server/config/schema.js';
import { FtpServer } from '../server/ftp-server.js';
import { DEFAULT_PASSIVE_PORT_RANGE } from '../server/resolved-options.js';
import { JsonLogger, openLogFile, type LogLevel } from '../server/log/json-logger.js';
import { XferLogger } from '../server/log/xferlog.js';
import type { UploadMode } from '../server/storage/types.js';
import { tlsFlagsToConfig, type TlsFlagMode } from '../server/tls/config.js';
import { urlHost } from '../protocol/hostport.js';
import { checkReadable, checkRootsUsable, dropPrivileges, logReopenProblems, privilegePlan, servedRoots, tlsFiles, type Identity } from './privileges.js';
import { systemdListeners } from './systemd-fds.js';
import { describeReload, reloadServe, type ReloadHost, type ReloadOutcome } from './serve-reload.js';
import { prepareServeAdmin, startServeAdmin } from './serve-admin.js';

export interface ServeFlags {
  port?: number;
  host?: string;
  pasvPorts?: string;
  pasvAddress?: string;
  /** NAT (src/server/nat/): repeatable "CIDR[,CIDR]=ADDRESS" per-client-network rules. */
  pasvAddressMap?: string[];
  /** NAT: ports to advertise for --pasv-ports behind a port-mapping NAT. */
  pasvAdvertisedPorts?: string;
  write?: boolean;
  anonymous?: boolean;
  user?: string[];
  config?: string;
  logLevel?: string;
  logFile?: string;
  /** Transfer log file (xferlog format). */
  xferlog?: string;
  /** atomic, resumable or direct. */
  uploadMode?: string;
  tls?: TlsFlagMode;
  cert?: string;
  key?: string;
  implicitPort?: number;
  maxSessions?: number;
  maxSessionsPerAddress?: number;
  /** How long a verified password is remembered ("5m", "0" turns the cache off). */
  credentialCacheTtl?: string;
  /** Started as root: the user (and group) to become after binding (run.user, run.group). */
  runUser?: string;
  runGroup?: string;
  /** Started as root without --run-user: stay root instead of refusing to start. */
  allowRoot?: boolean;
  /** Validate the configuration (files, hashes, folders, certificate, user) and exit without serving. */
  check?: boolean;
  /** The admin page, /metrics and /health on HOST:PORT (admin.listen; src/server/admin/). */
  admin?: string;
  /** File holding the admin token (admin.tokenFile); else admin.token or $FTPKIT_ADMIN_TOKEN. */
  adminTokenFile?: string;
}

/** Config key -> the flag that sets it, so a bad flag value is reported under the flag's name. */
const FLAG_FOR_KEY: Record<string, string> = {
  port: '--port', host: '--host', 'passive.ports': '--pasv-ports', 'passive.address': '--pasv-address',
  'passive.advertisedPorts': '--pasv-advertised-ports',
  'log.level': '--log-level', 'log.file': '--log-file', 'log.xferlog': '--xferlog',
  'tls.cert': '--cert', 'tls.key': '--key', 'tls.implicitPort': '--implicit-port',
  'limits.maxSessions': '--max-sessions', 'limits.maxSessionsPerAddress': '--max-sessions-per-address',
  'credentialCache.ttl': '--credential-cache-ttl',
  'run.user': '--run-user', 'run.group': '--run-group', 'run.allowRoot': '--allow-root',
  'admin.listen': '--admin', 'admin.tokenFile': '--admin-token-file',
};




/**
 * `--user NAME:HASH:ROOT[:PERMS]`. HASH is the `$scrypt$...` string of `ftpkit hash-password` (quote it:
 * it contains `$`); ROOT is relative to the current folder; PERMS a preset or a comma list.
 */
export function parseUserFlag(text: string): NonNullable<ServeConfigInput['users']>[number] {
  const parts = text.split(':');
  if (parts.length < 3 || !parts[0] || !parts[1]) {
    throw new FtpUsageError(`--user expects NAME:HASH:ROOT[:PERMS] (HASH from \`ftpkit hash-password\`), got ${JSON.stringify(text.split(':')[0] + ':...')}`);
  }
  const [name, password, ...rest] = parts as [string, string, ...string[]];
  let permissions: ReturnType<typeof parsePermissionText> | undefined;
  const last = rest.at(-1) ?? '';
  const looksLikePerms = last === 'read-only' || last === 'read-write' || (last !== '' && last.split(',').every((p) => isPermissionName(p.trim())));
  if (rest.length >= 2 && looksLikePerms) {
    permissions = parsePermissionText(last);
    rest.pop();
  }
  const root = rest.join(':');
  if (!root) throw new FtpUsageError(`--user ${name}: ROOT folder missing (NAME:HASH:ROOT[:PERMS])`);
  return { name, password, root: resolve(root), ...(permissions ? { permissions: { preset: 'read-only' as const, ...permissions } } : {}) };
}

/** Flags as a configuration overlay (validated with the file's schema; errors name the flag). */
export function flagsToConfig(flags: ServeFlags): ServeConfig {
  const input: ServeConfigInput = {};
  if (flags.port !== undefined) input.port = flags.port;
  if (flags.host !== undefined) input.host = flags.host;
  if (flags.pasvPorts !== undefined || flags.pasvAddress !== undefined || flags.pasvAddressMap?.length || flags.pasvAdvertisedPorts !== undefined) {
    input.passive = {};
    if (flags.pasvPorts !== undefined) input.passive.ports = flags.pasvPorts;
    if (flags.pasvAddress !== undefined) input.passive.address = flags.pasvAddress;
    // NAT flags (src/server/nat/cli-syntax.ts): errors name the flag.
    if (flags.pasvAddressMap?.length) {
      try { input.passive.addressMap = flags.pasvAddressMap.map(m => parsePasvAddressMap(m)); } catch (err) {
        throw err instanceof FtpConfigError ? new FtpUsageError(err.message, { cause: err }) : err;
      }
    }
    if (flags.pasvAdvertisedPorts !== undefined) input.passive.advertisedPorts = flags.pasvAdvertisedPorts;
  }
  if (flags.maxSessions !== undefined || flags.maxSessionsPerAddress !== undefined) {
    input.limits = {};
    if (flags.maxSessions !== undefined) input.limits.maxSessions = flags.maxSessions;
    if (flags.maxSessionsPerAddress !== undefined) input.limits.maxSessionsPerAddress = flags.maxSessionsPerAddress;
  }
  if (flags.write !== undefined || flags.anonymous !== undefined) {
    input.anonymous = {};
    if (flags.write !== undefined) input.anonymous.write = flags.write;
    if (flags.anonymous !== undefined) input.anonymous.enabled = flags.anonymous;
  }
  if (flags.user?.length) input.users = flags.user.map(parseUserFlag);
  if (flags.uploadMode !== undefined) input.uploads = { mode: flags.uploadMode as UploadMode };
  if (flags.credentialCacheTtl !== undefined) input.credentialCache = { ttl: flags.credentialCacheTtl };
  if (flags.runUser !== undefined || flags.runGroup !== undefined || flags.allowRoot !== undefined) {
    input.run = {};
    if (flags.runUser !== undefined) input.run.user = flags.runUser;
    if (flags.runGroup !== undefined) input.run.group = flags.runGroup;
    if (flags.allowRoot !== undefined) input.run.allowRoot = flags.allowRoot;
  }
  if (flags.logLevel !== undefined || flags.logFile !== undefined || flags.xferlog !== undefined) {
    input.log = {};
    if (flags.logLevel !== undefined) input.log.level = flags.logLevel as LogLevel;
    if (flags.logFile !== undefined) input.log.file = resolve(flags.logFile);
    if (flags.xferlog !== undefined) input.log.xferlog = resolve(flags.xferlog);
  }
  const tls = tlsFlagsToConfig({
    tls: flags.tls,
    cert: flags.cert === undefined ? undefined : resolve(flags.cert),
    key: flags.key === undefined ? undefined : resolve(flags.key),
    implicitPort: flags.implicitPort,
  });
  if (tls) input.tls = tls;
  if (flags.admin !== undefined || flags.adminTokenFile !== undefined) {
    input.admin = { listen: flags.admin ?? '127.0.0.1:8021', ...(flags.adminTokenFile !== undefined ? { tokenFile: resolve(flags.adminTokenFile) } : {}) };
  }
  try {
    return validateConfig(input);
  } catch (err) {
    if (!(err instanceof FtpConfigError)) throw err;
    const userMatch = /^users\.(\d+)\.(.+)$/.exec(err.key);
    const flag = userMatch ? `--user ${flags.user?.[Number(userMatch[1])]?.split(':')[0] ?? ''} (${userMatch[2]})` : FLAG_FOR_KEY[err.key] ?? err.key;
    throw new FtpUsageError(`${flag}: ${err.message.slice(err.key.length + 2)}`, { cause: err });
  }
}

/** The URL host to show: loopback for a wildcard listener, brackets for IPv6. */
function displayHost(host: string | undefined): string {
  if (host === undefined || host === '::' || host === '0.0.0.0' || host === '') return '127.0.0.1';
  return urlHost(host);
}

/** What the banner says about FTPS, or nothing when TLS is off. */
function tlsLine(plan: ServePlan, implicitPort: number | undefined): string | undefined {
  const tls = plan.options.tls;
  if (!tls) return undefined;
  const modes: string[] = [];
  if (tls.explicit !== false) modes.push('explicit (AUTH TLS)');
  if (implicitPort !== undefined) modes.push(`implicit on port ${implicitPort}`);
  const required = tls.require === 'data' ? 'required for login and data' : tls.require === 'login' ? 'required for login' : 'optional';
  const cert = tls.certFile ? `certificate ${tls.certFile}` : `self-signed certificate kept in ${tls.stateDir}`;
  return `  FTPS: ${modes.join(', ')}; ${required}; ${cert}`;
}

/**
 * How to connect, with the TLS flags the first login needs: a plain `curl ftp://` is refused (530) when TLS
 * is required, and a self-signed certificate needs curl's -k / ftpkit's --insecure.
 */
function tryLine(plan: ServePlan, url: string, host: string, implicitPort: number | undefined): string {
  const { anonymous, users } = plan.summary;
  const user = anonymous ? undefined : users[0]?.name;
  const tls = plan.options.tls;
  const requirement = !tls ? 'none'
    : user === undefined ? tls.requireAnonymous ?? tls.require ?? 'none'
      : tls.users?.[user] ?? tls.require ?? 'none';
  const u = user !== undefined ? ` -u ${user}` : '';
  if (!tls || requirement === 'none') {
    return user !== undefined ? `  try: curl${u} ${url}/` : `  try: curl ${url}/   or   lftp ${url}`;
  }
  const insecure = tls.certFile ? '' : ' -k';
  const ftpkitInsecure = tls.certFile ? '' : ' --insecure';
  const userInUrl = user !== undefined ? `${encodeURIComponent(user)}@` : '';
  if (tls.explicit === false && implicitPort !== undefined) {
    const ftps = `ftps://${userInUrl}${host}:${implicitPort}/`;
    return `  try: curl${insecure}${u} ftps://${host}:${implicitPort}/   or   ftpkit ls${ftpkitInsecure} ${ftps}`;
  }
  return `  try: curl --ssl-reqd${insecure}${u} ${url}/   or   ftpkit ls --tls-required${ftpkitInsecure} ${url.replace('ftp://', `ftp://${userInUrl}`)}/`;
}

/**
 * The banner. `boundAddress` is what the listener really got: without --host the server tries "::" (both
 * families) and falls back to 0.0.0.0 where the machine has no IPv6.
 */
export function bannerLines(plan: ServePlan, port: number, implicitPort?: number, boundAddress?: string): string[] {
  const host = displayHost(plan.options.host);
  const url = `ftp://${host}:${port}`;
  const { anonymous, users } = plan.summary;
  const lines: string[] = [];
  if (anonymous) {
    lines.push(`ftpkit serving ${anonymous.root} ${anonymous.description} on ${url} (anonymous)`);
    for (const f of anonymous.folders ?? []) lines.push(`    folder ${f.path}: ${f.root} (${f.description})`);
  } else {
    lines.push(`ftpkit serving ${users.length} user${users.length === 1 ? '' : 's'} on ${url}`);
  }
  for (const u of users) {
    lines.push(`  user ${u.name}: ${u.root} (${u.description})`);
    for (const f of u.folders ?? []) lines.push(`    folder ${f.path}: ${f.root} (${f.description})`);
  }
  const where = plan.options.host !== undefined ? `${plan.options.host} port ${port}`
    : boundAddress === '0.0.0.0' ? `all IPv4 addresses (no IPv6 here), port ${port}` : `all addresses, IPv4 and IPv6, port ${port}`;
  const pasv = plan.options.passive?.portRange ?? DEFAULT_PASSIVE_PORT_RANGE;
  const advertised = plan.options.passive?.address ? `, advertising ${plan.options.passive.address}` : '';
  lines.push(`  listening on ${where}; passive ports ${pasv.min}-${pasv.max}${advertised}`);
  const tls = tlsLine(plan, implicitPort);
  if (tls) lines.push(tls);
  lines.push(tryLine(plan, url, host, implicitPort));
  lines.push('  stop with Ctrl-C');
  return lines;
}

export interface RunningServe {
  server: FtpServer;
  plan: ServePlan;
  port: number;
  /** Close gracefully and flush the log. */
  stop(): Promise<void>;
  /** Reopen the log files (JSON and xferlog, after logrotate renamed them); no-op when logging to stderr. */
  reopenLog(): Promise<void>;
  /** Re-read the configuration and apply it, or refuse it and keep the running one (SIGHUP). Never throws. */
  reload(): Promise<ReloadOutcome>;
  /** Who the process became after binding (started as root with run.user), or undefined. */
  identity: Identity | undefined;
  /** The admin page's URL, when the configuration has an admin section. */
  adminUrl: string | undefined;
}

/** The file named by --config (if any) with the flags over it: what start and every reload read. */
export async function readServeConfig(dir: string | undefined, flags: ServeFlags): Promise<ServeConfig> {
  const fromFile = flags.config ? await loadConfigFile(flags.config) : validateConfig({});
  const config = mergeConfig(fromFile, flagsToConfig(flags));
  if (dir !== undefined && config.anonymous?.root !== undefined) {
    // DIR is the anonymous root; it beats anonymous.root from the file, like every flag.
    const { root: _fromFile, ...rest } = config.anonymous;
    config.anonymous = rest;
  }
  return config;
}

/** Build, start and log a server from flags (and the file named by --config). */
export async function startServe(dir: string | undefined, flags: ServeFlags, out: Writable = process.stdout): Promise<RunningServe> {
  const config = await readServeConfig(dir, flags);
  // Root without run.user (and without allowRoot) is refused before anything is bound.
  const identity = privilegePlan(config);
  const defaultRoot = resolve(dir ?? '.');
  const plan = planServe(config, defaultRoot);
  await checkRoots(plan, config);
  const adminOptions = await prepareServeAdmin(config);

  // Log files this start creates are handed to run.user (as logrotate's `create` would), so that the
  // reopen on SIGHUP works after the drop; files that exist keep their owner (the operator chose it).
  const createdLogs = identity ? [plan.log.file, plan.log.xferlog].filter((f): f is string => f !== undefined && !existsSync(f)) : [];
  const logStream = plan.log.file ? await openLogFile(plan.log.file) : process.stderr;
  const logger = new JsonLogger({
    level: plan.log.level,
    stream: logStream,
    onError: (err) => process.stderr.write(`ftpkit: logging stopped, the log cannot be written: ${err.message}\n`),
  });
  // The transfer log (xferlog format) beside the JSON lines; opened now so a bad path fails the start.
  const xferlog = plan.log.xferlog ? new XferLogger({
    stream: await openLogFile(plan.log.xferlog),
    onError: (err) => process.stderr.write(`ftpkit: transfer log stopped, ${plan.log.xferlog} cannot be written: ${err.message}\n`),
  }) : undefined;
  for (const file of createdLogs) await chown(file, identity!.uid, identity!.gid);
  // PostgreSQL (config.database): users beside the configured ones, shared bans and quota usage.
  const database = await openServeDatabase(config, plan.s3);
  let server: FtpServer;
  try {
    server = new FtpServer(database ? { ...plan.options, authenticator: database.combine(plan.options.authenticator) } : plan.options,
      database?.services.extensions);
  } catch (err) {
    await database?.services.close(); // an open pool would keep the process alive
    throw err;
  }
  database?.services.attach(server);
  const detachJson = logger.attach(server);
  const detachXfer = xferlog?.attach(server);
  const detach = () => { detachJson(); detachXfer?.(); };
  let addresses;
  try {
    // Socket activation (deploy/ftpkit.socket): systemd's sockets instead of binding host/port.
    const inherited = systemdListeners();
    if (inherited.implicit !== undefined && !plan.options.tls) {
      throw new FtpConfigError('tls', 'systemd passed a second socket for implicit FTPS, but the configuration has no tls section');
    }
    addresses = await server.listen(inherited);
  } catch (err) {
    detach();
    await database?.services.close();
    if (logStream !== process.stderr) logStream.end();
    await xferlog?.replaceStream(process.stderr); // ends the file
    throw err;
  }
  const port = addresses[0]?.port ?? plan.options.port ?? 2121;
  let stopping: Promise<void> | undefined;
  let admin: Awaited<ReturnType<typeof startServeAdmin>>;
  const stop = () => {
    stopping ??= (async () => {
      // The admin listener stays up while sessions finish: /health answers 503 "draining" meanwhile.
      await server.close();
      await database?.services.close();
      await admin?.close();
      detach();
      // Flush and end the files.
      await Promise.all([logger.replaceStream(process.stderr), xferlog?.replaceStream(process.stderr)]);
    })();
    return stopping;
  };
  try {
    admin = await startServeAdmin({ server, reload: () => running.reload(), log: (level, event, fields) => logger.log(level, event, fields) }, adminOptions);
  } catch (err) {
    await stop();
    throw err;
  }
  if (identity) {
    // Listeners bound, log files open (and the self-signed certificate, if any, generated): now root goes.
    try {
      dropPrivileges(identity);
      // Every root must still be usable by the new user: say so now, not as 550s after login.
      await checkRootsUsable(servedRoots(plan, config), identity);
      await checkReadable(tlsFiles(plan), identity);
    } catch (err) {
      await stop();
      throw err;
    }
    logger.log('info', 'privileges-dropped', { user: identity.label, uid: identity.uid, gid: identity.gid });
    const logFiles = [{ key: 'log.file', path: plan.log.file }, { key: 'log.xferlog', path: plan.log.xferlog }]
      .filter((f): f is { key: string; path: string } => f.path !== undefined);
    for (const message of await logReopenProblems(logFiles, identity)) {
      process.stderr.write(`ftpkit: warning: ${message}\n`);
      logger.log('warn', 'warning', { code: 'log-reopen', message });
    }
  }
  const lines = bannerLines(plan, port, server.implicitAddress()?.port, addresses[0]?.address);
  if (identity) lines.splice(-1, 0, `  running as ${identity.label}`);
  if (database) lines.splice(-1, 0, database.description);
  if (admin) lines.splice(-1, 0, `  admin page, /metrics and /health: ${admin.url()}`);
  out.write(lines.join('\n') + '\n');

  /** Log rotation: start fresh files under the configured names (the old ones were renamed away). */
  const reopenLog = async () => {
    await Promise.all([
      plan.log.file && logger.replaceStream(await openLogFile(plan.log.file)),
      plan.log.xferlog && xferlog?.replaceStream(await openLogFile(plan.log.xferlog)),
    ]);
  };
  const host: ReloadHost = {
    server, defaultRoot, current: { config, plan },
    ...(database ? { combine: database.combine } : {}),
    readConfig: () => readServeConfig(dir, flags),
    log: (level, event, fields) => logger.log(level, event, fields),
    ...(identity ? { checkAccess: (p: ServePlan, c: ServeConfig) => checkRootsUsable(servedRoots(p, c), identity) } : {}),
  };
  // One reload at a time: a second SIGHUP waits for the first.
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = () => {
    const next = reloading.then(() => reloadServe(host));
    reloading = next;
    return next;
  };
  const running: RunningServe = { server, plan, port, stop, reopenLog, reload, identity, adminUrl: admin?.url() };
  return running;
}

/** `ftpkit serve`: start, then run until SIGINT/SIGTERM (SIGHUP reopens the log files and reloads the configuration). */
export async function runServe(dir: string | undefined, flags: ServeFlags): Promise<void> {
  const running = await startServe(dir, flags);
  await new Promise<void>((done) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        // A second Ctrl-C: do not wait for transfers any longer.
        process.exit(130);
      }
      process.stderr.write(`ftpkit: ${signal}, closing (running transfers may finish; again to force)\n`);
      running.stop().then(done, done);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // SIGHUP (logrotate's postrotate, `systemctl reload`): reopen the log files, then reload the configuration.
    process.on('SIGHUP', () => {
      running.reopenLog().then(
        () => {
          const files = [running.plan.log.file, running.plan.log.xferlog].filter(Boolean);
          if (files.length) process.stderr.write(`ftpkit: log file${files.length > 1 ? 's' : ''} reopened: ${files.join(', ')}\n`);
        },
        (err: Error) => process.stderr.write(`ftpkit: cannot reopen a log file: ${err.message}\n`),
      ).then(() => running.reload()).then((outcome) => process.stderr.write(`ftpkit: ${describeReload(outcome)}\n`));
    });
  });
  // Sockets still draining must not keep the process alive past a graceful close.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
}
