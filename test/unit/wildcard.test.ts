/**
 * protocol/wildcard.ts: the LIST/NLST/STAT wildcard matcher. Checked against a plain dynamic-programming
 * reference on random patterns, and on the adversarial patterns that froze the regex-based matcher.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileWildcard, MAX_WILDCARD_LENGTH, type Wildcard } from '../../src/protocol/wildcard.js';
import { referenceWildcardMatch } from '../support/wildcard-reference.js';

function compiled(pattern: string): Wildcard {
  const r = compileWildcard(pattern);
  assert.equal(r.kind, 'pattern', `${pattern} should compile`);
  return (r as { wildcard: Wildcard }).wildcard;
}

test('wildcard: the cases classic ftp clients send', () => {
  assert.deepEqual(compileWildcard('plain.txt'), { kind: 'literal' });
  const txt = compiled('*.txt');
  assert.ok(txt.matches('a.txt'));
  assert.ok(txt.matches('.txt'));
  assert.ok(!txt.matches('a.txt.bak'));
  assert.ok(!txt.matches('a_txt'), '"." is literal, not a regex dot');
  assert.ok(compiled('report-??.csv').matches('report-07.csv'));
  assert.ok(!compiled('report-??.csv').matches('report-7.csv'));
  assert.ok(compiled('*').matches(''));
  assert.ok(compiled('a*b*c').matches('abc'));
  assert.ok(compiled('a*b*c').matches('axxbyyc'));
  assert.ok(!compiled('a*b*c').matches('axxbyy'));
  assert.ok(!compiled('ab*ba').matches('aba'), 'first and last segments may not overlap');
  assert.ok(compiled('?').matches('\u{1F600}'), '"?" is one code point, not one UTF-16 unit');
  assert.ok(compiled('(a|b)+[x]$^.*').matches('(a|b)+[x]$^.anything'), 'regex syntax is literal');
});

test('wildcard: agrees with the reference on random patterns and names', () => {
  const pattern = fc.array(fc.constantFrom('a', 'b', '*', '?', '\u00e9'), { maxLength: 12 }).map(a => a.join(''));
  const name = fc.array(fc.constantFrom('a', 'b', '\u00e9'), { maxLength: 14 }).map(a => a.join(''));
  fc.assert(fc.property(pattern, name, (p, n) => {
    const r = compileWildcard(p);
    const got = r.kind === 'literal' ? p === n : (r as { wildcard: Wildcard }).wildcard.matches(n);
    assert.equal(got, referenceWildcardMatch(p, n), `pattern ${JSON.stringify(p)} name ${JSON.stringify(n)}`);
  }), { numRuns: 5000 });
});

test('wildcard: runs of stars collapse; longer patterns are refused, not tried', () => {
  const stars = compiled('*'.repeat(4000) + 'Z');
  assert.ok(!stars.matches('a'.repeat(25)));
  assert.ok(stars.matches('a'.repeat(25) + 'Z'));
  const over = 'x*'.repeat(MAX_WILDCARD_LENGTH);
  assert.deepEqual(compileWildcard(over), { kind: 'too-long', length: over.length });
});

test('wildcard: adversarial patterns at the bound cost little per name', () => {
  // Each of these made the old regex backtrack exponentially or quadratically; the budget is generous for
  // a busy machine (the whole loop takes a few milliseconds here) and far below what a backtracking
  // matcher needs for even one of them.
  const names = ['a'.repeat(255), 'a'.repeat(200) + 'b', 'ab'.repeat(127)];
  const patterns = [
    '*a'.repeat(126) + '*Z',
    '*' + 'a'.repeat(126) + 'b*',
    '*?'.repeat(127),
    '*' + '?a'.repeat(120) + 'Z',
  ];
  const started = process.hrtime.bigint();
  let matched = 0;
  for (let round = 0; round < 200; round++) {
    for (const p of patterns) for (const n of names) if (compiled(p).matches(n)) matched++;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 5000, `2,400 adversarial matches took ${ms.toFixed(0)} ms`);
  // '*?'x127 matches all three names (each has at least 127 characters); 'a'x126 + 'b' only the second.
  assert.equal(matched, 200 * 4);
});
