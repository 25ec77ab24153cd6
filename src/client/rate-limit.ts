/**
 * FtpClientOptions.limitRate: a cap on the bytes per second of each transfer of a client (downloads and
 * uploads; listings are not capped), like curl's --limit-rate (per transfer) and lftp's net:limit-rate
 * (per connection). Parallel connections are capped each. The bucket and the places the data path waits
 * are the server's caps' own (net/token-bucket.ts, net/data-direct.ts, the pipeline's ThrottleStage);
 * a capped download reads the socket's chunks instead of its block reads (net/data-pipeline.ts).
 */
import { FtpUsageError } from '../errors.js';
import { BLOCK_SIZE } from '../net/data-direct.js';
import { TokenBucket, pieceFor, type Throttle } from '../net/token-bucket.js';

/** Smallest piece a capped sender reads at once: below it, timers and syscalls cost more than the bytes. */
const MIN_PIECE = 4 * 1024;

/** Throws FtpUsageError unless `rate` is absent or a positive finite number of bytes per second. */
export function checkLimitRate(rate: number | undefined): void {
  if (rate === undefined) return;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
    throw new FtpUsageError(`limitRate must be a positive number of bytes per second, got ${String(rate)}`);
  }
}

/** The throttle of one transfer under a cap of `rate` bytes per second (a fresh bucket: it starts full). */
export function transferThrottle(rate: number | undefined): Throttle | undefined {
  if (rate === undefined) return undefined;
  const bucket = new TokenBucket(rate);
  const piece = pieceFor(rate, MIN_PIECE, BLOCK_SIZE);
  return { delay: bytes => bucket.reserve(bytes), pieceBytes: () => piece };
}
