/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): the header a load balancer writes
 * at the start of a connection it forwards, carrying the real client's address. Pure: bytes in, a header
 * (or "need more bytes", or "this is no header") out; reading it from a socket is proxy-header-reader.ts.
 *
 * Bounded (docs/architecture.md#bound-every-input): a v1 line is at most 107 bytes (spec s2.1); a v2
 * header at most `maxBytes` (16 fixed bytes + the announced length, which includes the TLVs). TLVs
 * (spec s2.2.7) are skipped whole: the address block's length comes from the family, the rest is ignored.
 */
import { FtpProtocolError } from '../errors.js';

/** The 12-byte v2 signature (spec s2.2). */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Spec s2.1: "PROXY UNKNOWN ffff:...:ffff ffff:...:ffff 65535 65535\r\n" is the longest line, 107 bytes. */
const V1_MAX_BYTES = 107;
/** Default bound of a v2 header: addresses (at most 216 bytes, AF_UNIX) plus room for HAProxy's usual TLVs. */
export const PROXY_HEADER_MAX_BYTES = 4096;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

/**
 * A parsed header. 'proxy': the connection is relayed for `source` (the client) to `destination` (the
 * address the client connected to). 'local': the proxy speaks for itself (v2 LOCAL: health checks; v1
 * UNKNOWN; v2 PROXY over a family we do not relay, UNSPEC or UNIX): the spec (s2.2) says to use the real
 * connection's endpoints then.
 */
export type ProxyHeader =
  | { version: 1 | 2; command: 'proxy'; family: 'tcp4' | 'tcp6'; source: ProxyEndpoint; destination: ProxyEndpoint }
  | { version: 1 | 2; command: 'local'; family: 'unspec' | 'unix' | 'udp4' | 'udp6' | 'tcp4' | 'tcp6' };

export type ProxyParseResult =
  /** The bytes so far are a prefix of a header: wait for more. */
  | { state: 'incomplete' }
  /** The bytes do not start with a header (a client speaking directly). */
  | { state: 'absent' }
  /** A header of `length` bytes; what follows belongs to the relayed connection. */
  | { state: 'complete'; header: ProxyHeader; length: number };

function isPrefixOf(bytes: Buffer, signature: Buffer): boolean {
  const n = Math.min(bytes.length, signature.length);
  return bytes.subarray(0, n).equals(signature.subarray(0, n));
}

/**
 * Parse a PROXY header at the start of `bytes`. Throws FtpProtocolError for a malformed one (bad version,
 * command or lengths, over `maxBytes`, a v1 line without CRLF within 107 bytes or with bad addresses).
 */
export function parseProxyHeader(bytes: Buffer, maxBytes = PROXY_HEADER_MAX_BYTES): ProxyParseResult {
  if (bytes.length === 0) return { state: 'incomplete' };
  if (isPrefixOf(bytes, PROXY_V2_SIGNATURE)) {
    return bytes.length < 16 ? { state: 'incomplete' } : parseV2(bytes, maxBytes);
  }
  if (isPrefixOf(bytes, V1_PREFIX)) {
    return bytes.length < V1_PREFIX.length ? { state: 'incomplete' } : parseV1(bytes);
  }
  return { state: 'absent' };
}

const V2_FAMILIES: Record<number, { family: 'unspec' | 'tcp4' | 'udp4' | 'tcp6' | 'udp6' | 'unix'; addressBytes: number }> = {
  0x00: { family: 'unspec', addressBytes: 0 },
  0x11: { family: 'tcp4', addressBytes: 12 },
  0x12: { family: 'udp4', addressBytes: 12 },
  0x21: { family: 'tcp6', addressBytes: 36 },
  0x22: { family: 'udp6', addressBytes: 36 },
  0x31: { family: 'unix', addressBytes: 216 },
  0x32: { family: 'unix', addressBytes: 216 },
};

/** Spec s2.2: signature, version/command byte, family/transport byte, 16-bit length, addresses, TLVs. */
function parseV2(bytes: Buffer, maxBytes: number): ProxyParseResult {
  const versionCommand = bytes[12];
  if (versionCommand >> 4 !== 2) throw new FtpProtocolError(`PROXY v2 header with version ${versionCommand >> 4} (expected 2)`);
  const command = versionCommand & 0x0f;
  if (command !== 0 && command !== 1) throw new FtpProtocolError(`PROXY v2 header with unknown command ${command}`);
  const length = 16 + bytes.readUInt16BE(14);
  if (length > maxBytes) throw new FtpProtocolError(`PROXY v2 header of ${length} bytes, over the bound of ${maxBytes}`);
  if (bytes.length < length) return { state: 'incomplete' };
  const kind = V2_FAMILIES[bytes[13]];
  // LOCAL (spec s2.2: "the receiver must accept this connection as valid and must use the real connection
  // endpoints and discard the protocol block including the family which is ignored").
  if (command === 0) return { state: 'complete', length, header: { version: 2, command: 'local', family: kind?.family ?? 'unspec' } };
  if (!kind) throw new FtpProtocolError(`PROXY v2 header with unknown address family/transport 0x${bytes[13].toString(16).padStart(2, '0')}`);
  if (length - 16 < kind.addressBytes) {
    throw new FtpProtocolError(`PROXY v2 header too short for its ${kind.family} addresses (${length - 16} < ${kind.addressBytes} bytes)`);
  }
  if (kind.family !== 'tcp4' && kind.family !== 'tcp6') {
    return { state: 'complete', length, header: { version: 2, command: 'local', family: kind.family } };
  }
  const a = bytes.subarray(16);
  const header: ProxyHeader = kind.family === 'tcp4'
    ? { version: 2, command: 'proxy', family: 'tcp4',
        source: { address: ipv4(a.subarray(0, 4)), port: a.readUInt16BE(8) },
        destination: { address: ipv4(a.subarray(4, 8)), port: a.readUInt16BE(10) } }
    : { version: 2, command: 'proxy', family: 'tcp6',
        source: { address: ipv6(a.subarray(0, 16)), port: a.readUInt16BE(32) },
        destination: { address: ipv6(a.subarray(16, 32)), port: a.readUInt16BE(34) } };
  return { state: 'complete', length, header };
}

function ipv4(b: Buffer): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** Full form, lower case, unmapped by the caller when needed (e.g. ::ffff:192.0.2.1 stays as written). */
function ipv6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return compressIPv6(groups);
}

