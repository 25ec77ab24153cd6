/**
 * Options of the PROXY protocol on the server's listeners (docs/server.md#behind-a-load-balancer): which
 * listeners expect a header, from which proxy addresses, and how long it may take.
 */
import { FtpConfigError } from '../../errors.js';
import { NetworkSet } from '../../protocol/address-class.js';

/** off: never read a header; optional: a trusted peer may send one; required: every connection must come with one. */
export type ProxyProtocolMode = 'off' | 'optional' | 'required';
export const PROXY_PROTOCOL_MODES: readonly ProxyProtocolMode[] = ['off', 'optional', 'required'];

/** The listeners a header can arrive on. */
export type ProxyListenerName = 'control' | 'implicit' | 'passive';

export interface ProxyProtocolOptions {
  /**
   * The proxies (addresses or CIDR networks) allowed to send a header. A header is read only from these;
   * under 'required' a connection from any other address is closed (a client must not reach a node around
   * the proxy, nor claim another address). Required, non-empty.
   */
  from: string[];
  /** Every listener's mode unless set below. Default 'required'. */
  mode?: ProxyProtocolMode;
  /** The control port. */
  control?: ProxyProtocolMode;
  /** The implicit FTPS port (tls.implicitPort): the header comes before the TLS handshake. */
  implicit?: ProxyProtocolMode;
  /** The passive data ports (passive.portRange). */
  passive?: ProxyProtocolMode;
  /**
   * How long a header may take to arrive (ms). Under 'optional' a trusted peer that sends nothing this long
   * is served as a direct client (FTP clients wait for the greeting: they send nothing first). Default 5 s.
   */
  headerTimeoutMs?: number;
}

export interface ResolvedProxyProtocol {
  from: NetworkSet;
  modes: Record<ProxyListenerName, ProxyProtocolMode>;
  headerTimeoutMs: number;
}

export const DEFAULT_PROXY_HEADER_TIMEOUT_MS = 5000;

/** Validate; undefined when the PROXY protocol is off on every listener. Throws FtpConfigError naming the key. */
export function resolveProxyProtocol(o: ProxyProtocolOptions | undefined): ResolvedProxyProtocol | undefined {
  if (!o) return undefined;
  const mode = (key: string, value: ProxyProtocolMode | undefined, fallback: ProxyProtocolMode): ProxyProtocolMode => {
    const m = value ?? fallback;
    if (!PROXY_PROTOCOL_MODES.includes(m)) throw new FtpConfigError(`proxyProtocol.${key}`, `expected one of ${PROXY_PROTOCOL_MODES.join(', ')}`);
    return m;
  };
  const all = mode('mode', o.mode, 'required');
  const modes = { control: mode('control', o.control, all), implicit: mode('implicit', o.implicit, all), passive: mode('passive', o.passive, all) };
  if (Object.values(modes).every(m => m === 'off')) return undefined;
  if (!Array.isArray(o.from) || o.from.length === 0) {
    throw new FtpConfigError('proxyProtocol.from', 'name the proxies allowed to send a PROXY header (addresses or CIDR networks)');
  }
  let from: NetworkSet;
  try {
    from = new NetworkSet(o.from);
  } catch (err) {
    throw new FtpConfigError('proxyProtocol.from', (err as Error).message);
  }
  const headerTimeoutMs = o.headerTimeoutMs ?? DEFAULT_PROXY_HEADER_TIMEOUT_MS;
  if (!(headerTimeoutMs > 0) || !Number.isFinite(headerTimeoutMs)) throw new FtpConfigError('proxyProtocol.headerTimeoutMs', 'must be a duration > 0');
  return { from, modes, headerTimeoutMs };
}
