import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidPathError, baseName, isWithin, joinPath, normalizePath, parentPath, resolvePath } from '../../src/protocol/paths.js';

test('relative and absolute paths', () => {
  assert.equal(resolvePath('/', 'a'), '/a');
  assert.equal(resolvePath('/a', 'b/c'), '/a/b/c');
  assert.equal(resolvePath('/a/b', '/x'), '/x');
  assert.equal(resolvePath('/a/b', ''), '/a/b');
  assert.equal(resolvePath('/a/b', '.'), '/a/b');
});

test('.. never climbs above the root', () => {
  assert.equal(resolvePath('/', '..'), '/');
  assert.equal(resolvePath('/a', '../../../etc/passwd'), '/etc/passwd');
  assert.equal(resolvePath('/a/b', '..'), '/a');
  assert.equal(resolvePath('/a/b', '/../..'), '/');
});

test('duplicate and trailing slashes are normalized', () => {
  assert.equal(resolvePath('/', '//a///b//'), '/a/b');
  assert.equal(resolvePath('/', './a/./b/.'), '/a/b');
});

test('backslashes are separators (Windows clients), so "..\\.." cannot hide a climb', () => {
  assert.equal(resolvePath('/a/b', '..\\..\\..\\x'), '/x');
  assert.equal(resolvePath('/a', '\\abs'), '/abs');
});

test('a NUL byte is refused', () => {
  assert.throws(() => resolvePath('/', 'a\0b'), InvalidPathError);
});

test('names with spaces, quotes and UTF-8 are kept', () => {
  assert.equal(resolvePath('/', ' a "b" ✓ '), '/ a "b" ✓ ');
  assert.equal(resolvePath('/', '...'), '/...');
});

test('helpers', () => {
  assert.equal(parentPath('/'), '/');
  assert.equal(parentPath('/a'), '/');
  assert.equal(parentPath('/a/b'), '/a');
  assert.equal(baseName('/a/b'), 'b');
  assert.equal(baseName('/'), '');
  assert.equal(joinPath('/', 'x'), '/x');
  assert.equal(joinPath('/a', 'x'), '/a/x');
  assert.equal(isWithin('/a', '/a/b'), true);
  assert.equal(isWithin('/a', '/ab'), false);
  assert.equal(normalizePath('a/../b'), '/b');
});

const segment = fc.oneof(
  fc.constantFrom('..', '.', '', 'a', 'b', '...', '..a', ' ', '\\', '..\\..', '%2e%2e'),
  fc.string({ maxLength: 6 }).filter(s => !s.includes('\0')),
);
const pathArb = fc.array(segment, { maxLength: 12 }).chain(segs =>
  fc.constantFrom('/', '\\', '//').map(sep => segs.join(sep)));
const cwdArb = fc.array(fc.constantFrom('a', 'b', 'c d', 'é'), { maxLength: 5 }).map(s => '/' + s.join('/'));

test('property: the result is always a normalized absolute path inside the root', () => {
  fc.assert(fc.property(cwdArb, pathArb, (cwd, arg) => {
    const r = resolvePath(normalizePath(cwd), arg);
    assert.ok(r.startsWith('/'));
    assert.ok(r === '/' || !r.endsWith('/'));
    const segs = r.split('/').slice(1);
    if (r !== '/') for (const s of segs) assert.ok(s !== '' && s !== '.' && s !== '..', `bad segment in ${r}`);
    assert.ok(!r.includes('\\'));
  }), { numRuns: 2000 });
});

test('property: resolving is idempotent and a result never contains a climbing segment', () => {
  fc.assert(fc.property(cwdArb, pathArb, (cwd, arg) => {
    const r = resolvePath(cwd, arg);
    assert.equal(normalizePath(r), r);
    assert.equal(resolvePath('/anything', r), r);
  }), { numRuns: 2000 });
});

test('property: an argument with k more ".." than segments lands at "/" or below only via explicit names', () => {
  fc.assert(fc.property(cwdArb, fc.integer({ min: 0, max: 10 }), (cwd, k) => {
    const depth = cwd.split('/').filter(Boolean).length;
    const r = resolvePath(cwd, Array(depth + k).fill('..').join('/'));
    assert.equal(r, '/');
  }));
});
