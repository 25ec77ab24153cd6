/**
 * Adapter from the NAT features to the server's passive-address seam (src/server/data/passive-address-resolver.ts):
 * FtpServer uses `natPassiveAddressResolver(options.passive, warn)` in place of the default strategy, which it
 * extends (same result when nothing is configured, plus the private-address warning).
 */
import { isIPv4 } from 'node:net';
import type { PassiveAddressResolver } from '../data/passive-address-resolver.js';
import type { PassiveOptions } from '../options.js';
import { PassiveAdvertiser, type PassiveAdvertiserOptions, type PassiveWarning } from './passive-address.js';

export function natPassiveAddressResolver(
  options: PassiveOptions = {},
  onWarning?: (w: PassiveWarning & { remoteAddress?: string }) => void,
  extra: Omit<PassiveAdvertiserOptions, 'onWarning'> = {},
): PassiveAddressResolver {
  let lastClient: string | undefined;
  const advertiser = new PassiveAdvertiser(options, {
    ...extra,
    onWarning: w => onWarning?.({ ...w, ...(lastClient ? { remoteAddress: lastClient } : {}) }),
  });
  return {
    async resolve(ctx) {
      lastClient = ctx.clientAddress;
      const a = await advertiser.pasv({ clientAddress: ctx.clientAddress, localAddress: ctx.controlLocalAddress, listenPort: ctx.listenPort });
      // The seam needs an address; an IPv6-only control connection has none for 227 (the session answers
      // PASV on IPv6 itself; RFC 2428 s1 says use EPSV).
      const address = a.host ?? (isIPv4(ctx.controlLocalAddress) ? ctx.controlLocalAddress : '0.0.0.0');
      return { address, port: a.port, rule: a.source };
    },
    resolvePort(ctx) {
      return advertiser.epsvPort(ctx.listenPort);
    },
    portRule: 'passive.advertisedPortRange',
  };
}
