/**
 * Passive data channel (PASV, RFC 959 s4.1.2; EPSV, RFC 2428 s3): the server listens, the client connects.
 *
 * Owns: one listener on a port of the configured range (net/port-range-listener.ts: a free port, exactly
 * one connection from the control connection's peer, others dropped), the deadline for a transfer command
 * to claim it, and its place in the server's PassivePortPool (passive-pool.ts), which may reclaim an
 * unclaimed listener when the range runs short.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { networkError } from '../../net/connect.js';
import { PortRangeListener } from '../../net/port-range-listener.js';
import type { PortRange } from '../options.js';
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
  /** The real client behind a proxy (PROXY protocol on the passive ports, proxy/gate.ts); absent: the socket's peer. */
  identifyPeer?: (socket: Socket) => Promise<string | null>;
  /** Called when the pool took this channel's port back before any transfer command claimed it. */
  onReclaimed?: () => void;
}

export class PassiveDataChannel implements DataChannel, PooledListener {
  readonly kind = 'passive' as const;
  readonly openedAt = Date.now();
  private closed = false;
  private unclaimedTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: PassiveChannelOptions, private readonly listener: PortRangeListener) {
    opts.pool?.add(this);
    if (opts.unclaimedMs !== undefined && opts.unclaimedMs > 0) {
      this.unclaimedTimer = setTimeout(() => { this.discard(); opts.onUnclaimed?.(); }, opts.unclaimedMs);
      this.unclaimedTimer.unref();
    }
  }

  get port(): number { return this.listener.port; }

  /**
   * Listen on a free port of the range (PortRangeListener: random start, ports in use skipped). Rejects
   * with an FtpNetworkError (phase 'listen') when every port is taken (-> 425).
   */
  static async open(opts: PassiveChannelOptions): Promise<PassiveDataChannel> {
    opts.pool?.relieve();
    try {
      return await PassiveDataChannel.listen(opts);
    } catch (err) {
      // Every port taken (also by other programs): one more try if the pool could free one.
      if (opts.pool?.relieve(true)) return PassiveDataChannel.listen(opts);
      throw err;
    }
  }

  private static async listen(opts: PassiveChannelOptions): Promise<PassiveDataChannel> {
    let channel: PassiveDataChannel | undefined;
    const listener = await PortRangeListener.open({
      host: opts.bindAddress,
      portRange: opts.portRange,
      rangeName: 'passive port range',
      allowedPeer: opts.allowForeignAddress ? undefined : opts.expectedRemote,
      onRefused: (address, reason) => { if (reason === 'foreign-address') opts.onForeignConnection?.(address); },
      // The port went back to the range with the connection: the pool no longer counts it.
      onAccepted: () => { if (channel) opts.pool?.remove(channel); },
      identifyPeer: opts.identifyPeer,
    });
    channel = new PassiveDataChannel(opts, listener);
    return channel;
  }

  async connect(timeoutMs: number): Promise<Duplex> {
    clearTimeout(this.unclaimedTimer);
    this.opts.pool?.claim(this);
    let socket;
    try {
      socket = await this.listener.accept({ timeoutMs });
    } catch (err) {
      this.close();
      throw err;
    }
    // A connection that arrived before the transfer command may be gone already (the client connected and
    // closed, or reset it): its 'end' or 'close' has come and gone, and a transfer laid over it would wait
    // for the data idle timeout. Refuse it (425); the client closed what the command needed.
    if (socket.destroyed || socket.readableEnded) {
      socket.destroy();
      this.close();
      throw networkError({ connection: 'data', phase: 'accept', failure: 'closed', endpoint: `port ${this.port}`,
        detail: 'the client closed the data connection before the transfer command' });
    }
    if (!this.opts.wrapSocket) return socket;
    try {
      return await this.opts.wrapSocket(socket);
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  close(): void {
    clearTimeout(this.unclaimedTimer);
    if (this.closed) return;
    this.closed = true;
    this.opts.pool?.remove(this);
    this.listener.close();
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
    this.listener.accepted?.destroy();
  }

  describe(): string {
    return `passive on port ${this.port}`;
  }
}
