/**
 * `ftpkit serve` with users migrated from other servers: a SHA-512-crypt user (as in /etc/shadow) and a
 * bcrypt user log in over a real control connection; an unknown hash format stops the server at start
 * with exit code 2 and a message naming the user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawControl } from '../support/server-harness.js';
import { startServeProcess } from '../support/serve-process.js';
import { runFtpkit } from '../support/ftpkit-cli.js';
import { tempDir } from '../support/temp-dir.js';

// `openssl passwd -6 -salt opensslsalt secret` and `mkpasswd -m bcrypt -R 5 secret`.
const SHA512 = '$6$opensslsalt$RYp6MntZMSU.gp5umToWAut5JOaOhj4BuCIG4bPvwUyU6JcyI1ElKFBvv6sliaewhCILuowLcf.a/6q65AIZ91';
const BCRYPT = '$2b$05$H5Kez7O4qKKDguqVdt50Jui4KRxfhg05KDZhJtHgY0LUWO7kYHbUC';


test('serve: SHA-512-crypt and bcrypt users log in', async (t) => {
  const root = await tempDir(t);
  const serve = await startServeProcess(t, ['--host', '127.0.0.1', '--user', `shadow:${SHA512}:${root}`, '--user', `web:${BCRYPT}:${root}`]);
  assert.equal(await RawControl.loginCode('127.0.0.1', serve.port, 'shadow', 'secret'), 230);
  assert.equal(await RawControl.loginCode('127.0.0.1', serve.port, 'web', 'secret'), 230);
  assert.equal(await RawControl.loginCode('127.0.0.1', serve.port, 'shadow', 'Secret'), 530);
});

test('serve: an unknown hash format is a configuration error naming the user, exit 2', async (t) => {
  const root = await tempDir(t);
  const r = await runFtpkit(['serve', '--port', '0', '--user', `carol:{SSHA}abcdef:${root}`]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /carol/);
  assert.match(r.stderr, /not a password hash ftpkit knows/);
  const md5 = await runFtpkit(['serve', '--port', '0', '--user', `dave:$1$salt$qJH7.N4xYta3aEG/dfqo/0:${root}`]);
  assert.equal(md5.code, 2, md5.stderr);
  assert.match(md5.stderr, /dave.*MD5-crypt/);
});
