/**
 * The deployment files in deploy/: the systemd units pass `systemd-analyze verify` without a single warning
 * (ExecStart pointed at this checkout, since verify requires the binary to exist), and the hardened sample
 * configuration passes `ftpkit serve --check` once its machine paths (served folder, certificate, logs) are
 * pointed at temporary ones; a misspelt key in it fails the check (exit 2, key named).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeCli, REPO_ROOT, runFtpkit } from '../support/ftpkit-cli.js';
import { makeTestPki } from '../support/tls-certs.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const ANALYZE = '/usr/bin/systemd-analyze';
const noAnalyze = existsSync(ANALYZE) ? false : `${ANALYZE} not found (Debian package systemd): cannot verify the units`;

test('deploy/ftpkit.service and ftpkit.socket: systemd-analyze verify, no warnings', { skip: noAnalyze }, async (t) => {
  const dir = await tempDir(t, 'ftpkit-units-');
  const service = await readFile(join(REPO_ROOT, 'deploy/ftpkit.service'), 'utf8');
  assert.match(service, /^ExecStart=\/usr\/local\/bin\/ftpkit serve --config \/etc\/ftpkit\/ftpkit\.yaml$/m);
  const here = service.replace(/^ExecStart=\/usr\/local\/bin\/ftpkit /m, `ExecStart=${process.execPath} ${join(REPO_ROOT, 'src/cli/main.ts')} `);
  await writeFile(join(dir, 'ftpkit.service'), here);
  await writeFile(join(dir, 'ftpkit.socket'), await readFile(join(REPO_ROOT, 'deploy/ftpkit.socket')));
  const r = await run(ANALYZE, ['verify', join(dir, 'ftpkit.service'), join(dir, 'ftpkit.socket')]).catch((err: { stdout: string; stderr: string; code: number }) => err);
  assert.equal(`${r.stdout}${r.stderr}`, '', 'no warnings and no errors');
  assert.ok(!('code' in r) || r.code === 0);
});

test('deploy/ftpkit.yaml: serve --check accepts it; a misspelt key is refused by name', async (t) => {
  const pki = await makeTestPki();
  t.after(() => pki.cleanup());
  const dir = await tempDir(t, 'ftpkit-sample-');
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'alice'), { mode: 0o755 });
  const isRoot = process.getuid?.() === 0;
  let sample = (await readFile(join(REPO_ROOT, 'deploy/ftpkit.yaml'), 'utf8'))
    .replaceAll('/srv/ftp', dir)
    .replaceAll('/var/log/ftpkit', join(dir, 'log'))
    .replace('/etc/ftpkit/tls/fullchain.pem', pki.server.certFile)
    .replace('/etc/ftpkit/tls/privkey.pem', pki.server.keyFile);
  // The ftpkit account does not exist here: as root, drop to nobody instead; otherwise nothing to drop.
  sample = isRoot ? sample.replace('user: ftpkit', 'user: nobody').replace('group: ftpkit', 'group: nogroup')
    : sample.replace(/^run:\n(  .*\n)+/m, '');
  const config = join(dir, 'ftpkit.yaml');
  await writeFile(config, sample);
  const ok = await runFtpkit(['serve', '--config', config, '--check'], { env: { FTPKIT_ALLOW_ROOT: '' } });
  assert.equal(ok.code, 0, describeCli(ok));
  assert.match(ok.stdout, /^configuration ok .*: 1 user, FTPS/);
  if (isRoot) assert.match(ok.stdout, /runs as nobody:nogroup/);

  await writeFile(config, sample.replace('maxSessionsPerAddress:', 'maxSessionPerAddress:'));
  const bad = await runFtpkit(['serve', '--config', config, '--check']);
  assert.equal(bad.code, 2, describeCli(bad));
  assert.match(bad.stderr, /limits\.maxSessionPerAddress: unknown key \(did you mean "maxSessionsPerAddress"\?\)/);

  // A certificate or key that is not there: named by the file's keys (tls.cert, tls.key), not the library's
  // option names (tls.certFile), by --check and by a start alike.
  await writeFile(config, sample.replace(pki.server.certFile, join(dir, 'missing.pem')).replace('port: 21', 'port: 0'));
  for (const args of [['--check'], []]) {
    const r = await runFtpkit(['serve', '--config', config, ...args], { env: { FTPKIT_ALLOW_ROOT: '' } });
    assert.equal(r.code, 2, describeCli(r));
    assert.match(r.stderr, /^ftpkit: tls\.cert: cannot read .*missing\.pem: ENOENT$/m, describeCli(r));
  }
  await writeFile(config, sample.replace(pki.server.keyFile, join(dir, 'missing.key')));
  const noKey = await runFtpkit(['serve', '--config', config, '--check'], { env: { FTPKIT_ALLOW_ROOT: '' } });
  assert.match(noKey.stderr, /^ftpkit: tls\.key: cannot read .*missing\.key: ENOENT$/m, describeCli(noKey));
});
