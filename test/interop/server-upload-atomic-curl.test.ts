/**
 * A real client against the atomic upload mode (the default): curl uploads over an existing file from a
 * pipe that we hold open half-way; meanwhile other curl runs list the folder (LIST and NLST) and download
 * the file: no temporary name shows, the old content is served. Then the upload ends: curl exits 0 (it
 * saw 226), the file has the new content and nothing else is left in the folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalStorage } from '../../src/server/index.js';
import { startServer } from '../support/server-harness.js';
import { describeRun, peerSkip, runCurl } from '../support/peers.js';
import { tempDir } from '../support/temp-dir.js';

test('curl: an atomic upload is invisible until complete, then replaces the file (226)', peerSkip('curl'), async t => {
  const root = await tempDir(t);
  await writeFile(join(root, 'victim.txt'), 'OLD CONTENT\n');
  const h = await startServer({ storage: new LocalStorage(root) });
  t.after(() => h.close());
  const url = `ftp://127.0.0.1:${h.port}/`;
  const auth = ['-u', 'test:test', '-sS'];

  const upload = spawn('curl', [...auth, '-T', '-', `${url}victim.txt`], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { if (upload.exitCode === null) upload.kill('SIGKILL'); });
  let uploadErr = '';
  upload.stderr.on('data', (c: Buffer) => { uploadErr += c.toString(); });
  const first = Buffer.alloc(200_000, 0x31);
  upload.stdin.write(first);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const names = await readdir(root);
    const temp = names.find(n => n.startsWith('.ftpkit-upload.'));
    if (temp && (await stat(join(root, temp)).catch(() => undefined))?.size === first.length) break;
    if (Date.now() > deadline) assert.fail(`no temporary file of ${first.length} bytes; folder: ${names.join(', ')}; curl: ${uploadErr}`);
    await new Promise(resolve => setTimeout(resolve, 10));
  }

  for (const args of [[url], ['--list-only', url]]) {
    const r = await runCurl([...auth, ...args], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /victim\.txt/);
    assert.doesNotMatch(r.stdout, /ftpkit-upload/, `${args.join(' ')} shows no temporary file`);
  }
  const during = await runCurl([...auth, `${url}victim.txt`], { timeoutMs: 30_000 });
  assert.equal(during.stdout, 'OLD CONTENT\n', 'the old content is served during the upload');

  const rest = Buffer.alloc(100_000, 0x32);
  upload.stdin.end(rest);
  const [code] = await once(upload, 'exit');
  assert.equal(code, 0, `curl saw a failure: ${uploadErr}`);
  assert.ok((await readFile(join(root, 'victim.txt'))).equals(Buffer.concat([first, rest])));
  assert.deepEqual(await readdir(root), ['victim.txt']);
});
