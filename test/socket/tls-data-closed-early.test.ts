/**
 * PROT P (RFC 4217 s9) with a data connection the client closed before its transfer command: the command
 * must get its final reply (425) at once. Found by the fuzz run (bench/fuzz-run.ts): the server wrapped
 * the already closed socket in TLS and waited for a handshake that could never come, until the handshake
 * timeout, while the client waited for a reply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { MemoryStorage } from '../../src/server/index.js';
import { finalReplyWithin, startServer } from '../support/server-harness.js';
import { makeTestPki } from '../support/tls-certs.js';
import { FtpsRawControl } from '../support/tls-raw-control.js';

test('PROT P: a data connection closed before the transfer command gets 425 at once, not after the handshake timeout', { timeout: 60_000 }, async (t) => {
  const pki = await makeTestPki();
  t.after(() => pki.cleanup());
  const storage = new MemoryStorage();
  storage.writeFile('/f.txt', 'data\n');
  // A handshake timeout far longer than the bound below: only a prompt refusal passes.
  const h = await startServer({ storage, options: { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, handshakeTimeoutMs: 40_000 } } });
  t.after(() => h.close());
  const c = await FtpsRawControl.connect('127.0.0.1', h.port, { ca: pki.ca.cert });
  t.after(() => c.close());
  await c.authTls();
  await c.login();
  assert.equal((await c.send('PBSZ 0')).code, 200);
  assert.equal((await c.send('PROT P')).code, 200);
  for (const command of ['RETR f.txt', 'STOR g.txt', 'LIST']) {
    const data = await c.epsv();
    data.end();
    await once(data, 'close');
    // Let the server see the close before the command comes (the fuzz client's timing).
    await delay(100);
    c.write(`${command}\r\n`);
    const { final: outcome, codes } = await finalReplyWithin(c, 10_000);
    assert.ok(outcome, `${command}: no final reply within 10 s (replies so far: ${codes.join(' ')})`);
    assert.equal(outcome.code, 425, `${command}: ${outcome.code} ${outcome.text}`);
  }
  assert.equal((await c.send('NOOP')).code, 200, 'the session goes on');
});
