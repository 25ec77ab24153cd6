/**
 * lftp 4.9 (ftp:use-mode-z, its MODE Z client) against OUR server: it sees "MODE Z" in FEAT, sends MODE Z
 * and moves text and random files both ways byte-exact, lists, and resumes a download with REST (file
 * offsets). The third-party MODE Z client of issue 15.
 * Skipped with the reason when lftp is missing (fails under FTPKIT_REQUIRE_PEERS=1).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalStorage } from '../../src/server/index.js';
import { describeRun, lftpCommands, lftpOpen, lftpQuote, requirePeer, runLftp } from '../support/peers.js';
import { startServer } from '../support/server-harness.js';
import { tempDir } from '../support/temp-dir.js';

const TEXT = Buffer.from(Array.from({ length: 30_000 }, (_, i) => `${i}\tlftp\t${i % 17}\t2026-12-06\n`).join(''));
const RANDOM = randomBytes(2 * 1024 * 1024 + 3);

test('lftp with ftp:use-mode-z against our server: MODE Z both ways byte-exact, listing, REST', async (t: TestContext) => {
  if (!requirePeer(t, 'lftp')) return;
  const root = await tempDir(t);
  const local = await tempDir(t);
  await writeFile(path.join(root, 'text.tsv'), TEXT);
  await writeFile(path.join(root, 'random.bin'), RANDOM);
  await writeFile(path.join(local, 'up.tsv'), TEXT);
  await writeFile(path.join(local, 'up.bin'), RANDOM);
  await writeFile(path.join(local, 'part.bin'), RANDOM.subarray(0, 600_000));
  const h = await startServer({ storage: new LocalStorage(root) });
  t.after(() => h.close());
  const q = (p: string): string => lftpQuote(p);
  const r = await runLftp([
    lftpOpen({ url: `ftp://127.0.0.1:${h.port}`, user: 'test', password: 'test' }),
    'cls -1',
    `get text.tsv -o ${q(path.join(local, 'text.tsv'))}`,
    `get random.bin -o ${q(path.join(local, 'random.bin'))}`,
    `get -c random.bin -o ${q(path.join(local, 'part.bin'))}`,
    `put ${q(path.join(local, 'up.tsv'))} -o up.tsv`,
    `put ${q(path.join(local, 'up.bin'))} -o up.bin`,
  ], { timeoutMs: 120_000, settings: { 'ftp:ssl-allow': false, 'ftp:use-mode-z': true} });
  assert.equal(r.code, 0, describeRun(r));
  const sent = lftpCommands(r.stderr);
  assert.ok(sent.includes('MODE Z'), `lftp sent: ${sent.join(', ')}`);
  assert.ok(sent.includes('REST 600000'), `lftp sent: ${sent.join(', ')}`);
  assert.match(r.stdout, /random\.bin/);
  assert.ok((await readFile(path.join(local, 'text.tsv'))).equals(TEXT));
  assert.ok((await readFile(path.join(local, 'random.bin'))).equals(RANDOM));
  assert.ok((await readFile(path.join(local, 'part.bin'))).equals(RANDOM));
  assert.ok((await readFile(path.join(root, 'up.tsv'))).equals(TEXT));
  assert.ok((await readFile(path.join(root, 'up.bin'))).equals(RANDOM));
});
