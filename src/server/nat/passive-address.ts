/**
 * Which address and port the server advertises for a passive data connection (server behind NAT).
 *
 * Owns: fixed IPv4 / hostname (dynamic DNS, re-resolved lazily, last good address kept on failure) /
 * per-client-network rules (CIDR lists), the listened -> advertised port map, and the warning when a private
 * address would be advertised to a client on a public address (the classic "PASV advertises 10.x" bug).
 *
 * Why this matters: RFC 959 s4.1.2 PASV replies carry an IPv4 address; behind NAT the server's own address is
 * unreachable for the client. EPSV (RFC 2428 s3) carries only the port, so only the port map applies to it.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { FtpConfigError } from '../../errors.js';
import { LOCAL_NETWORKS, NetworkSet, isNonPublicAddress } from '../../protocol/address-class.js';
import { unmapIPv4 } from '../../protocol/hostport.js';
import type { PassiveOptions, PortRange } from '../options.js';
import { DEFAULT_PASSIVE_PORT_RANGE } from '../resolved-options.js';

/** What the server knows about the control connection when it answers PASV/EPSV. */
export interface PassiveContext {
  /** The client's address as seen on the control connection (may be IPv4-mapped IPv6). */
  clientAddress: string;
  /** The server's local address of the control connection (may be IPv4-mapped IPv6). */
  localAddress: string;
  /** The port the passive listener actually listens on. */
  listenPort: number;
}

export interface NatAdvertisement {
  /** IPv4 address for the 227 reply; undefined when none can be expressed (IPv6 client: use EPSV). */
  host: string | undefined;
  /** Port for the 227/229 reply (the port map applied). */
  port: number;
  /** Which rule chose the address, for logs and the doctor ("rule 1 (10.0.0.0/8)", "passive.address", "local"). */
  source: string;
}

export interface PassiveWarning {
  code: 'private-address-to-public-client' | 'hostname-resolution-failed';
  message: string;
  /** The setting that fixes it (CLI flag / config key). */
  setting: string;
}

export type Lookup4 = (hostname: string) => Promise<string>;

export interface PassiveAdvertiserOptions {
  /** Injected for tests; default: dns.lookup with family 4. */
  lookup?: Lookup4;
  /** Called for each warning (the server re-emits them as its 'warning' event). */
  onWarning?: (w: PassiveWarning) => void;
  /** Clock for tests. */
  now?: () => number;
  /** Bound on the first lookup of a hostname while a client waits for its 227. Default 3 s. */
  firstLookupTimeoutMs?: number;
}

const DEFAULT_REFRESH_MS = 300_000;

/** "local" = the address the client connected to; otherwise an IPv4 literal or a hostname. */
type Target = { kind: 'local' } | { kind: 'ip'; ip: string } | { kind: 'hostname'; hostname: string };

function parseTarget(text: string, key: string): Target {
  const t = text.trim();
  if (t === 'local') return { kind: 'local' };
  if (isIPv4(t)) return { kind: 'ip', ip: t };
  // RFC 1123 s2.1 host names; a bare IPv6 literal cannot appear in a 227 reply.
  if (/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(t)
      && !/^[\d.]+$/.test(t)) {
    return { kind: 'hostname', hostname: t };
  }
  throw new FtpConfigError(key, `expected an IPv4 address, a hostname or "local", got ${JSON.stringify(text)}`);
}

function expandNetworks(networks: readonly string[]): string[] {
  return networks.flatMap(n => (n.trim() === 'private' ? [...LOCAL_NETWORKS] : [n.trim()]));
}

/** Validate and apply a listened -> advertised port map. */
export class PassivePortMap {
  constructor(readonly listen: PortRange | undefined, readonly advertised: PortRange | undefined) {
    if (!advertised) return;
    if (!listen) throw new FtpConfigError('passive.advertisedPortRange', 'needs passive.portRange (the listened range)');
    const ok = (r: PortRange) => Number.isInteger(r.min) && Number.isInteger(r.max) && r.min >= 1 && r.max <= 65535 && r.min <= r.max;
    if (!ok(advertised)) throw new FtpConfigError('passive.advertisedPortRange', `invalid range ${advertised.min}-${advertised.max}`);
    if (advertised.max - advertised.min !== listen.max - listen.min) {
      throw new FtpConfigError('passive.advertisedPortRange',
        `must have as many ports as passive.portRange (${listen.min}-${listen.max}), got ${advertised.min}-${advertised.max}`);
    }
  }
  /** The port to put in the reply for a listener on `port`. Ports outside the range are not mapped. */
  map(port: number): number {
    if (!this.advertised || !this.listen || port < this.listen.min || port > this.listen.max) return port;
    return this.advertised.min + (port - this.listen.min);
  }
}

interface HostnameCache {
  address?: string;
  resolvedAt?: number;
  inFlight?: Promise<string | undefined>;
}

/**
 * Resolves the passive advertisement per control connection. One instance per server; cheap to call.
 * No timers: a stale hostname is re-resolved in the background on the next PASV, so nothing needs stopping.
 */
export class PassiveAdvertiser {
  readonly #rules: Array<{ set: NetworkSet; target: Target; label: string }>;
  readonly #default: Target | undefined;
  readonly #refreshMs: number;
  readonly #portMap: PassivePortMap;
  readonly #lookup: Lookup4;
  readonly #onWarning: (w: PassiveWarning) => void;
  readonly #now: () => number;
  readonly #firstLookupTimeoutMs: number;
  readonly #cache = new Map<string, HostnameCache>();
  readonly #warned = new Set<string>();

