/**
 * `ftpkit doctor URL`: thin CLI over `diagnose()` (src/doctor/). Prints the human report (or `--json`, the
 * whole Finding, whose `recommended.settings` `ftpkit get|put|ls|mirror --settings` reads as is).
 * Exit code (docs/doctor.md): 0 when some setting gets data through (also with the certificate pinned), 3 when
 * the login is refused, 6 when an untrusted certificate is why nothing works, 5 otherwise (network).
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { FtpUsageError } from '../errors.js';
import { writeFile } from 'node:fs/promises';
import { diagnose, renderHtml, renderReport, type DiagnoseOptions } from '../doctor/index.js';
import { verdictOf } from '../doctor/verdict.js';
import type { TlsSettings } from '../client/options.js';
import { ExitCode } from './exit-codes.js';
import { bypassesProxy, maskProxyUrl, proxyFromEnvironment } from '../client/proxy.js';
import { parseFtpUrl } from './url.js';
import { resolveCredentials } from './client-options.js';
import { readNetrc } from './netrc.js';
import { promptHidden } from './prompt.js';

export interface DoctorFlags {
  json?: boolean;
  html?: string;
  portRange?: string;
  portAddress?: string;
  budget?: string;
  connectTimeout?: string;
  tls?: boolean;
  ca?: string;
  insecure?: boolean;
  servername?: string;
  user?: string;
  netrc?: boolean;
  write?: boolean;
  active?: boolean;
  verbose?: boolean;
}

/** `ftpkit doctor URL`: diagnose, print the report (or JSON), set the exit code. */
export async function runDoctor(urlText: string, flags: DoctorFlags): Promise<void> {
  const url = parseFtpUrl(urlText);
  const netrc = flags.netrc === false ? [] : await readNetrc();
  // Same credential sources as the client commands: URL, FTPKIT_PASSWORD, ~/.netrc, then a prompt on a TTY.
  const prompt = process.stdin.isTTY && process.stderr.isTTY ? (q: string) => promptHidden(q, process.stderr) : undefined;
  const creds = await resolveCredentials(url, flags.user, { env: process.env, netrc, ...(prompt ? { prompt } : {}) });
  const tls: TlsSettings = {};
  // Absolute: the recommended settings are saved and used from other folders (get/put --settings).
  if (flags.ca) tls.caFile = path.resolve(flags.ca);
  if (flags.insecure) tls.rejectUnauthorized = false;
  if (flags.servername) tls.servername = flags.servername;
  const options: DiagnoseOptions = {
    ...(flags.budget ? { budgetMs: parseDuration('--budget', flags.budget) } : {}),
    ...(flags.connectTimeout ? { connectTimeoutMs: parseDuration('--connect-timeout', flags.connectTimeout) } : {}),
    ...(flags.portRange ? { portRange: parsePortRangeFlag(flags.portRange) } : {}),
    ...(flags.portAddress ? { portAddress: flags.portAddress } : {}),
    ...(Object.keys(tls).length ? { tls } : {}),
    writeCheck: flags.write !== false,
    noActive: flags.active === false,
    ...(!flags.json && process.stderr.isTTY ? { onProgress: (l: string) => process.stderr.write(`  ${l}\n`) } : {}),
  };
  if (flags.portAddress && isIP(flags.portAddress) === 0) throw new FtpUsageError(`--port-address needs an IP address, got ${flags.portAddress}`);
  // The doctor probes the network path itself and does not tunnel: a proxy from the environment is not used,
  // and it says so rather than diagnose a route the client commands would not take (docs/client.md#proxies).
  const envProxy = proxyFromEnvironment(process.env);
  if (envProxy.proxy && !bypassesProxy(url.host, envProxy.noProxy)) {
    process.stderr.write(`ftpkit doctor: the proxy ${maskProxyUrl(envProxy.proxy)} (from $ftp_proxy/$all_proxy) is NOT used: `
      + 'the doctor connects directly; get/put/ls/mirror would go through it\n');
  }
  const finding = await diagnose({
    host: url.host, port: url.port, user: creds.user, ...(creds.password !== undefined ? { password: creds.password } : {}),
    path: url.path, secure: url.protocol === 'ftps' ? 'implicit' : flags.tls ? 'explicit' : 'none',
  }, options);
  if (flags.html) await writeFile(flags.html, renderHtml(finding));
  process.stdout.write(flags.json ? `${JSON.stringify(finding, null, 2)}\n` : renderReport(finding, { verbose: !!flags.verbose }));
  // The certificate is what the user must fix (or pin, or --insecure), not the network (verdict.ts).
  const verdict = verdictOf(finding);
  process.exitCode = verdict === 'works' ? ExitCode.Ok : verdict === 'login-failed' ? ExitCode.LoginFailure
    : verdict === 'tls' ? ExitCode.TlsFailure : ExitCode.NetworkFailure;
}

/** "20s", "1.5s", "500ms" or a bare number of seconds -> milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(text);
  if (!m) throw new FtpUsageError(`${flag} needs a duration like 20s or 500ms, got ${text}`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const ms = unit === 'ms' ? n : unit === 'm' ? n * 60_000 : n * 1000;
  if (!(ms >= 100 && ms <= 3_600_000)) throw new FtpUsageError(`${flag} must be between 100ms and 1h, got ${text}`);
  return Math.round(ms);
}

export function parsePortRangeFlag(text: string): { min: number; max: number } {
  const m = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2]) : NaN;
  if (!m || min < 1 || max > 65535 || min > max) throw new FtpUsageError(`--port-range needs LOW-HIGH, e.g. 50000-50010, got ${text}`);
  return { min, max };
}
