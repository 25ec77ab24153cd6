/**
 * The admin listener over HTTPS (the same PEM certificate and key as FTPS) beside an FTPS server: TLS
 * handshakes counted by result in /metrics (AUTH TLS that works, AUTH TLS followed by garbage, implicit
 * FTPS), the TLS column of the status document, and `ftpkit who` over HTTPS (-k for a certificate it cannot
 * verify; refused without it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:https';
import { connect } from 'node:net';
import parsePrometheus from 'parse-prometheus-text-format';
import { AdminServer } from '../../src/server/index.js';
import type { StatusDocument } from '../../src/server/index.js';
import { startServer } from '../support/server-harness.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';
import { FtpsRawControl } from '../support/tls-raw-control.js';
import { describeCli, runFtpkit } from '../support/ftpkit-cli.js';
import { until } from '../support/until.js';

const TOKEN = 'admin-tls-token-0123456789';
let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

function getText(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { Authorization: `Bearer ${TOKEN}` } }, res => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function handshakes(text: string, result: string): number {
  const f = parsePrometheus(text).find(x => x.name === 'ftpkit_tls_handshakes_total');
  return Number(f?.metrics.find(m => m.labels?.result === result)?.value ?? NaN);
}

test('HTTPS admin listener: TLS handshakes by result in /metrics, the TLS column, ftpkit who over HTTPS', async t => {
  const h = await startServer({
    options: { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, handshakeTimeoutMs: 2000, implicitPort: 0 } },
  });
  t.after(() => h.close());
  const admin = new AdminServer(h.server, { host: '127.0.0.1', port: 0, token: TOKEN, tls: { cert: pki.server.cert, key: pki.server.key } });
  const { port } = await admin.listen();
  t.after(() => admin.close());
  assert.equal(admin.url(), `https://127.0.0.1:${port}/`);
  const base = `https://localhost:${port}`;

  // AUTH TLS that works, with a login after it.
  const good = await FtpsRawControl.connect('127.0.0.1', h.port, { ca: pki.ca.cert });
  t.after(() => good.close());
  await good.authTls();
  await good.login();
  // Implicit FTPS.
  const implicit = await FtpsRawControl.connect('127.0.0.1', h.server.implicitAddress()!.port, { ca: pki.ca.cert }, true);
  t.after(() => implicit.close());
  // AUTH TLS followed by something that is not TLS.
  const bad = connect({ host: '127.0.0.1', port: h.port });
  bad.setEncoding('utf8');
  let said = '';
  bad.on('data', (d: string) => { said += d; });
  bad.on('error', () => {});
  const badClosed = once(bad, 'close');
  await once(bad, 'connect');
  bad.write('AUTH TLS\r\n');
  await until('234 to AUTH TLS', () => (/^234 /m.test(said) ? true : undefined));
  bad.write('this is not a TLS client hello\r\n\r\n');
  await badClosed;

  // Counted when the events come: polled, bounded (the failed handshake ends a moment after the socket closes).
  let text = '';
  await until('both handshake results', async () => {
    const res = await getText(`${base}/metrics`, pki.ca.cert);
    assert.equal(res.status, 200);
    text = res.body;
    return handshakes(text, 'failed') >= 1 && handshakes(text, 'ok') >= 2 ? true : undefined;
  }).catch(() => undefined);
  assert.equal(handshakes(text, 'ok'), 2, text);
  assert.equal(handshakes(text, 'failed'), 1, text);

  const status = JSON.parse((await getText(`${base}/api/status`, pki.ca.cert)).body) as StatusDocument;
  const tlsColumn = status.sessions.map(s => `${s.user ?? '-'} ${s.tls.control} ${s.tls.implicit}`).sort();
  assert.deepEqual(tlsColumn, ['- protected true', 'test protected false']);

  // ftpkit who over HTTPS: the test CA is not trusted by the child, so it needs -k.
  const refused = await runFtpkit(['who', '--admin', `${base}/`], { env: { FTPKIT_ADMIN_TOKEN: TOKEN } });
  assert.equal(refused.code, 5, describeCli(refused));
  const who = await runFtpkit(['who', '--admin', `${base}/`, '-k'], { env: { FTPKIT_ADMIN_TOKEN: TOKEN } });
  assert.equal(who.code, 0, describeCli(who));
  assert.match(who.stdout, /^\S+ +test +127\.0\.0\.1:\d+ .* yes\/C /m);
});