  /** Throws FtpConfigError naming the bad key. */
  constructor(options: PassiveOptions = {}, resolverOptions: PassiveAdvertiserOptions = {}) {
    this.#rules = (options.addressMap ?? []).map((rule, i) => {
      const key = `passive.addressMap.${i}`;
      let set: NetworkSet;
      try { set = new NetworkSet(expandNetworks(rule.networks)); } catch (e) {
        throw new FtpConfigError(`${key}.networks`, (e as Error).message);
      }
      return { set, target: parseTarget(rule.address, `${key}.address`), label: `passive.addressMap[${i}] (${rule.networks.join(',')})` };
    });
    this.#default = options.address ? parseTarget(options.address, 'passive.address') : undefined;
    this.#refreshMs = options.addressRefreshMs ?? DEFAULT_REFRESH_MS;
    if (!(this.#refreshMs > 0)) throw new FtpConfigError('passive.addressRefreshMs', 'must be > 0');
    // The listened range defaults like the server's (src/server/resolved-options.ts).
    this.#portMap = new PassivePortMap(options.portRange ?? (options.advertisedPortRange ? DEFAULT_PASSIVE_PORT_RANGE : undefined),
      options.advertisedPortRange);
    this.#lookup = resolverOptions.lookup ?? (async h => (await dnsLookup(h, { family: 4 })).address);
    this.#onWarning = resolverOptions.onWarning ?? (() => {});
    this.#now = resolverOptions.now ?? Date.now;
    this.#firstLookupTimeoutMs = resolverOptions.firstLookupTimeoutMs ?? 3000;
  }

  /** True when something beyond "advertise the local address" is configured. */
  get configured(): boolean {
    return this.#default !== undefined || this.#rules.length > 0 || this.#portMap.advertised !== undefined;
  }

  /** Port for a 229 reply (RFC 2428 s3): only the port map applies. */
  epsvPort(listenPort: number): number {
    return this.#portMap.map(listenPort);
  }

  /** Address and port for a 227 reply. */
  async pasv(ctx: PassiveContext): Promise<NatAdvertisement> {
    const client = unmapIPv4(ctx.clientAddress);
    const local = unmapIPv4(ctx.localAddress);
    const port = this.#portMap.map(ctx.listenPort);
    // An IPv6 client has no IPv4 address to be told about (RFC 2428 s1): the server answers "use EPSV".
    if (!isIPv4(client)) {
      return { host: isIPv4(local) ? local : undefined, port, source: 'local (IPv6 client)' };
    }
    let target: Target = { kind: 'local' };
    let source = 'local';
    const rule = this.#rules.find(r => r.set.has(client));
    if (rule) { target = rule.target; source = rule.label; } else if (this.#default) { target = this.#default; source = 'passive.address'; }

    let host: string | undefined;
    if (target.kind === 'ip') host = target.ip;
    else if (target.kind === 'hostname') {
      host = await this.#resolveHostname(target.hostname);
      if (host === undefined) { host = isIPv4(local) ? local : undefined; source = `local (${target.hostname} unresolved)`; }
      else source = `${source} (${target.hostname})`;
    } else host = isIPv4(local) ? local : undefined;

    if (host !== undefined && isNonPublicAddress(host) && !isNonPublicAddress(client)) {
      this.#warnOnce(`${host}|${client}`, {
        code: 'private-address-to-public-client',
        message: `advertising the private address ${host} in a PASV reply to ${client}, a client on a public address: `
          + 'it cannot connect there. If this server is behind NAT, set its public address with --pasv-address '
          + '(config passive.address) and forward the passive port range',
        setting: '--pasv-address',
      });
    }
    return { host, port, source };
  }

  async #resolveHostname(hostname: string): Promise<string | undefined> {
    let entry = this.#cache.get(hostname);
    if (!entry) { entry = {}; this.#cache.set(hostname, entry); }
    const fresh = entry.resolvedAt !== undefined && this.#now() - entry.resolvedAt < this.#refreshMs;
    if (entry.address !== undefined) {
      if (!fresh && !entry.inFlight) void this.#refresh(hostname, entry);
      return entry.address;
    }
    // Never resolved yet: the client waits for this one, bounded.
    const pending = entry.inFlight ?? this.#refresh(hostname, entry);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>(res => { timer = setTimeout(() => res(undefined), this.#firstLookupTimeoutMs); });
    try { return await Promise.race([pending, timeout]); } finally { clearTimeout(timer); }
  }

  #refresh(hostname: string, entry: HostnameCache): Promise<string | undefined> {
    const p = (async () => {
      try {
        const address = await this.#lookup(hostname);
        if (!isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
        entry.address = address;
        entry.resolvedAt = this.#now();
        return address;
      } catch (err) {
        // Keep the last good address; retry on the next PASV after a short pause, not on every command.
        entry.resolvedAt = this.#now() - this.#refreshMs + Math.min(this.#refreshMs, 30_000);
        this.#warnOnce(`dns|${hostname}|${entry.address ?? ''}`, {
          code: 'hostname-resolution-failed',
          message: `could not resolve the passive address ${hostname} (${(err as Error).message}); `
            + (entry.address ? `keeping the last good address ${entry.address}` : 'advertising the local address meanwhile'),
          setting: '--pasv-address',
        });
        return entry.address;
      } finally {
        entry.inFlight = undefined;
      }
    })();
    entry.inFlight = p;
    return p;
  }

  #warnOnce(key: string, w: PassiveWarning): void {
    if (this.#warned.has(key)) return;
    if (this.#warned.size >= 1024) this.#warned.clear(); // bounded: a scan from many addresses cannot grow it
    this.#warned.add(key);
    this.#onWarning(w);
  }
}
