/**
 * The PROXY protocol at accept (docs/server.md#behind-a-load-balancer): before a connection becomes a
 * session (control port), a TLS handshake (implicit FTPS) or a transfer's data connection (passive ports),
 * the header the load balancer wrote is read, and the real client's address replaces the proxy's for
 * everything after: bans and allow/deny lists, session limits, the passive-connection theft check, logs,
 * events and SessionInfo.
 *
 * Owns: deciding per listener whether a header is expected from this peer (`from`), reading it with its
 * deadline (net/proxy-header-reader.ts), the log line ('warning' proxy-protocol-refused) for a refused
 * connection, and the connections still waiting for their header (closed with the server).
 */
import type { Socket } from 'node:net';
import { unmapIPv4 } from '../../protocol/hostport.js';
import { readProxyHeader } from '../../net/proxy-header-reader.js';
import type { ProxyHeader } from '../../net/proxy-protocol.js';
import type { ProxyListenerName, ResolvedProxyProtocol } from './options.js';
import { formatReply, reply } from '../../protocol/reply.js';
import { ReplyCode } from '../../protocol/reply-codes.js';

/** The addresses a connection is served with (the real client's when a header named it). */
export interface ClientEndpoints {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export type ProxyOutcome =
  /** Serve it: the client's endpoints (from the header, or the socket's own when there was none). */
  | { kind: 'client'; endpoints: ClientEndpoints; proxied: boolean }
  /** The proxy speaking for itself (v2 LOCAL: a health check): no client, no session. */
  | { kind: 'local' }
  /** Closed: the reason is logged. */
  | { kind: 'refused'; reason: string };

export type ProxyWarn = (code: string, message: string, remoteAddress: string) => void;

export function socketEndpoints(socket: Socket): ClientEndpoints {
  return {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
}

export class ProxyGate {
  /** Connections still waiting for their header. */
  private readonly pending = new Set<Socket>();

  constructor(private readonly options: ResolvedProxyProtocol | undefined, private readonly warn: ProxyWarn) {}

  /** Whether connections on `listener` go through the gate at all. */
  applies(listener: ProxyListenerName): boolean {
    return this.options !== undefined && this.options.modes[listener] !== 'off';
  }

  /**
   * Decide about a connection accepted on `listener`. A refused connection is destroyed here and logged;
   * a 'local' one is left to the caller (control port: answer the health check).
   */
  async pass(socket: Socket, listener: ProxyListenerName): Promise<ProxyOutcome> {
    const own = socketEndpoints(socket);
    const options = this.options;
    const mode = options?.modes[listener] ?? 'off';
    if (!options || mode === 'off') return { kind: 'client', endpoints: own, proxied: false };
    const peer = unmapIPv4(own.remoteAddress);
    if (!options.from.has(peer)) {
      if (mode === 'optional') return { kind: 'client', endpoints: own, proxied: false };
      return this.refuse(socket, peer, `a PROXY protocol header is required on the ${listener} port and ${peer} is not in proxyProtocol.from`);
    }
    socket.on('error', () => {});
    this.pending.add(socket);
    let header: ProxyHeader | null;
    try {
      header = await readProxyHeader(socket, { timeoutMs: options.headerTimeoutMs, optional: mode === 'optional' });
    } catch (err) {
      return this.refuse(socket, peer, `${listener} port: ${(err as Error).message}`);
    } finally {
      this.pending.delete(socket);
    }
    if (socket.destroyed) return { kind: 'refused', reason: 'closed while its PROXY header was read' };
    if (!header) return { kind: 'client', endpoints: own, proxied: false };
    if (header.command === 'local') return { kind: 'local' };
    return {
      kind: 'client',
      proxied: true,
      // The local address stays the node's own: passive listeners bind it (the proxy forwards to it).
      endpoints: { remoteAddress: unmapIPv4(header.source.address), remotePort: header.source.port, localAddress: own.localAddress, localPort: own.localPort },
    };
  }

  /**
   * For a passive listener (net/port-range-listener.ts identifyPeer): the real client's address of a data
   * connection, or null when it must be dropped (refused, or a health check).
   */
  readonly dataPeer = async (socket: Socket): Promise<string | null> => {
    const outcome = await this.pass(socket, 'passive');
    if (outcome.kind === 'client') return unmapIPv4(outcome.endpoints.remoteAddress);
    if (outcome.kind === 'local') socket.destroy();
    return null;
  };

  private refuse(socket: Socket, peer: string, reason: string): ProxyOutcome {
    socket.on('error', () => {});
    socket.destroy();
    this.warn('proxy-protocol-refused', `connection from ${peer} closed: ${reason}`, peer);
    return { kind: 'refused', reason };
  }

  /** The server is closing: connections still waiting for their header are dropped. */
  close(): void {
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
  }
}

/**
 * Accept a connection on `listener` through the gate, then `serve` it with the client's endpoints. A
 * health check (v2 LOCAL) on the control port gets a 220 line and a clean close, so a check that expects
 * the greeting (`tcp-check expect string 220`) and a plain connect check both pass; on the implicit FTPS
 * port it is closed cleanly (a TLS check would be a real session).
 */
export function acceptThroughProxy(gate: ProxyGate, socket: Socket, listener: 'control' | 'implicit', serve: (endpoints: ClientEndpoints) => void): void {
  if (!gate.applies(listener)) { serve(socketEndpoints(socket)); return; }
  void gate.pass(socket, listener).then(outcome => {
    if (outcome.kind === 'client') serve(outcome.endpoints);
    else if (outcome.kind === 'local' && listener === 'control') socket.end(formatReply(reply(ReplyCode.ServiceReady, 'ftpkit ready (health check)')));
    else if (outcome.kind === 'local') socket.end();
  });
}
