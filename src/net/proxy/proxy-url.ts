/**
 * Which proxy a connection goes through: the proxy URL (`socks5h://`, `socks5://`, `http://`), curl's
 * NO_PROXY rules, and the environment variables curl reads (docs/client.md#proxies).
 *
 * - `socks5h://` hands the host name to the proxy (remote DNS: the client may not even be able to resolve
 *   it); `socks5://` resolves it here and sends the address (curl's distinction).
 * - `http://` is an HTTP proxy used with CONNECT (RFC 9110 s9.3.6): a tunnel, never FTP-over-HTTP.
 * - User and password in the URL are the proxy's credentials (SOCKS5 RFC 1929, HTTP Basic); they are
 *   masked wherever the URL is shown (maskProxyUrl).
 */
import net from 'node:net';
import { FtpUsageError } from '../../errors.js';

export type ProxyProtocol = 'socks5' | 'socks5h' | 'http';

export interface ProxyEndpoint {
  protocol: ProxyProtocol;
  host: string;
  port: number;
  user?: string;
  password?: string;
  /** The URL with the password masked, for transcripts and messages. */
  display: string;
}

const DEFAULT_PORTS: Record<ProxyProtocol, number> = { socks5: 1080, socks5h: 1080, http: 1080 };

/** Parse a proxy URL; a bare `host:port` is an HTTP proxy (curl's default scheme). */
export function parseProxyUrl(text: string): ProxyEndpoint {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new FtpUsageError(`not a proxy URL: ${maskProxyUrl(text)} (expected socks5h://host:port, socks5://host:port or http://host:port)`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const protocol: ProxyProtocol | undefined = scheme === 'socks5h' || scheme === 'socks5' || scheme === 'http' ? scheme
    : scheme === 'socks' ? 'socks5' : undefined;
  if (!protocol) {
    throw new FtpUsageError(`unsupported proxy scheme ${scheme}:// in ${maskProxyUrl(text)} (use socks5h://, socks5:// or http://)`);
  }
  if (!url.hostname) throw new FtpUsageError(`the proxy URL ${maskProxyUrl(text)} names no host`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[protocol];
  const endpoint: ProxyEndpoint = { protocol, host, port, display: '' };
  if (url.username) endpoint.user = decodeURIComponent(url.username);
  if (url.password) endpoint.password = decodeURIComponent(url.password);
  endpoint.display = `${protocol}://${endpoint.user !== undefined ? `${encodeURIComponent(endpoint.user)}${endpoint.password !== undefined ? ':***' : ''}@` : ''}`
    + `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  return endpoint;
}

/** The URL with any password replaced by ***, for messages about a URL that may not even parse. */
export function maskProxyUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/**
 * curl's NO_PROXY: a comma (or space) separated list; `*` alone matches every host; an entry matches the
 * host itself and its subdomains (a leading dot is ignored: `example.com` and `.example.com` both match
 * `ftp.example.com`); an IP matches that address, an IPv4 CIDR (`10.0.0.0/8`) the addresses in it.
 * Host names are compared without resolving them.
 */
export function bypassesProxy(host: string, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase().replace(/^\[|\]$/g, '');
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/') && net.isIPv4(h)) {
      if (inCidr(h, entry)) return true;
      continue;
    }
    const name = entry.replace(/^\*?\./, '').replace(/\.$/, '');
    if (h === name) return true;
    if (net.isIP(h) === 0 && h.endsWith(`.${name}`)) return true;
  }
  return false;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!base || !net.isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (a: string): number => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(base) & mask) >>> 0);
}

/**
 * The proxy the environment asks for, as curl reads it for ftp:// URLs: `ftp_proxy` / `FTP_PROXY`, then
 * `all_proxy` / `ALL_PROXY`; `no_proxy` / `NO_PROXY` for the exceptions. An empty value means none.
 */
export function proxyFromEnvironment(env: NodeJS.ProcessEnv): { proxy?: string; noProxy?: string } {
  const pick = (...names: string[]): string | undefined => {
    for (const n of names) { const v = env[n]; if (v !== undefined) return v.trim() || undefined; }
    return undefined;
  };
  const proxy = pick('ftp_proxy', 'FTP_PROXY') ?? pick('all_proxy', 'ALL_PROXY');
  const noProxy = pick('no_proxy', 'NO_PROXY');
  return { ...(proxy ? { proxy } : {}), ...(noProxy ? { noProxy } : {}) };
}
