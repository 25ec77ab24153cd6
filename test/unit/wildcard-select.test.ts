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
