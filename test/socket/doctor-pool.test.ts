/**
 * The doctor's matrix over a small pool of logged-in sessions (src/doctor/session-pool.ts), against our own
 * server on loopback: a per-address session limit is a server limit to report and respect (never a cell
 * failure), and a server whose logins are expensive (scrypt at the default cost) sees a handful of logins,
 * not one per cell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose, renderReport } from '../../src/doctor/index.js';
import { ConfigUserStore, MemoryStorage, hashPassword } from '../../src/server/index.js';
import { startServer } from '../support/server-harness.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(() => pki.cleanup());

const BASE = ['epsv', 'pasv-reply', 'pasv-control', 'eprt-local', 'port-local'];

test('a server allowing 2 sessions per address: every cell runs, none fails with 421, the limit is reported', async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/hello.txt', 'hello\n');
  const h = await startServer({ storage, options: {
    limits: { maxSessionsPerAddress: 2 },
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, handshakeTimeoutMs: 3000 } as never,
  } });
  t.after(() => h.close());
  const f = await diagnose(h.url, { connectTimeoutMs: 2000, budgetMs: 20_000, tls: { caFile: pki.ca.certFile } });
  const summary = f.matrix.map(r => `${r.spec.id}=${r.outcome.kind}${r.outcome.replyCode ?? ''}`).join(' ');
  assert.deepEqual(f.causes.map(c => c.code), [], summary);
  for (const id of [...BASE, ...BASE.map(b => `${b}+tls`)]) assert.ok(f.works.includes(id), `${id}: ${summary}`);
  assert.ok(!f.matrix.some(r => r.outcome.replyCode === 421), summary);
  assert.equal(f.recommended?.probeId, 'epsv+tls');
  assert.equal(f.sessions?.limit, 2, JSON.stringify(f.sessions));
  assert.ok(f.sessions!.peak <= 2, JSON.stringify(f.sessions));
  assert.ok(f.notes?.some(n => n.code === 'session-limit' && /allows 2 sessions from your address/.test(n.title)), JSON.stringify(f.notes));
  assert.match(renderReport(f), /Notes\n {2}\* the server allows 2 sessions from your address/);
  assert.doesNotMatch(renderReport(f), /FAIL/);
});

test('expensive logins (scrypt, default cost): a handful of logins for the whole matrix, counted in the finding', async t => {
  const storage = new MemoryStorage();
  const users = new ConfigUserStore([{ name: 'alice', passwordHash: await hashPassword('wonderland'), storage }]);
  const h = await startServer({ storage, options: {
    authenticator: users,
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, handshakeTimeoutMs: 3000, allowCcc: true } as never,
  } });
  t.after(() => h.close());
  let logins = 0;
  h.server.on('login', () => { logins++; });
  const f = await diagnose(`ftp://alice:wonderland@127.0.0.1:${h.port}/`, { connectTimeoutMs: 3000, budgetMs: 20_000, tls: { caFile: pki.ca.certFile } });
  const summary = f.matrix.map(r => `${r.spec.id}=${r.outcome.kind}${r.outcome.replyCode ?? ''}`).join(' ');
  assert.deepEqual(f.causes.map(c => c.code), [], summary);
  // 5 cleartext + 5 TLS + 3 TLS 1.2 + 2 CCC cells: one login each was 15, plus the first steps' logins.
  assert.equal(f.matrix.length, 15, summary);
  assert.ok(f.matrix.every(r => r.outcome.kind === 'ok'), summary);
  assert.equal(f.sessions?.logins, logins, `the finding counts the logins the server saw (${logins})`);
  assert.ok(logins <= 8, `${logins} logins`);
  assert.ok(f.sessions!.peak <= 6, JSON.stringify(f.sessions));
  // Every cell's start and end (the HTML timeline).
  assert.ok(f.matrix.every(r => r.at && r.at.endMs >= r.at.startMs), 'cell timings');
});
