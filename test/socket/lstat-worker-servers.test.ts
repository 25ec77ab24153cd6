/**
 * The lstat worker of big listings is one per process (src/server/storage/local-lstat-worker.ts): two
 * servers in one process, one closed, the other's big listings keep it; it stops once the last one closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FtpClient } from '../../src/client/ftp-client.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { WORKER_MIN_ENTRIES } from '../../src/server/storage/local-listing.js';
import { lstatWorkerRunning } from '../../src/server/storage/local-lstat-worker.js';
import { startServer } from '../support/server-harness.js';
import { tempDir } from '../support/temp-dir.js';

test('one server of two closing leaves the lstat worker to the other; the last close stops it', { timeout: 30_000 }, async t => {
  const root = await tempDir(t, 'ftpkit-big-');
  await Promise.all(Array.from({ length: WORKER_MIN_ENTRIES }, (_, i) => writeFile(join(root, `f${i}`), '')));
  const a = await startServer({ storage: new LocalStorage(root) });
  const b = await startServer({ storage: new LocalStorage(root) });
  t.after(() => a.close());
  t.after(() => b.close());
  const client = await FtpClient.connect({ host: a.host, port: a.port, user: 'test', password: 'test' });
  t.after(() => client.destroy());
  assert.equal((await client.list('/')).length, WORKER_MIN_ENTRIES);
  assert.ok(lstatWorkerRunning(), 'the big listing started the worker');
  await b.close();
  assert.ok(lstatWorkerRunning(), 'the other server closing left it running');
  assert.equal((await client.list('/')).length, WORKER_MIN_ENTRIES);
  await client.close();
  await a.close();
  assert.equal(lstatWorkerRunning(), false, 'the last server closing stopped it');
});
