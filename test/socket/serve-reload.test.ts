/**
 * `ftpkit serve --config` reloads its configuration on SIGHUP (a real child process, real sockets):
 * a logged-in session survives every reload and keeps working; a user added to the file can log in, a
 * removed one cannot; a bad file (unknown key) is refused with the key named on stderr and in a
 * 'config-reload-failed' log record, and the running configuration stays; a new deny CIDR refuses new
 * connections from it; a new certificate is served to new TLS handshakes while an established TLS session
 * keeps its own; a change of the listening address is reported as needing a restart and not applied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { stringify } from 'yaml';
import { FtpClient } from '../../src/client/index.js';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { dialogue } from '../support/reply-dialogue.js';
import { makeTestPki } from '../support/tls-certs.js';
import { tempDir } from '../support/temp-dir.js';

const FAST = { ln: 4, r: 8, p: 1 };

/** Send SIGHUP and wait (bounded) for the reload's stderr line; returns it. */
async function hup(s: ServeProcess, deadlineMs = 15_000): Promise<string> {
  const seen = (s.stderr().match(/^ftpkit: configuration reload.*$/gm) ?? []).length;
  s.child.kill('SIGHUP');
  const child = s.child;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no reload line within ${deadlineMs} ms; stderr: ${s.stderr()}`)), deadlineMs);
    const check = () => {
      const lines = s.stderr().match(/^ftpkit: configuration reload.*$/gm) ?? [];
      if (lines.length > seen) finish(undefined, lines[seen]);
    };
    const finish = (err?: Error, line?: string) => {
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      if (err) reject(err); else resolve(line!);
    };
    // After the helper's own listener has appended the chunk.
    const onData = () => setImmediate(check);
    child.stderr!.on('data', onData);
    check();
  });
}

/** USER/PASS on a fresh connection: the code PASS got (or the first refusal). */
async function login(port: number, user: string, password: string, localAddress?: string): Promise<number[]> {
  return dialogue({ port, localAddress, timeoutMs: 10_000 }, (code) =>
    code === 220 ? `USER ${user}` : code === 331 ? `PASS ${password}` : undefined);
}

/** The JSON log records of one event on stderr. */
function records(s: ServeProcess, event: string): Array<Record<string, unknown>> {
  return s.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.event === event);
}

test('SIGHUP: users come and go, a bad file is refused by key, deny lists apply, sessions survive', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t, 'ftpkit-reload-');
  const home = join(dir, 'home');
  await mkdir(home);
  await writeFile(join(home, 'file.txt'), 'still here\n');
  const [alice, bob, carol] = await Promise.all(['alice-pw', 'bob-pw', 'carol-pw'].map((p) => hashPassword(p, FAST)));
  const config = join(dir, 'ftpkit.yaml');
  const base = {
    host: '127.0.0.1',
    limits: { loginFailureDelay: 0 },
    users: [{ name: 'alice', password: alice, root: home }, { name: 'bob', password: bob, root: home }],
  };
  await writeFile(config, stringify(base));
  const s = await startServeProcess(t, ['--config', config]);

  const session = await FtpClient.connect({ host: '127.0.0.1', port: s.port, user: 'alice', password: 'alice-pw' });
  t.after(() => session.close());
  assert.deepEqual((await session.list('/')).map((e) => e.name), ['file.txt']);
  assert.deepEqual(await login(s.port, 'carol', 'carol-pw'), [220, 331, 530], 'carol is not configured yet');

  // carol in, bob out.
  await writeFile(config, stringify({ ...base, users: [base.users[0], { name: 'carol', password: carol, root: home }] }));
  const reloaded = await hup(s);
  assert.match(reloaded, /configuration reloaded \(changed: users \(added carol; removed bob\)\)/);
  assert.deepEqual(await login(s.port, 'carol', 'carol-pw'), [220, 331, 230], 'carol logs in after SIGHUP');
  assert.deepEqual(await login(s.port, 'bob', 'bob-pw'), [220, 331, 530], 'bob is gone');
  assert.deepEqual((await session.list('/')).map((e) => e.name), ['file.txt'], 'the logged-in session goes on');
  assert.deepEqual(records(s, 'config-reloaded').at(-1)?.changed, ['users (added carol; removed bob)']);

  // A misspelt key: refused, named, the running configuration stays.
  await writeFile(config, stringify({ ...base, limits: { loginFailureDelay: 0, maxSesions: 5 } }));
  const refused = await hup(s);
  assert.match(refused, /reload refused, the running configuration stays: limits\.maxSesions: unknown key \(did you mean "maxSessions"\?\)/);
  assert.equal(records(s, 'config-reload-failed').at(-1)?.key, 'limits.maxSesions');
  assert.deepEqual(await login(s.port, 'carol', 'carol-pw'), [220, 331, 230], 'the previous configuration is still in force');
  assert.deepEqual(await login(s.port, 'bob', 'bob-pw'), [220, 331, 530]);

  // A deny list: new connections from 127.0.0.2 get 421 at once; 127.0.0.1 and the running session go on.
  assert.deepEqual(await login(s.port, 'carol', 'carol-pw', '127.0.0.2'), [220, 331, 230]);
  await writeFile(config, stringify({ ...base, users: [base.users[0], { name: 'carol', password: carol, root: home }], defender: { deny: ['127.0.0.2/32'] }, host: '0.0.0.0' }));
  const denied = await hup(s);
  assert.match(denied, /changed: .*\bdefender\b/);
  assert.match(denied, /needs a restart, not applied: host\)/);
  assert.deepEqual(await login(s.port, 'carol', 'carol-pw', '127.0.0.2'), [421]);
  assert.deepEqual(await login(s.port, 'carol', 'carol-pw'), [220, 331, 230], 'still listening where it was');
  assert.deepEqual((await session.list('/')).map((e) => e.name), ['file.txt']);
});

/** AUTH TLS on a new control connection: the certificate the server presents, and the TLS socket. */
async function authTls(port: number): Promise<tls.TLSSocket> {
  const raw: Socket = connect({ host: '127.0.0.1', port });
  raw.setEncoding('utf8');
  const line = async (): Promise<string> => String((await once(raw, 'data'))[0]);
  assert.match(await line(), /^220 /);
  raw.write('AUTH TLS\r\n');
  assert.match(await line(), /^234 /);
  const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
  await once(secure, 'secureConnect');
  return secure;
}

test('SIGHUP: a new certificate for new TLS handshakes, the old one for the session that has it; a bad key is refused', { timeout: 60_000 }, async (t) => {
  const pki = await makeTestPki();
  t.after(() => pki.cleanup());
  const dir = await tempDir(t, 'ftpkit-reload-tls-');
  const config = join(dir, 'ftpkit.yaml');
  const base = { host: '127.0.0.1', anonymous: { enabled: true, root: dir } };
  await writeFile(config, stringify({ ...base, tls: { cert: pki.server.certFile, key: pki.server.keyFile } }));
  const s = await startServeProcess(t, ['--config', config]);
  const first = new X509Certificate(pki.server.cert).fingerprint256;
  const second = new X509Certificate(pki.server2.cert).fingerprint256;

  const before = await authTls(s.port);
  t.after(() => before.destroy());
  assert.equal(before.getPeerX509Certificate()!.fingerprint256, first);

  await writeFile(config, stringify({ ...base, tls: { cert: pki.server2.certFile, key: pki.server2.keyFile } }));
  assert.match(await hup(s), /changed: tls\.cert, tls\.key\)/);
  assert.equal(records(s, 'config-reloaded').at(-1)?.certificate, second);
  const after = await authTls(s.port);
  t.after(() => after.destroy());
  assert.equal(after.getPeerX509Certificate()!.fingerprint256, second, 'a new handshake gets the new certificate');
  before.setEncoding('utf8');
  before.write('NOOP\r\n');
  assert.match(String((await once(before, 'data'))[0]), /^200 /, 'the session protected with the old certificate goes on');

  // The key of another certificate: refused, and the second certificate stays.
  await writeFile(config, stringify({ ...base, tls: { cert: pki.server.certFile, key: pki.server2.keyFile } }));
  assert.match(await hup(s), /reload refused, the running configuration stays: tls\.cert: .*key values mismatch/);
  const still = await authTls(s.port);
  t.after(() => still.destroy());
  assert.equal(still.getPeerX509Certificate()!.fingerprint256, second);
});
