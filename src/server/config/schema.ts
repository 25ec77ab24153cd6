/**
 * Owns the schema of the server configuration file (YAML or JSON), validated with zod.
 *
 * Every object is strict: a misspelt key is an error that names it (`users.1.permissions.wirte: unknown
 * key`), never silently ignored. Nothing here has defaults: "not given" must stay visible so that command
 * line flags can override the file and to-options.ts applies defaults in one place.
 *
 * Extending: a new section is one schema (here, or owned by its module like `tls`) plus one line in
 * `configSections`, one mapping in to-options.ts, and its file paths in load.ts `resolvePaths`.
 */
import { z } from 'zod';
import { parseStoredHash } from '../auth/stored-hash.js';
import { PERMISSION_NAMES } from '../auth/permissions.js';
import type { Permission } from '../auth/types.js';
import { tlsConfigSchema } from '../tls/config.js';
import { adminConfigSchema } from '../admin/config.js';
import { parseCidr } from '../../protocol/address-class.js';
import { DEFAULT_PASSIVE_PORT_RANGE } from '../resolved-options.js';
import { UPLOAD_MODES, type UploadMode } from '../storage/types.js';
import { BYTE_SIZE_HELP, parseByteSize } from '../quota/size.js';
import { parseRate } from '../limits/bandwidth.js';
import { PROXY_PROTOCOL_MODES, type ProxyProtocolMode } from '../proxy/options.js';
import { databaseConfigSchema } from '../db/config-schema.js';

// ---- value types -------------------------------------------------------------------------------------

const DURATION_HELP = 'expected a duration: seconds as a number, or a string like "250ms", "30s", "5m", "1h"';

/** A duration: a number of seconds, or a string with a unit ("250ms", "30s", "5m", "1h"). Output: ms. */
export const durationSchema = z
  .union([
    z.number({ error: DURATION_HELP }).nonnegative({ error: DURATION_HELP }),
    z.string({ error: DURATION_HELP }).regex(/^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$/, { error: DURATION_HELP }),
  ], { error: DURATION_HELP })
  .transform((value) => {
    if (typeof value === 'number') return Math.round(value * 1000);
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value)!;
    const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
    return Math.round(Number(m[1]) * factor);
  });

/** A size: bytes as a number, or text with a unit ("500MiB", "10GB"; quota/size.ts). Output: bytes. */
export const byteSizeSchema = z
  .union([z.number(), z.string()], { error: BYTE_SIZE_HELP })
  .transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (typeof bytes === 'number') return bytes;
    ctx.addIssue({ code: 'custom', message: bytes.error });
    return z.NEVER;
  });

/** A quota (server/quota/): { bytes: 10GiB, files: 1000 }; a limit left out is none. */
const quotaSchema = z.strictObject({
  bytes: byteSizeSchema.optional(),
  files: z.int({ error: 'expected a whole number of files' }).min(1, { error: 'must be at least 1 (leave it out for no limit)' }).optional(),
});
const RATE_HELP = 'expected a rate in bytes per second: a number, or a string like "800KB/s", "10MiB/s", "1.5GB/s" (0: no cap)';

/** A bandwidth: bytes per second, or a string with a unit ("800KB/s", "10MiB/s"). Output: bytes per second. */
export const rateSchema = z
  .union([z.number({ error: RATE_HELP }).nonnegative({ error: RATE_HELP }), z.string({ error: RATE_HELP })], { error: RATE_HELP })
  .transform((value, ctx) => {
    const rate = parseRate(value);
    if (rate === undefined) { ctx.addIssue({ code: 'custom', message: `${RATE_HELP}, got ${JSON.stringify(value)}` }); return z.NEVER; }
    return rate;
  });

/** { upload, download } caps. */
const bandwidthCapsSchema = z.strictObject({ upload: rateSchema.optional(), download: rateSchema.optional() });

export const portSchema = z.int({ error: 'expected a port number (integer 0-65535)' }).min(0).max(65535);

