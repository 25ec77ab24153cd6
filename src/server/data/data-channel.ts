/**
 * The one data-channel interface of the server, with passive (passive.ts) and
 * active (active.ts) implementations.
 *
 * Owns: the contract a transfer uses to get its data socket. The address comparison used by the SECURITY
 * checks (RFC 2577 bounce protection, foreign passive connections) is sameAddress() in protocol/hostport.ts.
 */
import { isIPv4 } from 'node:net';
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

/** Address family ('IPv4' | 'IPv6') of an address as a socket reports it, mapped IPv4 counted as IPv4. */
export function ipFamily(address: string): 'IPv4' | 'IPv6' {
  return isIPv4(unmapIPv4(address)) ? 'IPv4' : 'IPv6';
}
