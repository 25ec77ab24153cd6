/**
 * `ftpkit serve` flags as a configuration overlay: validated with the configuration file's schema
 * (src/server/config/schema.ts), so a flag and its file key accept the same values, and an error names the
 * flag the user typed rather than the key it maps to.
 */
import { resolve } from 'node:path';
import { FtpConfigError, FtpUsageError } from '../errors.js';
import { parsePermissionText, isPermissionName } from '../server/auth/permissions.js';
import { validateConfig } from '../server/config/load.js';
import type { ServeConfig, ServeConfigInput } from '../server/config/schema.js';
import type { LogLevel } from '../server/log/json-logger.js';
import { parsePasvAddressMap } from '../server/nat/cli-syntax.js';
import type { UploadMode } from '../server/storage/types.js';
import { tlsFlagsToConfig, type TlsFlagMode } from '../server/tls/config.js';

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
