/**
 * Owns the bound on password-verification work per client address: at most `limit` verifications of one
 * address in flight or queued at a time; one more is refused at once (FtpLoginRefusedError 'busy', which
 * the PASS handler answers 421) instead of joining the queue.
 *
 * Why: a full verification is expensive on purpose (scrypt ln=17: ~0.4 s and 128 MiB, two at a time in
 * password-hash.ts), and the queue in front of it is first come, first served. Without this bound one
 * address opening 20 connections and guessing on each put 20 verifications ahead of everybody else's
 * login (8.5-9.3 s measured, issue 12). With it, each address has at most one place in the queue, so a
 * legitimate login waits for at most one verification per other address that is guessing.
 *
 * It sits behind the credential cache (user-store.ts): a cached password and a login joining the same
 * verification already running cost no verification and are never refused by it, so a burst of parallel
 * logins of one user (`mirror --parallel N`) still works from one address.
 */
import { FtpLoginRefusedError } from '../../errors.js';

/** The default: one verification per address in flight or queued. */
export const DEFAULT_VERIFICATIONS_PER_ADDRESS = 1;

export class AddressGate {
  /** Verifications in flight or queued, per address; an address leaves the map when it has none. */
  private readonly inFlight = new Map<string, number>();
  readonly limit: number;

  /** `limit` 0 means no bound. */
  constructor(limit: number = DEFAULT_VERIFICATIONS_PER_ADDRESS) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError('verifications per address must be an integer >= 0 (0: no limit)');
    this.limit = limit === 0 ? Infinity : limit;
  }

  /** Addresses with a verification in flight or queued now. */
  get size(): number { return this.inFlight.size; }

  /** Run `verification` for `address`, or throw FtpLoginRefusedError('busy') when the address has its share running. */
  async run<T>(address: string, verification: () => Promise<T>): Promise<T> {
    const n = this.inFlight.get(address) ?? 0;
    if (n >= this.limit) {
      throw new FtpLoginRefusedError('busy', `a password verification for ${address} is already running (at most ${this.limit} per address)`);
    }
    this.inFlight.set(address, n + 1);
    try {
      return await verification();
    } finally {
      const left = (this.inFlight.get(address) ?? 1) - 1;
      if (left > 0) this.inFlight.set(address, left);
      else this.inFlight.delete(address);
    }
  }
}
