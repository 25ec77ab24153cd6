/**
 * `serve` with a transfer log (log.xferlog / --xferlog): started through startServe, the path the CLI
 * takes, on port 0; curl downloads and uploads; the file holds one well-formed xferlog(5) line per
 * transfer with the right size and direction, and reopenLog (SIGHUP) starts a fresh file after a rotation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { startServe } from '../../src/cli/serve.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
// current-time (ctime) transfer-time host size filename type flag direction mode user ftp 0 * status
const LINE = /^(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}) (\d+) (\S+) (\d+) (\S+) ([ab]) _ ([oi]) ([ar]) (\S+) ftp 0 \* ([ci])$/;

test('serve --xferlog: a RETR and a STOR become two xferlog lines; reopenLog starts a new file', async (t) => {
  const dir = await tempDir(t);
  const root = join(dir, 'root');
  await mkdir(join(root, 'pub'), { recursive: true });
  await writeFile(join(root, 'pub', 'file.bin'), Buffer.alloc(70_000, 7));
  const upload = join(dir, 'up.txt');
  await writeFile(upload, 'twelve bytes');
  const xferlog = join(dir, 'logs', 'xferlog');
  const running = await startServe(root, {
    host: '127.0.0.1', port: 0, write: true, xferlog, logFile: join(dir, 'ftpkit.log'), allowRoot: true,
  }, new PassThrough());
  t.after(() => running.stop());
  const url = `ftp://127.0.0.1:${running.port}`;

  await run('curl', ['-sS', '--max-time', '10', '-o', join(dir, 'got.bin'), `${url}/pub/file.bin`]);
  await run('curl', ['-sS', '--max-time', '10', '-T', upload, `${url}/up%20load.txt`]);
  // The line is queued before the 226 reply; reopenLog ends (flushes) that stream before the file is read.
  await running.reopenLog();
  const lines = (await readFile(xferlog, 'utf8')).split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines.length, 2, lines.join('\n'));
  const [down, up] = lines.map((l) => LINE.exec(l));
  assert.ok(down && up, lines.join('\n'));
  assert.deepEqual(down.slice(3), ['127.0.0.1', '70000', '/pub/file.bin', 'b', 'o', 'a', 'anonymous', 'c']);
  assert.deepEqual(up.slice(3), ['127.0.0.1', '12', '/up_load.txt', 'b', 'i', 'a', 'anonymous', 'c']);
  assert.ok(Number(down[2]) >= 1);

  // Log rotation: the file is renamed away, SIGHUP (reopenLog) creates it again; new lines go there only.
  await rename(xferlog, `${xferlog}.1`);
  await running.reopenLog();
  await run('curl', ['-sS', '--max-time', '10', '-o', join(dir, 'got2.bin'), `${url}/pub/file.bin`]);
  await running.stop();
  const fresh = (await readFile(xferlog, 'utf8')).split('\n').filter(Boolean);
  assert.equal(fresh.length, 1, fresh.join('\n'));
  assert.match(fresh[0]!, / 70000 \/pub\/file\.bin b _ o a anonymous ftp 0 \* c$/);
  assert.equal((await readFile(`${xferlog}.1`, 'utf8')).split('\n').filter(Boolean).length, 2);
});
