/**
 * PassivePortPool (src/server/data/passive-pool.ts): which unclaimed passive listeners are reclaimed when
 * the range runs short: only under pressure, oldest first, never one younger than reclaimAfterMs, never a
 * claimed one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassivePortPool } from '../../src/server/data/passive-pool.js';
import type { PooledListener } from '../../src/server/data/passive-pool.js';

function listener(openedAt: number, log: number[]): PooledListener {
  return { openedAt, reclaim: () => log.push(openedAt) };
}

test('no pressure, nothing reclaimed; under pressure the oldest old-enough unclaimed ones go first', () => {
  const reclaimed: number[] = [];
  const pool = new PassivePortPool({ min: 50000, max: 50009 }, 2000); // 10 ports, pressure from 9 held
  assert.equal(pool.highWater, 9);
  const ls = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000].map(t => listener(t, reclaimed));
  for (const l of ls) pool.add(l);
  assert.equal(pool.relieve(false, 10_000), 0, '8 of 10 held: no pressure');
  pool.add(listener(9000, reclaimed));
  pool.claim(ls[0]); // a transfer command took the oldest: it is not reclaimable
  assert.equal(pool.relieve(false, 10_000), 1);
  assert.deepEqual(reclaimed, [2000], 'the oldest unclaimed one, just enough to end the pressure');
  assert.equal(pool.held, 8);
});

test('listeners younger than reclaimAfterMs are kept even under pressure; force frees one when no port was free', () => {
  const reclaimed: number[] = [];
  const pool = new PassivePortPool({ min: 1, max: 2 }, 2000); // 2 ports, pressure from 1 held
  pool.add(listener(9000, reclaimed));
  pool.add(listener(9500, reclaimed));
  assert.equal(pool.relieve(false, 10_000), 0, 'both younger than 2 s');
  assert.equal(pool.relieve(true, 10_000), 0, 'force does not bypass the age');
  assert.equal(pool.relieve(true, 11_200), 1);
  assert.deepEqual(reclaimed, [9000]);
  const removed = listener(1, reclaimed);
  pool.add(removed);
  pool.remove(removed);
  assert.equal(pool.held, 1);
});
