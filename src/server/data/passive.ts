/**
 * Passive data channel (PASV, RFC 959 s4.1.2; EPSV, RFC 2428 s3): the server listens, the client connects.
 *
 * Owns: picking a free port from the configured range, accepting exactly one connection from the
 * control connection's peer, and dropping connections from anywhere else. The server's PassivePortPool
 * (passive-pool.ts) knows every listener and may reclaim an unclaimed one when the range runs short.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { unmapIPv4 } from '../../protocol/hostport.js';
import type { PortRange } from '../options.js';
import { sameAddress } from './data-channel.js';
import type { DataChannel, DataSocketWrapper } from './data-channel.js';
import type { PassivePortPool, PooledListener } from './passive-pool.js';

export interface PassiveChannelOptions {
  /** Address to bind (the control connection's local address, so the listener is on the same family). */
  bindAddress: string;
  portRange: PortRange;
  /** The control connection's peer: the only address allowed to connect. */
  expectedRemote: string;
  /** Accept a data connection from another address than the control peer (off: RFC 2577 s4 advice). */
  allowForeignAddress?: boolean;
  wrapSocket?: DataSocketWrapper;
  /** Told about each dropped foreign connection. */
  onForeignConnection?: (remoteAddress: string) => void;
  /**
   * Release the port if no transfer command claims the channel within this time (a client that sends
   * PASV and never transfers must not hold a port of the range for the whole session). Default: never.
   */
  unclaimedMs?: number;
  /** Called when the channel gave its port back because nothing claimed it (see unclaimedMs). */
  onUnclaimed?: () => void;
  /** The server's pool of passive listeners (passive-pool.ts): under pressure it reclaims unclaimed ones. */
  pool?: PassivePortPool;
  /** Called when the pool took this channel's port back before any transfer command claimed it. */
  onReclaimed?: () => void;
}

export class PassiveDataChannel implements DataChannel, PooledListener {
  readonly kind = 'passive' as const;
  readonly openedAt = Date.now();
  private server: Server | undefined;
  private accepted: Socket | undefined;
  private waiter: ((s: Socket) => void) | undefined;
  private closed = false;
  private closeListeners: Array<() => void> = [];

  private constructor(private readonly opts: PassiveChannelOptions, readonly port: number, server: Server) {
    this.server = server;
    server.on('connection', socket => this.onConnection(socket));
    server.on('error', () => this.close());
    opts.pool?.add(this);
    if (opts.unclaimedMs !== undefined && opts.unclaimedMs > 0) {
      this.unclaimedTimer = setTimeout(() => { this.discard(); opts.onUnclaimed?.(); }, opts.unclaimedMs);
      this.unclaimedTimer.unref();
    }
  }
  private unclaimedTimer: NodeJS.Timeout | undefined;

  /**
   * Listen on a free port of the range, starting at a random one so concurrent sessions rarely collide;
   * on EADDRINUSE the next port is tried. Rejects (-> 425) when every port is taken.
   */
  static async open(opts: PassiveChannelOptions): Promise<PassiveDataChannel> {
    opts.pool?.relieve();
    try {
      return await PassiveDataChannel.listenInRange(opts);
    } catch (err) {
      // Every port taken (also by other programs): one more try if the pool could free one.
      if (opts.pool?.relieve(true)) return PassiveDataChannel.listenInRange(opts);
      throw err;
    }
  }

  private static async listenInRange(opts: PassiveChannelOptions): Promise<PassiveDataChannel> {
    const { min, max } = opts.portRange;
    const count = max - min + 1;
    const first = Math.floor(Math.random() * count);
    const host = unmapIPv4(opts.bindAddress);
    let lastError: unknown;
    for (let i = 0; i < count; i++) {
      const port = min + ((first + i) % count);
      const server = createServer({ pauseOnConnect: false });
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          // backlog: one data connection is expected; a few more so foreign ones can be accepted and dropped.
          server.listen({ host, port, backlog: 8, exclusive: true }, () => { server.off('error', reject); resolve(); });
        });
        return new PassiveDataChannel(opts, port, server);
      } catch (err) {
        lastError = err;
        server.close();
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') break;
      }
    }
    throw Object.assign(new Error(`no free passive port in ${min}-${max}`), { cause: lastError, code: 'ERR_NO_PASSIVE_PORT' });
  }

  private onConnection(socket: Socket): void {
    // SECURITY: only the control connection's peer may open the data connection (RFC 2577 s4, "port
    // stealing"): anyone else is dropped and we keep waiting for the right client.
    if (!this.opts.allowForeignAddress && !sameAddress(socket.remoteAddress, this.opts.expectedRemote)) {
      socket.destroy();
      this.opts.onForeignConnection?.(unmapIPv4(socket.remoteAddress ?? '?'));
      return;
    }
    if (this.accepted || this.closed) { socket.destroy(); return; }
    this.accepted = socket;
    socket.on('error', () => { /* reported by the transfer that uses it */ });
    // One data connection per channel: stop listening once it is here (the port goes back to the pool).
    this.server?.close();
    this.server = undefined;
    this.opts.pool?.remove(this);
    this.waiter?.(socket);
  }

  connect(timeoutMs: number): Promise<Duplex> {
    clearTimeout(this.unclaimedTimer);
    this.opts.pool?.claim(this);
    return new Promise<Duplex>((resolve, reject) => {
      const done = (socket: Socket): void => {
        clearTimeout(timer);
        this.closeListeners = this.closeListeners.filter(l => l !== onClose);
        if (this.opts.wrapSocket) this.opts.wrapSocket(socket).then(resolve, err => { socket.destroy(); reject(err); });
        else resolve(socket);
      };
      const onClose = (): void => { clearTimeout(timer); reject(new Error('data channel closed')); };
      const timer = setTimeout(() => { reject(Object.assign(new Error('timed out waiting for the data connection'), { code: 'ETIMEDOUT' })); this.close(); }, timeoutMs);
      if (this.closed) { onClose(); return; }
      this.closeListeners.push(onClose);
      if (this.accepted) done(this.accepted);
      else this.waiter = done;
    });
  }

  close(): void {
    clearTimeout(this.unclaimedTimer);
    if (this.closed) return;
    this.closed = true;
    this.opts.pool?.remove(this);
    this.server?.close();
    this.server = undefined;
    this.waiter = undefined;
    for (const l of this.closeListeners.splice(0)) l();
  }

  /** The pool needs the port back (passive-pool.ts): close, and let the session know. */
  reclaim(): void {
    if (this.closed) return;
    this.discard();
    this.opts.onReclaimed?.();
  }

  /** Destroy a connection accepted but never used (a new PASV replaced this channel). */
  discard(): void {
    this.close();
    this.accepted?.destroy();
  }

  describe(): string {
    return `passive on port ${this.port}`;
  }
}
