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
import { Readable } from 'node:stream';
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

      test('resume: REST for a partial download, SIZE + APPE for a partial upload', async t => {
        const s = await open(t, server);
        await explain(s, async () => {
          const full = await fs.readFile(big);
          const tag = `resume-${family}`;
          // a server-side file to download, and a local partial copy of it
          await s.client.upload(big, `${server.uploadDir}/${tag}.src`);
          const local = path.join(work.dir, `${name}-${tag}.part`);
          await fs.writeFile(local, full.subarray(0, 5_000_000));
          const r = await s.client.download(`${server.uploadDir}/${tag}.src`, local, { resume: true });
          assert.equal(r.startOffset, 5_000_000);
          assert.equal(r.bytes, BIG_FILE_SIZE - 5_000_000);
          assert.equal(await sha256File(local), bigSha);
          // a partial upload left on the server, completed from the local file
          await s.client.upload(Readable.from([full.subarray(0, 7_000_000)]), `${server.uploadDir}/${tag}.up`);
          const u = await s.client.upload(big, `${server.uploadDir}/${tag}.up`, { resume: true });
          assert.equal(u.startOffset, 7_000_000);
          assert.equal(await sha256File(path.join(server.localUploadDir, `${tag}.up`)), bigSha);
          const cmds = s.transcript.filter(e => e.kind === 'command').map(e => e.text);
          assert.ok(cmds.includes('REST 5000000'), 'REST sent');
          assert.ok(cmds.includes(`APPE ${server.uploadDir}/${tag}.up`), 'APPE sent');
          await s.client.close();
        });
      });
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
