// test/support/peers-common.ts freePortRange: ranges verified free by binding them on loopback; with
// `avoid` (the bench's PortPlanner), the lowest free range beside the ones already handed out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePortRange } from '../support/peers-common.js';

test('freePortRange with avoid: a range beside the ones handed out, in the only room left', async () => {
  // Ports 10000-30999 handed out: a range of 500 fits only at 31000-31999 (the helper's space ends at 32000).
  const avoid = [{ min: 10000, max: 30999 }];
  const r = await freePortRange(500, avoid);
  assert.equal(r.max - r.min + 1, 500);
  assert.ok(r.min >= 31000 && r.max < 32000, `got ${r.min}-${r.max}`);
});

test('freePortRange with avoid: packed, so a large range still fits after small ones', async () => {
  const taken: Array<{ min: number; max: number }> = [];
  for (const count of [1100, 1100, 12_000, 1100]) {
    const r = await freePortRange(count, taken);
    assert.equal(r.max - r.min + 1, count);
    assert.ok(!taken.some(t => r.min <= t.max && t.min <= r.max), `${r.min}-${r.max} overlaps a range handed out`);
    taken.push(r);
  }
});

test('freePortRange with no room beside the ranges handed out says so', async () => {
  await assert.rejects(freePortRange(2000, [{ min: 10000, max: 30999 }]), /no free range of 2000 ports/);
});
