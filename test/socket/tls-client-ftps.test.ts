/**
 * FtpClient with FTPS (src/client/tls.ts) against our own FtpServer over loopback: explicit and implicit
 * TLS, TLS 1.2 and 1.3 forced on each side, passive and active, upload + download with SHA-256, every data
 * connection resuming the control session (the server enforces it), PROT C on request, AUTH SSL, and the
 * failures: a server without TLS (no cleartext login), certificate problems, policy refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { FtpClient } from '../../src/client/ftp-client.js';
import type { FtpClientOptions } from '../../src/client/options.js';
import type { TranscriptEvent } from '../../src/client/events.js';
import { FtpReplyError, FtpTlsError } from '../../src/errors.js';
import { MemoryStorage } from '../../src/server/index.js';
import type { FtpServerTlsOptions } from '../../src/server/tls/options.js';
import { startServer, type Harness } from '../support/server-harness.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

type T = { after(fn: () => unknown): void };

async function server(t: T, tls: Partial<FtpServerTlsOptions> | false = {}, pair = () => pki.server): Promise<Harness & { storage: MemoryStorage }> {
  const storage = new MemoryStorage();
  const h = await startServer({
    storage,
    options: tls === false ? {} : { tls: { certFile: pair().certFile, keyFile: pair().keyFile, handshakeTimeoutMs: 3000, ...tls } },
  });
  t.after(() => h.close());
  return h as Harness & { storage: MemoryStorage };
}

async function client(t: T, h: Harness, o: Partial<FtpClientOptions>, transcript?: TranscriptEvent[]): Promise<FtpClient> {
  const c = new FtpClient({
    host: '127.0.0.1', port: o.secure === 'implicit' ? h.server.implicitAddress()!.port : h.port,
    user: 'test', password: 'test',
    timeouts: { connectMs: 3000, greetingMs: 3000, commandMs: 5000, dataMs: 5000 },
    ...o,
    tls: { ca: pki.ca.cert, ...o.tls },
  });
  if (transcript) c.on('transcript', (e) => transcript.push(e));
  t.after(() => c.destroy());
  await c.connect();
  return c;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function download(c: FtpClient, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await c.download(path, new Writable({ write(chunk, _e, cb) { chunks.push(chunk as Buffer); cb(); } }));
  return Buffer.concat(chunks);
}

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  for (const secure of ['explicit', 'implicit'] as const) {
    for (const mode of ['passive', 'active'] as const) {
      test(`${secure} ${version} ${mode}: upload and download with checksums over resumed TLS data connections`, { timeout: 30_000 }, async (t) => {
        const h = await server(t, { minVersion: version, maxVersion: version, implicitPort: 0 });
        const transcript: TranscriptEvent[] = [];
        const c = await client(t, h, { secure, tls: { minVersion: version, maxVersion: version }, data: { mode } }, transcript);
        const body = randomBytes(2 * 1024 * 1024 + 3);
        await c.upload(Readable.from([body]), '/up.bin');
        assert.equal(sha256(h.storage.readFile('/up.bin')), sha256(body));
        for (let i = 0; i < 2; i++) assert.equal(sha256(await download(c, '/up.bin')), sha256(body));
        const names = await c.nameList('/');
        assert.deepEqual(names.map((n) => n.replace(/^\//, '')), ['up.bin']);
        const text = transcript.map((e) => `${e.kind}: ${e.text}`).join('\n');
        assert.match(text, new RegExp(`TLS established: ${version.replace('.', '\\.')}`));
        if (secure === 'explicit') assert.match(text, /command: AUTH TLS/);
        assert.match(text, /command: PROT P/);
        const resumed = transcript.filter((e) => /resumed the control connection's session/.test(e.text)).length;
        assert.ok(resumed >= 4, `every data connection resumed (${resumed})`);
        assert.doesNotMatch(text, /did NOT resume/);
        // The password went over TLS only: AUTH TLS came before PASS.
        if (secure === 'explicit') assert.ok(text.indexOf('command: AUTH TLS') < text.indexOf('command: PASS'));
        await c.close();
      });
    }
  }
}

test('protectData false: PROT C, cleartext data, control still protected', { timeout: 20_000 }, async (t) => {
  const h = await server(t);
  h.storage.writeFile('/c.txt', 'clear data\n');
  const transcript: TranscriptEvent[] = [];
  const c = await client(t, h, { secure: 'explicit', tls: { protectData: false } }, transcript);
  assert.equal((await download(c, '/c.txt')).toString(), 'clear data\n');
  assert.ok(transcript.some((e) => e.text === 'PROT C'));
});

test('AUTH SSL on request', { timeout: 20_000 }, async (t) => {
  const h = await server(t);
  h.storage.writeFile('/s.txt', 'ssl\n');
  const transcript: TranscriptEvent[] = [];
  const c = await client(t, h, { secure: 'explicit', tls: { authCommand: 'SSL' } }, transcript);
  assert.equal((await download(c, '/s.txt')).toString(), 'ssl\n');
  assert.ok(transcript.some((e) => e.text === 'AUTH SSL'));
});

test('a server without FTPS: AUTH TLS refused -> FtpReplyError, and no USER/PASS is ever sent', { timeout: 20_000 }, async (t) => {
  const h = await server(t, false);
  const transcript: TranscriptEvent[] = [];
  await assert.rejects(client(t, h, { secure: 'explicit' }, transcript), (e: FtpReplyError) => {
    assert.ok(e instanceof FtpReplyError);
    assert.equal(e.replyCode, 502);
    assert.match(e.message, /does not offer FTPS/);
    return true;
  });
  assert.ok(!transcript.some((e) => e.kind === 'command' && /^(USER|PASS)/.test(e.text)), 'no credentials in cleartext');
});

test('implicit TLS against an explicit-only (cleartext greeting) port fails with a TLS error, not a hang', { timeout: 20_000 }, async (t) => {
  const h = await server(t);
  const c = new FtpClient({ host: '127.0.0.1', port: h.port, secure: 'implicit', user: 'test', password: 'test', tls: { ca: pki.ca.cert }, timeouts: { greetingMs: 3000 } });
  t.after(() => c.destroy());
  await assert.rejects(c.connect(), (e: FtpTlsError) => e instanceof FtpTlsError && e.reason === 'not-tls');
});

test('certificates: self-signed server rejected by default with advice; --insecure connects; wrong host rejected', { timeout: 20_000 }, async (t) => {
  const h = await server(t, {}, () => pki.selfSigned);
  await assert.rejects(client(t, h, { secure: 'explicit', tls: { ca: undefined } }), (e: FtpTlsError) => {
    assert.ok(e instanceof FtpTlsError);
    assert.equal(e.reason, 'certificate');
    assert.match(e.message, /self-signed.*--insecure/);
    return true;
  });
  const transcript: TranscriptEvent[] = [];
  const c = await client(t, h, { secure: 'explicit', tls: { ca: undefined, rejectUnauthorized: false } }, transcript);
  assert.ok(transcript.some((e) => /NOT verified \(insecure mode\)/.test(e.text)));
  await c.close();

  const wrong = await server(t, {}, () => pki.wrongHost);
  await assert.rejects(client(t, wrong, { secure: 'explicit' }), (e: FtpTlsError) => e.reason === 'certificate' && /not valid for 127\.0\.0\.1/.test(e.message));
});

test('policy: server requires protected data and the client asks for PROT C -> clear error at login', { timeout: 20_000 }, async (t) => {
  const h = await server(t, { require: 'data' });
  await assert.rejects(client(t, h, { secure: 'explicit', tls: { protectData: false } }), (e: FtpReplyError) => e.replyCode === 534 && /requires protected data/.test(e.message));
});

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`${version}: CCC on request against a server that allows it: control back in cleartext, data still protected and resumed`, { timeout: 20_000 }, async (t) => {
    const h = await server(t, { allowCcc: true, minVersion: version, maxVersion: version });
    const body = randomBytes(500_000);
    const transcript: TranscriptEvent[] = [];
    const serverLines: string[] = [];
    h.server.on('transcript', (e) => serverLines.push(`${e.direction} ${e.line}`));
    const c = await client(t, h, { secure: 'explicit', tls: { clearCommandChannel: true } }, transcript);
    assert.equal(c.control!.socket.constructor.name, 'Socket', 'the control connection is a plain TCP socket again');
    await c.upload(Readable.from([body]), '/ccc.bin');
    assert.equal(sha256(await download(c, '/ccc.bin')), sha256(body));
    assert.equal((await c.send('NOOP')).code, 200);
    const text = transcript.map((e) => `${e.kind}: ${e.text}`).join('\n');
    assert.match(text, /command: CCC\nresponse: 200/);
    assert.match(text, /CCC: the control connection is in cleartext again/);
    assert.ok(transcript.filter((e) => /resumed the control connection's session/.test(e.text)).length >= 2);
    assert.ok(serverLines.includes('in NOOP'));
    await c.close();
  });
}

test('CCC against a server that refuses it (default policy): 534, a clear error', { timeout: 20_000 }, async (t) => {
  const h = await server(t);
  await assert.rejects(client(t, h, { secure: 'explicit', tls: { clearCommandChannel: true } }),
    (e: FtpReplyError) => e instanceof FtpReplyError && e.replyCode === 534 && /cleartext control connection/.test(e.message));
});

for (const mode of ['passive', 'active'] as const) {
  test(`IPv6 (::1) explicit and implicit, ${mode}: certificate checked against the IPv6 address, data resumed`, { timeout: 20_000 }, async (t) => {
    const storage = new MemoryStorage();
    const h = await startServer({
      host: '::1', storage,
      options: { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, implicitPort: 0 } },
    });
    t.after(() => h.close());
    for (const secure of ['explicit', 'implicit'] as const) {
      const transcript: TranscriptEvent[] = [];
      const c = await client(t, h, { host: '::1', secure, data: { mode } }, transcript);
      const body = randomBytes(100_000);
      await c.upload(Readable.from([body]), `/v6-${secure}.bin`);
      assert.equal(sha256(await download(c, `/v6-${secure}.bin`)), sha256(body));
      const text = transcript.map((e) => `${e.kind}: ${e.text}`).join('\n');
      assert.match(text, mode === 'passive' ? /command: EPSV/ : /command: EPRT \|2\|/);
      assert.ok(transcript.filter((e) => /resumed the control connection's session/.test(e.text)).length >= 2);
      await c.close();
    }
  });
}
