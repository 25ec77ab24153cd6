/**
 * The client CLI with FTPS, as users run it, against our server: `--tls` / `--tls-required` (explicit),
 * `ftps://` (implicit), `--ca`, `--insecure`, `--cert/--key`, and the TLS exit code (6) for an
 * unverifiable certificate, with a message saying what to do. Also: `-v` shows the data connections
 * resuming the control session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes, X509Certificate } from 'node:crypto';
import { LocalStorage } from '../../src/server/storage/local.js';
import { startServer, type Harness } from '../support/server-harness.js';
import { runFtpkit, describeCli, REPO_ROOT } from '../support/ftpkit-cli.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';
import { tempDir } from '../support/temp-dir.js';

type T = { after: (fn: () => unknown) => void };

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

async function server(t: T, pair = () => pki.server): Promise<{ h: Harness; root: string }> {
  const root = await tempDir(t, 'ftpkit-tls-cli-srv-');
  const h = await startServer({
    storage: new LocalStorage(root), users: { test: { password: 'pw' } },
    options: { tls: { certFile: pair().certFile, keyFile: pair().keyFile, implicitPort: 0, require: 'data' } },
  });
  t.after(() => h.close());
  return { h, root };
}

test('--tls with --ca: put and get over explicit FTPS; ftps:// over implicit; -v shows resumed data sessions', { timeout: 60_000 }, async (t) => {
  const { h, root } = await server(t);
  const work = await tempDir(t, 'ftpkit-tls-cli-work-');
  const data = randomBytes(300_000);
  await writeFile(path.join(work, 'up.bin'), data);
  const explicit = `ftp://test:pw@127.0.0.1:${h.port}`;
  const put = await runFtpkit(['put', '--tls', '--ca', pki.ca.certFile, '-v', path.join(work, 'up.bin'), `${explicit}/up.bin`]);
  assert.equal(put.code, 0, describeCli(put));
  assert.deepEqual(await readFile(path.join(root, 'up.bin')), data);
  assert.match(put.stderr, /AUTH TLS/);
  assert.match(put.stderr, /resumed the control connection's session/);

  const implicit = `ftps://test:pw@127.0.0.1:${h.server.implicitAddress()!.port}`;
  const get = await runFtpkit(['get', '--ca', pki.ca.certFile, `${implicit}/up.bin`, path.join(work, 'down.bin')]);
  assert.equal(get.code, 0, describeCli(get));
  assert.deepEqual(await readFile(path.join(work, 'down.bin')), data);

  const required = await runFtpkit(['ls', '--tls-required', '--ca', pki.ca.certFile, `${explicit}/`]);
  assert.equal(required.code, 0, describeCli(required));
  assert.match(required.stdout, /up\.bin/);
});

test('an unverifiable certificate fails with the TLS exit code and advice; --insecure connects', { timeout: 60_000 }, async (t) => {
  const { h } = await server(t, () => pki.selfSigned);
  const url = `ftp://test:pw@127.0.0.1:${h.port}/`;
  const strict = await runFtpkit(['ls', '--tls', url]);
  assert.equal(strict.code, 6, describeCli(strict));
  assert.match(strict.stderr, /self-signed.*--insecure/);
  const insecure = await runFtpkit(['ls', '--tls', '--insecure', url]);
  assert.equal(insecure.code, 0, describeCli(insecure));
});

test('--help says what --insecure disables', async () => {
  const r = await runFtpkit(['ls', '--help']);
  assert.match(r.stdout, /--insecure\s+.*(verif|certificate)/);
});

test('without --tls a TLS-required server refuses the cleartext login', { timeout: 60_000 }, async (t) => {
  const { h } = await server(t);
  const r = await runFtpkit(['ls', `ftp://test:pw@127.0.0.1:${h.port}/`]);
  assert.notEqual(r.code, 0, describeCli(r));
  assert.match(r.stderr, /AUTH TLS/);
});

test('doctor --ca with a relative path recommends settings that name the CA file absolutely', { timeout: 90_000 }, async (t) => {
  const { h } = await server(t);
  const relative = path.relative(REPO_ROOT, pki.ca.certFile);
  assert.ok(!path.isAbsolute(relative));
  const r = await runFtpkit(['doctor', '--json', '--no-write', '--ca', relative, `ftp://test:pw@127.0.0.1:${h.port}/`], { timeoutMs: 80_000 });
  const finding = JSON.parse(r.stdout) as { recommended?: { settings: { tls?: { caFile?: string } } } };
  assert.equal(finding.recommended?.settings.tls?.caFile, pki.ca.certFile, describeCli(r));
});

test('doctor without trust in the certificate, where only TLS data is allowed: the pin is recommended, exit 0, get/put work with it', { timeout: 90_000 }, async (t) => {
  const { h, root } = await server(t, () => pki.selfSigned);
  const work = await tempDir(t, 'ftpkit-tls-cli-doctor-');
  const url = `ftp://test:pw@127.0.0.1:${h.port}`;
  const r = await runFtpkit(['doctor', '--json', '--no-write', `${url}/`], { timeoutMs: 80_000 });
  const finding = JSON.parse(r.stdout) as { recommended?: { settings: { tls?: { pin?: string[] } } }; causes: Array<{ code: string }> };
  assert.ok(finding.causes.some(c => c.code === 'tls-certificate'), describeCli(r));
  assert.deepEqual(finding.recommended?.settings.tls?.pin, [`sha256:${new X509Certificate(pki.selfSigned.cert).fingerprint256}`], describeCli(r));
  // Working settings were found: exit 0 (the certificate finding is in the report); exit 6 stays for
  // when even the pinned certificate gets nowhere.
  assert.equal(r.code, 0, describeCli(r));
  const json = path.join(work, 'finding.json');
  await writeFile(json, r.stdout);
  await writeFile(path.join(work, 'up.txt'), 'pinned\n');
  const put = await runFtpkit(['put', '--settings', json, path.join(work, 'up.txt'), `${url}/up.txt`]);
  assert.equal(put.code, 0, describeCli(put));
  assert.equal(await readFile(path.join(root, 'up.txt'), 'utf8'), 'pinned\n');
  const get = await runFtpkit(['get', '--settings', json, `${url}/up.txt`, path.join(work, 'down.txt')]);
  assert.equal(get.code, 0, describeCli(get));
});
