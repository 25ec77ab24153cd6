/**
 * Bandwidth caps of one FtpServer (options.limits.bandwidth): per session, per user (shared by all the
 * sessions of that user) and global, each separately for uploads and downloads, changeable at run time
 * (FtpServer.setBandwidth, which the configuration reload calls).
 *
 * Owns: which token buckets (net/token-bucket.ts) a transfer is charged to, creating them only while a cap
 * is set and a transfer runs (an unlimited server holds no bucket at all), and applying new caps to the
 * transfers already running: each transfer's Throttle compares the limiter's version with the one it
 * last saw and picks up the new buckets or rates at its next piece.
 *
 * Models: proftpd's TransferRate and vsftpd's local_max_rate cap one transfer (here: the session, which
 * runs one transfer at a time); SFTPGo's per-user upload/download bandwidth is shared by the user's
 * sessions; pure-ftpd -t/-T cap per session too. A global cap is ours: the machine's uplink.
 */
import { FtpConfigError } from '../../errors.js';
import { BLOCK_SIZE } from '../../net/data-direct.js';
import { TokenBucket, pieceFor, type Throttle } from '../../net/token-bucket.js';

export type BandwidthDirection = 'upload' | 'download';

/** Caps in bytes per second; absent, 0 or Infinity: no cap. */
export interface BandwidthCaps {
  upload?: number;
  download?: number;
}

/** options.limits.bandwidth and FtpServer.setBandwidth(): `upload`/`download` cap each session. */
export interface BandwidthOptions extends BandwidthCaps {
  /** Shared by all the sessions of one user. */
  user?: BandwidthCaps;
  /** Shared by every session of the server. */
  global?: BandwidthCaps;
  /** Per user name: replaces `user` for that user. */
  users?: Record<string, BandwidthCaps>;
}

/** Caps with "no cap" as Infinity. */
interface Caps { upload: number; download: number }

interface ResolvedBandwidth {
  session: Caps;
  user: Caps;
  global: Caps;
  users: Map<string, Caps>;
}

/** Smallest piece a capped sender moves at once (below this the timers cost more than they pace). */
const MIN_PIECE = 16 * 1024;

function cap(key: string, value: number | undefined): number {
  if (value === undefined || value === 0 || value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new FtpConfigError(key, 'must be a number of bytes per second >= 0 (0: no cap)');
  }
  // Below 1 KiB/s a 16 KiB piece would wait 16 s: a typo more likely than a wish.
  if (value < 1024) throw new FtpConfigError(key, 'must be at least 1024 bytes per second (or 0: no cap)');
  return value;
}

function caps(key: string, c: BandwidthCaps | undefined): Caps {
  return { upload: cap(`${key}.upload`, c?.upload), download: cap(`${key}.download`, c?.download) };
}

/** Check and fill in options.limits.bandwidth; throws FtpConfigError naming the key. */
export function resolveBandwidth(o: BandwidthOptions | undefined, key = 'limits.bandwidth'): ResolvedBandwidth {
  const users = new Map<string, Caps>();
  for (const [name, c] of Object.entries(o?.users ?? {})) users.set(name, caps(`${key}.users.${name}`, c));
  return { session: caps(key, o), user: caps(`${key}.user`, o?.user), global: caps(`${key}.global`, o?.global), users };
}

/** The buckets of one scope, by direction; a bucket exists only while its cap is finite and in use. */
type Buckets = { upload?: TokenBucket; download?: TokenBucket };

/** Make `buckets[dir]` match `rate`: created, re-rated or dropped. Returns the bucket, if any. */
function sync(buckets: Buckets, dir: BandwidthDirection, rate: number): TokenBucket | undefined {
  const b = buckets[dir];
  if (!Number.isFinite(rate)) { buckets[dir] = undefined; return undefined; }
  if (!b) return (buckets[dir] = new TokenBucket(rate));
  if (b.rate !== rate) b.setRate(rate);
  return b;
}

