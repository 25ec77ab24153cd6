// test/support/failure-summary-reporter.mjs, the end of `npm test`'s output in CI (docs/testing.md): a real
// `node --test` run over a throwaway file with passing and failing tests, inside suites and subtests, and
// a second file that cannot load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/temp-dir.js';

const REPORTER = fileURLToPath(new URL('../support/failure-summary-reporter.mjs', import.meta.url));

const FIXTURE = `
import { test, describe, it } from 'node:test';
import assert from 'node:assert/strict';
test('passes', () => {});
describe('server X', { concurrency: 2 }, () => {
  it('plain IPv4', async () => { await new Promise((r) => setTimeout(r, 20)); });
  it('plain IPv6', async () => { await new Promise((r) => setTimeout(r, 5)); assert.equal(1, 2); });
});
describe('server Y', () => { it('plain IPv6', () => {}); });
test('group', async (t) => { await t.test('inner fails', () => { assert.equal('a', 'b'); }); });
test('throws plain', () => { throw new Error('boom'); });
`;

function runNodeTest(cwd: string, files: string[]): Promise<{ code: number | null; stdout: string }> {
  // Without NODE_TEST_CONTEXT: the run this test is part of sets it, and a `node --test` that inherits it
  // reports to that run instead of to its own reporters.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve) => {
    execFile(process.execPath,
      ['--test', `--test-reporter=${REPORTER}`, '--test-reporter-destination=stdout', ...files],
      { cwd, env, timeout: 60_000 },
      (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout }));
  });
}

test('the failed tests, and only they, are listed after the run: suites in the name, the file, the error', async (t) => {
  const dir = await tempDir(t, 'ftpkit-reporter-');
  const fixture = path.join(dir, 'fixture.test.mjs');
  const broken = path.join(dir, 'broken.test.mjs');
  await writeFile(fixture, FIXTURE);
  await writeFile(broken, "throw new Error('cannot load');\n");
  const { code, stdout } = await runNodeTest(dir, [fixture, broken]);
  assert.equal(code, 1, stdout);
  const summary = stdout.slice(stdout.indexOf('# 4 failed tests'));
  assert.ok(stdout.includes('# 4 failed tests (repeated here from above):'), stdout);
  const titles = [...summary.matchAll(/^✖ (.*)$/gm)].map((m) => m[1]);
  // Files finish in either order; within a file, in the order of its tests.
  assert.deepEqual(titles.filter((x) => x !== broken), ['server X > plain IPv6', 'group > inner fails', 'throws plain'], summary);
  assert.ok(titles.includes(broken), summary);
  assert.match(summary, /✖ server X > plain IPv6\n {2}at .*fixture\.test\.mjs\n {4}AssertionError/);
  assert.match(summary, /✖ throws plain\n {2}at .*fixture\.test\.mjs\n {4}Error: boom\n {8}at .*fixture\.test\.mjs:\d+/);
  // node's own stack frames are left out.
  assert.doesNotMatch(summary, /\(node:|at node:/);
});

test('a run without failures prints nothing', async (t) => {
  const dir = await tempDir(t, 'ftpkit-reporter-');
  const fixture = path.join(dir, 'ok.test.mjs');
  await writeFile(fixture, "import { test } from 'node:test';\ntest('passes', () => {});\n");
  const { code, stdout } = await runNodeTest(dir, [fixture]);
  assert.equal(code, 0);
  assert.equal(stdout, '');
});
