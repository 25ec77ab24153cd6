/**
 * Owns running `ftpkit serve` as a daemon started by root: decide before binding whether (and to whom) the
 * process will drop its privileges, and drop them after the listeners are bound and the log files are open,
 * the way vsftpd (nopriv_user), pure-ftpd and proftpd (User/Group) do.
 *
 * - Started as root with `run.user` (`--run-user`): bind 21/990, open the logs, then setgroups([gid]),
 *   setgid(gid), setuid(uid), in that order (the group calls need root, so they come first; the
 *   supplementary groups of root must not survive), and verify: real and effective ids are the new ones, and
 *   setuid(0) fails. Anything else is fatal: a daemon that believes it dropped root and did not is worse than
 *   one that does not start.
 * - Started as root without `run.user`: refused (exit 2) unless `run.allowRoot` (`--allow-root`), or
 *   FTPKIT_ALLOW_ROOT=1 in the environment (Composer's COMPOSER_ALLOW_SUPERUSER idea: containers whose only
 *   user is root, and test suites that run as root and spawn many servers).
 * - Started as another user (systemd User=, or setcap on node): nothing to drop; a `run.user` naming that
 *   same user is accepted, so one configuration serves both ways.
 *
 * Privileged ports after the drop: Linux clears every capability when all of a process's uids leave 0
 * (capabilities(7), "Effect of user ID changes"), and Node cannot keep them (no prctl/capset). Listeners are
 * bound before the drop and stay, but a port below 1024 bound *per transfer* cannot: the active-mode source
 * port (active.sourcePort 20, bound for every PORT/EPRT connect-back, src/server/nat/active-source.ts) and a
 * passive range below 1024. Those are refused at start with what to do instead: start as the unprivileged
 * user with CAP_NET_BIND_SERVICE granted (systemd AmbientCapabilities=, deploy/ftpkit.service; or setcap on
 * the node binary), or do without the low port.
 */
import { access, constants } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { FtpConfigError } from '../errors.js';
import type { ServeConfig } from '../server/config/schema.js';
import type { ServePlan } from '../server/config/to-options.js';
import { DEFAULT_PASSIVE_PORT_RANGE } from '../server/resolved-options.js';
import { SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE } from '../server/tls/certificates.js';
import { dirname, join } from 'node:path';

export interface RunSettings {
  user?: string;
  group?: string;
  allowRoot?: boolean;
}

/** The process calls used here (a seam: unit tests pass a fake, the CLI passes `process`). */
export interface PosixIds {
  getuid(): number;
  geteuid(): number;
  getgid(): number;
  getegid(): number;
  getgroups(): number[];
  setgroups(groups: Array<number | string>): void;
  setgid(id: number | string): void;
  setegid(id: number | string): void;
  setuid(id: number | string): void;
  seteuid(id: number | string): void;
}

/** Who the process becomes after binding. */
export interface Identity {
  uid: number;
  gid: number;
  /** For messages: "nobody:nogroup (65534:65534)". */
  label: string;
}

/** Low ports the server binds after start-up (per transfer), with the configuration key that asks for each. */
export interface LateBinds {
  activeSourcePort?: number;
  passiveRange?: { min: number; max: number };
}

/** `process` when it has the POSIX id calls (not on Windows). */
export function processIds(): PosixIds | undefined {
  return typeof process.getuid === 'function' && typeof process.setuid === 'function' ? process as unknown as PosixIds : undefined;
}