/** A running transfer's throttle; release() when the transfer ends. */
export interface TransferThrottle extends Throttle {
  release(): void;
}

export class BandwidthLimiter {
  private settings: ResolvedBandwidth;
  /** Bumped by set(): running throttles re-read their buckets. */
  private version = 0;
  private readonly global: Buckets = {};
  /** Per user with a running transfer: their shared buckets and how many transfers use them. */
  private readonly perUser = new Map<string, Buckets & { transfers: number }>();

  constructor(options?: BandwidthOptions) {
    this.settings = resolveBandwidth(options);
  }

  /** Replace every cap; running transfers follow from their next piece. Throws FtpConfigError (nothing changes then). */
  set(options: BandwidthOptions | undefined): void {
    this.settings = resolveBandwidth(options);
    this.version++;
  }

  /** Token buckets in existence now (0 on a server without caps, or without transfers under a cap). */
  get bucketCount(): number {
    let n = (this.global.upload ? 1 : 0) + (this.global.download ? 1 : 0);
    for (const u of this.perUser.values()) n += (u.upload ? 1 : 0) + (u.download ? 1 : 0);
    return n + this.sessionBuckets;
  }

  /** Session buckets held by running transfers (for bucketCount). */
  private sessionBuckets = 0;

  private userCaps(user: string): Caps {
    return this.settings.users.get(user) ?? this.settings.user;
  }

  /** The throttle of a transfer of `user` in direction `dir`. */
  throttle(user: string, dir: BandwidthDirection): TransferThrottle {
    let shared = this.perUser.get(user);
    if (!shared) this.perUser.set(user, shared = { transfers: 0 });
    shared.transfers++;
    const own: Buckets = {};
    let seen = -1;
    let active: TokenBucket[] = [];
    let piece = BLOCK_SIZE;
    let released = false;
    const refresh = (): void => {
      seen = this.version;
      const before = own[dir] ? 1 : 0;
      active = [
        sync(own, dir, this.settings.session[dir]),
        sync(shared, dir, this.userCaps(user)[dir]),
        sync(this.global, dir, this.settings.global[dir]),
      ].filter((b): b is TokenBucket => b !== undefined);
      this.sessionBuckets += (own[dir] ? 1 : 0) - before;
      piece = active.length ? pieceFor(Math.min(...active.map(b => b.rate)), MIN_PIECE, BLOCK_SIZE) : BLOCK_SIZE;
    };
    return {
      delay: (bytes: number): number => {
        if (seen !== this.version) refresh();
        let ms = 0;
        for (const b of active) ms = Math.max(ms, b.reserve(bytes));
        return ms;
      },
      pieceBytes: (): number => {
        if (seen !== this.version) refresh();
        return piece;
      },
      release: (): void => {
        if (released) return;
        released = true;
        if (own[dir]) this.sessionBuckets--;
        if (--shared.transfers === 0) this.perUser.delete(user);
        // The global buckets go when no cap needs them; a later transfer starts them full again.
        if (this.perUser.size === 0) { this.global.upload = undefined; this.global.download = undefined; }
      },
    };
  }
}

/**
 * "10MiB/s", "800KB/s", "2M", "1.5 GB/s" or a number of bytes per second -> bytes per second; undefined
 * when it is none of these. K/M/G are powers of 1000, Ki/Mi/Gi of 1024; "b" (bits) is refused as ambiguous.
 */
export function parseRate(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kKmMgG])(i?)B?|B)?\s*(?:\/\s*s|ps)?\s*$/.exec(text);
  if (!m) return undefined;
  const unit = m[2]?.toLowerCase();
  const base = m[3] ? 1024 : 1000;
  const power = unit === 'k' ? 1 : unit === 'm' ? 2 : unit === 'g' ? 3 : 0;
  return Math.round(Number(m[1]) * base ** power);
}
