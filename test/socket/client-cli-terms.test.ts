/**
 * The client CLI speaks in its own terms: help lists only the flags a subcommand uses, messages name CLI
 * flags and URL forms, never library option keys ("tls.ca", "secure: 'implicit'", "addressPolicy"), and
 * a URL with an empty port is a usage error instead of port 21.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStorage } from '../../src/server/storage/local.js';
import { startServer } from '../support/server-harness.js';
import { runFtpkit, describeCli } from '../support/ftpkit-cli.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';
import { tempDir } from '../support/temp-dir.js';

const LIBRARY_KEYS = /tls\.ca|tls\.caFile|secure: '|passive command|addressPolicy|advertiseAddress|tls\.protectData|tls\.servername/;

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

test('help of mkdir and mv lists no data-connection or transfer flags; rm no transfer type; get all of them', async () => {
  const DATA = ['--active', '--passive', '--port-range', '--port-address', '--bind-address', '--no-epsv', '--epsv-only',
    '--no-eprt', '--pasv-host', '--fallback', '--speed-limit', '--speed-time'];
  for (const cmd of ['mkdir', 'mv']) {
    const r = await runFtpkit([cmd, '--help']);
    assert.equal(r.code, 0, describeCli(r));
    for (const flag of [...DATA, '--ascii', '--binary']) assert.ok(!r.stdout.includes(flag), `${cmd} --help lists ${flag}:\n${r.stdout}`);
    for (const flag of ['--tls', '--ca', '--timeout', '--max-time', '--json', '-v, --verbose']) assert.ok(r.stdout.includes(flag), `${cmd} --help lacks ${flag}`);
  }
  const rm = await runFtpkit(['rm', '--help']);
  assert.ok(!rm.stdout.includes('--ascii') && rm.stdout.includes('--active'), rm.stdout); // rm -r lists folders
  const get = await runFtpkit(['get', '--help']);
  for (const flag of [...DATA, '--ascii', '--binary']) assert.ok(get.stdout.includes(flag), `get --help lacks ${flag}`);
});

test('ftp://host:/ (an empty port) is a usage error, not port 21', async () => {
  for (const url of ['ftp://127.0.0.1:/x', 'ftp://u:p@127.0.0.1:/', 'ftps://[::1]:/']) {
    const r = await runFtpkit(['ls', url]);
    assert.equal(r.code, 2, describeCli(r));
    assert.match(r.stderr, /empty port/);
    assert.doesNotMatch(r.stderr, /u:p/);
  }
});

test('TLS messages name --ca, --insecure and ftps://, not the library option keys', { timeout: 60_000 }, async (t) => {
  const root = await tempDir(t);
  const selfSigned = await startServer({ storage: new LocalStorage(root), users: { test: { password: 'pw' } },
    options: { tls: { certFile: pki.selfSigned.certFile, keyFile: pki.selfSigned.keyFile } } });
  t.after(() => selfSigned.close());
  const plain = await startServer({ storage: new LocalStorage(root), users: { test: { password: 'pw' } } });
  t.after(() => plain.close());

  const untrusted = await runFtpkit(['ls', '--tls', `ftp://test:pw@127.0.0.1:${selfSigned.port}/`]);
  assert.equal(untrusted.code, 6, describeCli(untrusted));
  assert.match(untrusted.stderr, /--ca FILE/);
  assert.doesNotMatch(untrusted.stderr, LIBRARY_KEYS, describeCli(untrusted));
  const json = await runFtpkit(['ls', '--tls', '--json', `ftp://test:pw@127.0.0.1:${selfSigned.port}/`]);
  assert.doesNotMatch(JSON.parse(json.stdout).error.message, LIBRARY_KEYS);

  const noTls = await runFtpkit(['ls', '--tls', `ftp://test:pw@127.0.0.1:${plain.port}/`]);
  assert.equal(noTls.code, 6, describeCli(noTls));
  assert.match(noTls.stderr, /ftps:\/\/ URL/);
  assert.doesNotMatch(noTls.stderr, LIBRARY_KEYS, describeCli(noTls));

  const noCa = await runFtpkit(['ls', '--tls', '--ca', '/nonexistent/ca.pem', `ftp://test:pw@127.0.0.1:${selfSigned.port}/`]);
  assert.equal(noCa.code, 2, describeCli(noCa));
  assert.match(noCa.stderr, /--ca: cannot read \/nonexistent\/ca\.pem/);
  assert.doesNotMatch(noCa.stderr, LIBRARY_KEYS, describeCli(noCa));

  const verbose = await runFtpkit(['ls', '-v', `ftp://test:pw@127.0.0.1:${plain.port}/`]);
  assert.equal(verbose.code, 0, describeCli(verbose));
  assert.match(verbose.stderr, /EPSV/);
  assert.doesNotMatch(verbose.stderr, LIBRARY_KEYS, describeCli(verbose));
});
