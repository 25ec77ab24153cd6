/**
 * Retries that resume against a real peer (vsftpd) behind the cutting relay (test/support/cutting-proxy.ts):
 * a download cut twice finishes byte-exact and vsftpd was asked to REST (vsftpd answers a cut 426, or 226 when
 * it had already handed the rest to its kernel: then SIZE tells the client the file is short, short-download.ts);
 * an upload cut twice is continued with
 * SIZE + APPE (docs/client.md#retries) and the file on the peer's disk is byte-exact, against vsftpd and proftpd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { FtpClient, Retrier, type RetryEvent } from '../../src/client/index.js';
import { peerSkip } from '../support/peers-common.js';
import { startProftpd, startVsftpd, type PeerServer } from '../support/peers-servers.js';
import { startCuttingProxy } from '../support/cutting-proxy.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/until.js';

test('vsftpd: a download cut twice resumes with REST and finishes byte-exact', peerSkip('vsftpd'), async (t) => {
  const payload = randomBytes(8 * 1024 * 1024 + 777);
  const peer = await startVsftpd({ files: { 'big.bin': payload } });
  t.after(() => peer.stop());
  const cutter = await startCuttingProxy({ port: peer.port, pasv: peer.pasvPorts });
  t.after(() => cutter.close());
  const c = new FtpClient({ host: cutter.host, port: cutter.port, user: peer.user, password: peer.password, retry: { retries: 3, delayMs: 50 } });
  t.after(() => c.destroy());
  const retries: RetryEvent[] = [];
  const commands: string[] = [];
  c.on('retry', (e) => retries.push(e));
  c.on('command', (e) => commands.push(e.command));
  await c.connect();
  cutter.armData({ direction: 'down', afterBytes: 2_500_000, times: 2 });
  const dest = path.join(await tempDir(t), 'big.bin');
  await new Retrier(c).download('big.bin', dest);
  assert.deepEqual(await readFile(dest), payload, 'byte-exact');
  assert.equal(retries.length, 2, JSON.stringify(retries));
  assert.equal(commands.filter((x) => /^REST [1-9]/.test(x)).length, 2, commands.join(' | '));
  await c.close();
});

for (const [name, start] of [['vsftpd', startVsftpd], ['proftpd', startProftpd]] as const) {
  test(`${name}: an upload cut twice resumes with SIZE + APPE and the stored file is byte-exact`, peerSkip(name), async (t) => {
    const payload = randomBytes(8 * 1024 * 1024 + 333);
    const peer: PeerServer = await start({});
    t.after(() => peer.stop());
    const cutter = await startCuttingProxy({ port: peer.port, pasv: peer.pasvPorts });
    t.after(() => cutter.close());
    const c = new FtpClient({ host: cutter.host, port: cutter.port, user: peer.user, password: peer.password, retry: { retries: 3, delayMs: 50 } });
    t.after(() => c.destroy());
    const retries: RetryEvent[] = [];
    const commands: string[] = [];
    c.on('retry', (e) => retries.push(e));
    c.on('command', (e) => commands.push(e.command));
    await c.connect();
    const source = path.join(await tempDir(t), 'up.bin');
    await writeFile(source, payload);
    const stored = path.join(peer.localUploadDir, 'up.bin');
    // Each cut waits until the peer has stored what passed (3 MB per connection), so SIZE finds it all.
    const storedSize = (): Promise<number> => stat(stored).then((s) => s.size, () => 0);
    const holdUntil = (cut: number): Promise<void> => until(`the peer to store ${cut * 3_000_000} bytes`, async () => (await storedSize()) >= cut * 3_000_000 || undefined).then(() => undefined);
    cutter.armData({ direction: 'up', afterBytes: 3_000_000, times: 2, holdUntil });
    const remote = `${peer.uploadDir}/up.bin`;
    const result = await new Retrier(c).upload(source, remote);
    assert.deepEqual(await readFile(stored), payload, 'byte-exact on the server');
    assert.equal(result.startOffset, 0);
    assert.equal(retries.length, 2, JSON.stringify(retries));
    const appends = commands.filter((x) => x === `APPE ${remote}`).length;
    assert.equal(appends, 2, `two APPE after two cuts: ${commands.join(' | ')}`);
    assert.equal(commands.filter((x) => x === `SIZE ${remote}`).length, 2, commands.join(' | '));
    await c.close();
  });
}
