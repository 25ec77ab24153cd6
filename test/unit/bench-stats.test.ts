// The bench's pure statistics (bench/lib/stats.ts): medians with min-max, percentiles, ratios, best peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestPeer, formatNumber, formatSummary, percentile, ratio, summarize, turnOrder } from '../../bench/lib/stats.js';

test('summarize: median of odd and even counts, min and max, n', () => {
  assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
  assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
  assert.deepEqual(summarize([7]), { median: 7, min: 7, max: 7, n: 1 });
});

test('summarize: nothing measured is undefined; non-finite values are dropped', () => {
  assert.equal(summarize([]), undefined);
  assert.equal(summarize([NaN, Infinity]), undefined);
  assert.deepEqual(summarize([NaN, 5, 1]), { median: 3, min: 1, max: 5, n: 2 });
});

test('summarize does not reorder its input', () => {
  const values = [3, 1, 2];
  summarize(values);
  assert.deepEqual(values, [3, 1, 2]);
});

test('percentile: nearest rank', () => {
  const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
  assert.equal(percentile(v, 50), 50);
  assert.equal(percentile(v, 99), 99);
  assert.equal(percentile(v, 100), 100);
  assert.equal(percentile(v, 0), 1);
  assert.equal(percentile([42], 99), 42);
  assert.equal(percentile([], 50), undefined);
});

test('ratio: undefined when a side is missing or the divisor is zero', () => {
  assert.equal(ratio(578, 2458)?.toFixed(2), '0.24');
  assert.equal(ratio(undefined, 1), undefined);
  assert.equal(ratio(1, undefined), undefined);
  assert.equal(ratio(1, 0), undefined);
});

test('bestPeer: the highest or lowest median among the peers, never ftpkit, skipping unmeasured', () => {
  const m = new Map<string, number | undefined>([['ftpkit', 9999], ['vsftpd', 2022], ['proftpd', 2458], ['pyftpdlib', undefined]]);
  assert.deepEqual(bestPeer(m, 'higher'), { name: 'proftpd', value: 2458 });
  assert.deepEqual(bestPeer(m, 'lower'), { name: 'vsftpd', value: 2022 });
  assert.equal(bestPeer(new Map([['ftpkit', 1]]), 'higher'), undefined);
});

test('formatNumber and formatSummary: digits by size, integers as they are, min-max only when they differ', () => {
  assert.equal(formatNumber(2458.4), '2458');
  assert.equal(formatNumber(24.53), '24.5');
  assert.equal(formatNumber(0.4712), '0.47');
  assert.equal(formatNumber(5), '5');
  assert.equal(formatNumber(undefined), '—');
  assert.equal(formatSummary(summarize([540, 578, 610])), '578 (540-610)');
  assert.equal(formatSummary(summarize([3, 3])), '3');
  assert.equal(formatSummary(undefined), '—');
});

test('turnOrder: each one goes first once in as many rounds as there are, the list itself untouched', () => {
  const list = ['ftpkit', 'vsftpd', 'curl'] as const;
  assert.deepEqual(turnOrder(list, 0), ['ftpkit', 'vsftpd', 'curl']);
  assert.deepEqual(turnOrder(list, 1), ['vsftpd', 'curl', 'ftpkit']);
  assert.deepEqual(turnOrder(list, 2), ['curl', 'ftpkit', 'vsftpd']);
  assert.deepEqual(turnOrder(list, 3), ['ftpkit', 'vsftpd', 'curl']);
  assert.deepEqual(turnOrder(list, -1), ['curl', 'ftpkit', 'vsftpd']);
  assert.deepEqual(turnOrder([], 5), []);
  assert.deepEqual(list, ['ftpkit', 'vsftpd', 'curl']);
});
