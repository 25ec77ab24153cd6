/**
 * Active data channel (PORT, RFC 959 s4.1.2; EPRT, RFC 2428 s2): the server connects to the client.
 *
 * Owns: opening the connection back to the client. The address checks (RFC 2577 bounce protection) are
 * done by the PORT/EPRT handlers before a channel is made (src/server/commands/data-setup.ts).
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FtpNetworkError } from '../../errors.js';
import { activeConnectError, type ActiveConnectOptions } from '../nat/active-source.js';
import type { DataChannel, DataSocketWrapper } from './data-channel.js';

export interface ActiveChannelOptions {
  /** Where to connect and from where: built by activeConnectOptions() (src/server/nat/active-source.ts). */
  connect: ActiveConnectOptions;
  wrapSocket?: DataSocketWrapper;
}

export class ActiveDataChannel implements DataChannel {
  readonly kind = 'active' as const;
  private socket: Socket | undefined;
  private closed = false;

  constructor(private readonly opts: ActiveChannelOptions) {}

  /** Rejects with an FtpNetworkError that names the cause (activeConnectError: source port privilege...). */
  connect(timeoutMs: number): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      if (this.closed) {
        reject(new FtpNetworkError({ connection: 'data', phase: 'connect', failure: 'closed', message: 'the data channel was closed' }));
        return;
      }
      const target = this.opts.connect;
      const started = Date.now();
      const socket = connect(target);
      this.socket = socket;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new FtpNetworkError({
          connection: 'data', phase: 'connect', failure: 'timeout', elapsedMs: Date.now() - started,
          endpoint: `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`,
          message: `timed out connecting back to the client after ${timeoutMs} ms`,
        }));
      }, timeoutMs);
      socket.once('error', err => { clearTimeout(timer); reject(activeConnectError(err, target, Date.now() - started)); });
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
    return `active to ${this.opts.connect.host}:${this.opts.connect.port}`;
  }
}
