/**
 * `ftpkit doctor` as users run it, against our server on loopback: the human report, `--json` whose
 * `recommended.settings` `ftpkit get --settings` accepts as is, exit codes, and usage errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MemoryStorage } from '../../src/server/index.js';
import { determineSettings } from '../../src/doctor/index.js';
import { startServer } from '../support/server-harness.js';
import { closedPort } from '../support/fake-server.js';
import { describeCli, runFtpkit } from '../support/ftpkit-cli.js';

test('doctor --json, then get --settings with the finding file', async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/hello.txt', 'hello doctor\n');
  const h = await startServer({ storage, users: { alice: { password: 'Sup3r-s3cret' } } });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ftpkit-doctor-cli-'));
  t.after(async () => { await h.close(); await rm(dir, { recursive: true, force: true }); });

  const r = await runFtpkit(['doctor', '--json', '--connect-timeout', '2s', h.url]);
  assert.equal(r.code, 0, describeCli(r));
  const finding = JSON.parse(r.stdout);
  assert.equal(finding.version, 1);
  assert.equal(finding.recommended.probeId, 'epsv');
  assert.ok(!r.stdout.includes('Sup3r-s3cret') && !r.stderr.includes('Sup3r-s3cret'), 'the password never appears');
  assert.match(r.stdout, /PASS \*\*\*\*/, 'the transcript evidence masks PASS');
  const file = path.join(dir, 'f.json');
  await writeFile(file, r.stdout);
  const out = path.join(dir, 'hello.txt');
  const g = await runFtpkit(['get', '--settings', file, `${h.url}hello.txt`, out]);
  assert.equal(g.code, 0, describeCli(g));
  assert.equal(await readFile(out, 'utf8'), 'hello doctor\n');

  const human = await runFtpkit(['doctor', '--connect-timeout', '2s', '--no-write', h.url]);
  assert.equal(human.code, 0, describeCli(human));
  assert.match(human.stdout, /Steps\n/);
  assert.match(human.stdout, /Recommended: EPSV/);
  assert.match(human.stdout, /lftp \(shell\):\n +lftp -e /);
});

test('doctor exit code 5 and a named cause when the control port is closed', async () => {
  const port = await closedPort();
  const r = await runFtpkit(['doctor', `ftp://127.0.0.1:${port}/`]);
  assert.equal(r.code, 5, describeCli(r));
  assert.match(r.stdout, /port \d+ is closed or rejected/);
});

test('get/put --settings with a finding in which nothing worked: the doctor\'s exit code and its cause, not a usage error', async t => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ftpkit-doctor-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const port = await closedPort();
  const d = await runFtpkit(['doctor', '--json', `ftp://127.0.0.1:${port}/`]);
  assert.equal(d.code, 5, describeCli(d));
  const file = path.join(dir, 'f.json');
  await writeFile(file, d.stdout);
  const g = await runFtpkit(['get', '--settings', file, `ftp://127.0.0.1:${port}/a.txt`, path.join(dir, 'a.txt')]);
  assert.equal(g.code, 5, describeCli(g));
  assert.match(g.stderr, /f\.json is a doctor finding without recommended settings: port \d+ is closed or rejected/);
  // A refused login: 3, as the doctor said.
  const login = path.join(dir, 'login.json');
  await writeFile(login, JSON.stringify({ version: 1, steps: [], matrix: [], works: [], recommended: null,
    causes: [{ code: 'login-failed', side: 'client', title: 'the user name or password was refused', detail: '530' }] }));
  const p = await runFtpkit(['put', '--settings', login, path.join(dir, 'login.json'), `ftp://127.0.0.1:${port}/x.json`]);
  assert.equal(p.code, 3, describeCli(p));
  assert.match(p.stderr, /the user name or password was refused/);
});

test('doctor usage errors exit 2', async () => {
  const r = await runFtpkit(['doctor', '--budget', 'soon', 'ftp://127.0.0.1/']);
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /--budget needs a duration/);
  const r2 = await runFtpkit(['doctor', '--port-range', '9-1', 'ftp://127.0.0.1/']);
  assert.equal(r2.code, 2, describeCli(r2));
  const r3 = await runFtpkit(['doctor', '--port-address', 'my.router', 'ftp://127.0.0.1/']);
  assert.equal(r3.code, 2, describeCli(r3));
  assert.match(r3.stderr, /--port-address needs an IP address/);
});

test('determineSettings: the settings that work, or undefined', async t => {
  const h = await startServer();
  t.after(() => h.close());
  const s = await determineSettings(h.url, { connectTimeoutMs: 2000, writeCheck: false });
  assert.deepEqual(s, { secure: 'none', data: { mode: 'passive', passive: { command: 'epsv' }, fallback: false } });
  const port = await closedPort();
  assert.equal(await determineSettings(`ftp://127.0.0.1:${port}/`, { connectTimeoutMs: 1000 }), undefined);
});

test('doctor takes the password from FTPKIT_PASSWORD like the client commands', async t => {
  const h = await startServer({ users: { bob: { password: 'from-env-42' } } });
  t.after(() => h.close());
  const r = await runFtpkit(['doctor', '--json', '--no-write', '--connect-timeout', '2s', `ftp://bob@127.0.0.1:${h.port}/`],
    { env: { FTPKIT_PASSWORD: 'from-env-42' } });
  assert.equal(r.code, 0, describeCli(r));
  assert.equal(JSON.parse(r.stdout).target.user, 'bob');
  assert.ok(!r.stdout.includes('from-env-42'));
});
