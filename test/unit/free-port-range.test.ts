// test/support/peers-common.ts freePortRange: ranges verified free by binding them on loopback; with
// `avoid` (the bench's PortPlanner), the lowest free range beside the ones already handed out. Sizes stay
// small: test files running beside this one hold random ports in the same space.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePortRange } from '../support/peers-common.js';

/** Ports 10000-30999 handed out: what is left is 31000-31999 (the helper's space ends at 32000). */
const MOST = { min: 10000, max: 30999 };

test('freePortRange with avoid: ranges beside the ones handed out, in the only room left, never overlapping', async () => {
  const taken = [MOST];
  for (let i = 0; i < 2; i++) {
    const r = await freePortRange(200, taken);
    assert.equal(r.max - r.min + 1, 200);
    assert.ok(r.min >= 31000 && r.max < 32000, `got ${r.min}-${r.max}`);
    assert.ok(!taken.some(t => r.min <= t.max && t.min <= r.max), `${r.min}-${r.max} overlaps a range handed out`);
    taken.push(r);
  }
});

test('freePortRange with no room beside the ranges handed out says so', async () => {
  await assert.rejects(freePortRange(2000, [MOST]), /no free range of 2000 ports/);
});
