/**
 * The server's passive listeners as one pool (one per FtpServer, shared by its sessions).
 *
 * Owns: knowing which passive listeners hold a port of the range and which of them no transfer command
 * has claimed yet, and taking ports back from the oldest unclaimed ones when the range runs short.
 *
 * Why: a client that sends PASV/EPSV and never transfers holds a port of the range until the listener's
 * own deadline (timeouts.dataConnectMs, 30 s). 110 such sessions on a 101-port range made a real client's
 * PASV fail 13 times in 20. Real clients send the transfer command right after the 227/229 (RFC 959
 * s4.1.2 puts PASV just before the transfer command), so under pressure a listener that has been waiting
 * longer than `reclaimAfterMs` is the one to give up; its session's transfer command then gets a 425
 * that says why.
 */
import type { PortRange } from '../options.js';
import { portCount } from '../resolved-options.js';

/** What the pool needs from a listener. */
export interface PooledListener {
  /** When the listener started (Date.now()). */
  readonly openedAt: number;
  /** Close the listener because the pool needs its port; the owner is told (425 on its next transfer). */
  reclaim(): void;
}

export class PassivePortPool {
  /** Listeners holding a port of the range. */
  private readonly listening = new Set<PooledListener>();
  /** Of those, the ones no transfer command has claimed yet, oldest first (a Set keeps insertion order). */
  private readonly unclaimed = new Set<PooledListener>();
  /** Ports of the range. */
  readonly size: number;
  /**
   * Pressure starts when this many ports are held: a tenth of the range (at least one port) is kept free
   * for the next PASV, so a real client does not have to wait for a reclaim.
   */
  readonly highWater: number;

  constructor(range: PortRange, private readonly reclaimAfterMs: number) {
    this.size = portCount(range);
    this.highWater = Math.max(1, this.size - Math.max(1, Math.ceil(this.size / 10)));
  }

  /** Ports held by this server's passive listeners. */
  get held(): number { return this.listening.size; }

  /** A listener got a port (unclaimed until claim()). */
  add(listener: PooledListener): void {
    this.listening.add(listener);
    this.unclaimed.add(listener);
  }

  /** A transfer command (or the client's connection) took the listener: it is no longer reclaimable. */
  claim(listener: PooledListener): void {
    this.unclaimed.delete(listener);
  }

  /** The listener gave its port back. */
  remove(listener: PooledListener): void {
    this.listening.delete(listener);
    this.unclaimed.delete(listener);
  }

  /**
   * Before opening a listener: when the range is under pressure (or `force`, after no port was free),
   * reclaim unclaimed listeners older than reclaimAfterMs, oldest first, until the pressure is gone.
   * Returns how many were reclaimed.
   */
  relieve(force = false, now = Date.now()): number {
    let reclaimed = 0;
    for (const listener of [...this.unclaimed]) {
      const pressure = this.listening.size >= this.highWater || (force && reclaimed === 0);
      if (!pressure) break;
      // Oldest first: once one is too young, all the rest are too.
      if (now - listener.openedAt < this.reclaimAfterMs) break;
      this.remove(listener);
      listener.reclaim();
      reclaimed++;
    }
    return reclaimed;
  }
}
