/**
 * OUR FtpClient over FTPS against real servers: vsftpd with require_ssl_reuse=YES (explicit and implicit,
 * TLS 1.2 and 1.3 forced on our side, passive and active), pure-ftpd with TLS required for control and
 * data (-Y 3), and proftpd (which also requires session reuse) — 24 MiB up and down checked by SHA-256
 * (down twice: into a stream, and into a file, where the decrypted records are read into the blocks),
 * every data connection resuming the control session (the transcript says so; vsftpd and proftpd would
 * refuse otherwise) except with pure-ftpd on TLS 1.3, which sends no session tickets. Server certificates are verified against the peers' self-signed certificate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  BIG_FILE_SIZE, makeTempDir, peerSkip, requirePeer, sha256File, startProftpd, startPureFtpd, startVsftpd,
  writeRandomFile, type PeerServer,
} from '../support/peers.js';
import { FtpClient } from '../../src/client/ftp-client.js';
import { userBufferSwitches } from '../../src/net/socket-user-buffer.js';
import type { FtpClientOptions } from '../../src/client/options.js';
import type { TranscriptEvent } from '../../src/client/events.js';
import { startFtpsTarget, type FtpsTarget } from '../support/tls-target.js';

let work: { dir: string; cleanup: () => Promise<void> };
let big: string;
let bigSha: string;

before(async () => {
  work = await makeTempDir('client-ftps');
  big = path.join(work.dir, 'big.bin');
  bigSha = await writeRandomFile(big, BIG_FILE_SIZE);
});
after(async () => { await work?.cleanup(); });

interface Run { transcript: TranscriptEvent[] }

/** Connect, upload big.bin, download it back (into a stream, then into a file), compare, and return the transcript. */
/** What roundTrip needs of a server (a PeerServer, or our own FTPS target). */
type Target = Pick<PeerServer, 'host' | 'port' | 'user' | 'password' | 'certFile' | 'uploadDir' | 'localUploadDir' | 'logs'>;

async function roundTrip(
  t: { after(fn: () => unknown): void }, server: Target, o: Partial<FtpClientOptions>, tag: string, expectResume = true,
): Promise<Run> {
  const transcript: TranscriptEvent[] = [];
  const client = new FtpClient({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    timeouts: { connectMs: 5000, greetingMs: 10000, commandMs: 15000, dataMs: 20000 },
    ...o,
    tls: { caFile: server.certFile, ...o.tls },
  });
  client.on('transcript', (e) => transcript.push(e));
  t.after(() => client.destroy());
  const fail = async (err: unknown): Promise<never> => {
    const log = transcript.map((e) => `${e.kind}: ${e.text}`).join('\n');
    assert.fail(`${(err as Error).message}\n--- our transcript ---\n${log}\n${await server.logs()}`);
  };
  try {
    await client.connect();
    const remote = `${server.uploadDir}/${tag}.bin`;
    await client.upload(createReadStream(big), remote);
    const local = path.join(work.dir, `${tag}.down`);
    await client.download(remote, createWriteStream(local));
    assert.equal(await sha256File(local), bigSha, 'downloaded copy differs');
    // Into a file path: the TLS socket's decrypted records are read straight into the pipeline's blocks
    // (net/socket-user-buffer.ts, net/wire-blocks.ts).
    const switches = userBufferSwitches.count;
    const file = path.join(work.dir, `${tag}.file`);
    await client.download(remote, file);
    assert.equal(await sha256File(file), bigSha, 'the copy downloaded into a file (through the blocks) differs');
    assert.equal(userBufferSwitches.count - switches, 1, 'the download into a file read into the blocks');
    assert.equal(await sha256File(path.join(server.localUploadDir, `${tag}.bin`)), bigSha, 'uploaded copy differs');
    await client.list(server.uploadDir);
    await client.close();
  } catch (err) {
    await fail(err);
  }
  const text = transcript.map((e) => e.text).join('\n');
  assert.match(text, /TLS established/);
  const resumed = transcript.filter((e) => /resumed the control connection's session/.test(e.text)).length;
  if (expectResume) {
    assert.doesNotMatch(text, /did NOT resume/);
    assert.ok(resumed >= 3, `each data connection resumed the control session (${resumed})`);
  } else {
    assert.match(text, /did NOT resume the control session \(no session to offer yet\)/);
  }
  return { transcript };
}

for (const tls of ['explicit', 'implicit'] as const) {
  describe(`FtpClient -> vsftpd ${tls} TLS, require_ssl_reuse=YES`, peerSkip('vsftpd'), () => {
    let server: PeerServer;
    before(async () => { server = await startVsftpd({ tls, requireSslReuse: true }); });
    after(async () => { await server?.stop(); });

    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      for (const mode of ['passive', 'active'] as const) {
        test(`${version} ${mode}: 24 MiB up and down, SHA-256 equal, data sessions resumed`, async (t) => {
          if (!requirePeer(t, 'vsftpd')) return;
          const { transcript } = await roundTrip(t, server, {
            secure: tls, tls: { minVersion: version, maxVersion: version }, data: { mode },
          }, `${tls}-${version}-${mode}`);
          assert.ok(transcript.some((e) => e.text.includes(`TLS established: ${version}`)));
        });
      }
    }
  });
}

