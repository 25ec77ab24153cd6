/**
 * From the client CLI's flags, --settings file, URL and credential sources to FtpClientOptions.
 *
 * Precedence: built-in defaults < --settings FILE < flags. Credentials: user from the URL, else the netrc
 * entry, else anonymous; password from the URL, else $FTPKIT_PASSWORD, else ~/.netrc, else a no-echo
 * prompt on a terminal (documented in docs/client.md with why netrc comes before the prompt).
 */
import { isIP } from 'node:net';
import { FtpUsageError } from '../errors.js';
import type { ClientSettings, FtpClientOptions, TransferModeChoice } from '../client/options.js';
import type { RetrySettings } from '../client/retry.js';
import { normalizePin } from '../net/tls-pin.js';
import { findNetrcEntry, readNetrc, type NetrcEntry } from './netrc.js';
import type { FtpUrl } from './url.js';
import { urlHost } from '../protocol/hostport.js';
import { parseByteRate } from './limit-rate.js';
import { parseProxyUrl, proxyFromEnvironment } from '../client/proxy.js';

/** Flags shared by every client command (commander camel-cases them). */
export interface ClientFlags {
  active?: boolean;
  passive?: boolean;
  portRange?: string;
  portAddress?: string;
  bindAddress?: string;
  /** commander's --no-epsv: false when given. */
  epsv?: boolean;
  epsvOnly?: boolean;
  /** --no-eprt: false when given. */
  eprt?: boolean;
  pasvHost?: string;
  fallback?: boolean;
  /** --mode S|Z|B|auto and --compress (= --mode Z): the transmission mode (client/transfer-mode.ts). */
  mode?: string;
  compress?: boolean;
  ascii?: boolean;
  binary?: boolean;
  connectTimeout?: string;
  timeout?: string;
  /** curl's --speed-limit (bytes per second) and --speed-time (seconds): the stall limit. */
  speedLimit?: string;
  speedTime?: string;
  /** curl's --max-time: the whole command's deadline, in seconds (enforced by the CLI, see maxTimeMs()). */
  maxTime?: string;
  tls?: boolean;
  tlsRequired?: boolean;
  ca?: string;
  insecure?: boolean;
  /** --pin, repeatable: SHA-256 fingerprints of the server certificate. */
  pin?: string[];
  cert?: string;
  key?: string;
  settings?: string;
  /** --proxy URL ("" for none) and --no-proxy LIST; else the environment (docs/client.md#proxies). */
  proxy?: string;
  noProxy?: string;
  /** --retries N and --retry-delay S (docs/client.md#retries). */
  retries?: string;
  retryDelay?: string;
  user?: string;
  verbose?: boolean;
  json?: boolean;
  netrc?: boolean;
  /** --limit-rate (get, put, mirror): curl's syntax, parsed by limit-rate.ts. */
  limitRate?: string;
  /** --no-size-check (get, mirror): false. */
  sizeCheck?: boolean;
}

function seconds(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new FtpUsageError(`${flag} needs a positive number of seconds, got ${value}`);
  return Math.round(n * 1000);
}

export function parsePortRange(text: string): { min: number; max: number } {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || min < 1 || max > 65535 || min > max) {
    throw new FtpUsageError(`--port-range must look like 50000-50010 (1-65535, low-high), got ${text}`);
  }
  return { min, max };
}

function ipFlag(flag: string, value: string): string {
  if (!isIP(value)) throw new FtpUsageError(`${flag} needs an IP address, got ${value}`);
  return value;
}

