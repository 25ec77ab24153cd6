/**
 * The token bucket (net/token-bucket.ts), the bandwidth limiter's choice of buckets
 * (server/limits/bandwidth.ts) and rates in human units, with a fake clock: no timing here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket, pieceFor } from '../../src/net/token-bucket.js';
import { BandwidthLimiter, parseRate } from '../../src/server/limits/bandwidth.js';
import { FtpConfigError } from '../../src/errors.js';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

test('TokenBucket: starts full, goes into debt, the wait is the debt at the rate; refills up to the burst', () => {
  const c = clock();
  const b = new TokenBucket(1000, 100, c.now);
  assert.equal(b.reserve(100), 0, 'the burst goes at once');
  assert.equal(b.reserve(500), 500, '500 tokens owed at 1000/s: 500 ms');
  c.advance(500);
  assert.equal(b.debtMs(), 0);
  c.advance(10_000);
  assert.equal(b.reserve(100), 0);
  assert.equal(b.reserve(1), 1, 'no more than the burst was saved up');
  // A new rate applies from now on; what is owed is kept.
  b.setRate(2000, 100);
  assert.equal(b.reserve(1), 1, '2 tokens owed at 2000/s');
  assert.equal(new TokenBucket(1_000_000, undefined, c.now).burst, 50_000, 'default burst: a twentieth of a second');
});

test('pieceFor: about 1/20 s of the cap, within bounds', () => {
  assert.equal(pieceFor(2_000_000, 16384, 1 << 20), 100_000);
  assert.equal(pieceFor(1000, 16384, 1 << 20), 16384);
  assert.equal(pieceFor(1e12, 16384, 1 << 20), 1 << 20);
});

test('parseRate: numbers and units (K/M/G powers of 1000, Ki/Mi/Gi of 1024); bits are refused', () => {
  assert.equal(parseRate('800KB/s'), 800_000);
  assert.equal(parseRate('10MiB/s'), 10 * 1024 * 1024);
  assert.equal(parseRate('1.5 GB/s'), 1_500_000_000);
  assert.equal(parseRate('2M'), 2_000_000);
  assert.equal(parseRate('512 B/s'), 512);
  assert.equal(parseRate('4096'), 4096);
  assert.equal(parseRate(0), 0);
  assert.equal(parseRate('10 Mbit/s'), undefined);
  assert.equal(parseRate('10Mb/s'), undefined);
  assert.equal(parseRate('fast'), undefined);
});

test('BandwidthLimiter: no cap, no bucket; buckets of a scope exist while its transfers run; a new cap reaches a running throttle', () => {
  const limiter = new BandwidthLimiter();
  const t1 = limiter.throttle('alice', 'download');
  assert.equal(t1.delay(10_000_000), 0);
  assert.equal(t1.pieceBytes(), 1024 * 1024);
  assert.equal(limiter.bucketCount, 0);
  limiter.set({ download: 1_000_000, user: { download: 4_000_000 }, global: { upload: 2_000_000 } });
  assert.equal(t1.pieceBytes(), 50_000, 'the tightest cap sets the piece');
  t1.delay(1);
  assert.equal(limiter.bucketCount, 2, 'session and user download buckets; no global upload bucket for a download');
  const t2 = limiter.throttle('alice', 'upload');
  t2.delay(1);
  assert.equal(limiter.bucketCount, 3, 'the global upload bucket');
  t1.release();
  t2.release();
  t2.release();
  assert.equal(limiter.bucketCount, 0, 'released (twice is harmless)');
  assert.throws(() => limiter.set({ users: { bob: { upload: 10 } } }),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'limits.bandwidth.users.bob.upload');
});
