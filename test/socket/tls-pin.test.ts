/**
 * Certificate pinning (tls.pin, --pin; src/net/tls-pin.ts): a self-signed server used by IP address, trusted
 * by the SHA-256 fingerprint of its certificate, on the control connection and on every data connection;
 * a wrong pin is a TLS error naming both fingerprints (CLI exit 6); pins in --settings JSON; bad pins are
 * usage/config errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as tls from 'node:tls';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { FtpClient } from '../../src/client/ftp-client.js';
import type { TranscriptEvent } from '../../src/client/events.js';
import { FtpConfigError, FtpTlsError } from '../../src/errors.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { ServerTls } from '../../src/server/tls/server-tls.js';
import { CertificateStore } from '../../src/server/tls/certificates.js';
import { ClientTls } from '../../src/net/tls-client.js';
import { normalizePin } from '../../src/net/tls-pin.js';
import { startServer, type Harness } from '../support/server-harness.js';
import { startTlsNetServer, readLine, connectTcp } from '../support/tls-net.js';
import { runFtpkit, describeCli } from '../support/ftpkit-cli.js';
import { makeTestPki, type TestPki, type PemPair } from '../support/tls-certs.js';
import { tempDir } from '../support/temp-dir.js';

type T = { after: (fn: () => unknown) => void };

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

const pinOf = (pair: PemPair): string => `sha256:${new X509Certificate(pair.cert).fingerprint256}`;

async function selfSignedServer(t: T): Promise<{ h: Harness; root: string }> {
  const root = await tempDir(t, 'ftpkit-pin-srv-');
  const h = await startServer({
    storage: new LocalStorage(root), users: { test: { password: 'pw' } },
    options: { tls: { certFile: pki.selfSigned.certFile, keyFile: pki.selfSigned.keyFile, implicitPort: 0, require: 'data', handshakeTimeoutMs: 3000 } },
  });
  t.after(() => h.close());
  return { h, root };
}

test('pins are case- and colon-insensitive on input, canonical on output; nonsense is refused', () => {
  const hex = 'ab'.repeat(32);
  const canonical = `sha256:${'AB:'.repeat(31)}AB`;
  for (const text of [hex, `SHA256:${hex}`, `sha256:${hex.toUpperCase().match(/../g)!.join(':')}`, ` ${canonical} `]) {
    assert.equal(normalizePin(text), canonical, text);
  }
  for (const bad of ['', 'sha256:', 'sha1:AB:CD', 'ab'.repeat(31), `sha256:${'zz'.repeat(32)}`]) assert.equal(normalizePin(bad), undefined, bad);
});

test('a self-signed server by IP with the right pin: explicit and implicit FTPS, passive and active, transfers work', { timeout: 60_000 }, async (t) => {
  const { h } = await selfSignedServer(t);
  const payload = randomBytes(200_000);
  for (const secure of ['explicit', 'implicit'] as const) {
    for (const mode of ['passive', 'active'] as const) {
      const transcript: TranscriptEvent[] = [];
      // The pin as a user pastes it from another tool: lower case, no colons.
      const pin = `SHA256:${pinOf(pki.selfSigned).slice('sha256:'.length).replace(/:/g, '').toLowerCase()}`;
      const c = new FtpClient({
        host: '127.0.0.1', port: secure === 'implicit' ? h.server.implicitAddress()!.port : h.port, user: 'test', password: 'pw',
        secure, tls: { pin }, data: { mode }, timeouts: { connectMs: 3000, greetingMs: 3000, commandMs: 5000, dataMs: 5000 },
      });
      t.after(() => c.destroy());
      c.on('transcript', e => transcript.push(e));
      await c.connect();
      const name = `up-${secure}-${mode}.bin`;
      await c.upload(Readable.from([payload]), name);
      const chunks: Buffer[] = [];
      await c.download(name, new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(chunk); cb(); } }));
      assert.ok(Buffer.concat(chunks).equals(payload), `${secure} ${mode}`);
      assert.ok(transcript.some(e => /matches the pinned fingerprint/.test(e.text)), transcript.map(e => e.text).join('\n'));
      await c.close();
    }
  }
});

test('a wrong pin: FtpTlsError naming both fingerprints, before the login', async (t) => {
  const { h } = await selfSignedServer(t);
  const c = new FtpClient({
    host: '127.0.0.1', port: h.port, user: 'test', password: 'pw', secure: 'explicit', tls: { pin: pinOf(pki.server) },
    timeouts: { connectMs: 3000, greetingMs: 3000, commandMs: 5000 },
  });
  t.after(() => c.destroy());
  const sent: string[] = [];
  c.on('transcript', e => { if (e.kind === 'command') sent.push(e.text); });
  await assert.rejects(c.connect(), (err: unknown) => {
    assert.ok(err instanceof FtpTlsError, String(err));
    assert.equal(err.reason, 'certificate');
    assert.equal(err.connection, 'control');
    assert.ok(err.message.includes(pinOf(pki.selfSigned)), err.message);
    assert.ok(err.message.includes(pinOf(pki.server)), err.message);
    return true;
  });
  assert.ok(!sent.some(l => /^(USER|PASS)/.test(l)), sent.join('\n'));
});

test('a malformed pin is a config error naming tls.pin', async () => {
  await assert.rejects(ClientTls.create({ host: '127.0.0.1', settings: { pin: 'sha256:nope' } }),
    (err: unknown) => err instanceof FtpConfigError && err.key === 'tls.pin');
});

test('a data connection must present a pinned certificate too: another one fails, pinning both works', async (t) => {
  // Control: a harness presenting the CA-signed server certificate. Data: a TLS listener with the
  // self-signed one, which cannot resume the control session and so presents its own certificate.
  const store = await CertificateStore.open({ certFile: pki.server.certFile, keyFile: pki.server.keyFile });
  const h = await startTlsNetServer(new ServerTls(store));
  t.after(() => h.close());
  const other = tls.createServer({ cert: pki.selfSigned.cert, key: pki.selfSigned.key }, s => s.end('data\n'));
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  t.after(() => new Promise(r => other.close(r)));
  const otherPort = (other.address() as net.AddressInfo).port;

  const run = async (pins: string[]) => {
    const client = await ClientTls.create({ host: '127.0.0.1', settings: { pin: pins } });
    const control = await client.upgradeControl(await connectTcp(h.port));
    t.after(() => control.destroy());
    await readLine(control);
    const raw = net.connect(otherPort, '127.0.0.1');
    await once(raw, 'connect');
    return client.secureData(raw);
  };
  await assert.rejects(run([pinOf(pki.server)]), (err: unknown) => {
    assert.ok(err instanceof FtpTlsError && err.connection === 'data' && err.reason === 'certificate', String(err));
    assert.ok(err.message.includes(pinOf(pki.selfSigned)) && err.message.includes(pinOf(pki.server)), err.message);
    return true;
  });
  const { socket } = await run([pinOf(pki.server), pinOf(pki.selfSigned)]);
  socket.destroy();
});

test('CLI: --pin on get/put (explicit and ftps://), in --settings JSON; a wrong pin exits 6 naming both', { timeout: 90_000 }, async (t) => {
  const { h, root } = await selfSignedServer(t);
  const work = await tempDir(t, 'ftpkit-pin-work-');
  const data = randomBytes(100_000);
  await writeFile(path.join(work, 'up.bin'), data);
  const explicit = `ftp://test:pw@127.0.0.1:${h.port}`;
  const implicit = `ftps://test:pw@127.0.0.1:${h.server.implicitAddress()!.port}`;
  const put = await runFtpkit(['put', '--tls', '--pin', pinOf(pki.selfSigned), path.join(work, 'up.bin'), `${explicit}/up.bin`]);
  assert.equal(put.code, 0, describeCli(put));
  assert.deepEqual(await readFile(path.join(root, 'up.bin')), data);
  // Repeatable: a second (stale) pin beside the right one.
  const get = await runFtpkit(['get', '--pin', pinOf(pki.server), '--pin', pinOf(pki.selfSigned), `${implicit}/up.bin`, path.join(work, 'down.bin')]);
  assert.equal(get.code, 0, describeCli(get));
  assert.deepEqual(await readFile(path.join(work, 'down.bin')), data);

  const settings = path.join(work, 'settings.json');
  await writeFile(settings, JSON.stringify({ secure: 'explicit', tls: { pin: [pinOf(pki.selfSigned).toLowerCase()] } }));
  const ls = await runFtpkit(['ls', '--settings', settings, `${explicit}/`]);
  assert.equal(ls.code, 0, describeCli(ls));
  assert.match(ls.stdout, /up\.bin/);

  const wrong = await runFtpkit(['ls', '--tls', '--pin', pinOf(pki.server), `${explicit}/`]);
  assert.equal(wrong.code, 6, describeCli(wrong));
  assert.ok(wrong.stderr.includes(pinOf(pki.server)) && wrong.stderr.includes(pinOf(pki.selfSigned)), describeCli(wrong));

  const badFlag = await runFtpkit(['ls', '--tls', '--pin', 'sha256:12:34', `${explicit}/`]);
  assert.equal(badFlag.code, 2, describeCli(badFlag));
  await writeFile(settings, JSON.stringify({ secure: 'explicit', tls: { pin: 'md5:00' } }));
  const badSettings = await runFtpkit(['ls', '--settings', settings, `${explicit}/`]);
  assert.equal(badSettings.code, 2, describeCli(badSettings));
  assert.match(badSettings.stderr, /tls\.pin/);
});
