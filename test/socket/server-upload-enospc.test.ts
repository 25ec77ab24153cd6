/**
 * Disk full during an atomic upload, on a real 1 MiB tmpfs: 452 (RFC 959 s4.2: insufficient storage) naming
 * the file, the old file intact, the temporary file removed, the session and the server still working.
 * Needs root and a working `mount -t tmpfs`; otherwise the test skips and says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../../src/server/index.js';
import { RawControl, openPassive, startServer, writeAll } from '../support/server-harness.js';

const OLD = 'OLD CONTENT\n';

/** A 1 MiB tmpfs in a fresh folder, unmounted and removed after the test; a reason string when impossible. */
async function smallDisk(t: { after(fn: () => unknown): void }): Promise<string> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root on Linux to mount a tmpfs';
  const dir = await mkdtemp(join(tmpdir(), 'ftpkit-enospc-'));
  const disk = join(dir, 'disk');
  await mkdir(disk);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk], { stdio: 'pipe' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return `mount -t tmpfs failed: ${(err as Error).message.split('\n')[0]}`;
  }
  t.after(async () => {
    try { execFileSync('umount', ['-l', disk], { stdio: 'pipe' }); } finally { await rm(dir, { recursive: true, force: true }); }
  });
  return disk;
}

test('ENOSPC mid-upload (atomic): 452 naming the file, old file intact, temporary file gone, next upload works', async t => {
  const disk = await smallDisk(t);
  if (!disk.startsWith('/')) { t.skip(disk); return; }
  await writeFile(join(disk, 'victim.txt'), OLD);
  const h = await startServer({ storage: new LocalStorage(disk) });
  t.after(() => h.close());
  const errors: Error[] = [];
  h.server.on('session-error', e => errors.push(e.error));
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');

  let data = await openPassive(c);
  assert.equal((await c.send('STOR victim.txt')).code, 150);
  const sending = writeAll(data, Buffer.alloc(2 * 1024 * 1024, 0x4e)).catch(() => undefined);
  const r = await c.read();
  data.destroy();
  await sending;
  assert.equal(r.code, 452);
  assert.match(r.text, /\/victim\.txt: Insufficient storage space/);
  assert.equal(await readFile(join(disk, 'victim.txt'), 'utf8'), OLD);
  assert.deepEqual(await readdir(disk), ['victim.txt']);

  assert.equal((await c.send('NOOP')).code, 200);
  data = await openPassive(c);
  assert.equal((await c.send('STOR small.txt')).code, 150);
  await writeAll(data, Buffer.from('fits'));
  assert.equal((await c.read()).code, 226);
  assert.equal(await readFile(join(disk, 'small.txt'), 'utf8'), 'fits');
  assert.deepEqual(errors, [], 'a full disk is an expected storage outcome, not a session error');
});
