/**
 * Handshake behaviour of the net-level FTPS server seen by a real third-party TLS client, OpenSSL's
 * `s_client`: explicit upgrade with `-starttls ftp` (220 / AUTH TLS / 234), TLS 1.2 and 1.3 forced,
 * session reuse honoured when s_client offers the control session (`-sess_out` / `-sess_in`) and refused
 * when it does not. Skipped when the openssl binary is missing (fails instead under FTPKIT_REQUIRE_PEERS=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { CertificateStore } from '../../src/server/tls/certificates.js';
import { ServerTls, SESSION_LIFETIME_S } from '../../src/server/tls/server-tls.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';
import { startTlsNetServer, type TlsNetHarness } from '../support/tls-net.js';
import { peerSkip } from '../support/peers.js';

let pki: TestPki;
let dir: string;
test.before(async () => {
  pki = await makeTestPki();
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ftpkit-sclient-'));
});
test.after(async () => {
  await pki?.cleanup();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

interface SClient { stdout: string; code: number | null }

/**
 * Run s_client. `untilStdout`: when stdout matches, close stdin (s_client then quits); otherwise stdin is
 * closed at once with -ign_eof so s_client runs until the server closes.
 */
function sClient(t: { after(fn: () => void): void }, args: string[], untilStdout?: RegExp): Promise<SClient> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', ...args, ...(untilStdout ? [] : ['-ign_eof'])], { stdio: ['pipe', 'pipe', 'pipe'] });
    t.after(() => { if (child.exitCode === null) child.kill(); });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
      if (untilStdout && untilStdout.test(stdout)) child.stdin.end();
    });
    child.stderr.resume();
    if (!untilStdout) child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, code }));
  });
}

async function harness(t: { after(fn: () => Promise<void>): void }): Promise<TlsNetHarness> {
  const store = await CertificateStore.open({ certFile: pki.server.certFile, keyFile: pki.server.keyFile });
  const h = await startTlsNetServer(new ServerTls(store, { handshakeTimeoutMs: 5000 }), { mode: 'explicit' });
  t.after(() => h.close());
  return h;
}

for (const [version, flag] of [['TLSv1.2', '-tls1_2'], ['TLSv1.3', '-tls1_3']] as const) {
  test(`openssl s_client -starttls ftp ${flag}: control upgrade, data resumes with -sess_in, refused without`, { ...peerSkip('openssl'), timeout: 30_000 }, async (t) => {
    const h = await harness(t);
    const sess = path.join(dir, `session-${version}.pem`);
    const common = ['-CAfile', pki.ca.certFile, '-servername', 'localhost', '-verify_return_error', flag];
    const ctl = await sClient(t, ['-connect', `127.0.0.1:${h.port}`, '-starttls', 'ftp', '-sess_out', sess, ...common], /PORT \d+/);
    assert.match(ctl.stdout, new RegExp(`New, ${version.replace('.', '\\.')}`));
    assert.match(ctl.stdout, /Verify return code: 0 \(ok\)/);
    const dataPort = Number(/PORT (\d+)/.exec(ctl.stdout)![1]);
    assert.equal((await h.controlOutcomes.next()).ok, true);
    assert.ok((await fsp.stat(sess)).size > 0, 's_client saved the control session');
    // The server keeps the session resumable for long FTP sessions (OpenSSL's default would be 2 h).
    assert.match(ctl.stdout, new RegExp(`TLS session ticket lifetime hint: ${SESSION_LIFETIME_S} \\(seconds\\)`));

    const resumed = await sClient(t, ['-connect', `127.0.0.1:${dataPort}`, '-sess_in', sess, ...common]);
    assert.match(resumed.stdout, new RegExp(`Reused, ${version.replace('.', '\\.')}`));
    assert.match(resumed.stdout, /hello over protected data/);
    assert.deepEqual(await h.controls[0].dataOutcomes.next(), { ok: true, reused: true, protocol: version });

    const fresh = await sClient(t, ['-connect', `127.0.0.1:${dataPort}`, ...common]);
    assert.doesNotMatch(fresh.stdout, /hello over protected data/);
    const refused = await h.controls[0].dataOutcomes.next();
    assert.equal(!refused.ok && refused.error.reason, 'session-not-reused');
  });
}

test('openssl s_client offering only TLS 1.1 is refused (minimum TLS 1.2)', { ...peerSkip('openssl'), timeout: 30_000 }, async (t) => {
  const h = await harness(t);
  // OpenSSL 3 itself refuses TLS 1.1 at its default security level; -cipher @SECLEVEL=0 lets it try.
  const r = await sClient(t, ['-connect', `127.0.0.1:${h.port}`, '-starttls', 'ftp', '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], /PORT \d+/);
  assert.doesNotMatch(r.stdout, /PORT \d+/);
  const outcome = await h.controlOutcomes.next();
  assert.equal(!outcome.ok && outcome.error.reason, 'handshake');
  assert.match(!outcome.ok ? outcome.error.message : '', /version/i);
});
