/**
 * OUR FtpClient (cleartext) against real servers: vsftpd, pure-ftpd and pyftpdlib on loopback.
 * For each server: every data-connection command (EPSV, PASV, EPRT, PORT) over IPv4 and the RFC 2428 ones over
 * IPv6, a 24 MiB file up and down compared by SHA-256, TYPE A converted on the wire, resume of a download
 * (REST) and of an upload (SIZE + APPE), and — asserted on our transcript — that each setting changed which
 * command carried the data. pyftpdlib without EPSV shows the 'auto' fallback to PASV on a real server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { createWriteStream, watch } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BIG_FILE_SIZE, makeTempDir, peerSkip, sha256File, startPureFtpd, startVsftpd, startPyftpdlib, writeRandomFile,
  type PeerServer, type PeerServerOptions,
} from '../support/peers.js';
import { FtpClient } from '../../src/client/index.js';
import type { DataConnectionSettings, FtpClientOptions, TranscriptEvent } from '../../src/client/index.js';

let work: { dir: string; cleanup: () => Promise<void> };
let big: string;
let bigSha: string;

before(async () => {
  work = await makeTempDir('client-peers');
  big = path.join(work.dir, 'big.bin');
  bigSha = await writeRandomFile(big, BIG_FILE_SIZE);
});
after(async () => { await work?.cleanup(); });

type Starter = (o: PeerServerOptions) => Promise<PeerServer>;

interface Session { client: FtpClient; transcript: TranscriptEvent[]; dataVerbs(): string[]; dump(): Promise<string> }

async function open(t: { after(fn: () => unknown): void }, server: PeerServer, o: Partial<FtpClientOptions> = {}): Promise<Session> {
  const transcript: TranscriptEvent[] = [];
  const client = new FtpClient({
    host: server.host, port: server.port, user: server.user, password: server.password,
    timeouts: { connectMs: 5000, greetingMs: 10_000, commandMs: 15_000, dataMs: 20_000 }, ...o,
  });
  client.on('transcript', e => transcript.push(e));
  t.after(() => client.destroy());
  const dump = async () => `--- our transcript ---\n${transcript.map(e => `${e.kind}: ${e.text}`).join('\n')}\n${await server.logs()}`;
  try {
    await client.connect();
  } catch (e) {
    assert.fail(`${(e as Error).message}\n${await dump()}`);
  }
  return {
    client, transcript, dump,
    dataVerbs: () => transcript.filter(e => e.kind === 'command').map(e => e.text.split(' ')[0])
      .filter(v => ['EPSV', 'PASV', 'EPRT', 'PORT'].includes(v)),
  };
}

/** Run fn; on failure, fail with the transcript and the server's logs. */
async function explain<T>(s: Session, fn: () => Promise<T>): Promise<T> {
  try { return await fn(); } catch (e) { return assert.fail(`${(e as Error).stack}\n${await s.dump()}`); }
}

const MODES: Array<{ name: string; data: DataConnectionSettings; verb: string; ipv6: boolean }> = [
  { name: 'passive EPSV', data: { passive: { command: 'epsv' } }, verb: 'EPSV', ipv6: true },
  { name: 'passive PASV', data: { passive: { command: 'pasv' } }, verb: 'PASV', ipv6: false },
  { name: 'active EPRT', data: { mode: 'active', active: { command: 'eprt' } }, verb: 'EPRT', ipv6: true },
  { name: 'active PORT', data: { mode: 'active', active: { command: 'port' } }, verb: 'PORT', ipv6: false },
];

const SERVERS: Array<{ name: 'vsftpd' | 'pure-ftpd' | 'pyftpdlib'; start: Starter }> = [
  { name: 'vsftpd', start: startVsftpd },
  { name: 'pure-ftpd', start: startPureFtpd },
  { name: 'pyftpdlib', start: startPyftpdlib },
];