/** Apply flags on top of settings (flags win). Throws FtpUsageError for contradictory or bad flags. */
export function applyFlags(base: ClientSettings, flags: ClientFlags): ClientSettings & { timeouts?: FtpClientOptions['timeouts'] } {
  if (flags.active && flags.passive) throw new FtpUsageError('--active and --passive exclude each other');
  if (flags.epsv === false && flags.epsvOnly) throw new FtpUsageError('--no-epsv and --epsv-only exclude each other');
  if (flags.ascii && flags.binary) throw new FtpUsageError('--ascii and --binary exclude each other');
  const out: ClientSettings & { timeouts?: FtpClientOptions['timeouts'] } = structuredClone(base);
  const data = (out.data ??= {});
  if (flags.active) data.mode = 'active';
  if (flags.passive) data.mode = 'passive';
  if (flags.epsv === false) (data.passive ??= {}).command = 'pasv';
  if (flags.epsvOnly) (data.passive ??= {}).command = 'epsv';
  if (flags.pasvHost !== undefined) {
    if (!['reply', 'control', 'auto'].includes(flags.pasvHost)) {
      throw new FtpUsageError(`--pasv-host must be reply, control or auto, got ${flags.pasvHost}`);
    }
    (data.passive ??= {}).addressPolicy = flags.pasvHost as 'reply' | 'control' | 'auto';
  }
  if (flags.eprt === false) (data.active ??= {}).command = 'port';
  if (flags.portRange !== undefined) (data.active ??= {}).portRange = parsePortRange(flags.portRange);
  if (flags.portAddress !== undefined) (data.active ??= {}).advertiseAddress = ipFlag('--port-address', flags.portAddress);
  if (flags.bindAddress !== undefined) (data.active ??= {}).bindAddress = ipFlag('--bind-address', flags.bindAddress);
  if (flags.fallback) data.fallback = true;
  if (flags.mode !== undefined) out.transferMode = transferModeFlag(flags.mode);
  if (flags.compress) out.transferMode = 'Z';
  if (flags.ascii) out.transferType = 'ascii';
  if (flags.binary) out.transferType = 'binary';
  // TLS flags (the FTPS engineer makes the client honour them): explicit TLS via AUTH (RFC 4217 s4).
  // --tls-required maps to the same 'explicit' mode: an explicit-TLS client never falls back to cleartext.
  if (flags.tls || flags.tlsRequired) { if (out.secure !== 'implicit') out.secure = 'explicit'; }
  if (flags.ca !== undefined) (out.tls ??= {}).caFile = flags.ca;
  if (flags.insecure) (out.tls ??= {}).rejectUnauthorized = false;
  if (flags.pin?.length) {
    (out.tls ??= {}).pin = flags.pin.map((p) => {
      const pin = normalizePin(p);
      if (pin === undefined) throw new FtpUsageError(`--pin needs a SHA-256 certificate fingerprint (sha256:AB:CD:..., 32 hex bytes), got ${p}`);
      return pin;
    });
  }
  if (flags.cert !== undefined) (out.tls ??= {}).certFile = flags.cert;
  if (flags.key !== undefined) (out.tls ??= {}).keyFile = flags.key;
  if (flags.connectTimeout !== undefined) {
    const ms = seconds('--connect-timeout', flags.connectTimeout);
    out.timeouts = { ...out.timeouts, connectMs: ms, greetingMs: ms };
  }
  if (flags.timeout !== undefined) {
    const ms = seconds('--timeout', flags.timeout);
    out.timeouts = { ...out.timeouts, commandMs: ms, dataMs: ms };
  }
  if (flags.speedLimit !== undefined || flags.speedTime !== undefined) {
    // Like curl: --speed-time alone means 1 B/s, --speed-limit alone means over 30 s; --speed-limit 0 turns it off.
    const minBytesPerSecond = flags.speedLimit === undefined ? 1 : Number(flags.speedLimit);
    if (!Number.isFinite(minBytesPerSecond) || minBytesPerSecond < 0) {
      throw new FtpUsageError(`--speed-limit needs a number of bytes per second (0 turns the stall limit off), got ${flags.speedLimit}`);
    }
    const ms = flags.speedTime === undefined ? 30_000 : seconds('--speed-time', flags.speedTime);
    out.timeouts = { ...out.timeouts, stall: { minBytesPerSecond, seconds: ms / 1000 } };
  }
  if (flags.maxTime !== undefined) seconds('--max-time', flags.maxTime);
  const retry = retryFlags(flags);
  if (retry) out.retry = retry;
  if (Object.keys(data).length === 0) delete out.data;
  return out;
}

/** --retries / --retry-delay as RetrySettings, or undefined when neither is given. */
function retryFlags(flags: ClientFlags): RetrySettings | undefined {
  if (flags.retries === undefined && flags.retryDelay === undefined) return undefined;
  const retries = flags.retries === undefined ? 0 : Number(flags.retries);
  if (!Number.isInteger(retries) || retries < 0 || retries > 1000) throw new FtpUsageError(`--retries needs a whole number from 0 to 1000, got ${flags.retries}`);
  const out: RetrySettings = { retries };
  if (flags.retryDelay !== undefined) {
    const s = Number(flags.retryDelay);
    if (!Number.isFinite(s) || s < 0) throw new FtpUsageError(`--retry-delay needs a number of seconds >= 0, got ${flags.retryDelay}`);
    out.delayMs = Math.round(s * 1000);
  }
  return out;
}

/** --max-time in ms, or undefined; checked by applyFlags. */
export function maxTimeMs(flags: ClientFlags): number | undefined {
  return flags.maxTime === undefined ? undefined : seconds('--max-time', flags.maxTime);
}

export interface CredentialSources {
  env: NodeJS.ProcessEnv;
  /** netrc entries (empty when there is no file or --no-netrc). */
  netrc: NetrcEntry[];
  /** Asks for a password without echo; undefined when stdin is not a terminal. */
  prompt?: (question: string) => Promise<string>;
}

