/**
 * OUR FtpClient over explicit FTPS with PROT P against ftp-srv (npm), a server that waits for the data
 * connection's TLS handshake before it answers 150 to LIST/RETR/STOR in passive mode: a client that
 * starts the handshake only after 150 waits for a reply that never comes, and ftp-srv gives up with 425.
 * The client starts the handshake as soon as the data connection is open (RFC 4217 s7 does not order it
 * after the preliminary reply), passive and active; pyftpdlib, which sends 150 first, must keep working.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { FtpClient } from '../../src/client/ftp-client.js';
import type { TranscriptEvent } from '../../src/client/events.js';
import { Writable } from 'node:stream';
import { HELLO_TEXT, makeTempDir, peerSkip, startPyftpdlib } from '../support/peers.js';
import { startFtpSrv, type FtpSrvPeer } from '../support/peers-ftp-srv.js';

const CONTENT = Buffer.from('x'.repeat(300_000) + '\nend of the file\n');

describe('FtpClient -> ftp-srv over explicit TLS with PROT P', peerSkip('ftp-srv'), () => {
  let server: FtpSrvPeer;
  let work: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    server = await startFtpSrv({ tls: true, files: { 'hello.txt': 'hello from ftp-srv\n', 'data.bin': CONTENT } });
    work = await makeTempDir('ftp-srv-client');
  });
  after(async () => {
    await server?.stop();
    await work?.cleanup();
  });

  for (const mode of ['passive', 'active'] as const) {
    test(`${mode}: LIST, get and put`, async (t) => {
      const transcript: TranscriptEvent[] = [];
      const client = new FtpClient({
        host: server.host, port: server.port, user: server.user, password: server.password,
        secure: 'explicit', tls: { caFile: server.certFile },
        data: { mode },
        timeouts: { connectMs: 5000, greetingMs: 10000, commandMs: 15000, dataMs: 15000 },
      });
      client.on('transcript', (e) => transcript.push(e));
      t.after(() => client.destroy());
      try {
        await client.connect();
        const names = (await client.list('/')).map((e) => e.name);
        assert.ok(names.includes('data.bin') && names.includes('hello.txt'), names.join(', '));
        const local = path.join(work.dir, `${mode}.down`);
        await client.download('/data.bin', local);
        assert.ok((await readFile(local)).equals(CONTENT), 'downloaded copy differs');
        const up = path.join(work.dir, `${mode}.up`);
        await writeFile(up, CONTENT);
        await client.upload(up, `/${mode}-up.bin`);
        assert.ok((await readFile(path.join(server.root, `${mode}-up.bin`))).equals(CONTENT), 'uploaded copy differs');
        await client.close();
      } catch (err) {
        const log = transcript.map((e) => `${e.kind}: ${e.text}`).join('\n');
        assert.fail(`${(err as Error).message}\n--- our transcript ---\n${log}\n${await server.logs()}`);
      }
      assert.match(transcript.map((e) => e.text).join('\n'), /TLS established/);
    });
  }
});

// pyftpdlib sends 150 first and accepts the handshake whenever it comes: the early start must keep it working.
describe('FtpClient -> pyftpdlib over explicit TLS with PROT P, handshake at once', peerSkip('pyftpdlib-tls'), () => {
  for (const mode of ['passive', 'active'] as const) {
    test(`${mode}: LIST and get, five times`, async (t) => {
      const s = await startPyftpdlib({ tls: 'required' });
      t.after(() => s.stop());
      const transcript: TranscriptEvent[] = [];
      const client = new FtpClient({ host: s.host, port: s.port, user: s.user, password: s.password, secure: 'explicit',
        tls: { caFile: s.certFile }, data: { mode }, timeouts: { commandMs: 15000, dataMs: 15000 } });
      client.on('transcript', (e) => transcript.push(e));
      t.after(() => client.destroy());
      try {
        await client.connect();
        for (let i = 0; i < 5; i++) {
          assert.ok((await client.list('/')).some((e) => e.name === 'hello.txt'));
          const chunks: Buffer[] = [];
          await client.download('/hello.txt', new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } }));
          assert.equal(Buffer.concat(chunks).toString(), HELLO_TEXT);
        }
        await client.close();
      } catch (err) {
        assert.fail(`${(err as Error).message}\n${transcript.map((e) => e.text).join('\n')}\n${await s.logs()}`);
      }
    });
  }
});
