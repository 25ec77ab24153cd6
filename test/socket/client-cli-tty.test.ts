// The client CLI on a real terminal (a pty from util-linux `script`): the password prompt does not echo,
// and downloads show a cli-progress bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalStorage } from '../../src/server/storage/local.js';
import { startServer } from '../support/server-harness.js';
import { REPO_ROOT } from '../support/ftpkit-cli.js';

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

test('on a terminal: hidden password prompt, progress bar', { skip: hasScript ? undefined : 'util-linux script(1) not found' }, async t => {
  const root = await mkdtemp(path.join(tmpdir(), 'ftpkit-tty-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const data = Buffer.alloc(3_000_000, 7);
  await writeFile(path.join(root, 'big.bin'), data);
  const h = await startServer({ storage: new LocalStorage(root), users: { test: { password: 'pw-on-tty' } } });
  t.after(() => h.close());
  const out = path.join(root, 'out.bin');
  const cmd = `${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts get ftp://test@127.0.0.1:${h.port}/big.bin ${JSON.stringify(out)}`;
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: path.join(root, 'no-home'), TERM: 'xterm' };
  delete env.FTPKIT_PASSWORD;
  delete env.NETRC;
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let screen = '';
  let answered = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
    // Type the password only once the prompt is there, as a person would (echo is off by then).
    if (!answered && screen.includes('Password for test@127.0.0.1:')) { answered = true; child.stdin.write('pw-on-tty\r'); }
  });
  const code = await new Promise<number | null>(resolve => child.on('close', resolve));
  assert.equal(code, 0, screen);
  assert.ok(answered, screen);
  assert.doesNotMatch(screen, /pw-on-tty/, 'the password was echoed');
  assert.match(screen, /\u2588/, 'no progress bar drawn');
  assert.match(screen, /100% \| 2\.9 MiB\/2\.9 MiB/);
  assert.deepEqual(await readFile(out), data);
});
