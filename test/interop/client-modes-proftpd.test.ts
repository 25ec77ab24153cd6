/**
 * Our client in MODE Z against proftpd 1.3.8 with mod_deflate (the MODE Z server in the field): text both ways
 * and random downloads byte-exact, a download resumed with REST, a listing, 'auto' choosing Z from its
 * FEAT, and the wire bytes of a text file far below its size. Also under FTPS (compress, then encrypt).
 * Skipped with the reason when proftpd is missing (fails under FTPKIT_REQUIRE_PEERS=1).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FtpClient } from '../../src/client/index.js';
import type { TranscriptEvent } from '../../src/client/index.js';
import { requirePeer, startProftpd, type PeerServer } from '../support/peers.js';
import { tempDir } from '../support/temp-dir.js';

const TEXT = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `${i};2026-12-06;host${i % 31};OK;${(i * 7) % 1000}\n`).join(''));
const RANDOM = randomBytes(2 * 1024 * 1024 + 5);

for (const tls of ['off', 'explicit'] as const) {
  test(`MODE Z against proftpd + mod_deflate${tls === 'off' ? '' : ' under FTPS'}: both ways byte-exact, REST, listing, auto`, async (t: TestContext) => {
    if (!requirePeer(t, 'proftpd', 'openssl')) return;
    const server: PeerServer = await startProftpd({ deflate: true, tls, requireSslReuse: false, files: { 'text.csv': TEXT, 'random.bin': RANDOM } });
    t.after(() => server.stop());
    const local = await tempDir(t);
    const transcript: TranscriptEvent[] = [];
    const c = new FtpClient({
      host: server.host, port: server.port, user: server.user, password: server.password, transferMode: 'auto',
      timeouts: { commandMs: 20_000, dataMs: 20_000 },
      ...(tls === 'off' ? {} : { secure: 'explicit' as const, tls: { rejectUnauthorized: false } }),
    });
    c.on('transcript', e => transcript.push(e));
    t.after(() => c.destroy());
    try {
      await c.connect();
      const text = await c.download('/text.csv', path.join(local, 'text.csv'));
      assert.equal(text.transferMode, 'Z', 'auto chose MODE Z from the FEAT of proftpd');
      assert.ok((await fs.readFile(path.join(local, 'text.csv'))).equals(TEXT));
      assert.ok(text.bytes * 4 < TEXT.length, `wire ${text.bytes} bytes for ${TEXT.length}`);
      await c.download('/random.bin', path.join(local, 'random.bin'), { mode: 'Z' });
      assert.ok((await fs.readFile(path.join(local, 'random.bin'))).equals(RANDOM));
      // REST in file offsets.
      await fs.writeFile(path.join(local, 'part.bin'), RANDOM.subarray(0, 700_000));
      await c.download('/random.bin', path.join(local, 'part.bin'), { mode: 'Z', resume: true });
      assert.ok((await fs.readFile(path.join(local, 'part.bin'))).equals(RANDOM));
      // Uploads of compressible data only: Debian's proftpd 1.3.8 mishandles MODE Z uploads that inflate to
      // more than its buffer at once (incompressible data): proftpd/proftpd#1896, fixed upstream in #1902
      // (1.3.9); the upload then never gets its final reply.
      await c.upload(path.join(local, 'text.csv'), `${server.uploadDir}/text.csv`, { mode: 'Z' });
      assert.ok((await fs.readFile(path.join(server.localUploadDir, 'text.csv'))).equals(TEXT), 'text.csv uploaded byte-exact');
      const names = (await c.list(server.uploadDir)).map(e => e.name).sort();
      assert.deepEqual(names, ['text.csv']);
      assert.ok(transcript.some(e => e.kind === 'command' && e.text === 'MODE Z'));
    } catch (err) {
      assert.fail(`${String(err)}\n${await server.logs()}`);
    }
  });
}
