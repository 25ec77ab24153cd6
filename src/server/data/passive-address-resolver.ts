/**
 * What a 227 (PASV) reply advertises: the seam where NAT handling plugs in.
 *
 * Owns: the PassiveAddressResolver strategy type and the default strategy. The default advertises
 * `options.passive.address` when it is an IPv4 literal, else the IPv4 address the client connected to,
 * and the port actually listened on. src/server/nat/ supplies a richer resolver (hostname re-resolution,
 * per-client-network rules, port mapping) through FtpServer's `passiveAddressResolver` extension; the
 * PASV/EPSV handlers (commands/data-setup.ts) only ever call the resolver.
 *
 * EPSV (RFC 2428 s3) carries no address, only the port, which still goes through `resolvePort`. Both say
 * which rule they applied: the 'command' event of PASV/EPSV carries it (events.ts PassiveDecision).
 */
import { isIPv4 } from 'node:net';
import { unmapIPv4 } from '../../protocol/hostport.js';
import type { PassiveOptions } from '../options.js';

export interface PassiveAddressContext {
  /** The server's local address on the control connection (what the client connected to), unmapped. */
  controlLocalAddress: string;
  /** The client's address on the control connection, unmapped. */
  clientAddress: string;
  /** The port the passive listener is bound to. */
  listenPort: number;
}

export interface PassiveAdvertisement {
  /** IPv4 address for the 227 reply. */
  address: string;
  /** Port to advertise (differs from listenPort behind a port-mapping NAT). */
  port: number;
  /** Why this address was chosen (shown in logs / the doctor). */
  rule?: string;
}

export interface PassiveAddressResolver {
  /** For PASV (227). May be async (DNS). */
  resolve(ctx: PassiveAddressContext): PassiveAdvertisement | Promise<PassiveAdvertisement>;
  /** For EPSV (229): only the port matters. Default identity. */
  resolvePort?(ctx: PassiveAddressContext): number;
  /** The setting that maps listened ports to advertised ones in resolvePort (the rule an EPSV log names). */
  readonly portRule?: string;
}

/** The rule of an EPSV port that nothing mapped. */
export const LISTENED_PORT_RULE = 'listened port';

/** EPSV's port (the listened one when the resolver has no resolvePort) and the rule that chose it. */
export function resolveEpsvPort(resolver: PassiveAddressResolver, ctx: PassiveAddressContext): { port: number; rule: string } {
  const port = resolver.resolvePort?.(ctx) ?? ctx.listenPort;
  return { port, rule: port === ctx.listenPort ? LISTENED_PORT_RULE : resolver.portRule ?? 'passive address resolver' };
}

/** The default strategy: fixed IPv4 from options, else the control connection's local IPv4. */
export function defaultPassiveAddressResolver(options: PassiveOptions = {}): PassiveAddressResolver {
  const fixed = options.address !== undefined && isIPv4(options.address) ? options.address : undefined;
  return {
    resolve(ctx) {
      if (fixed) return { address: fixed, port: ctx.listenPort, rule: 'passive.address' };
      return { address: unmapIPv4(ctx.controlLocalAddress), port: ctx.listenPort, rule: 'control connection local address' };
    },
  };
}