/** A numeric text is an id, anything else a name (Node looks names up with getpwnam/getgrnam). */
function idOf(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/**
 * Resolve user and group to numeric ids while still root, so an unknown name fails before anything is bound.
 * Node has no getpwnam(); seteuid(name) does the same lookup, and os.userInfo() then reads the passwd entry
 * of the effective uid (its primary group). The effective ids are put back at once (the saved uid is 0).
 */
export function lookupIdentity(run: RunSettings & { user: string }, ids: PosixIds, passwdOf: () => { uid: number; gid: number } = () => userInfo()): Identity {
  const euid = ids.geteuid();
  const egid = ids.getegid();
  let uid: number;
  let primaryGid: number | undefined;
  try {
    ids.seteuid(idOf(run.user));
  } catch (err) {
    throw new FtpConfigError('run.user', `no such user "${run.user}" (${(err as Error).message})`, { cause: err });
  }
  try {
    uid = ids.geteuid();
    try { primaryGid = passwdOf().gid; } catch { primaryGid = undefined; } // a numeric uid without a passwd entry
  } finally {
    ids.seteuid(euid);
  }
  let gid: number;
  if (run.group !== undefined) {
    try {
      ids.setegid(idOf(run.group));
      gid = ids.getegid();
    } catch (err) {
      throw new FtpConfigError('run.group', `no such group "${run.group}" (${(err as Error).message})`, { cause: err });
    } finally {
      ids.setegid(egid);
    }
  } else if (primaryGid !== undefined) {
    gid = primaryGid;
  } else {
    throw new FtpConfigError('run.group', `user ${run.user} has no passwd entry, so no primary group: set run.group (--run-group)`);
  }
  if (uid === 0) throw new FtpConfigError('run.user', `"${run.user}" is root: name an unprivileged user (e.g. a dedicated "ftpkit" account)`);
  if (gid === 0) throw new FtpConfigError('run.group', `group "${run.group ?? gid}" is root's group (gid 0): name an unprivileged group`);
  return { uid, gid, label: `${run.user}:${run.group ?? gid} (${uid}:${gid})` };
}

/**
 * Before binding: the identity to drop to, or undefined when there is nothing to drop. Throws FtpConfigError
 * (exit 2) for root without run.user or run.allowRoot, for a run.user that cannot be had, and for low ports
 * that would be needed after the drop.
 */
export function planPrivilegeDrop(run: RunSettings | undefined, late: LateBinds, ids: PosixIds | undefined = processIds(), passwdOf?: () => { uid: number; gid: number }): Identity | undefined {
  if (!ids) {
    if (run?.user !== undefined) throw new FtpConfigError('run.user', 'changing the user is not supported on this platform (no setuid)');
    return undefined;
  }
  const root = ids.geteuid() === 0;
  if (!root) {
    if (run?.user !== undefined) {
      const me = ids.geteuid();
      const wanted = idOf(run.user);
      const same = typeof wanted === 'number' ? wanted === me : safeName() === wanted;
      if (!same) {
        throw new FtpConfigError('run.user', `switching to user "${run.user}" needs root, and ftpkit runs as uid ${me}: start it as root, or as that user`);
      }
    }
    return undefined;
  }
  if (run?.user === undefined) {
    if (run?.allowRoot || allowRootFromEnv()) return undefined;
    throw new FtpConfigError('run.user', 'refusing to run as root: set run.user (--run-user NAME) to drop to an unprivileged user after binding, '
      + 'or run.allowRoot: true (--allow-root, or FTPKIT_ALLOW_ROOT=1) to stay root (not recommended)');
  }
  const identity = lookupIdentity({ ...run, user: run.user }, ids, passwdOf);
  const why = 'a process that drops from root loses every capability (capabilities(7)), and this port is bound again for every transfer; '
    + 'start ftpkit as the unprivileged user with CAP_NET_BIND_SERVICE instead (systemd AmbientCapabilities=, see deploy/ftpkit.service, or setcap on node)';
  if (late.activeSourcePort !== undefined && late.activeSourcePort < 1024) {
    throw new FtpConfigError('active.sourcePort', `port ${late.activeSourcePort} cannot be used after dropping to ${identity.label}: ${why}; or remove active.sourcePort`);
  }
  if (late.passiveRange && late.passiveRange.min < 1024) {
    throw new FtpConfigError('passive.ports', `ports below 1024 cannot be used after dropping to ${identity.label}: ${why}; or choose a range above 1023`);
  }
  return identity;
}

/** FTPKIT_ALLOW_ROOT=1 (or true/yes): like run.allowRoot. */
export function allowRootFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.FTPKIT_ALLOW_ROOT ?? '');
}

function safeName(): string | undefined {
  try { return userInfo().username; } catch { return undefined; }
}

/**
 * Drop to `identity`: supplementary groups, group, then user; verified. Throws FtpConfigError (fatal) when
 * any step fails or the result is not exactly the identity asked for.
 */
export function dropPrivileges(identity: Identity, ids: PosixIds = processIds()!): void {
  const fail = (what: string, cause?: unknown): never => {
    throw new FtpConfigError('run.user', `cannot drop privileges to ${identity.label}: ${what}`, cause === undefined ? undefined : { cause });
  };
  try {
    ids.setgroups([identity.gid]);
    ids.setgid(identity.gid);
    ids.setuid(identity.uid);
  } catch (err) {
    fail((err as Error).message, err);
  }
  if (ids.getuid() !== identity.uid || ids.geteuid() !== identity.uid) fail(`uid is ${ids.getuid()}/${ids.geteuid()} after setuid`);
  if (ids.getgid() !== identity.gid || ids.getegid() !== identity.gid) fail(`gid is ${ids.getgid()}/${ids.getegid()} after setgid`);
  if (ids.getgroups().some((g) => g !== identity.gid)) fail(`supplementary groups ${ids.getgroups().join(',')} remain`);
  let regained = false;
  try { ids.setuid(0); regained = true; } catch { /* expected: root cannot be had back */ }
  if (regained) fail('setuid(0) succeeded afterwards, so root could be regained');
}

/** A folder served to some login: the key that configures it, and whether that login may change it. */
export interface ServedRoot {
  key: string;
  root: string;
  writable: boolean;
}

