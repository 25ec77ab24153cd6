/**
 * Certificates for the FTPS server (src/server/tls/certificates.ts): the self-signed certificate kept in a state
 * directory (generated once, reused, regenerated when expired), reload of PEM files without restart
 * (including a half-done rotation), protocol settings (minimum version) and config errors naming the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import type * as tls from 'node:tls';
import {
  CertificateStore, ensureSelfSignedCertificate, SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE, type KeyMaterial,
} from '../../src/server/tls/certificates.js';
import { ServerTls } from '../../src/server/tls/server-tls.js';
import { ClientTls } from '../../src/net/tls-client.js';
import { FtpTlsError } from '../../src/errors.js';
import { makeTestPki, pemFilesToRotate, type TestPki } from '../support/tls-certs.js';
import { startTlsNetServer, readLine, readAll, connectTcp, type TlsNetHarness } from '../support/tls-net.js';
import { tempDir } from '../support/temp-dir.js';

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

type T = { after(fn: () => unknown): void };

function fingerprint(s: tls.TLSSocket): string {
  return s.getPeerX509Certificate()!.fingerprint256;
}

async function control(t: T, h: TlsNetHarness, settings: ConstructorParameters<typeof Object>[0] = {}): Promise<{ client: ClientTls; socket: tls.TLSSocket; dataPort: number }> {
  const client = await ClientTls.create({ host: 'localhost', settings: { ca: pki.ca.cert, ...settings } });
  const socket = await client.upgradeControl(await connectTcp(h.port));
  t.after(() => { socket.destroy(); });
  const dataPort = Number((await readLine(socket)).split(' ')[1]);
  assert.equal((await h.controlOutcomes.next()).ok, true);
  return { client, socket, dataPort };
}

test('self-signed: generated into the state dir (key 0600), then reused; a client trusting it verifies it', async (t) => {
  const dir = path.join(await tempDir(t, 'ftpkit-tls-state-'), 'state');
  const first = await ensureSelfSignedCertificate(dir);
  assert.equal(first.generated, true);
  assert.equal(first.keyFile, path.join(dir, SELF_SIGNED_KEY_FILE));
  assert.equal((await fsp.stat(first.keyFile)).mode & 0o777, 0o600);
  const x = new X509Certificate(first.cert);
  assert.match(x.subjectAltName ?? '', /DNS:localhost/);
  assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.ok(new Date(x.validTo).getTime() > Date.now() + 365 * 24 * 3600 * 1000);
  const second = await ensureSelfSignedCertificate(dir);
  assert.equal(second.generated, false);
  assert.equal(second.cert, first.cert);

  const store = await CertificateStore.open({ stateDir: dir });
  assert.equal(store.current().fingerprint256, x.fingerprint256);
  const h = await startTlsNetServer(new ServerTls(store));
  t.after(() => h.close());
  const client = await ClientTls.create({ host: 'localhost', settings: { ca: first.cert } });
  const s = await client.upgradeControl(await connectTcp(h.port));
  t.after(() => { s.destroy(); });
  assert.equal(s.authorized, true);
  assert.equal(fingerprint(s), x.fingerprint256);
});

test('self-signed: an expired or mismatched pair in the state dir is replaced', async (t) => {
  const dir = await tempDir(t, 'ftpkit-tls-state-');
  await fsp.writeFile(path.join(dir, SELF_SIGNED_CERT_FILE), pki.expired.cert);
  await fsp.writeFile(path.join(dir, SELF_SIGNED_KEY_FILE), pki.expired.key);
  const renewed = await ensureSelfSignedCertificate(dir);
  assert.equal(renewed.generated, true);
  assert.notEqual(renewed.cert, pki.expired.cert);
  // Mismatched: a certificate with somebody else's key.
  await fsp.writeFile(path.join(dir, SELF_SIGNED_KEY_FILE), pki.server.key);
  assert.equal((await ensureSelfSignedCertificate(dir)).generated, true);
});

test('reload: replaced PEM files serve the next control connection; established ones keep resuming', { timeout: 15_000 }, async (t) => {
  const { certFile, keyFile } = await pemFilesToRotate(t, pki.server, 'ftpkit-tls-state-');
  const store = await CertificateStore.open({ certFile, keyFile });
  const reloads: KeyMaterial[] = [];
  store.on('reload', (m) => reloads.push(m));
  const h = await startTlsNetServer(new ServerTls(store));
  t.after(() => h.close());

  const a = await control(t, h);
  const fp1 = new X509Certificate(pki.server.cert).fingerprint256;
  const fp2 = new X509Certificate(pki.server2.cert).fingerprint256;
  assert.equal(fingerprint(a.socket), fp1);

  // Rotate like certbot does: write new files, then rename over the old ones.
  await fsp.writeFile(`${certFile}.new`, pki.server2.cert);
  await fsp.writeFile(`${keyFile}.new`, pki.server2.key);
  await fsp.rename(`${keyFile}.new`, keyFile);
  await fsp.rename(`${certFile}.new`, certFile);

  const b = await control(t, h);
  assert.equal(fingerprint(b.socket), fp2, 'the new connection got the new certificate');
  assert.equal(reloads.length, 1);
  assert.equal(reloads[0].generation, 2);

  // The old control connection's data connections still resume its session (same keys as before).
  const d = await a.client.secureData(await connectTcp(a.dataPort));
  assert.equal(d.resumed, true);
  await readAll(d.socket);
  assert.equal((await h.controls[0].dataOutcomes.next()).ok, true);
});

test('reload: a half-done rotation (key does not match) keeps the old certificate and reports an error', { timeout: 15_000 }, async (t) => {
  const { certFile, keyFile } = await pemFilesToRotate(t, pki.server, 'ftpkit-tls-state-');
  const store = await CertificateStore.open({ certFile, keyFile });
  const errors: Error[] = [];
  store.on('error', (e) => errors.push(e));
  const h = await startTlsNetServer(new ServerTls(store));
  t.after(() => h.close());

  await fsp.writeFile(certFile, pki.server2.cert); // the key is not replaced yet
  const a = await control(t, h);
  assert.equal(fingerprint(a.socket), new X509Certificate(pki.server.cert).fingerprint256);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /mismatch/i);

  await fsp.writeFile(keyFile, pki.server2.key); // rotation completed
  const b = await control(t, h);
  assert.equal(fingerprint(b.socket), new X509Certificate(pki.server2.cert).fingerprint256);
});

test('certificate and key in one file (pure-ftpd style) load', async () => {
  const store = await CertificateStore.open({ certFile: pki.server.bundleFile, keyFile: pki.server.bundleFile });
  assert.equal(store.current().fingerprint256, new X509Certificate(pki.server.cert).fingerprint256);
  const onlyBundle = await CertificateStore.open({ certFile: pki.server.bundleFile });
  assert.equal(onlyBundle.current().source, pki.server.bundleFile);
});

test('minimum version: a TLS 1.3-only server refuses a TLS 1.2-only client, on both sides', { timeout: 10_000 }, async (t) => {
  const store = await CertificateStore.open({ certFile: pki.server.certFile, keyFile: pki.server.keyFile, minVersion: 'TLSv1.3' });
  const h = await startTlsNetServer(new ServerTls(store));
  t.after(() => h.close());
  const client = await ClientTls.create({ host: 'localhost', settings: { ca: pki.ca.cert, maxVersion: 'TLSv1.2' } });
  await assert.rejects(client.upgradeControl(await connectTcp(h.port)), (e: FtpTlsError) => e.reason === 'handshake' && /version/i.test(e.message));
  const outcome = await h.controlOutcomes.next();
  assert.equal(!outcome.ok && outcome.error.reason, 'handshake');
});

test('default minimum version is TLS 1.2', async () => {
  const store = await CertificateStore.open({ cert: pki.server.cert, key: pki.server.key });
  assert.equal(store.protocol.minVersion, 'TLSv1.2');
});

test('config errors name the key', async (t) => {
  await assert.rejects(CertificateStore.open({ certFile: '/nonexistent/cert.pem', keyFile: pki.server.keyFile }), { code: 'ERR_FTP_CONFIG', key: 'tls.certFile' });
  await assert.rejects(CertificateStore.open({ certFile: pki.server.certFile, keyFile: pki.server2.keyFile }), { code: 'ERR_FTP_CONFIG', key: 'tls.certFile' });
  await assert.rejects(CertificateStore.open({ cert: pki.server.cert }), { code: 'ERR_FTP_CONFIG', key: 'tls.key' });
  await assert.rejects(CertificateStore.open({ stateDir: await tempDir(t, 'ftpkit-tls-state-'), minVersion: 'TLSv1' as never }), { code: 'ERR_FTP_CONFIG', key: 'tls.minVersion' });
  await assert.rejects(CertificateStore.open({ stateDir: await tempDir(t, 'ftpkit-tls-state-'), minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }), { code: 'ERR_FTP_CONFIG', key: 'tls.maxVersion' });
  await assert.rejects(CertificateStore.open({ stateDir: await tempDir(t, 'ftpkit-tls-state-'), ciphers: 'NO-SUCH-CIPHER' }), { code: 'ERR_FTP_CONFIG', key: 'tls.ciphers' });
  await assert.rejects(CertificateStore.open({}), { code: 'ERR_FTP_CONFIG', key: 'tls' });
});