export interface Credentials {
  user: string;
  password: string | undefined;
  /** Where the password came from (shown with -v; the password itself never is). */
  source: 'url' | 'env' | 'netrc' | 'prompt' | 'anonymous' | 'none';
}

export async function resolveCredentials(url: FtpUrl, userFlag: string | undefined, src: CredentialSources): Promise<Credentials> {
  const explicitUser = userFlag ?? url.user;
  const entry = findNetrcEntry(src.netrc, url.host, explicitUser);
  const user = explicitUser ?? entry?.login ?? 'anonymous';
  const anonymous = user === 'anonymous' || user === 'ftp';
  if (url.password !== undefined) return { user, password: url.password, source: 'url' };
  if (src.env.FTPKIT_PASSWORD !== undefined && src.env.FTPKIT_PASSWORD !== '') {
    return { user, password: src.env.FTPKIT_PASSWORD, source: 'env' };
  }
  if (entry?.password !== undefined && (entry.login === undefined || entry.login === user)) {
    return { user, password: entry.password, source: 'netrc' };
  }
  if (anonymous) return { user, password: undefined, source: 'anonymous' };
  if (src.prompt) return { user, password: await src.prompt(`Password for ${user}@${url.host}: `), source: 'prompt' };
  return { user, password: undefined, source: 'none' };
}

export interface BuiltOptions {
  options: FtpClientOptions;
  credentialSource: Credentials['source'];
}

/** --proxy / --no-proxy, else ftp_proxy / all_proxy / no_proxy from the environment (curl's variables). */
export function proxyOptions(flags: ClientFlags, env: NodeJS.ProcessEnv): Pick<FtpClientOptions, 'proxy' | 'noProxy'> {
  const fromEnv = proxyFromEnvironment(env);
  const proxy = flags.proxy !== undefined ? flags.proxy.trim() : fromEnv.proxy;
  const noProxy = flags.noProxy ?? fromEnv.noProxy;
  if (!proxy) return {};
  parseProxyUrl(proxy); // a bad URL is a usage error now, before any connection
  return { proxy, ...(noProxy ? { noProxy } : {}) };
}

/** Everything together: URL + flags + settings file + credentials -> FtpClientOptions. */
export async function buildClientOptions(url: FtpUrl, flags: ClientFlags,
  src: Omit<CredentialSources, 'netrc'> & { netrcFile?: string; bookmarkSettings?: ClientSettings }): Promise<BuiltOptions> {
  // zod (the --settings schema) is loaded only when a settings file is given: `ftpkit ls URL` stays quick to start.
  const fileSettings = flags.settings ? await (await import('./client-settings-file.js')).loadSettingsFile(flags.settings) : {};
  // A bookmark's settings (bookmarks.ts) come first; a --settings file replaces them key by key, flags win.
  const base = { ...src.bookmarkSettings, ...fileSettings };
  const settings = applyFlags(base, flags);
  if (url.protocol === 'ftps') settings.secure = 'implicit';
  else if (settings.secure === 'implicit') {
    throw new FtpUsageError(`implicit TLS (secure: 'implicit', e.g. from --settings) needs an ftps:// URL: ftps://${urlHost(url.host)}:${url.port}/... (ftp:// with --tls for explicit TLS)`);
  }
  if (url.typecode === 'a' && !flags.binary) settings.transferType = 'ascii';
  if (url.typecode === 'i' && !flags.ascii) settings.transferType = 'binary';
  const netrc = flags.netrc === false ? [] : await readNetrc(src.netrcFile);
  const creds = await resolveCredentials(url, flags.user, { env: src.env, netrc, prompt: src.prompt });
  const options: FtpClientOptions = { ...settings, host: url.host, port: url.port, user: creds.user, ...proxyOptions(flags, src.env) };
  if (flags.limitRate !== undefined) options.limitRate = parseByteRate(flags.limitRate);
  if (flags.sizeCheck === false) options.sizeCheck = false;
  if (creds.password !== undefined) options.password = creds.password;
  else if (creds.source === 'none') options.password = '';
  return { options, credentialSource: creds.source };
}

/** --mode: S, Z, B (RFC 959 s3.4, MODE Z deflate) or auto (Z when the server offers it), any case. */
function transferModeFlag(value: string): TransferModeChoice {
  const v = value.trim();
  const mode = v.toLowerCase() === 'auto' ? 'auto' : v.toUpperCase();
  if (mode !== 'S' && mode !== 'Z' && mode !== 'B' && mode !== 'auto') throw new FtpUsageError(`--mode must be S, Z, B or auto, got ${value}`);
  return mode;
}
