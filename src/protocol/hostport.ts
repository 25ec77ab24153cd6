/**
 * Encoders and parsers for the data-connection addresses of FTP:
 * PORT argument and PASV reply (RFC 959 s4.1.2, s4.2), EPRT argument and EPSV reply (RFC 2428 s2, s3).
 * Pure: no sockets. Parsers return a typed result or throw FtpProtocolError (for replies from a server)
 * or return undefined (for command arguments, which the server answers with 501).
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { FtpProtocolError } from '../errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/** RFC 2428 s2: network protocol numbers used by EPRT/EPSV. */
export type AddressFamilyNumber = 1 | 2;

export interface ExtendedHostPort extends HostPort {
  family: AddressFamilyNumber;
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Strip an IPv4-mapped IPv6 prefix (::ffff:1.2.3.4 -> 1.2.3.4), as sockets on a dual-stack listener report. */
/** An IPv6 address in a URL or a host:port needs brackets (RFC 3986 s3.2.2). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1] : address;
}

/** True when two textual IP addresses denote the same host (mapped IPv4 and IPv6 spellings normalized). */
export function sameAddress(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = unmapIPv4(a);
  const y = unmapIPv4(b);
  if (isIPv4(x) && isIPv4(y)) return x === y;
  if (isIPv6(x) && isIPv6(y)) {
    const list = new BlockList();
    list.addAddress(x, 'ipv6');
    return list.check(y, 'ipv6');
  }
  return false;
}

/** "h1,h2,h3,h4,p1,p2" for PORT and the 227 reply. Host must be IPv4 (mapped form accepted). */
export function formatHostPortNumbers(hp: HostPort): string {
  const host = unmapIPv4(hp.host);
  if (!isIPv4(host)) throw new RangeError(`PORT/PASV need an IPv4 address, got ${hp.host}`);
  if (!isPort(hp.port)) throw new RangeError(`invalid port ${hp.port}`);
  return `${host.split('.').join(',')},${hp.port >> 8},${hp.port & 0xff}`;
}

function hostPortFromNumbers(nums: number[]): HostPort | undefined {
  if (nums.length !== 6 || nums.some(n => !Number.isInteger(n) || n < 0 || n > 255)) return undefined;
  const port = nums[4] * 256 + nums[5];
  if (!isPort(port)) return undefined;
  return { host: nums.slice(0, 4).join('.'), port };
}

/** PORT argument (RFC 959 s4.1.2). Returns undefined when malformed (-> 501). */
export function parsePortArgument(arg: string): HostPort | undefined {
  const parts = arg.trim().split(',');
  if (parts.length !== 6 || parts.some(p => !/^\d{1,3}$/.test(p.trim()))) return undefined;
  return hostPortFromNumbers(parts.map(p => Number(p.trim())));
}

export function formatPortArgument(hp: HostPort): string {
  return formatHostPortNumbers(hp);
}

/** Text of a 227 reply. RFC 959 s4.1.2 shows "Entering Passive Mode (h1,h2,h3,h4,p1,p2)." */
export function formatPasvReplyText(hp: HostPort): string {
  return `Entering Passive Mode (${formatHostPortNumbers(hp)}).`;
}

/**
 * Parse the text of a 227 reply. RFC 1123 s4.1.2.6: the client must scan for the six numbers,
 * they may appear without parentheses.
 */
export function parsePasvReply(text: string): HostPort {
  const m = /(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})/.exec(text);
  const hp = m ? hostPortFromNumbers(m.slice(1, 7).map(Number)) : undefined;
  if (!hp) throw new FtpProtocolError(`unusable PASV reply: ${JSON.stringify(text.slice(0, 200))}`);
  return hp;
}

/** EPRT argument "|1|132.235.1.2|6275|" or "|2|::1|5282|" (RFC 2428 s2); any delimiter 33-126. */
export function parseEprtArgument(arg: string): ExtendedHostPort | undefined {
  const s = arg.trim();
  if (s.length < 7) return undefined;
  const d = s[0];
  const code = d.charCodeAt(0);
  if (code < 33 || code > 126 || /[0-9a-fA-F.:]/.test(d)) return undefined;
  const parts = s.split(d);
  // ["", proto, addr, port, ""]
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return undefined;
  const [, proto, host, portText] = parts;
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (!isPort(port)) return undefined;
  if (proto === '1' && isIPv4(host)) return { family: 1, host, port };
  if (proto === '2' && isIPv6(host)) return { family: 2, host, port };
  return undefined;
}

export function formatEprtArgument(hp: HostPort): string {
  const host = unmapIPv4(hp.host);
  if (!isPort(hp.port)) throw new RangeError(`invalid port ${hp.port}`);
  if (isIPv4(host)) return `|1|${host}|${hp.port}|`;
  if (isIPv6(host)) return `|2|${host}|${hp.port}|`;
  throw new RangeError(`EPRT needs an IP address, got ${hp.host}`);
}

/** RFC 2428 s3: "229 Entering Extended Passive Mode (|||6446|)". */
export function formatEpsvReplyText(port: number): string {
  if (!isPort(port)) throw new RangeError(`invalid port ${port}`);
  return `Entering Extended Passive Mode (|||${port}|)`;
}

/** Parse the port out of a 229 reply text (RFC 2428 s3); the delimiter may be any of 33-126. */
export function parseEpsvReply(text: string): number {
  const m = /\(([!-~])\1\1(\d{1,5})\1\)/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!isPort(port)) throw new FtpProtocolError(`unusable EPSV reply: ${JSON.stringify(text.slice(0, 200))}`);
  return port;
}

/** EPSV argument: none, a protocol number, or ALL (RFC 2428 s3, s4). */
export type EpsvArgument = { kind: 'any' } | { kind: 'all' } | { kind: 'family'; family: number };

export function parseEpsvArgument(arg: string): EpsvArgument | undefined {
  const s = arg.trim();
  if (s === '') return { kind: 'any' };
  if (/^all$/i.test(s)) return { kind: 'all' };
  if (/^\d{1,3}$/.test(s)) return { kind: 'family', family: Number(s) };
  return undefined;
}

/** Address family of an IP string, after unmapping. */
export function familyOf(address: string): AddressFamilyNumber | undefined {
  const a = unmapIPv4(address);
  if (isIPv4(a)) return 1;
  if (isIPv6(a)) return 2;
  return undefined;
}
