/**
 * kill -9 of the server mid-upload (a child process: `ftpkit serve` under tsx, stopped by its PID): in
 * atomic mode the final name keeps its old content, only the hidden temporary file is left, and the next
 * server started on the same root removes it and logs an 'uploads-swept' event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawControl, openPassive } from '../support/server-harness.js';
import { startServeProcess } from '../support/serve-process.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/until.js';

const OLD = 'OLD CONTENT\n';

test('kill -9 mid-upload: the old file is intact; the next start sweeps the temporary file and logs it', async t => {
  const root = await tempDir(t);
  await writeFile(join(root, 'victim.txt'), OLD);
  const first = await startServeProcess(t, [root, '--write']);
  const c = await RawControl.connect('127.0.0.1', first.port);
  t.after(() => c.close());
  assert.equal((await c.send('USER anonymous')).code, 331);
  assert.equal((await c.send('PASS guest@')).code, 230);
  await c.send('TYPE I');
  const data = await openPassive(c);
  t.after(() => data.destroy());
  assert.equal((await c.send('STOR victim.txt')).code, 150);
  data.write('NEW');
  const temp = await until('the temporary file to hold the first bytes', async () => {
    for (const name of await readdir(root)) {
      if (name.startsWith('.ftpkit-upload.') && (await stat(join(root, name)).catch(() => undefined))?.size === 3) return name;
    }
    return undefined;
  });

  const exited = once(first.child, 'exit');
  process.kill(first.child.pid!, 'SIGKILL');
  await exited;
  assert.equal(await readFile(join(root, 'victim.txt'), 'utf8'), OLD, 'the final name holds the old content');
  assert.deepEqual((await readdir(root)).sort(), [temp, 'victim.txt'].sort(), 'only the temporary file is left');

  const second = await startServeProcess(t, [root, '--write']);
  // The banner comes after listen(), which sweeps first.
  assert.deepEqual(await readdir(root), ['victim.txt']);
  // The log (standard error) and the banner (standard output) are two pipes: wait for the line itself.
  const swept = await until('the uploads-swept log line', async () => second.stderr().split('\n').filter(Boolean)
    .map(l => JSON.parse(l) as Record<string, unknown>).find(r => r.event === 'uploads-swept'));
  assert.equal(swept.removed, 1);
  assert.equal(swept.root, root);
  process.kill(second.child.pid!, 'SIGKILL');
  await once(second.child, 'exit');
});
