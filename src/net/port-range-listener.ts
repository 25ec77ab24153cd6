/**
 * A listener for one data connection on a port taken from a range: the server's passive mode (PASV, RFC
 * 959 s4.1.2; EPSV, RFC 2428 s3) and the client's active mode (PORT, EPRT RFC 2428 s2) both listen this way.
 *
 * Owns: choosing a free port in [min, max] (starting at a random one so concurrent sessions rarely
 * collide; skipping ports in use or refused), accepting exactly one connection from the expected peer and
 * dropping any other, and waiting for it with a deadline. Failures are FtpNetworkErrors (phase 'listen' or
 * 'accept'). Socket wrapping (TLS), the transcript and the server's port pool stay with the callers.
 */
import net from 'node:net';
import type { Server, Socket } from 'node:net';
import { FtpNetworkError, FtpUsageError, classifySocketError } from '../errors.js';
import { sameAddress, unmapIPv4 } from '../protocol/hostport.js';
import { formatEndpoint, networkError } from './connect.js';

export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/** Why a connection was dropped: from another address than the peer, or after the one connection came (or close()). */
export type RefusedReason = 'foreign-address' | 'already-connected';

export interface PortRangeListenOptions {
  /** Address to listen on. */
  host: string;
  /** Ports to choose from; undefined: any port the system gives. */
  portRange?: PortRange;
  /** What the range is called in messages, e.g. "passive port range". */
  rangeName: string;
  /**
   * SECURITY: the only address that may open the data connection (RFC 2577 s3 and s4: a third host must
   * neither deliver nor take the data, "port stealing"). Undefined: any address.
   */
  allowedPeer?: string;
  /** Told about each connection dropped (the caller warns or writes the transcript). */
  onRefused?: (remoteAddress: string, reason: RefusedReason) => void;
  /** Told when the one connection arrived; the listener has stopped listening (the port is free again). */
  onAccepted?: (socket: Socket) => void;
  /**
   * Who is really at the other end, when a proxy relays the connection (the PROXY protocol, the server's
   * proxy/gate.ts): the address `allowedPeer` is compared with, or null to drop the connection silently
   * (refused, or a health check; the callee logged what deserves it). Absent: the socket's own address.
   */
  identifyPeer?: (socket: Socket) => Promise<string | null>;
}

export interface AcceptOptions {
  timeoutMs: number;
  /** The address the peer was told to connect to, for messages (default: the listened address). */
  endpoint?: string;
  /** Words saying what is awaited, for the timeout message, e.g. "active mode: the server never connected back". */
  context?: string;
}

/** A few pending connections beyond the one expected, so foreign ones can be accepted and dropped. */
const BACKLOG = 8;

function listenOn(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', err => { server.close(); reject(err); });
    server.listen({ host, port, backlog: BACKLOG, exclusive: true }, () => {
      server.removeAllListeners('error');
      resolve(server);
    });
  });
}

/** A port taken by someone else, or one we may not use (EACCES: below 1024, or a security policy): try the next. */
function isPortUnavailable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}

async function listenInRange(host: string, range: PortRange | undefined, rangeName: string): Promise<Server> {
  if (!range) {
    try {
      return await listenOn(host, 0);
    } catch (err) {
      throw networkError({ connection: 'data', phase: 'listen', failure: classifySocketError(err),
        endpoint: formatEndpoint(host, 0), cause: err, detail: (err as Error).message });
    }
  }
  const { min, max } = range;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
    throw new FtpUsageError(`invalid ${rangeName} ${min}-${max}`);
  }
  const count = max - min + 1;
  const first = Math.floor(Math.random() * count);
  let lastError: unknown;
  for (let i = 0; i < count; i++) {
    const port = min + ((first + i) % count);
    try {
      return await listenOn(host, port);
    } catch (err) {
      lastError = err;
      if (!isPortUnavailable(err)) {
        throw networkError({ connection: 'data', phase: 'listen', failure: classifySocketError(err),
          endpoint: formatEndpoint(host, port), cause: err, detail: (err as Error).message });
      }
    }
  }
  throw networkError({ connection: 'data', phase: 'listen', failure: 'address-in-use',
    endpoint: `${host} ports ${min}-${max}`, cause: lastError,
    detail: `no free port in the ${rangeName} ${min}-${max} (${(lastError as Error | undefined)?.message ?? 'none tried'})` });
}

