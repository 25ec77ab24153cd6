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
import { existsSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { FtpConfigError } from '../errors.js';
import { loadConfigFile, validateConfig } from '../server/config/load.js';
import { checkRoots, mergeConfig, planServe, type ServePlan } from '../server/config/to-options.js';
import { openServeDatabase, type ServeDatabase } from './serve-database.js';
import { bannerLines } from './serve-banner.js';
import { flagsToConfig, type ServeFlags } from './serve-flags.js';
import type { ServeConfig } from '../server/config/schema.js';
import { FtpServer } from '../server/ftp-server.js';
import type { FtpServerOptions } from '../server/options.js';
import { JsonLogger, openLogFile } from '../server/log/json-logger.js';
import { XferLogger } from '../server/log/xferlog.js';
import { checkReadable, checkRootsUsable, dropPrivileges, logReopenProblems, privilegePlan, servedRoots, tlsFiles, type Identity } from './privileges.js';
import { systemdListeners } from './systemd-fds.js';
import { describeReload, reloadServe, type ReloadHost, type ReloadOutcome } from './serve-reload.js';
import { prepareServeAdmin, startServeAdmin } from './serve-admin.js';

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
    server = new FtpServer(database ? await withDatabaseUsers(plan.options, database) : plan.options, database?.services.extensions);
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

/**
 * The server's options with the database's users beside the configured ones, and their folders added to the
 * start-up sweep of temporary uploads (a root both in the configuration and in the database is swept once).
 */
async function withDatabaseUsers(options: FtpServerOptions, database: ServeDatabase): Promise<FtpServerOptions> {
  const configured = options.uploads?.sweep ?? [];
  const known = new Set(configured.map((s) => (s as { root?: unknown }).root).filter((r) => typeof r === 'string'));
  const fromDatabase = (await database.uploadStorages()).filter((s) => {
    const { root } = s as { root?: unknown };
    return typeof root !== 'string' || !known.has(root);
  });
  return {
    ...options,
    authenticator: database.combine(options.authenticator),
    uploads: { ...options.uploads, sweep: [...configured, ...fromDatabase] },
  };
}
