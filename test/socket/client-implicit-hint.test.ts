/**
 * Plain FTP (or explicit TLS) to an implicit-FTPS port: the server sends nothing and waits for a TLS
 * ClientHello. The client names the likely cause ("use ftps://") instead of a bare greeting timeout, and on
 * port 990 it says so after a short wait (src/client/greeting.ts), not after the 10 s greeting timeout.
 * The server is ours, with its implicit-TLS listener; port 990 is reached through the connector seam.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpClient } from '../../src/client/ftp-client.js';
import { FtpNetworkError } from '../../src/errors.js';
import { connectTcp } from '../../src/net/connect.js';
import { startServer } from '../support/server-harness.js';
import { runFtpkit, describeCli } from '../support/ftpkit-cli.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

const implicitServer = () => startServer({ options: { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, implicitPort: 0, handshakeTimeoutMs: 20_000 } } });

test('ftp:// to an implicit-TLS port 990: a short wait, then "this looks like an implicit-TLS port: use ftps://"', { timeout: 30_000 }, async t => {
  const h = await implicitServer();
  t.after(() => h.close());
  const realPort = h.server.implicitAddress()!.port;
  for (const secure of ['none', 'explicit'] as const) {
    const c = new FtpClient({
      host: '127.0.0.1', port: 990, secure, timeouts: { connectMs: 3000, greetingMs: 10_000 },
      // Port 990 as the user typed it; the socket goes to the test server's implicit listener.
      connector: target => connectTcp({ ...target, port: realPort }),
    });
    t.after(() => c.destroy());
    const started = performance.now();
    await assert.rejects(c.connect(), (err: unknown) => {
      assert.ok(err instanceof FtpNetworkError && err.phase === 'greeting' && err.failure === 'timeout', String(err));
      assert.match(err.message, /this looks like an implicit-TLS port.*ftps:\/\/127\.0\.0\.1:990\//);
      return true;
    });
    const ms = performance.now() - started;
    assert.ok(ms < 6000, `${secure}: took ${Math.round(ms)} ms (the greeting timeout is 10 s)`);
  }
});

test('CLI: ftp:// to an implicit-TLS port on another port: the greeting timeout names the likely cause, exit 5', { timeout: 30_000 }, async t => {
  const h = await implicitServer();
  t.after(() => h.close());
  const port = h.server.implicitAddress()!.port;
  const r = await runFtpkit(['ls', '--connect-timeout', '1', `ftp://test:test@127.0.0.1:${port}/`]);
  assert.equal(r.code, 5, describeCli(r));
  assert.match(r.stderr, new RegExp(`if this is an implicit-TLS port.*ftps://127\\.0\\.0\\.1:${port}/`), describeCli(r));
});
