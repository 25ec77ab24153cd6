/**
 * Real clients against a quota (issue 12, "Quotas"): curl -T and lftp put of 3 MiB into a 1 MiB quota on a
 * local root. Each sees the 552 (RFC 959 s4.2) and fails cleanly with its own message (curl: exit 70, or 55 when it meets the closed data connection first,
 * "Exceeded storage allocation"; lftp: "Access failed: 552"), nothing past the quota is on disk, and AVBL
 * afterwards answers what the partial upload left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalStorage } from '../../src/server/index.js';
import { describeRun, lftpOpen, lftpQuote, makeTempDir, requirePeer, runCurl, runLftp } from '../support/peers.js';
import { RawControl, startServer } from '../support/server-harness.js';

const MiB = 1024 * 1024;

async function quotaTarget(t: { after: (fn: () => unknown) => void }) {
  const { dir, cleanup } = await makeTempDir('quota-clients');
  t.after(cleanup);
  const root = join(dir, 'root');
  await mkdir(root);
  const source = join(dir, 'three-mib.bin');
  await writeFile(source, Buffer.alloc(3 * MiB, 0x5a));
  const h = await startServer({ storage: await LocalStorage.open(root), users: { test: { password: 'test', quota: { bytes: MiB } } } });
  t.after(() => h.close());
  /** Bytes under the root, and AVBL from a fresh session (the count the clients left). */
  const after = async () => {
    let bytes = 0;
    for (const name of await readdir(root)) bytes += (await stat(join(root, name))).size;
    const c = await RawControl.login(h);
    try {
      const r = await c.send('AVBL');
      return { bytes, avbl: r.code === 213 ? Number(r.text) : NaN };
    } finally { c.close(); }
  };
  return { h, source, after };
}

test('curl -T into a full quota: exit 70 ("Exceeded storage allocation") or 55, nothing past the quota stored', async t => {
  if (!requirePeer(t, 'curl')) return;
  const { h, source, after } = await quotaTarget(t);
  const r = await runCurl(['-T', source, `ftp://test:test@127.0.0.1:${h.port}/big.bin`], { timeoutMs: 30000 });
  // CURLE_REMOTE_DISK_FULL (70) is curl's name for 552. When the server closes the data connection while
  // curl still has bytes in flight, curl meets the reset before it reads the reply and exits 55 (send
  // error) instead: a race inside curl, seen about 1 run in 10 on a loaded machine. Either is a clean failure.
  assert.ok(r.code === 70 || r.code === 55, describeRun(r));
  if (r.code === 70) assert.match(r.stderr, /Exceeded storage allocation/);
  const { bytes, avbl } = await after();
  assert.ok(bytes <= MiB, `${bytes} bytes stored under a 1 MiB quota`);
  assert.ok(avbl <= MiB - bytes, `AVBL ${avbl} after ${bytes} bytes stored`);
});

test('lftp put into a full quota: "Access failed: 552", no retry loop, nothing past the quota stored', async t => {
  if (!requirePeer(t, 'lftp')) return;
  const { h, source, after } = await quotaTarget(t);
  const r = await runLftp([lftpOpen({ url: `ftp://127.0.0.1:${h.port}`, user: 'test', password: 'test' }), `put ${lftpQuote(source)} -o big.bin`],
    { timeoutMs: 30000 });
  assert.notEqual(r.code, 0, describeRun(r));
  assert.match(r.stderr, /Access failed: 552 \/big\.bin: Exceeded storage allocation/);
  assert.equal(r.stderr.match(/---> STOR/g)?.length, 1, 'a 5xx is not retried');
  const { bytes, avbl } = await after();
  assert.ok(bytes <= MiB, `${bytes} bytes stored under a 1 MiB quota`);
  assert.ok(avbl <= MiB - bytes, `AVBL ${avbl} after ${bytes} bytes stored`);
});
