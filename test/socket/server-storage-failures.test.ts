/**
 * Storage failing in the middle of a transfer: the reply carries the storage's FTP meaning (451, 452...),
 * never the OS text, and the session stays usable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { FtpStorageError, MemoryStorage } from '../../src/server/index.js';
import type { ReadOptions, WriteOptions } from '../../src/server/index.js';
import { RawControl, openPassive, readAll, startServer, writeAll } from '../support/server-harness.js';

/** Reads fail after 1 MB with an OS-looking error; writes fail after 1 MB with "no space". */
class FailingStorage extends MemoryStorage {
  override async openRead(path: string, options?: ReadOptions): Promise<Readable> {
    await super.openRead(path, options);
    let sent = 0;
    return new Readable({
      read() {
        if (sent >= 1_000_000) { this.destroy(new Error('EIO: i/o error, read /srv/secret/disk0/file')); return; }
        sent += 65536;
        this.push(Buffer.alloc(65536, 1));
      },
    });
  }
  override async openWrite(path: string, options?: WriteOptions): Promise<Writable> {
    await super.openWrite(path, options);
    let got = 0;
    return new Writable({
      write(chunk: Buffer, _enc, cb) {
        got += chunk.length;
        cb(got > 1_000_000 ? new FtpStorageError('no-space', 'ENOSPC /srv/secret', path) : null);
      },
    });
  }
}

test('a storage read error mid-download answers 451 without OS text; a full disk on upload answers 452', async t => {
  const storage = new FailingStorage();
  storage.writeFile('/f.bin', 'x');
  const h = await startServer({ storage });
  t.after(() => h.close());
  const errors: Error[] = [];
  const failures: string[] = [];
  h.server.on('session-error', e => errors.push(e.error));
  h.server.on('transfer-failed', e => failures.push(`${e.direction} ${e.reason}`));
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');

  let data = await openPassive(c);
  assert.equal((await c.send('RETR f.bin')).code, 150);
  const [, r] = await Promise.all([readAll(data).catch(() => Buffer.alloc(0)), c.read()]);
  assert.equal(r.code, 451);
  assert.ok(!r.text.includes('/srv/secret'), r.text);

  data = await openPassive(c);
  assert.equal((await c.send('STOR g.bin')).code, 150);
  const sending = writeAll(data, Buffer.alloc(4_000_000, 2)).catch(() => undefined);
  const r2 = await c.read();
  await sending;
  assert.equal(r2.code, 452);
  assert.ok(!r2.text.includes('/srv/secret'), r2.text);

  assert.equal((await c.send('NOOP')).code, 200);
  assert.deepEqual(failures, ['download storage error: io', 'upload storage error: no-space']);
  assert.equal(errors.length, 1, 'the unexpected (non-FtpStorageError) failure is reported to the operator');
  assert.match(errors[0].message, /EIO/);
});
