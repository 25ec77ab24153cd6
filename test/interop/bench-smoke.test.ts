// `npm run bench -- --smoke` end to end (bench/main.ts): ftpkit (the built CLI) and pyftpdlib started,
// every part measured at a tiny size, RESULTS.md and RESULTS.json written, the servers stopped. Checks
// that the harness works and that each part produced a figure for ftpkit; never how fast anything is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerSkip, requirePeer, runBounded, describeRun } from '../support/peers.js';
import { tempDir } from '../support/temp-dir.js';
import type { Results } from '../../bench/lib/results.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

test('bench --smoke runs every part and writes RESULTS.md', peerSkip('pyftpdlib-tls', 'curl'), async (t) => {
  if (!requirePeer(t, 'pyftpdlib-tls', 'curl')) return;
  // The bench measures dist/ (what users run); npm ci builds it (the prepare script).
  assert.ok(existsSync(path.join(REPO, 'dist/cli/main.js')), 'dist/cli/main.js is missing: run npm run build');
  const dir = await tempDir(t, 'ftpkit-bench-smoke-');
  const out = path.join(dir, 'RESULTS.md');
  const run = await runBounded(process.execPath, ['--import', 'tsx', 'bench/main.ts', '--smoke', '--out', out], { cwd: REPO, timeoutMs: 120_000 });
  assert.equal(run.code, 0, describeRun(run));
  const md = await readFile(out, 'utf8');
  const results = JSON.parse(await readFile(path.join(dir, 'RESULTS.json'), 'utf8')) as Results;
  const ftpkitFigure = (section: string, metric: string) => results.sections[section]?.ftpkit?.metrics[metric]?.length ?? 0;
  for (const [section, metric] of [
    ['transfer RETR', 'MB/s'], ['transfer STOR', 'MB/s'], ['transfer TLS RETR', 'MB/s'], ['transfer TLS STOR', 'MB/s'],
    ['sessions named 5', 'sessions/s'], ['sessions anonymous 5', 'sessions/s'], ['idle 5', 'held'],
    ['listing LIST', 'ms'], ['listing MLSD', 'ms'],
  ] as const) {
    assert.equal(ftpkitFigure(section, metric), 1, `no ftpkit figure for ${section} ${metric}:\n${md}`);
  }
  assert.ok(results.sections.startup?.['ftpkit --version']?.metrics['wall ms']?.length, `no start-up figure:\n${md}`);
  assert.deepEqual(results.sections['sessions named 5']?.ftpkit?.metrics['failed sessions'], [0], md);
  assert.ok(results.sections['transfer RETR']?.pyftpdlib?.metrics['MB/s']?.length, `no pyftpdlib figure:\n${md}`);
  assert.match(md, /## Targets of issue 10/);
});
