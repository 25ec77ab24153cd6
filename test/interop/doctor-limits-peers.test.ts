/**
 * The doctor against vsftpd limited to 2 sessions per address (`max_per_ip=2`): vsftpd answers the third
 * connection with "421 There are too many connected users, please try later" (or "...from your internet
 * address"), and still counts a session for a moment after the client closed it. The pool
 * (src/doctor/session-pool.ts) must read that as a limit to respect and report, never as a cell's result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose, renderReport } from '../../src/doctor/index.js';
import { peerSkip } from '../support/peers.js';
import { startVsftpd } from '../support/peers-servers.js';

test('vsftpd max_per_ip=2: the right result, no cell failed with 421, the limit reported', peerSkip('vsftpd'), async t => {
  const s = await startVsftpd({ tls: 'explicit', extra: ['max_per_ip=2'] });
  t.after(() => s.stop());
  const f = await diagnose(`${s.url}/`, { connectTimeoutMs: 3000, budgetMs: 20_000, tls: { caFile: s.certFile! }, writeCheck: false });
  const summary = `${f.matrix.map(r => `${r.spec.id}=${r.outcome.kind}${r.outcome.replyCode ?? ''}`).join(' ')}\n${JSON.stringify(f.sessions)}\n${await s.logs().catch(() => '')}`.slice(0, 6000);
  assert.deepEqual(f.causes.map(c => c.code), [], summary);
  assert.ok(!f.matrix.some(r => r.outcome.replyCode === 421), summary);
  for (const id of ['epsv', 'pasv-reply', 'eprt-local', 'epsv+tls', 'pasv-control+tls', 'epsv+tls12']) assert.ok(f.works.includes(id), `${id}: ${summary}`);
  assert.equal(f.recommended?.probeId, 'epsv+tls', summary);
  assert.equal(f.sessions?.limit, 2, summary);
  assert.ok(f.sessions!.peak <= 2, summary);
  assert.match(renderReport(f), /the server allows 2 sessions from your address/);
});
