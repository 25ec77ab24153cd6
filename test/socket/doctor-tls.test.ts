/**
 * The doctor against our own FTPS server on loopback: TLS cells (1.3 and 1.2) verified with a CA, TLS
 * required before login, implicit TLS on its own port, and an untrusted certificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { diagnose, renderReport } from '../../src/doctor/index.js';
import { startServer } from '../support/server-harness.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(() => pki.cleanup());

const tlsServer = (extra: Record<string, unknown> = {}) => startServer({
  options: { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, handshakeTimeoutMs: 3000, ...extra } as never },
});

test('explicit FTPS with a trusted CA: TLS cells work, TLS EPSV recommended with the CA carried over', async t => {
  const h = await tlsServer();
  t.after(() => h.close());
  const f = await diagnose(h.url, { connectTimeoutMs: 3000, tls: { caFile: pki.ca.certFile } });
  assert.deepEqual(f.causes, []);
  for (const id of ['epsv+tls', 'pasv-reply+tls', 'eprt-local+tls', 'epsv+tls12', 'eprt-local+tls12', 'epsv']) assert.ok(f.works.includes(id), `${id}: ${f.works}`);
  assert.equal(f.recommended?.probeId, 'epsv+tls');
  assert.deepEqual(f.recommended?.settings.tls, { caFile: pki.ca.certFile, protectData: true });
});

test('TLS required before login: named, cleartext cells not run', async t => {
  const h = await tlsServer({ require: 'login' });
  t.after(() => h.close());
  const f = await diagnose(h.url, { connectTimeoutMs: 3000, tls: { caFile: pki.ca.certFile } });
  assert.deepEqual(f.causes.map(c => c.code), ['tls-required']);
  assert.ok(f.matrix.every(r => r.spec.tls));
  assert.equal(f.recommended?.settings.secure, 'explicit');
});

test('implicit TLS port given as ftps://: implicit settings recommended', async t => {
  const h = await tlsServer({ implicitPort: 0 });
  t.after(() => h.close());
  const port = h.server.implicitAddress()!.port;
  const f = await diagnose(`ftps://test:test@127.0.0.1:${port}/`, { connectTimeoutMs: 3000, tls: { caFile: pki.ca.certFile } });
  assert.deepEqual(f.causes, []);
  assert.equal(f.recommended?.settings.secure, 'implicit');
  assert.ok(f.elapsedMs < 5000, `took ${f.elapsedMs} ms`);
  // The suggested command uses an ftps:// URL: the client refuses implicit settings with ftp://.
  assert.match(renderReport(f), new RegExp(`get --settings f\\.json ftps://127\\.0\\.0\\.1:${port}/`));
});

test('an untrusted certificate is a finding: the chain is recorded, TLS cells run pinned (unverified), the pin is recommended', async t => {
  const h = await tlsServer();
  t.after(() => h.close());
  const f = await diagnose(h.url, { connectTimeoutMs: 3000 });
  assert.deepEqual(f.causes.map(c => c.code), ['tls-certificate']);
  const leaf = new X509Certificate(pki.server.cert);
  const ca = new X509Certificate(pki.ca.cert);
  assert.equal(f.certificate?.pinned, true);
  assert.equal(f.certificate?.chain[0]?.fingerprint, `sha256:${leaf.fingerprint256}`);
  assert.equal(f.certificate?.chain[0]?.selfSigned, false);
  assert.match(f.certificate?.chain[0]?.issuer ?? '', new RegExp(ca.subject.split('\n')[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.ok(f.certificate?.chain[0]?.validTo.startsWith(new Date(leaf.validTo).toISOString().slice(0, 10)));
  const certStep = f.steps.find(s => s.id === 'certificate');
  assert.match(certStep?.summary ?? '', /not trusted \(it is issued by a CA that is not trusted here\)/);
  assert.equal(f.steps.find(s => s.id === 'auth-tls')?.outcome.kind, 'ok');
  assert.equal(f.steps.find(s => s.id === 'features')?.outcome.kind, 'ok');
  const tlsCells = f.matrix.filter(r => r.spec.tls);
  assert.ok(tlsCells.length > 0 && tlsCells.every(r => r.unverified === true), 'every TLS cell is marked unverified');
  assert.ok(f.matrix.filter(r => !r.spec.tls).every(r => r.unverified === undefined));
  // Pinned TLS before cleartext; never --insecure.
  assert.equal(f.recommended?.probeId, 'epsv+tls');
  assert.deepEqual(f.recommended?.settings.tls, { pin: [`sha256:${leaf.fingerprint256}`], protectData: true });
  assert.ok(!JSON.stringify(f.recommended).includes('rejectUnauthorized'));
  const cause = f.causes[0]!;
  assert.ok(cause.userFix?.includes(`--pin sha256:${leaf.fingerprint256}`), cause.userFix);
  assert.ok(!/insecure/.test(`${cause.userFix} ${cause.detail}`), cause.userFix);
  assert.match(renderReport(f), /EPSV, TLS \(unverified\)/);
  // curl pins the public key: the SHA-256 of the leaf's SubjectPublicKeyInfo.
  const spki = createHash('sha256').update(leaf.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  assert.equal(f.certificate?.chain[0]?.spkiSha256, spki);
  assert.match(f.recommended?.equivalents.curl ?? '', new RegExp(`--insecure --pinnedpubkey sha256//${spki.replace(/[+/]/g, '\\$&')} `));
});

test('TLS only (--tls) with a wrong password: login-failed, no cleartext login sent', async t => {
  const h = await tlsServer();
  t.after(() => h.close());
  const f = await diagnose({ host: '127.0.0.1', port: h.port, user: 'test', password: 'wrong', secure: 'explicit' },
    { connectTimeoutMs: 3000, tls: { caFile: pki.ca.certFile } });
  assert.deepEqual(f.causes.map(c => c.code), ['login-failed']);
  assert.ok(!f.steps.some(s => s.id === 'login'), 'no cleartext login step');
});

test('"TLS then CCC" cells: they work where the server allows CCC, and vanish where it refuses', async t => {
  const h = await tlsServer({ allowCcc: true });
  t.after(() => h.close());
  const f = await diagnose(h.url, { connectTimeoutMs: 3000, tls: { caFile: pki.ca.certFile }, writeCheck: false });
  assert.ok(f.works.includes('epsv+ccc') && f.works.includes('pasv-reply+ccc'), f.works.join(','));
  assert.deepEqual(f.causes, []);
  assert.equal(f.recommended?.probeId, 'epsv+tls');
  const h2 = await tlsServer();
  t.after(() => h2.close());
  const f2 = await diagnose(h2.url, { connectTimeoutMs: 3000, tls: { caFile: pki.ca.certFile }, writeCheck: false });
  // CCC is asked once; the cells are not planned (no "[FAIL] TLS then CCC" in the report).
  assert.ok(!f2.matrix.some(r => r.spec.ccc), f2.matrix.map(r => r.spec.id).join(','));
  assert.doesNotMatch(renderReport(f2), /CCC/);
  assert.deepEqual(f2.causes, []);
});