interface Waiter {
  resolve(socket: Socket): void;
  reject(err: FtpNetworkError): void;
  /** For the message when close() ends the wait. */
  endpoint: string;
}

export class PortRangeListener {
  private server: Server | undefined;
  private acceptedSocket: Socket | undefined;
  private waiter: Waiter | undefined;
  private closedByOwner = false;

  private constructor(private readonly opts: PortRangeListenOptions, server: Server, readonly port: number) {
    this.server = server;
    server.on('connection', socket => this.onConnection(socket));
    // A listener that fails after it listened (rare: resources) can no longer deliver the connection.
    server.on('error', () => this.close());
  }

  /**
   * Listen on a free port of the range. Rejects with an FtpNetworkError (phase 'listen'; failure
   * 'address-in-use' when every port of the range is taken), or an FtpUsageError for an invalid range.
   */
  static async open(opts: PortRangeListenOptions): Promise<PortRangeListener> {
    const host = unmapIPv4(opts.host);
    const server = await listenInRange(host, opts.portRange, opts.rangeName);
    return new PortRangeListener({ ...opts, host }, server, (server.address() as net.AddressInfo).port);
  }

  get host(): string { return this.opts.host; }

  /** The connection, once it arrived (it may arrive before accept() is called). */
  get accepted(): Socket | undefined { return this.acceptedSocket; }

  /** Whether the port is still held: false once the connection arrived, or after close() or a timeout. */
  get listening(): boolean { return this.server !== undefined; }

  private onConnection(socket: Socket): void {
    const { identifyPeer } = this.opts;
    if (!identifyPeer) { this.admit(socket, unmapIPv4(socket.remoteAddress ?? '?')); return; }
    socket.on('error', () => {});
    identifyPeer(socket).then(peer => {
      if (peer === null) socket.destroy();
      else this.admit(socket, peer);
    }, () => socket.destroy());
  }

  private admit(socket: Socket, peer: string): void {
    const { allowedPeer } = this.opts;
    if (allowedPeer !== undefined && !sameAddress(peer, allowedPeer)) {
      socket.destroy();
      this.opts.onRefused?.(peer, 'foreign-address');
      return;
    }
    if (this.acceptedSocket || this.closedByOwner) {
      socket.destroy();
      this.opts.onRefused?.(peer, 'already-connected');
      return;
    }
    this.acceptedSocket = socket;
    socket.on('error', () => { /* reported by whoever uses the socket */ });
    // One data connection per listener: stop listening, the port goes back to the range.
    this.stopListening();
    this.opts.onAccepted?.(socket);
    this.waiter?.resolve(socket);
    this.waiter = undefined;
  }

  /**
   * The connection: at once when it already arrived, else when it comes. Rejects with an FtpNetworkError
   * (phase 'accept'): 'timeout' after `timeoutMs` (the listener is then closed), 'closed' after close().
   * One accept() at a time.
   */
  accept(options: AcceptOptions): Promise<Socket> {
    const endpoint = options.endpoint ?? formatEndpoint(this.opts.host, this.port);
    if (this.acceptedSocket && !this.closedByOwner) return Promise.resolve(this.acceptedSocket);
    if (this.closedByOwner || this.waiter) {
      return Promise.reject(networkError({ connection: 'data', phase: 'accept', failure: 'closed', endpoint,
        detail: this.waiter ? 'another accept is waiting' : 'the listener was closed before the connection came' }));
    }
    const started = performance.now();
    return new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.close();
        reject(networkError({ connection: 'data', phase: 'accept', failure: 'timeout', endpoint,
          elapsedMs: performance.now() - started, context: options.context }));
      }, options.timeoutMs);
      this.waiter = {
        resolve: socket => { clearTimeout(timer); resolve(socket); },
        reject: err => { clearTimeout(timer); reject(err); },
        endpoint,
      };
    });
  }

  private stopListening(): void {
    this.server?.close();
    this.server = undefined;
  }

  /**
   * Stop listening; a pending accept() rejects ('closed'). Idempotent. A connection that already arrived
   * is left alone (destroy `accepted` to drop it).
   */
  close(): void {
    if (this.closedByOwner) return;
    this.closedByOwner = true;
    this.stopListening();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(networkError({ connection: 'data', phase: 'accept', failure: 'closed', endpoint: waiter.endpoint,
      detail: 'stopped waiting for the connection' }));
  }
}
