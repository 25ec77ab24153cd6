/**
 * FTP URLs for the client CLI: `ftp://user:pass@host:port/path`, `ftps://` = implicit TLS (port 990),
 * IPv6 literals in brackets, percent-decoding (RFC 1738 s3.2, RFC 3986 s3.2.2).
 *
 * Path semantics follow RFC 1738 s3.2.2: the path is relative to the login folder ("ftp://h/a/b" names
 * "a/b" there); an encoded slash at the start ("ftp://h/%2Fetc/x") makes it absolute. A trailing "/"
 * marks a folder. The `;type=a|i|d` suffix of RFC 1738 s3.2.2 is accepted.
 */
import { isIP } from 'node:net';
import { FtpUsageError } from '../errors.js';

export interface FtpUrl {
  protocol: 'ftp' | 'ftps';
  host: string;
  port: number;
  /** Decoded user name, undefined when the URL has none. */
  user?: string;
  /** Decoded password, undefined when the URL has none. */
  password?: string;
  /** Remote path as sent to the server ('' = the login folder). */
  path: string;
  /** The URL path ends with '/' (or is empty): it names a folder. */
  isDir: boolean;
  /** RFC 1738 typecode: 'a' ASCII, 'i' image/binary, 'd' directory listing. */
  typecode?: 'a' | 'i' | 'd';
}

export function isFtpUrl(text: string): boolean {
  return /^ftps?:\/\//i.test(text);
}

function decode(part: string, what: string): string {
  let out: string;
  try {
    out = decodeURIComponent(part);
  } catch {
    throw new FtpUsageError(`bad percent-encoding in the URL ${what}: ${part}`);
  }
  // RFC 959 s4.1: CR/LF end a command line; NUL truncates. None of them may reach the wire.
  if (/[\r\n\0]/.test(out)) throw new FtpUsageError(`the URL ${what} contains CR, LF or NUL`);
  return out;
}

export function parseFtpUrl(text: string): FtpUrl {
  if (!isFtpUrl(text)) throw new FtpUsageError(`not an ftp:// or ftps:// URL: ${text}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FtpUsageError(`invalid URL: ${text}`);
  }
  const protocol = url.protocol.toLowerCase() === 'ftps:' ? 'ftps' : 'ftp';
  let host = url.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!host) throw new FtpUsageError(`the URL has no host: ${text}`);
  if (host.includes(':') && isIP(host) !== 6) throw new FtpUsageError(`invalid IPv6 address in the URL: ${text}`);
  // WHATWG URL reads "host:" (an empty port) as the default port: a port the user meant to type and left
  // out must not become 21 silently. The authority is what follows "//" up to the path, after any "user@".
  const authority = text.slice(text.indexOf('//') + 2).split('/')[0];
  if (authority.slice(authority.lastIndexOf('@') + 1).endsWith(':')) {
    throw new FtpUsageError(`the URL has an empty port after ":" (leave out the ":" for port ${protocol === 'ftps' ? 990 : 21})`);
  }
  const port = url.port ? Number(url.port) : protocol === 'ftps' ? 990 : 21;

  let rawPath = url.pathname;
  let typecode: FtpUrl['typecode'];
  const tm = /;type=([aid])$/i.exec(rawPath);
  if (tm) { typecode = tm[1].toLowerCase() as FtpUrl['typecode']; rawPath = rawPath.slice(0, tm.index); }
  // Query and fragment are not part of FTP URLs; "?" and "#" in a name must be written %3F and %23.
  if (url.search || url.hash) throw new FtpUsageError(`"?" and "#" in an FTP URL must be percent-encoded (%3F, %23): ${text}`);
  const isDir = rawPath === '' || rawPath === '/' || rawPath.endsWith('/');
  const segments = rawPath.replace(/^\//, '').split('/').map(s => decode(s, 'path'));
  let path = segments.join('/');
  if (isDir) path = path.replace(/\/$/, '');
  return {
    protocol, host, port,
    user: url.username ? decode(url.username, 'user name') : undefined,
    password: url.password ? decode(url.password, 'password') : undefined,
    path, isDir, typecode,
  };
}

/** The URL for display: never the password (a transcript or a --json result may be pasted in a forum). */
export function redactUrl(u: FtpUrl): string {
  const host = isIP(u.host) === 6 ? `[${u.host}]` : u.host;
  const user = u.user ? `${encodeURIComponent(u.user)}@` : '';
  const defaultPort = u.protocol === 'ftps' ? 990 : 21;
  const port = u.port === defaultPort ? '' : `:${u.port}`;
  // RFC 1738 s3.2.2: an absolute path is written with an encoded leading slash.
  const abs = u.path.startsWith('/');
  const path = (abs ? '%2F' : '') + (abs ? u.path.slice(1) : u.path).split('/').map(encodeURIComponent).join('/');
  return `${u.protocol}://${user}${host}${port}/${path}${u.isDir && u.path ? '/' : ''}`;
}

/** Last segment of a remote path (the default local name for `get`). */
export function remoteBaseName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? '';
}