/** "50000-50100", "50000" or 50000. */
export const portRangeSchema = z
  .union([z.string(), z.int()], { error: 'expected a port range like "50000-50100"' })
  .transform((value, ctx) => {
    const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5}))?\s*$/.exec(String(value));
    const min = m ? Number(m[1]) : NaN;
    const max = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || min < 1 || max > 65535 || min > max) {
      ctx.addIssue({ code: 'custom', message: `expected a port range like "50000-50100" (1-65535, low-high), got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return { min, max };
  });

const nonEmpty = z.string().min(1, { error: 'must not be empty' });

const presetSchema = z.enum(['read-only', 'read-write'], { error: 'expected "read-only" or "read-write"' });
const permissionNameSchema = z.enum(PERMISSION_NAMES as [Permission, ...Permission[]], {
  error: `expected one of ${PERMISSION_NAMES.join(', ')}`,
});

/** "read-write" | [list, read, write] | { preset: read-only, write: true }. */
export const permissionsSchema = z.union([
  presetSchema,
  z.array(permissionNameSchema),
  z.strictObject({
    preset: presetSchema.optional(),
    ...(Object.fromEntries(PERMISSION_NAMES.map((k) => [k, z.boolean().optional()])) as Record<Permission, z.ZodOptional<z.ZodBoolean>>),
  }),
], { error: `expected "read-only", "read-write", a list of ${PERMISSION_NAMES.join('/')}, or an object {preset, <name>: true|false}` });

/** A password hash of an accepted format (auth/stored-hash.ts); checked with the user's name in configSchema. */
export const passwordHashSchema = z.string();

const uploadModeSchema = z.enum(UPLOAD_MODES as [UploadMode, ...UploadMode[]], { error: `expected ${UPLOAD_MODES.join(', ')}` });

const logLevelSchema = z.enum(['error', 'warn', 'info', 'debug'], { error: 'expected error, warn, info or debug' });

// ---- sections ----------------------------------------------------------------------------------------

const passiveSchema = z.strictObject({
  /** Listened port range, "50000-50999". */
  ports: portRangeSchema.optional(),
  /** IPv4 address or hostname to advertise in 227 replies. */
  address: nonEmpty.optional(),
  /** How often a hostname address is re-resolved. */
  addressRefresh: durationSchema.optional(),
  /** Per client network: [{ networks: [10.0.0.0/8, private], address: local }]. */
  addressMap: z.array(z.strictObject({
    networks: z.array(z.string().refine((n) => n === 'private' || parseCidr(n) !== undefined, {
      error: 'expected a CIDR network like 10.0.0.0/8, or "private"',
    })).min(1),
    address: nonEmpty,
  })).optional(),
  /** Ports advertised instead of the listened ones (port-mapping NAT), same size as `ports`. */
  advertisedPorts: portRangeSchema.optional(),
  /** Accept passive data connections from other addresses than the client's (FXP). */
  allowForeignAddress: z.boolean().optional(),
});

const activeSchema = z.strictObject({
  requireSameAddress: z.boolean().optional(),
  refusePrivilegedPorts: z.boolean().optional(),
  sourceAddress: nonEmpty.optional(),
  sourcePort: portSchema.optional(),
});

const timeoutsSchema = z.strictObject({
  idle: durationSchema.optional(),
  login: durationSchema.optional(),
  dataConnect: durationSchema.optional(),
  dataIdle: durationSchema.optional(),
  /** A command line must end this long after its first byte. */
  commandLine: durationSchema.optional(),
  /** Under passive-port pressure, an unclaimed passive listener older than this is reclaimed. */
  passiveReclaim: durationSchema.optional(),
});

const limitsSchema = z.strictObject({
  maxLineLength: z.int().min(64).max(1024 * 1024).optional(),
  loginFailureDelay: durationSchema.optional(),
  maxLoginFailures: z.int().min(1).optional(),
  maxSessions: z.int().min(1).optional(),
  /** 0: no per-address limit. */
  maxSessionsPerAddress: z.int().min(0).optional(),
  /** Largest single upload ("2GiB"); a user's own maxUploadBytes overrides it. Default: none. */
  maxUploadBytes: byteSizeSchema.optional(),
  /** A login this long after the last quota scan of the user rescans their root; 0: never. Default 15m. */
  quotaRescan: durationSchema.optional(),
  /** Sessions one user may have logged in at once (users[].maxSessions overrides it); 0: no limit. */
  maxSessionsPerUser: z.int().min(0).optional(),
  /** Commands per second per session before it is slowed; 0: no limit. */
  commandsPerSecond: z.int().min(0).optional(),
  /** Commands a session may send at once before commandsPerSecond applies. */
  commandBurst: z.int().min(1).optional(),
  /** A session slowed without a break for this long is closed with 421. */
  commandRateClose: durationSchema.optional(),
  /** PASV/EPSV/PORT/EPRT in a row without a transfer before 421; 0: no limit. */
  maxDataSetupsWithoutTransfer: z.int().min(0).optional(),
  /** MODE Z transfers running at once before the next gets 450; 0: no limit. Default 8. */
  maxCompressedTransfers: z.int().min(0).optional(),
  /** A MODE Z upload inflating beyond this ratio ends with 552; 0: none (default). */
  maxInflateRatio: z.number().refine(v => v === 0 || v >= 2, { error: 'must be 0 or >= 2' }).optional(),
  /** upload/download: per session; user: shared by a user's sessions; global: the whole server. */
  bandwidth: bandwidthCapsSchema.extend({ user: bandwidthCapsSchema.optional(), global: bandwidthCapsSchema.optional() }).strict().optional(),
});

/**
 * A virtual folder: another host folder mounted into the user's tree at `path` (storage/mounted.ts),
 * e.g. { path: /pub, root: /srv/pub, permissions: read-only }.
 */
const folderSchema = z.strictObject({
  path: z.string().startsWith('/', { error: 'must be an absolute virtual path, e.g. "/pub"' }),
  /** Host folder mounted there; relative to the config file. */
  root: nonEmpty,
  /** What the user may do in it. Default: the user's own permissions. */
  permissions: permissionsSchema.optional(),
});

/** Permissions per virtual path prefix, longest prefix wins: { /pub: read-only, /incoming: [write] }. */
const pathsSchema = z.record(
  z.string().startsWith('/', { error: 'keys must be absolute virtual paths, e.g. "/pub"' }),
  permissionsSchema,
);

const anonymousSchema = z.strictObject({
  /** Default: on when no users are configured, off otherwise. */
  enabled: z.boolean().optional(),
  /** Folder served to anonymous users; relative to the config file. Default: the serve DIR / current folder. */
  root: nonEmpty.optional(),
  /** Shorthand for permissions: read-write. */
  write: z.boolean().optional(),
  permissions: permissionsSchema.optional(),
  home: z.string().startsWith('/', { error: 'must be an absolute path inside the anonymous root, e.g. "/pub"' }).optional(),
  folders: z.array(folderSchema).optional(),
  paths: pathsSchema.optional(),
  /** What anonymous users may store together (when they may write). */
  quota: quotaSchema.optional(),
  maxUploadBytes: byteSizeSchema.optional(),
});

const userSchema = z.strictObject({
  name: nonEmpty.regex(/^[^\r\n\0]+$/, { error: 'must not contain CR, LF or NUL' }),
  /** scrypt hash from `ftpkit hash-password`, or a migrated SHA-crypt ($6$, $5$) or bcrypt ($2b$) one. */
  password: passwordHashSchema,
  /** Folder this user sees as "/"; relative to the config file. */
  root: nonEmpty,
  /** Initial directory inside the root. Default "/". */
  home: z.string().startsWith('/', { error: 'must be an absolute path inside the user\'s root, e.g. "/incoming"' }).optional(),
  /** Default read-write. */
  permissions: permissionsSchema.optional(),
  /** This user's upload mode; default: uploads.mode. */
  uploadMode: uploadModeSchema.optional(),
  folders: z.array(folderSchema).optional(),
  paths: pathsSchema.optional(),
  /** { bytes: 10GiB, files: 1000 }: what this user may store in all. Default: no quota. */
  quota: quotaSchema.optional(),
  /** Largest single upload of this user, overriding limits.maxUploadBytes. */
  maxUploadBytes: byteSizeSchema.optional(),
  /** Sessions this user may have logged in at once (replaces limits.maxSessionsPerUser); 0: no limit. */
  maxSessions: z.int().min(0).optional(),
  /** Caps shared by this user's sessions (replaces limits.bandwidth.user). */
  bandwidth: bandwidthCapsSchema.optional(),
});

/** How uploads reach their final name (docs/server.md#uploads-atomic-resumable-or-direct). */
const uploadsSchema = z.strictObject({
  /** atomic (default), resumable or direct. */
  mode: uploadModeSchema.optional(),
  /** Atomic mode: fsync a completed upload before 226 (default false: the rename alone, as other FTP servers). */
  fsync: z.boolean().optional(),
});

/** Cache of recently verified credentials (src/server/auth/credential-cache.ts). */
const credentialCacheSchema = z.strictObject({
  /** How long a verified password is remembered; 0 turns the cache off. Default 5 minutes. */
  ttl: durationSchema.optional(),
  /** Users remembered at most. Default 1000. */
  maxEntries: z.int().min(1).max(1_000_000).optional(),
});

const cidrSchema = z.string().refine((n) => parseCidr(n) !== undefined, {
  error: 'expected an address or a CIDR network like 203.0.113.0/24 or 2001:db8::/32',
});
const pointsSchema = z.number().min(0).max(1000).optional();
const positiveDurationSchema = durationSchema.refine((ms) => ms > 0, { error: 'must be longer than 0' });

/** The defender (src/server/security/): scores, temporary bans, allow and deny lists. */
const defenderSchema = z.strictObject({
  /** Default true. false: no scores and no bans (the deny list still applies). */
  enabled: z.boolean().optional(),
  /** Points within `window` that ban an address. Default 15. */
  threshold: z.number().positive().max(1_000_000).optional(),
  /** How long a point counts. Default 5m. */
  window: positiveDurationSchema.optional(),
  /** First ban; each next one of the same address doubles. Default 15m. */
  banTime: positiveDurationSchema.optional(),
  /** Longest ban. Default 24h. */
  maxBanTime: positiveDurationSchema.optional(),
  /** Failed logins within `window` that ban a user name (from any address); 0 turns name bans off. Default 30. */
  userThreshold: z.number().min(0).max(1_000_000).optional(),
  /** Points per event kind. */
  scores: z.strictObject({
    failedLogin: pointsSchema,
    unknownUser: pointsSchema,
    refusedCommand: pointsSchema,
    garbage: pointsSchema,
    limitExceeded: pointsSchema,
  }).optional(),
  /** Addresses (and user names) remembered at most. Default 10000. */
  maxEntries: z.int().min(1).max(1_000_000).optional(),
  /** Never banned. */
  allow: z.array(cidrSchema).optional(),
  /** Refused at connect with 421. */
  deny: z.array(cidrSchema).optional(),
  /** Password verifications one address may have in flight or queued; 0: no bound. Default 1. */
  verificationsPerAddress: z.int().min(0).max(1000).optional(),
});

const logSchema = z.strictObject({
  level: logLevelSchema.optional(),
  /** JSON-lines file (appended); relative to the config file. Default: standard error. */
  file: nonEmpty.optional(),
  /** Transfer log in the xferlog(5) format of wu-ftpd/vsftpd (appended; src/server/log/xferlog.ts); relative to the config file. Default: none. */
  xferlog: nonEmpty.optional(),
});

/**
 * How `ftpkit serve` runs as a daemon (src/cli/privileges.ts): started as root, it binds its ports and then
 * becomes `user` and `group` (vsftpd's nopriv_user, proftpd's User/Group). Applied at start only.
 */
const runSchema = z.strictObject({
  /** User name (or numeric uid) to become after binding. Required when started as root, unless allowRoot. */
  user: nonEmpty.optional(),
  /** Group name (or numeric gid). Default: the user's primary group. */
  group: nonEmpty.optional(),
  /** Keep running as root when no user is configured (not recommended). Default false. */
  allowRoot: z.boolean().optional(),
});

/**
 * The S3 endpoint of every `s3://bucket/prefix/` root (storage/s3/, docs/configuration.md#s3-storage).
 * Without accessKeyId/secretAccessKey the SDK's own chain is used (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY...).
 */
const s3Schema = z.strictObject({
  endpoint: z.url({ error: 'expected a URL, e.g. "http://127.0.0.1:7480"' }).optional(),
  region: nonEmpty.optional(),
  accessKeyId: nonEmpty.optional(),
  secretAccessKey: nonEmpty.optional(),
  /** bucket in the path (radosgw, MinIO) rather than in the host name. Default: true with an endpoint. */
  forcePathStyle: z.boolean().optional(),
  /** Bytes per part of an upload, at least 5MiB. Default 8MiB. */
  partSize: byteSizeSchema.refine((n) => n >= 5 * 1024 * 1024, { error: 'must be at least 5MiB (S3\'s smallest part)' }).optional(),
  /** Multipart uploads older than this are aborted at start (a crash's leftovers). Default 24h. */
  staleUploadAge: durationSchema.optional(),
  /** RNFR/RNTO of a folder with entries: refuse (default) or copy (every object copied, then deleted). */
  renameFolders: z.enum(['refuse', 'copy']).optional(),
  /** STOU as a conditional put (If-None-Match: *), for stores that support it. Default false. */
  conditionalPut: z.boolean().optional(),
  /** Offer REST + STOR and APPE (server-side copies of the kept bytes, then the new data). Default false. */
  resumableUploads: z.boolean().optional(),
}).refine((s) => (s.accessKeyId === undefined) === (s.secretAccessKey === undefined), {
  error: 'give both accessKeyId and secretAccessKey, or neither (then the AWS_* environment variables are used)',
});

/** The top level. One line per section: add new sections here. */
/** Behind a load balancer: the PROXY protocol per listener (src/server/proxy/, docs/server.md#behind-a-load-balancer). */
const proxyModeSchema = z.enum(PROXY_PROTOCOL_MODES as [ProxyProtocolMode, ...ProxyProtocolMode[]], { error: `expected one of ${PROXY_PROTOCOL_MODES.join(', ')}` }).optional();
const proxyProtocolSchema = z.strictObject({
  from: z.array(cidrSchema).min(1, { error: 'name at least one proxy address (address or CIDR network)' }),
  mode: proxyModeSchema, control: proxyModeSchema, implicit: proxyModeSchema, passive: proxyModeSchema,
  headerTimeout: positiveDurationSchema.optional(),
});

export const configSections = {
  host: nonEmpty.optional(),
  port: portSchema.optional(),
  greeting: z.string().regex(/^[^\r\n\0]*$/, { error: 'must be one line' }).optional(),
  /** Offer MODE Z (deflate) in FEAT and accept it. Default true. */
  modeZ: z.boolean().optional(),
  passive: passiveSchema.optional(),
  active: activeSchema.optional(),
  timeouts: timeoutsSchema.optional(),
  limits: limitsSchema.optional(),
  anonymous: anonymousSchema.optional(),
  users: z.array(userSchema).optional(),
  credentialCache: credentialCacheSchema.optional(),
  defender: defenderSchema.optional(),
  log: logSchema.optional(),
  uploads: uploadsSchema.optional(),
  run: runSchema.optional(),
  /** The S3 endpoint of s3:// roots. */
  s3: s3Schema.optional(),
  /** FTPS (owned by src/server/tls/config.ts). */
  tls: tlsConfigSchema.optional(),
  proxyProtocol: proxyProtocolSchema.optional(),
  /** PostgreSQL for users, bans and quota usage shared by several nodes (owned by src/server/db/config-schema.ts). */
  database: databaseConfigSchema(durationSchema).optional(),
  /** The status page, /metrics and /health (owned by src/server/admin/config.ts). */
  admin: adminConfigSchema.optional(),
};

export const configSchema = z.strictObject(configSections).superRefine((config, ctx) => {
  const seen = new Map<string, number>();
  config.users?.forEach((user, i) => {
    const hash = parseStoredHash(user.password);
    if (typeof hash === 'string') ctx.addIssue({ code: 'custom', path: ['users', i, 'password'], message: `user "${user.name}": ${hash}` });
    if (seen.has(user.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate user "${user.name}" (also users.${seen.get(user.name)})` });
    else seen.set(user.name, i);
  });
  if (config.run?.group !== undefined && config.run.user === undefined) {
    ctx.addIssue({ code: 'custom', path: ['run', 'group'], message: 'needs run.user (the user to become after binding)' });
  }
  const { ports, advertisedPorts } = config.passive ?? {};
  if (advertisedPorts) {
    const listened = ports ?? DEFAULT_PASSIVE_PORT_RANGE;
    if (advertisedPorts.max - advertisedPorts.min !== listened.max - listened.min) {
      ctx.addIssue({ code: 'custom', path: ['passive', 'advertisedPorts'], message: 'must have as many ports as passive.ports' });
    }
  }
});

/** The validated configuration (durations in ms, port ranges as {min, max}). */
export type ServeConfig = z.output<typeof configSchema>;
/** What the file may contain before validation. */
export type ServeConfigInput = z.input<typeof configSchema>;
export type LogLevel = z.output<typeof logSchema>['level'] & string;
