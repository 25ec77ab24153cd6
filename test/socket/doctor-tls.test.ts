/**
 * The doctor against our own FTPS server on loopback: TLS cells (1.3 and 1.2) verified with a CA, TLS
 * required before login, implicit TLS on its own port, and an untrusted certificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../src/doctor/index.js';
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
});

test('an untrusted certificate is named; cleartext is recommended meanwhile', async t => {
  const h = await tlsServer();
  t.after(() => h.close());
  const f = await diagnose(h.url, { connectTimeoutMs: 3000 });
  assert.deepEqual(f.causes.map(c => c.code), ['tls-certificate']);
  assert.equal(f.recommended?.settings.secure, 'none');
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
  assert.equal(f2.matrix.find(r => r.spec.id === 'epsv+ccc')?.outcome.replyCode, 534);
  assert.deepEqual(f2.causes, []);
});
