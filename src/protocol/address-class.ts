/**
 * Classification of IP addresses by reachability scope, shared by the server's NAT features (which address
 * to advertise to whom) and the doctor (is a PASV address routable from here?). Pure: no sockets, no DNS.
 *
 * "Private" here means "not reachable across the public Internet": RFC 1918 private ranges, RFC 6598
 * carrier-grade NAT space, loopback, link-local, "this network" 0/8, RFC 4193 unique-local IPv6.
 * Node's net.BlockList does the prefix matching (it also matches IPv4-mapped IPv6 forms). The client's PASV
 * address policy (address-policy.ts) classifies with this table too: one place for it.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { unmapIPv4 } from './hostport.js';

export type AddressScope =
  | 'unspecified'  // 0.0.0.0 / :: : a server that did not know its own address (vsftpd on IPv6 sends 0,0,0,0)
  | 'loopback'     // 127/8, ::1
  | 'link-local'   // 169.254/16, fe80::/10
  | 'private'      // RFC 1918, RFC 4193 (fc00::/7)
  | 'shared'       // RFC 6598 100.64/10: carrier-grade NAT, unroutable on the Internet as well
  | 'reserved'     // multicast (224/4, ff00::/8) and 240/4: never a host to connect to
  | 'public';

interface ScopeRule { scope: AddressScope; net: string; prefix: number; type: 'ipv4' | 'ipv6' }

const RULES: ScopeRule[] = [
  { scope: 'unspecified', net: '0.0.0.0', prefix: 8, type: 'ipv4' },      // RFC 1122 s3.2.1.3 "this network"
  { scope: 'loopback', net: '127.0.0.0', prefix: 8, type: 'ipv4' },
  { scope: 'link-local', net: '169.254.0.0', prefix: 16, type: 'ipv4' },  // RFC 3927
  { scope: 'private', net: '10.0.0.0', prefix: 8, type: 'ipv4' },         // RFC 1918
  { scope: 'private', net: '172.16.0.0', prefix: 12, type: 'ipv4' },
  { scope: 'private', net: '192.168.0.0', prefix: 16, type: 'ipv4' },
  { scope: 'shared', net: '100.64.0.0', prefix: 10, type: 'ipv4' },       // RFC 6598
  { scope: 'loopback', net: '::1', prefix: 128, type: 'ipv6' },
  { scope: 'unspecified', net: '::', prefix: 128, type: 'ipv6' },
  { scope: 'link-local', net: 'fe80::', prefix: 10, type: 'ipv6' },
  { scope: 'private', net: 'fc00::', prefix: 7, type: 'ipv6' },           // RFC 4193
  { scope: 'reserved', net: '224.0.0.0', prefix: 4, type: 'ipv4' },       // RFC 5771 multicast
  { scope: 'reserved', net: '240.0.0.0', prefix: 4, type: 'ipv4' },       // RFC 1112 s4 reserved
  { scope: 'reserved', net: 'ff00::', prefix: 8, type: 'ipv6' },          // RFC 4291 multicast
];

const lists = RULES.map(r => {
  const b = new BlockList();
  b.addSubnet(r.net, r.prefix, r.type);
  return { scope: r.scope, list: b };
});

/** Strip an IPv6 zone id and an IPv4-mapped prefix. */
function normalize(address: string): string {
  return unmapIPv4(address.replace(/%.*$/, ''));
}

/**
 * Scopes already worked out, by the address as given. A server asks at every PASV/EPSV about the same few
 * addresses (its own, its clients'), and one answer costs up to 14 BlockList checks, each building a
 * SocketAddress (issue 10: ~2% of a session's CPU). Emptied when full, so it stays small.
 */
const scopes = new Map<string, AddressScope | undefined>();
const MAX_REMEMBERED_SCOPES = 1024;

/** Scope of an IP address; undefined when it is not an IP literal. */
export function addressScope(address: string): AddressScope | undefined {
  if (scopes.has(address)) return scopes.get(address);
  const a = normalize(address);
  const type = isIPv4(a) ? 'ipv4' : isIPv6(a) ? 'ipv6' : undefined;
  let found: AddressScope | undefined;
  if (type) found = lists.find(({ list }) => list.check(a, type))?.scope ?? 'public';
  if (scopes.size >= MAX_REMEMBERED_SCOPES) scopes.clear();
  scopes.set(address, found);
  return found;
}

/** True for addresses that a peer on the public Internet cannot reach. */
export function isNonPublicAddress(address: string): boolean {
  const s = addressScope(address);
  return s !== undefined && s !== 'public';
}

/** True for addresses of the caller's own networks (the ones a server calls "local clients"). */
export function isLocalNetworkAddress(address: string): boolean {
  const s = addressScope(address);
  return s === 'private' || s === 'loopback' || s === 'link-local' || s === 'shared';
}

/** The default "local networks" as CIDR strings (for docs and for server rules). */
export const LOCAL_NETWORKS: readonly string[] = RULES
  .filter(r => r.scope === 'private' || r.scope === 'loopback' || r.scope === 'link-local' || r.scope === 'shared')
  .map(r => `${r.net}/${r.prefix}`);

/** Parse "10.0.0.0/8", "2001:db8::/32" or a bare address (= /32 or /128). Undefined when malformed. */
export function parseCidr(text: string): { net: string; prefix: number; type: 'ipv4' | 'ipv6' } | undefined {
  const [addr, pfx, ...rest] = text.trim().split('/');
  if (rest.length || !addr) return undefined;
  const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
  if (!type) return undefined;
  const max = type === 'ipv4' ? 32 : 128;
  if (pfx === undefined) return { net: addr, prefix: max, type };
  if (!/^\d{1,3}$/.test(pfx)) return undefined;
  const prefix = Number(pfx);
  if (prefix > max) return undefined;
  return { net: addr, prefix, type };
}

/** A set of CIDR networks; `has()` accepts IPv4, IPv6 and IPv4-mapped IPv6 addresses. */
export class NetworkSet {
  readonly #list = new BlockList();
  readonly networks: readonly string[];
  /** Throws RangeError naming the malformed entry. */
  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const p = parseCidr(c);
      if (!p) throw new RangeError(`not a CIDR network: ${JSON.stringify(c)}`);
      this.#list.addSubnet(p.net, p.prefix, p.type);
    }
    this.networks = [...cidrs];
  }
  has(address: string): boolean {
    // Empty (the defender's allow and deny lists unless configured, asked at every accept): no parsing,
    // no BlockList.check (which builds a SocketAddress per call).
    if (this.networks.length === 0) return false;
    const a = normalize(address);
    const type = isIPv4(a) ? 'ipv4' : isIPv6(a) ? 'ipv6' : undefined;
    return type !== undefined && this.#list.check(a, type);
  }
}
