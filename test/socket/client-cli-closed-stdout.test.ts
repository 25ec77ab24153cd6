// `ftpkit get URL - | head -c 10`: the reader of stdout goes away early (EPIPE). Like curl, that ends the
// download quietly with exit 0: the user asked for only the first bytes, nothing failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { server } from '../support/cli-server.js';
import { REPO_ROOT } from '../support/ftpkit-cli.js';

test('get URL - whose stdout reader closes after 10 bytes exits 0 with nothing on stderr', async t => {
  const { root, base } = await server(t);
  // Far more than a pipe buffer holds, so the CLI is still writing when the reader leaves.
  const data = randomBytes(32 * 1024 * 1024);
  await writeFile(path.join(root, 'big.bin'), data);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'),
    'get', `${base.replace('ftp://', 'ftp://test:s3cr%3Dt@')}/big.bin`, '-'], {
    cwd: REPO_ROOT, env: { ...process.env, HOME: path.join(root, 'no-home') }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  // Like `head -c 10`: read the first bytes, then close our end of the pipe.
  const head = await new Promise<Buffer>(resolve => {
    child.stdout.once('data', (d: Buffer) => { child.stdout.destroy(); resolve(d.subarray(0, 10)); });
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)));
  clearTimeout(timer);
  assert.deepEqual(head, data.subarray(0, 10));
  assert.equal(code, 0, `exit ${code}, stderr: ${stderr}`);
  assert.equal(stderr, '');
});

// `ftpkit get --help | true`: the reader is gone before the help is written. Help is all that was asked
// for, so the CLI ends quietly with exit 0 instead of crashing on an unhandled EPIPE.
for (const args of [['get', '--help'], ['--help'], ['--version']]) {
  test(`ftpkit ${args.join(' ')} into a closed pipe exits 0 with nothing on stderr`, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Close our end at once, before the child writes anything.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)));
    clearTimeout(timer);
    assert.equal(code, 0, `exit ${code}, stderr: ${stderr}`);
    assert.equal(stderr, '');
  });
}