for (const { name, start } of SERVERS) {
  for (const family of ['IPv4', 'IPv6'] as const) {
    describe(`FtpClient -> ${name} over ${family}`, peerSkip(name), () => {
      let server: PeerServer;
      before(async () => { server = await start({ ipv6: family === 'IPv6', files: { 'text.txt': 'one\ntwo\n' } }); });
      after(async () => { await server?.stop(); });

      for (const m of MODES) {
        if (family === 'IPv6' && !m.ipv6) continue;
        // The big file goes through one passive and one active mode per server and family; the others move 1 MiB.
        const heavy = m.verb === 'EPSV' || m.verb === 'EPRT';
        test(`${m.name}: ${heavy ? '24 MiB' : '1 MiB'} up and down, SHA-256 equal; listing`, async t => {
          const s = await open(t, server, { data: m.data });
          const tag = `${m.verb.toLowerCase()}-${family}`;
          const remote = `${server.uploadDir}/${tag}.bin`;
          const local = path.join(work.dir, `${name}-${tag}.down`);
          await explain(s, async () => {
            if (heavy) {
              await s.client.upload(big, remote);
              assert.equal(await sha256File(path.join(server.localUploadDir, `${tag}.bin`)), bigSha, 'uploaded copy differs');
              const r = await s.client.download(remote, local);
              assert.equal(r.bytes, BIG_FILE_SIZE);
              assert.equal(await sha256File(local), bigSha, 'downloaded copy differs');
            } else {
              const small = Buffer.alloc(1024 * 1024, 0x5a);
              await s.client.upload(Readable.from([small]), remote);
              await s.client.download(remote, local);
              assert.deepEqual(await fs.readFile(local), small);
            }
            const names = (await s.client.list(server.uploadDir)).map(e => e.name);
            assert.ok(names.includes(`${tag}.bin`), `listing: ${names.join(', ')}`);
            await s.client.close();
          });
          const verbs = s.dataVerbs();
          assert.ok(verbs.length >= 3 && verbs.every(v => v === m.verb), `data commands on the wire: ${verbs.join(',')}`);
        });
      }

      test('TYPE A: CRLF on the wire, LF locally', async t => {
        const s = await open(t, server);
        await explain(s, async () => {
          const local = path.join(work.dir, `${name}-${family}-text.txt`);
          // A Unix server keeps LF; in TYPE A it sends CRLF (pure-ftpd, pyftpdlib) or LF as is (vsftpd's default):
          // either way the local copy has LF.
          await s.client.download('/text.txt', local, { type: 'ascii' });
          assert.equal(await fs.readFile(local, 'utf8'), 'one\ntwo\n');
          const remote = `${server.uploadDir}/ascii-${family}.txt`;
          await s.client.upload(Readable.from([Buffer.from('a\nb\n')]), remote, { type: 'ascii' });
          // These servers store what the wire carried (no server-side conversion) or convert it to LF:
          const stored = await fs.readFile(path.join(server.localUploadDir, `ascii-${family}.txt`), 'utf8');
          assert.ok(stored === 'a\r\nb\r\n' || stored === 'a\nb\n', JSON.stringify(stored));
          const back = path.join(work.dir, `${name}-${family}-ascii-back.txt`);
          await s.client.download(remote, back, { type: 'ascii' });
          assert.equal(await fs.readFile(back, 'utf8'), 'a\nb\n');
          assert.ok(s.transcript.some(e => e.kind === 'command' && e.text === 'TYPE A'));
          await s.client.close();
        });
      });

      test('resume after interrupted transfers: REST for the download, SIZE + APPE for the upload', async t => {
        const s = await open(t, server);
        await explain(s, async () => {
          const full = await fs.readFile(big);
          const tag = `resume-${family}`;
          const remoteSrc = `${server.uploadDir}/${tag}.src`;
          await s.client.upload(big, remoteSrc);
          // A download interrupted by a local failure after ~5 MB leaves a partial file ...
          const local = path.join(work.dir, `${name}-${tag}.part`);
          const file = createWriteStream(local);
          let written = 0;
          const failing = new Writable({
            write(chunk: Buffer, _e, cb) {
              if (written >= 5_000_000) { cb(new Error('disk unplugged')); return; }
              written += chunk.length;
              file.write(chunk, cb);
            },
          });
          await assert.rejects(s.client.download(remoteSrc, failing), /disk unplugged/);
          await new Promise<void>(resolve => file.end(resolve));
          const partial = (await fs.stat(local)).size;
          assert.ok(partial >= 5_000_000 && partial < BIG_FILE_SIZE, `partial ${partial}`);
          // ... that resume completes with REST.
          const r = await s.client.download(remoteSrc, local, { resume: true });
          assert.equal(r.startOffset, partial);
          assert.equal(await sha256File(local), bigSha);

          // An upload whose source dies once the server has stored 3 MB ...
          const remoteUp = `${server.uploadDir}/${tag}.up`;
          const stored = path.join(server.localUploadDir, `${tag}.up`);
          const watcher = watch(server.localUploadDir);
          t.after(() => watcher.close());
          const dying = Readable.from((async function* () {
            for (let off = 0; off < 4_000_000; off += 1_000_000) yield full.subarray(off, off + 1_000_000);
            for (;;) {
              if ((await fs.stat(stored).then(x => x.size, () => 0)) >= 3_000_000) break;
              await Promise.race([once(watcher, 'change'), delay(50)]);
            }
            throw new Error('source vanished');
          })());
          await assert.rejects(s.client.upload(dying, remoteUp), /source vanished/);
          const remotePartial = (await fs.stat(stored)).size;
          assert.ok(remotePartial >= 3_000_000 && remotePartial < BIG_FILE_SIZE, `remote partial ${remotePartial}`);
          // ... is completed from the local file with SIZE + APPE.
          const u = await s.client.upload(big, remoteUp, { resume: true });
          assert.equal(u.startOffset, remotePartial);
          assert.equal(await sha256File(stored), bigSha);
          const cmds = s.transcript.filter(e => e.kind === 'command').map(e => e.text);
          assert.ok(cmds.includes(`REST ${partial}`), 'REST sent');
          assert.ok(cmds.includes(`APPE ${remoteUp}`), 'APPE sent');
          assert.equal((await s.client.send('NOOP')).code, 200);
          await s.client.close();
        });
      });

      if (name === 'vsftpd' && family === 'IPv6') {
        test("PASV over IPv6: vsftpd answers 0,0,0,0 and addressPolicy 'auto' connects to the control host", async t => {
          const s = await open(t, server, { data: { passive: { command: 'pasv', addressPolicy: 'auto' } } });
          await explain(s, async () => {
            assert.ok((await s.client.list('/')).some(e => e.name === 'hello.txt'));
            await s.client.close();
          });
          assert.ok(s.transcript.some(e => e.kind === 'response' && /^227 .*\(0,0,0,0,/.test(e.text)));
          assert.ok(s.transcript.some(e => e.kind === 'status'
            && e.text === 'PASV reply address 0.0.0.0 is unspecified: connecting to the control host ::1 (addressPolicy auto)'));
        });
      }
    });
  }
}

describe('FtpClient -> pyftpdlib without EPSV/EPRT (pre-RFC 2428 server)', peerSkip('pyftpdlib'), () => {
  let server: PeerServer;
  before(async () => { server = await startPyftpdlib({ noEpsv: true }); });
  after(async () => { await server?.stop(); });

  test("'auto' falls back to PASV and PORT, and remembers them", async t => {
    const s = await open(t, server);
    await explain(s, async () => {
      await s.client.list('/');
      await s.client.list('/');
      assert.deepEqual(s.dataVerbs(), ['EPSV', 'PASV', 'PASV']);
      await s.client.close();
    });
    const a = await open(t, server, { data: { mode: 'active' } });
    await explain(a, async () => {
      await a.client.list('/');
      await a.client.list('/');
      assert.deepEqual(a.dataVerbs(), ['EPRT', 'PORT', 'PORT']);
      await a.client.close();
    });
  });
});
