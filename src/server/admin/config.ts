/**
 * The `admin` section of the server configuration file and `ftpkit serve --admin HOST:PORT`, mapped onto
 * AdminOptions (options.ts). Kept here, owned by the admin module, like tls/config.ts:
 *
 *   admin:
 *     listen: 127.0.0.1:8021        # HOST:PORT ([::1]:8021 for IPv6); loopback unless authenticated
 *     tokenFile: /etc/ftpkit/admin-token   # or token: ..., or the FTPKIT_ADMIN_TOKEN environment variable
 *     users:                        # and/or operators with a password (hash from `ftpkit hash-password`)
 *       - { name: ops, password: "$scrypt$..." }
 *     cert: admin.pem               # HTTPS: PEM certificate (and chain) and key, as tls.cert / tls.key
 *     key: admin.key
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FtpConfigError } from '../../errors.js';
import { parseStoredHash } from '../auth/stored-hash.js';
import type { AdminOptions } from './options.js';

const LISTEN_HELP = 'expected HOST:PORT, e.g. 127.0.0.1:8021 or [::1]:8021';
const fileSchema = z.string().min(1, { error: 'must not be empty' });

/** "127.0.0.1:8021", "[::1]:8021", "localhost:8021" -> host and port; undefined when malformed. */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

export const adminConfigSchema = z.strictObject({
  listen: z.string().refine(v => parseListen(v) !== undefined, { error: LISTEN_HELP }),
  token: z.string().min(16, { error: 'must be at least 16 characters (e.g. `openssl rand -hex 24`)' }).optional(),
  tokenFile: fileSchema.optional(),
  users: z.array(z.strictObject({ name: z.string().min(1).regex(/^[^:\s]+$/, { error: 'no colon or space' }), password: z.string() })).optional(),
  cert: fileSchema.optional(),
  key: fileSchema.optional(),
}).superRefine((admin, ctx) => {
  if (admin.token !== undefined && admin.tokenFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'give admin.token or admin.tokenFile, not both' });
  }
  if (admin.key !== undefined && admin.cert === undefined) {
    ctx.addIssue({ code: 'custom', path: ['cert'], message: 'admin.key needs admin.cert' });
  }
  admin.users?.forEach((user, i) => {
    const hash = parseStoredHash(user.password);
    if (typeof hash === 'string') ctx.addIssue({ code: 'custom', path: ['users', i, 'password'], message: `admin user "${user.name}": ${hash}` });
  });
});

export type AdminConfig = z.output<typeof adminConfigSchema>;

/**
 * Read the files the section names (token, certificate, key) and build AdminOptions. `envToken` (the
 * FTPKIT_ADMIN_TOKEN variable) is used when the section gives no token. Throws FtpConfigError naming the key.
 */
export async function adminConfigToOptions(admin: AdminConfig, envToken?: string): Promise<AdminOptions> {
  const { host, port } = parseListen(admin.listen)!;
  const read = async (key: string, file: string): Promise<string> => {
    try { return await readFile(file, 'utf8'); } catch (err) {
      throw new FtpConfigError(key, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const token = admin.token ?? (admin.tokenFile !== undefined ? (await read('admin.tokenFile', admin.tokenFile)).trim() : envToken || undefined);
  const options: AdminOptions = { host, port };
  if (token !== undefined) options.token = token;
  if (admin.users?.length) options.users = admin.users;
  if (admin.cert !== undefined) {
    options.tls = { cert: await read('admin.cert', admin.cert), key: await read('admin.key', admin.key ?? admin.cert) };
  }
  return options;
}