describe('FtpClient -> pure-ftpd with TLS required for control and data (-Y 3)', peerSkip('pure-ftpd'), () => {
  let server: PeerServer;
  before(async () => { server = await startPureFtpd({ tls: 3 }); });
  after(async () => { await server?.stop(); });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    for (const mode of ['passive', 'active'] as const) {
      test(`${version} ${mode}: 24 MiB up and down, SHA-256 equal`, async (t) => {
        if (!requirePeer(t, 'pure-ftpd')) return;
        // pure-ftpd issues no TLS 1.3 session tickets (so nothing can be resumed) and does not require reuse:
        // the transfers work and our transcript says why the data connections did not resume.
        await roundTrip(t, server, { secure: 'explicit', tls: { minVersion: version, maxVersion: version }, data: { mode } },
          `pure-${version}-${mode}`, version === 'TLSv1.2');
      });
    }
  }

  test('without TLS the login is refused (TLS required)', async (t) => {
    if (!requirePeer(t, 'pure-ftpd')) return;
    const client = new FtpClient({ host: server.host, port: server.port, user: server.user, password: server.password });
    t.after(() => client.destroy());
    await assert.rejects(client.connect(), { code: 'ERR_FTP_REPLY' });
  });
});

describe('FtpClient -> proftpd with TLS required (session reuse required by default)', peerSkip('proftpd'), () => {
  let server: PeerServer;
  before(async () => { server = await startProftpd({ tls: 'required' }); });
  after(async () => { await server?.stop(); });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`${version} passive: 24 MiB up and down, SHA-256 equal`, async (t) => {
      if (!requirePeer(t, 'proftpd')) return;
      await roundTrip(t, server, { secure: 'explicit', tls: { minVersion: version, maxVersion: version } }, `pro-${version}`);
    });

  }
});

describe('FtpClient -> proftpd with TLS optional: CCC', peerSkip('proftpd'), () => {
  let server: PeerServer;
  before(async () => { server = await startProftpd({ tls: 'explicit' }); });
  after(async () => { await server?.stop(); });

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    for (const mode of ['passive', 'active'] as const) {
      test(`${version} ${mode}: CCC after login, control in cleartext, data still protected and resumed`, async (t) => {
        if (!requirePeer(t, 'proftpd')) return;
        const { transcript } = await roundTrip(t, server, {
          secure: 'explicit', tls: { minVersion: version, maxVersion: version, clearCommandChannel: true }, data: { mode },
        }, `pro-ccc-${version}-${mode}`);
        const text = transcript.map((e) => `${e.kind}: ${e.text}`).join('\n');
        assert.match(text, /command: CCC\nresponse: 200/);
        assert.match(text, /CCC: the control connection is in cleartext again/);
        // Commands after CCC travel in cleartext and still get answers (the transfers above ran after it).
        assert.ok(text.indexOf('command: CCC') < text.lastIndexOf('command: STOR'));
      });
    }
  }
});

describe('FtpClient -> proftpd with TLS required refuses CCC', peerSkip('proftpd'), () => {
  let server: PeerServer;
  before(async () => { server = await startProftpd({ tls: 'required' }); });
  after(async () => { await server?.stop(); });

  test('534: a clear FtpReplyError, the connection is closed', async (t) => {
    if (!requirePeer(t, 'proftpd')) return;
    const client = new FtpClient({
      host: server.host, port: server.port, user: server.user, password: server.password,
      secure: 'explicit', tls: { caFile: server.certFile, clearCommandChannel: true },
    });
    t.after(() => client.destroy());
    await assert.rejects(client.connect(), (e: Error & { replyCode?: number }) => e.replyCode === 534 && /cleartext control connection/.test(e.message));
  });
});

describe('FtpClient -> ftpkit FTPS server (session reuse required)', () => {
  let ours: FtpsTarget;
  let target: Target;
  before(async () => {
    ours = await startFtpsTarget();
    target = {
      host: ours.host, port: ours.port, user: ours.user, password: ours.password, certFile: ours.caFile,
      uploadDir: '', localUploadDir: ours.root, logs: async () => ours.logs(),
    };
  });
  after(async () => { await ours?.stop(); });

  for (const secure of ['explicit', 'implicit'] as const) {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      for (const mode of ['passive', 'active'] as const) {
        test(`${secure} ${version} ${mode}: 24 MiB up and down, SHA-256 equal, data sessions resumed`, async (t) => {
          await roundTrip(t, { ...target, port: secure === 'implicit' ? ours.implicitPort : ours.port }, {
            secure, tls: { minVersion: version, maxVersion: version }, data: { mode },
          }, `ours-${secure}-${version}-${mode}`);
        });
      }
    }
  }
});
