/**
 * The `tls` section of the server configuration file and the `ftpkit serve --tls ...` flags, mapped onto
 * FtpServerTlsOptions. Kept here (owned by the FTPS module) so the config schema and the serve command add
 * one line each: `tls: tlsConfigSchema.optional()` and `options.tls = tlsConfigToOptions(config.tls, ...)`.
 *
 *   tls:
 *     cert: server.pem          # certificate + chain (PEM); reloaded when the file changes
 *     key: server.key           # private key (PEM); may be the same file as cert
 *     # without cert/key: a self-signed certificate kept in stateDir (default ~/.local/state/ftpkit)
 *     explicit: true            # AUTH TLS on the main port (default true)
 *     implicitPort: 990         # also implicit FTPS on this port
 *     require: data             # none | login | data (named users); requireAnonymous likewise
 *     users: { alice: login }   # per-user requirement
 *     requireSessionReuse: true # data connections must resume the control TLS session (default)
 *     allowCcc: false           # accept CCC (clear command channel) after login (default false)
 *     minVersion: TLSv1.2       # TLSv1.2 | TLSv1.3; maxVersion likewise; ciphers: OpenSSL list
 *     handshakeTimeout: 10s
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import type { FtpServerTlsOptions, TlsRequirement } from './options.js';

const requirementSchema = z.enum(['none', 'login', 'data'], { error: 'expected "none", "login" or "data"' });
const versionSchema = z.enum(['TLSv1.2', 'TLSv1.3'], { error: 'expected "TLSv1.2" or "TLSv1.3" (older versions are insecure)' });
const fileSchema = z.string().min(1, { error: 'must not be empty' });
const HANDSHAKE_HELP = 'expected a duration: seconds as a number, or a string like "500ms", "10s"';

export const tlsConfigSchema = z.strictObject({
  cert: fileSchema.optional(),
  key: fileSchema.optional(),
  stateDir: fileSchema.optional(),
  explicit: z.boolean().optional(),
  implicitPort: z.int({ error: 'expected a port number (integer 0-65535)' }).min(0).max(65535).optional(),
  require: requirementSchema.optional(),
  requireAnonymous: requirementSchema.optional(),
  users: z.record(z.string().min(1), requirementSchema).optional(),
  requireSessionReuse: z.boolean().optional(),
  allowCcc: z.boolean().optional(),
  minVersion: versionSchema.optional(),
  maxVersion: versionSchema.optional(),
  ciphers: z.string().min(1).optional(),
  handshakeTimeout: z.union([
    z.number().positive({ error: HANDSHAKE_HELP }),
    z.string().regex(/^\s*\d+(\.\d+)?\s*(ms|s)?\s*$/, { error: HANDSHAKE_HELP }),
  ], { error: HANDSHAKE_HELP }).optional(),
}).superRefine((tls, ctx) => {
  if (tls.key !== undefined && tls.cert === undefined) {
    ctx.addIssue({ code: 'custom', path: ['cert'], message: 'tls.key needs tls.cert (the certificate and its chain)' });
  }
  if (tls.explicit === false && tls.implicitPort === undefined) {
    ctx.addIssue({ code: 'custom', path: ['implicitPort'], message: 'with tls.explicit false, set tls.implicitPort (otherwise TLS is never offered)' });
  }
});

export type TlsConfig = z.output<typeof tlsConfigSchema>;

/** Where the generated self-signed certificate lives: $XDG_STATE_HOME/ftpkit or ~/.local/state/ftpkit. */
export function defaultTlsStateDir(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'ftpkit');
}

function durationMs(v: TlsConfig['handshakeTimeout']): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Math.round(v * 1000);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(v)!;
  return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : 1000));
}

/**
 * Map the validated section onto FtpServerTlsOptions. `resolvePath` makes file names relative to the
 * config file absolute (identity for command line values, which are relative to the working folder).
 */
export function tlsConfigToOptions(tls: TlsConfig, resolvePath: (p: string) => string = (p) => path.resolve(p)): FtpServerTlsOptions {
  const o: FtpServerTlsOptions = {};
  if (tls.cert !== undefined) {
    o.certFile = resolvePath(tls.cert);
    o.keyFile = resolvePath(tls.key ?? tls.cert);
  } else {
    o.stateDir = resolvePath(tls.stateDir ?? defaultTlsStateDir());
  }
  if (tls.explicit !== undefined) o.explicit = tls.explicit;
  if (tls.implicitPort !== undefined) o.implicitPort = tls.implicitPort;
  if (tls.require !== undefined) o.require = tls.require;
  if (tls.requireAnonymous !== undefined) o.requireAnonymous = tls.requireAnonymous;
  if (tls.users !== undefined) o.users = tls.users as Record<string, TlsRequirement>;
  if (tls.requireSessionReuse !== undefined) o.requireSessionReuse = tls.requireSessionReuse;
  if (tls.allowCcc !== undefined) o.allowCcc = tls.allowCcc;
  if (tls.minVersion !== undefined) o.minVersion = tls.minVersion;
  if (tls.maxVersion !== undefined) o.maxVersion = tls.maxVersion;
  if (tls.ciphers !== undefined) o.ciphers = tls.ciphers;
  const ms = durationMs(tls.handshakeTimeout);
  if (ms !== undefined) o.handshakeTimeoutMs = ms;
  return o;
}

export type TlsFlagMode = 'explicit' | 'implicit' | 'required';

/**
 * `ftpkit serve --tls MODE [--cert F --key F] [--implicit-port N]` as a `tls` config section (merged over
 * the file's, flags win):
 *   explicit  AUTH TLS offered on the main port, TLS optional;
 *   implicit  also implicit FTPS on --implicit-port (default 990), explicit still offered on the main port;
 *   required  AUTH TLS offered and required for login and data, for every user including anonymous.
 */
export function tlsFlagsToConfig(flags: { tls?: TlsFlagMode; cert?: string; key?: string; implicitPort?: number }): TlsConfig | undefined {
  if (flags.tls === undefined && flags.cert === undefined && flags.key === undefined && flags.implicitPort === undefined) return undefined;
  const out: TlsConfig = {};
  if (flags.cert !== undefined) out.cert = flags.cert;
  if (flags.key !== undefined) out.key = flags.key;
  if (flags.tls === 'implicit' || flags.implicitPort !== undefined) out.implicitPort = flags.implicitPort ?? 990;
  if (flags.tls === 'required') { out.require = 'data'; out.requireAnonymous = 'data'; }
  return out;
}
