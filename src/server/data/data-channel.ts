/**
 * The one data-channel interface of the server, with passive (passive.ts) and
 * active (active.ts) implementations.
 *
 * Owns: the contract a transfer uses to get its data socket, and address comparison helpers used by the
 * SECURITY checks on both sides (RFC 2577 bounce protection, foreign passive connections).
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { unmapIPv4 } from '../../protocol/hostport.js';

export interface DataChannel {
  readonly kind: 'passive' | 'active';
  /**
   * Resolves with the connected data socket (after the session's data-socket wrapper, e.g. TLS, ran).
   * Rejects after `timeoutMs` or when the channel is closed. Called at most once.
   */
  connect(timeoutMs: number): Promise<Duplex>;
  /** Release the listener / pending connect. Idempotent; does not touch a socket already handed out. */
  close(): void;
  /** close(), and also destroy a connection made but never handed to a transfer (a new PASV/PORT replaced it). */
  discard(): void;
  /** A short description for STAT ("passive on port 50012", "active to 127.0.0.1:41000"). */
  describe(): string;
}

/** Wraps a freshly connected data socket (FTPS plugs TLS in here: tls/data-protection.ts). */
export type DataSocketWrapper = (socket: Socket) => Promise<Duplex>;

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

/** Address family ('IPv4' | 'IPv6') of an address as a socket reports it, mapped IPv4 counted as IPv4. */
export function ipFamily(address: string): 'IPv4' | 'IPv6' {
  return isIPv4(unmapIPv4(address)) ? 'IPv4' : 'IPv6';
}
