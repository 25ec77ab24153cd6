/**
 * Active data channel (PORT, RFC 959 s4.1.2; EPRT, RFC 2428 s2): the server connects to the client.
 *
 * Owns: opening the connection back to the client. The address checks (RFC 2577 bounce protection) are
 * done by the PORT/EPRT handlers before a channel is made (src/server/commands/data-channel.ts).
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HostPort } from '../../protocol/hostport.js';
import type { DataChannel, DataSocketWrapper } from './data-channel.js';

export interface ActiveChannelOptions {
  target: HostPort;
  /** Local address to connect from (the control connection's local address, same family). */
  localAddress?: string;
  /** Local port to connect from (RFC 959 s3.2 port L-1 = 20), when configured. */
  localPort?: number;
  wrapSocket?: DataSocketWrapper;
}

export class ActiveDataChannel implements DataChannel {
  readonly kind = 'active' as const;
  private socket: Socket | undefined;
  private closed = false;

  constructor(private readonly opts: ActiveChannelOptions) {}

  connect(timeoutMs: number): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      if (this.closed) { reject(new Error('data channel closed')); return; }
      const socket = connect({
        host: this.opts.target.host,
        port: this.opts.target.port,
        localAddress: this.opts.localAddress,
        localPort: this.opts.localPort,
      });
      this.socket = socket;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error('timed out connecting to the client'), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      socket.once('error', err => { clearTimeout(timer); reject(err); });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.on('error', () => { /* reported by the transfer that uses it */ });
        if (this.opts.wrapSocket) this.opts.wrapSocket(socket).then(resolve, err => { socket.destroy(); reject(err); });
        else resolve(socket);
      });
    });
  }

  close(): void {
    this.closed = true;
  }

  /** Destroy a pending connection (the channel was replaced or the session ended). */
  discard(): void {
    this.closed = true;
    this.socket?.destroy();
  }

  describe(): string {
    return `active to ${this.opts.target.host}:${this.opts.target.port}`;
  }
}