/**
 * After the drop: every served folder must be usable by the new user (read and search; write too when the
 * login may upload, create, delete or rename). Checked with access(2), which asks with the real ids, now
 * the new ones; a root-only folder would otherwise show up as 550s after login. Throws FtpConfigError.
 */
export async function checkRootsUsable(roots: readonly ServedRoot[], identity: Identity): Promise<void> {
  for (const { key, root, writable } of roots) {
    const mode = constants.R_OK | constants.X_OK | (writable ? constants.W_OK : 0);
    try {
      await access(root, mode);
    } catch (err) {
      const need = writable ? 'read, search and write' : 'read and search';
      throw new FtpConfigError(key, `${root}: permission denied for ${identity.label}, which needs ${need} there `
        + `(${(err as NodeJS.ErrnoException).code}); change its owner or mode, or run as another user`, { cause: err });
    }
  }
}

const WRITES = ['write', 'append', 'delete', 'rename', 'mkdir', 'rmdir', 'chmod'] as const;

/** The folders logins get, with the key naming each (for the check after the drop). */
export function servedRoots(plan: ServePlan, config: ServeConfig): ServedRoot[] {
  const roots: ServedRoot[] = [];
  const anon = plan.summary.anonymous;
  if (anon) roots.push({ key: config.anonymous?.root ? 'anonymous.root' : 'DIR', root: anon.root, writable: WRITES.some((w) => anon.permissions[w]) });
  plan.logins.users?.accounts.forEach((u, i) => roots.push({
    key: `users.${i}.root`, root: u.root as string, writable: WRITES.some((w) => u.permissions?.[w] ?? true),
  }));
  // An s3:// root is an object store, not a folder of this host: nothing to access(2).
  return roots.filter((r) => r.root !== undefined && !/^s3:\/\//i.test(r.root));
}

/** For `serve`: who the process becomes after binding; throws FtpConfigError before anything is bound. */
export function privilegePlan(config: ServeConfig): Identity | undefined {
  return planPrivilegeDrop(config.run, {
    activeSourcePort: config.active?.sourcePort,
    passiveRange: config.passive?.ports ?? DEFAULT_PASSIVE_PORT_RANGE,
  });
}

/**
 * The TLS files the server reads again after start (on every new connection when they change, and on a
 * reload): after the drop they must be readable by the new user, or certificate rotations would go
 * unnoticed (a warning per connection) and every reload would be refused. A self-signed certificate
 * generated before the drop in root's home is the usual case: set tls.stateDir to a folder of the service.
 */
export function tlsFiles(plan: ServePlan): Array<{ key: string; path: string }> {
  const tls = plan.options.tls;
  if (!tls) return [];
  if (tls.certFile !== undefined) return [{ key: 'tls.cert', path: tls.certFile }, { key: 'tls.key', path: tls.keyFile ?? tls.certFile }];
  if (tls.stateDir !== undefined) {
    return [SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE].map((f) => ({ key: 'tls.stateDir', path: join(tls.stateDir!, f) }));
  }
  return [];
}

/** After the drop: each file must be readable by the new user. Throws FtpConfigError naming the key. */
export async function checkReadable(files: ReadonlyArray<{ key: string; path: string }>, identity: Identity): Promise<void> {
  for (const { key, path } of files) {
    try {
      await access(path, constants.R_OK);
    } catch (err) {
      const hint = key === 'tls.stateDir' ? 'set tls.stateDir to a folder of the service (e.g. /var/lib/ftpkit) or give tls.cert and tls.key'
        : 'make it readable by that user (e.g. group ftpkit, mode 0640)';
      throw new FtpConfigError(key, `${path} cannot be read by ${identity.label} (${(err as NodeJS.ErrnoException).code}), `
        + `and it is read again after start (certificate rotation, reload): ${hint}`, { cause: err });
    }
  }
}

/**
 * After the drop: every SIGHUP (a reload, logrotate's postrotate) reopens the log files by name, now as the
 * new user, which needs write access to the file and, after a rotation renamed it away, to its folder.
 * Files ftpkit itself created before the drop are root's (mode 0640), so without this check the first
 * sign is "cannot reopen a log file: EACCES" at the first reload. Not fatal: the open descriptors keep
 * working and logging goes on into the old file. Returns one sentence per file, naming its key.
 */
export async function logReopenProblems(files: ReadonlyArray<{ key: string; path: string }>, identity: Identity): Promise<string[]> {
  const problems: string[] = [];
  for (const { key, path } of files) {
    for (const [what, target] of [['the file', path], ['its folder', dirname(path)]] as const) {
      try {
        await access(target, constants.W_OK);
      } catch (err) {
        problems.push(`${key}: ${path} cannot be reopened by ${identity.label}: ${what} is not writable by it `
          + `(${(err as NodeJS.ErrnoException).code}), so a SIGHUP (reload, log rotation) keeps logging into the old file; `
          + 'make the file and its folder belong to that user (chown; logrotate: create 0640 USER GROUP)');
        break;
      }
    }
  }
  return problems;
}
