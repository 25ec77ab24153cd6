import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkActiveSourcePrivilege } from '../../src/server/nat/index.js';
import { FtpConfigError } from '../../src/errors.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('active source port: unprivileged ports and no setting need nothing', async () => {
  await checkActiveSourcePrivilege({});
  await checkActiveSourcePrivilege({ sourcePort: 40020 });
  await assert.rejects(checkActiveSourcePrivilege({ sourcePort: 0 }), FtpConfigError);
});

// Root can bind port 20; drop to nobody (setpriv) to see the error an unprivileged server gets.
const canDrop = process.getuid?.() === 0;
test('active source port 20 without the privilege: a startup error naming the key and the fix', { skip: canDrop ? false : 'needs root to drop privileges' }, async () => {
  if (process.getuid?.() === 0) await checkActiveSourcePrivilege({ sourcePort: 20, sourceAddress: '127.0.0.1' }); // root may
  const script = `import('${path.join(REPO, 'src/server/nat/index.ts')}').then(m => m.checkActiveSourcePrivilege({ sourcePort: 20, sourceAddress: '127.0.0.1' }))`
    + `.then(() => console.log('OK'), e => console.log(e.code + ' ' + e.key + ' ' + e.message))`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, '--import', 'tsx', '-e', script],
      { cwd: REPO, timeout: 30_000 }, (err, stdout, stderr) => (err && !stdout ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  assert.match(out, /ERR_FTP_CONFIG active\.sourcePort .*port 20.*CAP_NET_BIND_SERVICE/);
});
