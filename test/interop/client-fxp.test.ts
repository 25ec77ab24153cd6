/**
 * FXP (server-to-server copy, docs/client.md#fxp-server-to-server-copy) between ftpkit's own server and
 * vsftpd (and pure-ftpd with and without -W) on loopback, byte-exact in both directions, from the library (FtpClient.copyTo) and the CLI
 * (`ftpkit copy`). The client connects from 127.0.0.9, so each server sees the other as a foreign address
 * (on one loopback address every check would pass trivially): with vsftpd's port_promiscuous and
 * pasv_promiscuous and our active.requireSameAddress: false / passive.allowForeignAddress: true the copy
 * works; with our defaults each half is refused and the error names the setting that allows it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { peerSkip, startPureFtpd, startVsftpd, type PeerServer } from '../support/peers.js';
import { startServer, type Harness } from '../support/server-harness.js';
import { runFtpkit, describeCli } from '../support/ftpkit-cli.js';
import { LocalStorage } from '../../src/server/index.js';
import type { FtpServerOptions } from '../../src/server/index.js';
import { connectTcp, FtpClient, FtpFxpRefusedError } from '../../src/client/index.js';
import type { FtpClientOptions } from '../../src/client/index.js';

const CLIENT_ADDRESS = '127.0.0.9';
const DATA = randomBytes(3 * 1024 * 1024 + 7);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const FXP_ON: Partial<FtpServerOptions> = { active: { requireSameAddress: false }, passive: { allowForeignAddress: true } };

async function ours(t: TestContext, options: Partial<FtpServerOptions> = {}): Promise<Harness & { root: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ftpkit-fxp-'));
  const h = await startServer({ storage: new LocalStorage(root), options: { timeouts: { dataConnectMs: 20_000 }, ...options } });
  t.after(async () => { await h.close(); await fs.rm(root, { recursive: true, force: true }); });
  return { ...h, root };
}

async function vsftpd(t: TestContext): Promise<PeerServer> {
  const v = await startVsftpd({ files: { 'upload/seed.bin': DATA }, extra: ['port_promiscuous=YES', 'pasv_promiscuous=YES'] });
  t.after(() => v.stop());
  return v;
}

async function client(t: TestContext, o: Pick<FtpClientOptions, 'port' | 'user' | 'password'>, commandMs = 20_000): Promise<FtpClient> {
  const c = new FtpClient({ host: '127.0.0.1', ...o, timeouts: { commandMs, dataMs: 20_000 },
    // Another loopback address than the servers': they see the client and each other as different hosts.
    connector: target => connectTcp({ ...target, localAddress: CLIENT_ADDRESS }) });
  t.after(() => c.destroy());
  await c.connect();
  return c;
}

const skip = peerSkip('vsftpd');

test('FXP ours -> vsftpd and vsftpd -> ours, byte-exact, either server listening', skip, async t => {
  const [h, v] = await Promise.all([ours(t, FXP_ON), vsftpd(t)]);
  await fs.writeFile(path.join(h.root, 'a.bin'), DATA);
  const a = await client(t, { port: h.port, user: 'test', password: 'test' });
  const b = await client(t, { port: v.port, user: v.user, password: v.password });

  const r = await a.copyTo('a.bin', b, 'upload/from-ours.bin');
  assert.equal(r.passive, 'target');
  assert.equal(sha(await fs.readFile(path.join(v.localUploadDir, 'from-ours.bin'))), sha(DATA), await v.logs());

  const back = await b.copyTo('upload/seed.bin', a, 'from-vsftpd.bin', { passive: 'source' });
  assert.equal(back.passive, 'source');
  assert.ok(back.sourceReply.code === 226 && back.targetReply.code === 226);
  assert.equal(sha(await fs.readFile(path.join(h.root, 'from-vsftpd.bin'))), sha(DATA));

  await b.copyTo('upload/seed.bin', a, 'again.bin');
  assert.equal(sha(await fs.readFile(path.join(h.root, 'again.bin'))), sha(DATA));
  // Both sessions stay usable.
  assert.equal(await a.size('again.bin'), DATA.length);
  assert.equal(await b.size('upload/from-ours.bin'), DATA.length);
});

test('FXP refused by our default config: PORT to a foreign address (active side), and a foreign connection to PASV (passive side)', skip, async t => {
  const [h, v] = await Promise.all([ours(t), vsftpd(t)]);
  await fs.writeFile(path.join(h.root, 'a.bin'), DATA);
  // A short command timeout: a passive side still waiting that long after the other finished is a refusal.
  const a = await client(t, { port: h.port, user: 'test', password: 'test' }, 5000);
  const b = await client(t, { port: v.port, user: v.user, password: v.password }, 5000);

  await assert.rejects(a.copyTo('a.bin', b, 'upload/x.bin'), (e: unknown) => e instanceof FtpFxpRefusedError
    && e.side === 'active' && e.server === 'source' && e.replyCode === 504 && /active\.requireSameAddress: false/.test(e.message)
    && /port_promiscuous=YES/.test(e.message));

  await assert.rejects(b.copyTo('upload/seed.bin', a, 'y.bin'), (e: unknown) => e instanceof FtpFxpRefusedError
    && e.side === 'passive' && e.server === 'target' && /passive\.allowForeignAddress: true/.test(e.message));
  // The sessions are back in step after the refusals.
  assert.equal(await a.size('a.bin'), DATA.length);
  assert.equal(await b.size('upload/seed.bin'), DATA.length);
});

test('ftpkit copy: FXP from the CLI, ours -> vsftpd into a folder URL and back, --json', skip, async t => {
  const [h, v] = await Promise.all([ours(t, FXP_ON), vsftpd(t)]);
  await fs.writeFile(path.join(h.root, 'cli.bin'), DATA);
  const vUrl = `ftp://anonymous:ftpkit%40example.com@127.0.0.1:${v.port}`;
  const oursUrl = `ftp://test:test@127.0.0.1:${h.port}`;
  const r = await runFtpkit(['copy', '--json', `${oursUrl}/cli.bin`, `${vUrl}/upload/`]);
  assert.equal(r.code, 0, describeCli(r));
  const out = JSON.parse(r.stdout);
  assert.equal(out.target, 'upload/cli.bin');
  assert.equal(out.bytes, DATA.length);
  assert.equal(sha(await fs.readFile(path.join(v.localUploadDir, 'cli.bin'))), sha(DATA));
  const back = await runFtpkit(['copy', '--passive-side', 'source', `${vUrl}/upload/seed.bin`, `${oursUrl}/back.bin`]);
  assert.equal(back.code, 0, describeCli(back));
  assert.match(back.stdout, /server to server, the source listening/);
  assert.equal(sha(await fs.readFile(path.join(h.root, 'back.bin'))), sha(DATA));
  const bad = await runFtpkit(['copy', '--passive-side', 'nobody', `${vUrl}/upload/seed.bin`, `${oursUrl}/x.bin`]);
  assert.equal(bad.code, 2, describeCli(bad));
});

test('FXP with pure-ftpd -W (--allowuserfxp): ours -> pure-ftpd and back, byte-exact; without -W its refusal names -W', peerSkip('pure-ftpd'), async t => {
  const h = await ours(t, FXP_ON);
  await fs.writeFile(path.join(h.root, 'a.bin'), DATA);
  const p = await startPureFtpd({ files: { 'upload/seed.bin': DATA }, extra: ['-W'] });
  t.after(() => p.stop());
  const a = await client(t, { port: h.port, user: 'test', password: 'test' });
  const b = await client(t, { port: p.port, user: p.user, password: p.password });
  await a.copyTo('a.bin', b, 'upload/from-ours.bin');
  assert.equal(sha(await fs.readFile(path.join(p.localUploadDir, 'from-ours.bin'))), sha(DATA), await p.logs());
  await b.copyTo('upload/seed.bin', a, 'from-pure.bin', { passive: 'source' });
  assert.equal(sha(await fs.readFile(path.join(h.root, 'from-pure.bin'))), sha(DATA));

  // pure-ftpd without -W refuses PORT to another address than its client's.
  const strict = await startPureFtpd({ files: { 'upload/seed.bin': DATA } });
  t.after(() => strict.stop());
  const c = await client(t, { port: strict.port, user: strict.user, password: strict.password }, 5000);
  await assert.rejects(c.copyTo('upload/seed.bin', a, 'refused.bin'), (e: unknown) => e instanceof FtpFxpRefusedError
    && e.side === 'active' && e.server === 'source' && /pure-ftpd -W/.test(e.message));
  assert.equal(await c.size('upload/seed.bin'), DATA.length);
});
