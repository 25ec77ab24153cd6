// Client-side globbing: bracket expressions in the shared linear matcher (only when asked: the server keeps
// "[" literal) and the choice of entries (wildcard-select.ts: last segment only, dot files, files vs folders).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileWildcard, hasWildcard, type Wildcard } from '../../src/protocol/wildcard.js';
import { isRemotePattern, selectMatches, splitRemotePattern } from '../../src/client/wildcard-select.js';
import { FtpUsageError } from '../../src/errors.js';
import type { FileEntry } from '../../src/protocol/listing-types.js';

function glob(pattern: string): Wildcard {
  const r = compileWildcard(pattern, { classes: true });
  assert.equal(r.kind, 'pattern', pattern);
  return (r as { wildcard: Wildcard }).wildcard;
}

test('bracket expressions: sets, ranges, negation with ! and ^, "]" first, unclosed "[" literal', () => {
  assert.ok(glob('[abc].csv').matches('b.csv'));
  assert.ok(!glob('[abc].csv').matches('d.csv'));
  assert.ok(glob('log-[0-9][0-9].txt').matches('log-42.txt'));
  assert.ok(!glob('log-[0-9][0-9].txt').matches('log-4x.txt'));
  assert.ok(glob('[!a]*').matches('beta') && !glob('[!a]*').matches('alpha'));
  assert.ok(glob('[^a]*').matches('beta') && !glob('[^a]*').matches('alpha'));
  assert.ok(glob('[]x]').matches(']') && glob('[]x]').matches('x'));
  assert.ok(glob('[a-]').matches('-'));
  assert.ok(glob('*[é]*').matches('café'));
  assert.ok(glob('file[*').matches('file[x'), 'an unclosed "[" is an ordinary character');
  assert.ok(glob('a*[xy]*z').matches('a--y--z') && !glob('a*[xy]*z').matches('a-----z'));
});

test('without classes (the server), "[" stays an ordinary character, as before', () => {
  assert.equal(compileWildcard('[abc].csv').kind, 'literal');
  assert.ok(!hasWildcard('[abc]'));
  assert.ok(hasWildcard('[abc]', { classes: true }));
  const r = compileWildcard('[ab]*');
  assert.ok(r.kind === 'pattern' && r.wildcard.matches('[ab]x') && !r.wildcard.matches('ax'));
});

test('a long pattern of classes against a long name stays cheap (bounded per position)', () => {
  const pattern = `*${'[a-z0-9]'.repeat(30)}*`;
  const name = 'A'.repeat(5000);
  const t0 = performance.now();
  assert.ok(!glob(pattern).matches(name));
  assert.ok(performance.now() - t0 < 2000);
});

const entries: FileEntry[] = [
  { name: 'a.csv', type: 'file' }, { name: 'b.csv', type: 'file' }, { name: 'c.txt', type: 'file' },
  { name: '.hidden.csv', type: 'file' }, { name: 'old.csv', type: 'dir' }, { name: 'link.csv', type: 'link' },
  { name: 'dev.csv', type: 'other' },
];

test('selectMatches: files and links, folders only when asked, a leading "." only by an explicit one', () => {
  assert.deepEqual(selectMatches(entries, 'in', '*.csv').map(m => m.path), ['in/a.csv', 'in/b.csv', 'in/link.csv']);
  assert.deepEqual(selectMatches(entries, '', '*.csv', { folders: true }).map(m => m.path), ['a.csv', 'b.csv', 'old.csv', 'link.csv']);
  assert.deepEqual(selectMatches(entries, '/', '.*').map(m => m.path), ['/.hidden.csv']);
  assert.deepEqual(selectMatches(entries, 'x', '?.[ct][sx][vt]').map(m => m.path), ['x/a.csv', 'x/b.csv', 'x/c.txt']);
  assert.deepEqual(selectMatches(entries, 'x', 'nothing*'), []);
});

test('patterns: last segment only; a wildcard in a folder is a usage error', () => {
  assert.deepEqual(splitRemotePattern('data/2024/*.csv'), { folder: 'data/2024', pattern: '*.csv' });
  assert.deepEqual(splitRemotePattern('/abs/[ab]*'), { folder: '/abs', pattern: '[ab]*' });
  assert.deepEqual(splitRemotePattern('/x?'), { folder: '/', pattern: 'x?' });
  assert.deepEqual(splitRemotePattern('*.csv'), { folder: '', pattern: '*.csv' });
  assert.throws(() => splitRemotePattern('logs-*/today.csv'), FtpUsageError);
  assert.ok(isRemotePattern('a/b?.txt') && isRemotePattern('a/[xy].txt') && isRemotePattern('a*/plain.txt'));
  assert.ok(!isRemotePattern('a/plain.txt') && !isRemotePattern('a/b[.txt'));
});

/**
 * The obvious, slow reference for bracket expressions: the pattern as a regular expression built by the
 * POSIX rules (a "]" first in a set is a member, "!" or "^" negates, an unclosed "[" is literal), run on
 * short inputs only.
 */
function referenceClassMatch(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  let re = '';
  const esc = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  const escIn = (c: string) => c.replace(/[\\\]\[^-]/g, '\\$&');
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') { re += '[^]*'; continue; }
    if (c === '?') { re += '[^]'; continue; }
    if (c === '[') {
      let j = i + 1;
      const negate = p[j] === '!' || p[j] === '^';
      if (negate) j++;
      const first = j;
      let body = '';
      let closed = false;
      for (; j < p.length; j++) {
        if (p[j] === ']' && j > first) { closed = true; break; }
        if (p[j + 1] === '-' && p[j + 2] !== undefined && p[j + 2] !== ']') {
          // A reversed range matches nothing (the matcher's code point comparison; RegExp would throw); the
          // set's other members still count ("[a-!!]" matches "!").
          if (p[j]!.codePointAt(0)! <= p[j + 2]!.codePointAt(0)!) body += `${escIn(p[j]!)}-${escIn(p[j + 2]!)}`;
          j += 2;
        } else body += escIn(p[j]!);
      }
      if (closed) {
        re += body ? `[${negate ? '^' : ''}${body}]` : (negate ? '[^]' : '[]');
        i = j;
        continue;
      }
    }
    re += esc(c);
  }
  return new RegExp(`^${re}$`, 'u').test(name);
}

test('property: with classes, the linear matcher agrees with the regular-expression reference', async () => {
  const fc = (await import('fast-check')).default;
  const pattern = fc.array(fc.constantFrom('a', 'b', 'c', '*', '?', '[', ']', '!', '^', '-'), { maxLength: 10 }).map(a => a.join(''));
  const name = fc.array(fc.constantFrom('a', 'b', 'c', '-', ']', '!', '['), { maxLength: 8 }).map(a => a.join(''));
  fc.assert(fc.property(pattern, name, (p, n) => {
    const r = compileWildcard(p, { classes: true });
    const got = r.kind === 'literal' ? p === n : r.kind === 'pattern' && r.wildcard.matches(n);
    assert.equal(got, referenceClassMatch(p, n), `${JSON.stringify(p)} vs ${JSON.stringify(n)}`);
  }), { numRuns: 3000, examples: [['[a-!!]', '!'], ['[a-!]', '!'], ['[!a-!]', '!']] });
});
