/**
 * Segmented download, verification and timestamps of OUR client against real servers on loopback:
 * vsftpd, pure-ftpd and proftpd (with mod_digest: HASH and the X commands). Each range but the last ends
 * with ABOR, which every server answers its own way (426+226, 225, one folded reply): the file must come
 * out byte-exact and each session still usable. Verification uses what each server offers: SIZE on
 * vsftpd and pure-ftpd, HASH SHA-256 on proftpd, and XSHA256 / XCRC when FEAT lists only those.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import {
  makeTempDir, peerSkip, startProftpd, startPureFtpd, startVsftpd, type PeerServer,
} from '../support/peers.js';
import { FtpClient } from '../../src/client/index.js';
import type { TranscriptEvent } from '../../src/client/index.js';

const DATA = randomBytes(6 * 1024 * 1024 + 4321);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const OLD = new Date('2022-01-02T03:04:05Z');

async function open(t: TestContext, server: PeerServer) {
  const transcript: TranscriptEvent[] = [];
  const options = { host: server.host, port: server.port, user: server.user, password: server.password,
    timeouts: { commandMs: 20_000, dataMs: 20_000 } };
  const clients: FtpClient[] = [];
  t.after(() => { for (const c of clients) c.destroy(); });
  const connect = async () => {
    const c = new FtpClient(options);
    c.on('transcript', e => transcript.push(e));
    clients.push(c);
    await c.connect();
    return c;
  };
  const c = await connect();
  const dump = async () => `${transcript.map(e => `${e.kind}: ${e.text}`).join('\n')}\n${await server.logs()}`;
  return { c, connect, clients, transcript, dump };
}

const PEERS: Array<{ name: 'vsftpd' | 'pure-ftpd' | 'proftpd'; start: () => Promise<PeerServer>; check: string }> = [
  { name: 'vsftpd', start: () => startVsftpd({ files: { 'upload/big.bin': DATA } }), check: 'SIZE' },
  { name: 'pure-ftpd', start: () => startPureFtpd({ files: { 'upload/big.bin': DATA } }), check: 'SIZE' },
  { name: 'proftpd', start: () => startProftpd({ files: { 'upload/big.bin': DATA }, extra: ['LoadModule mod_digest.c', 'DigestEngine on'] }), check: 'SHA-256' },
];

for (const peer of PEERS) {
  test(`${peer.name}: segmented download on 4 connections, byte-exact, checked by ${peer.check}, time kept`, peerSkip(peer.name), async t => {
    const server = await peer.start();
    t.after(() => server.stop());
    await fs.utimes(path.join(server.localUploadDir, 'big.bin'), OLD, OLD);
    const work = await makeTempDir('client-ops-peers');
    t.after(() => work.cleanup());
    const { c, connect, clients, dump } = await open(t, server);
    const dest = path.join(work.dir, 'big.bin');
    const r = await c.download('upload/big.bin', dest, { segments: 4, connect, verify: true, preserveTime: true }).catch(async e => assert.fail(`${e}\n${await dump()}`));
    assert.equal(r.segments, 4, await dump());
    assert.equal(r.verified?.method, peer.check);
    assert.equal(sha(await fs.readFile(dest)), sha(DATA));
    assert.equal((await fs.stat(dest)).mtime.getTime(), OLD.getTime());
    assert.equal(clients.length, 4);
    // The session that fetched the last range is still in step with the server.
    assert.equal(await c.size('upload/big.bin'), DATA.length);
    assert.deepEqual((await fs.readdir(work.dir)).filter(n => n.includes('ftpkit-part')), []);
  });
}

test('proftpd mod_digest: XSHA256 and XCRC when FEAT offers no HASH; uploads verified and MFMT kept', peerSkip('proftpd'), async t => {
  const server = await startProftpd({ files: { 'upload/f.bin': DATA.subarray(0, 100_000) }, extra: ['LoadModule mod_digest.c', 'DigestEngine on'] });
  t.after(() => server.stop());
  const work = await makeTempDir('client-ops-digest');
  t.after(() => work.cleanup());
  const { c, dump } = await open(t, server);
  assert.ok(c.features.has('HASH') && c.features.has('XSHA256') && c.features.has('XCRC'), await dump());
  const local = path.join(work.dir, 'f.bin');
  await c.download('upload/f.bin', local);
  c.features.delete('HASH');
  assert.equal((await c.verify('upload/f.bin', local)).method, 'XSHA256');
  for (const x of ['XSHA256', 'XSHA1', 'XMD5']) c.features.delete(x);
  const crc = await c.verify('upload/f.bin', local);
  assert.equal(crc.method, 'XCRC');
  await fs.appendFile(local, 'x');
  await assert.rejects(c.verify('upload/f.bin', local), { name: 'FtpVerifyError', method: 'XCRC' });
  await fs.utimes(local, OLD, OLD);
  const up = await c.upload(local, 'upload/up.bin', { verify: true, preserveTime: true });
  assert.equal(up.verified?.method, 'XCRC');
  assert.equal((await fs.stat(path.join(server.localUploadDir, 'up.bin'))).mtime.getTime(), OLD.getTime(), await dump());
});