/** RFC 5952 s4.2: the longest run (of two or more) of zero groups becomes "::". */
function compressIPv6(groups: string[]): string {
  let bestStart = -1, bestLength = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength && j - i >= 2) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

const V1_IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const V1_PORT = /^(0|[1-9]\d{0,4})$/;

/** Spec s2.1: "PROXY TCP4|TCP6|UNKNOWN src dst srcport dstport\r\n", single spaces, at most 107 bytes. */
function parseV1(bytes: Buffer): ProxyParseResult {
  const end = bytes.subarray(0, V1_MAX_BYTES).indexOf('\r\n', 0, 'latin1');
  if (end < 0) {
    if (bytes.length >= V1_MAX_BYTES) throw new FtpProtocolError(`PROXY v1 line without CRLF within ${V1_MAX_BYTES} bytes`);
    return { state: 'incomplete' };
  }
  const length = end + 2;
  const fields = bytes.toString('latin1', 0, end).split(' ');
  if (fields[1] === 'UNKNOWN') return { state: 'complete', length, header: { version: 1, command: 'local', family: 'unspec' } };
  if ((fields[1] !== 'TCP4' && fields[1] !== 'TCP6') || fields.length !== 6) {
    throw new FtpProtocolError(`malformed PROXY v1 line: ${JSON.stringify(bytes.toString('latin1', 0, end))}`);
  }
  const [, proto, src, dst, sport, dport] = fields;
  const v4 = proto === 'TCP4';
  const validAddress = (a: string): boolean => v4 ? V1_IPV4.test(a) : /^[0-9a-fA-F:.]+$/.test(a) && a.includes(':');
  const validPort = (p: string): boolean => V1_PORT.test(p) && Number(p) <= 65535;
  if (!validAddress(src) || !validAddress(dst) || !validPort(sport) || !validPort(dport)) {
    throw new FtpProtocolError(`malformed PROXY v1 addresses: ${JSON.stringify(bytes.toString('latin1', 0, end))}`);
  }
  return { state: 'complete', length, header: { version: 1, command: 'proxy', family: v4 ? 'tcp4' : 'tcp6',
    source: { address: src.toLowerCase(), port: Number(sport) }, destination: { address: dst.toLowerCase(), port: Number(dport) } } };
}

/** Encode a v2 header (tests, and a client that wants to speak through a PROXY-aware listener). */
export function encodeProxyV2(header: { command: 'local' } | { command: 'proxy'; source: ProxyEndpoint; destination: ProxyEndpoint }, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  if (header.command === 'local') {
    const fixed = Buffer.alloc(16);
    PROXY_V2_SIGNATURE.copy(fixed);
    fixed[12] = 0x20;
    fixed[13] = 0x00;
    fixed.writeUInt16BE(tlvs.length, 14);
    return Buffer.concat([fixed, tlvs]);
  }
  const v6 = header.source.address.includes(':');
  const addresses = Buffer.alloc(v6 ? 36 : 12);
  const put = (address: string, at: number): void => {
    if (v6) ipv6Bytes(address).copy(addresses, at);
    else address.split('.').forEach((part, i) => { addresses[at + i] = Number(part); });
  };
  put(header.source.address, 0);
  put(header.destination.address, v6 ? 16 : 4);
  addresses.writeUInt16BE(header.source.port, v6 ? 32 : 8);
  addresses.writeUInt16BE(header.destination.port, v6 ? 34 : 10);
  const fixed = Buffer.alloc(16);
  PROXY_V2_SIGNATURE.copy(fixed);
  fixed[12] = 0x21;
  fixed[13] = v6 ? 0x21 : 0x11;
  fixed.writeUInt16BE(addresses.length + tlvs.length, 14);
  return Buffer.concat([fixed, addresses, tlvs]);
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::');
  const parse = (s: string | undefined): number[] => (s ? s.split(':').map(g => parseInt(g, 16)) : []);
  const h = parse(head), t = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}
