/**
 * Virtual folders and per-path permissions in the configuration file (users[].folders/paths and
 * anonymous.folders/paths): relative roots resolved against the file, the tree assembled for a login
 * (MountedStorage + path rules), and errors that name the key (a relative or unnormalized path, a mount
 * given twice, permissions given twice, a missing folder root at start-up).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfigFile, validateConfig } from '../../src/server/config/load.js';
import { checkRoots, planServe } from '../../src/server/config/to-options.js';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { permissionsAt } from '../../src/server/auth/path-permissions.js';
import { describePermissions } from '../../src/server/auth/permissions.js';
import { MountedStorage } from '../../src/server/storage/mounted.js';
import { FtpConfigError } from '../../src/errors.js';
import { tempDir } from '../support/temp-dir.js';
import { bannerLines } from '../../src/cli/serve-banner.js';

const ctx = { remoteAddress: '127.0.0.1', secure: false };

function keyOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FtpConfigError, String(err));
    return err.key;
  }
  assert.fail('expected a config error');
}

test('folders and paths load, mount and give per-path permissions', async (t) => {
  const d = await tempDir(t, 'ftpkit-config-folders-');
  for (const sub of ['alice', 'pub', 'drop', 'anon']) await mkdir(join(d, sub));
  await writeFile(join(d, 'pub', 'p.txt'), 'p');
  const hash = await hashPassword('secret', { ln: 10, r: 8, p: 1 });
  await writeFile(join(d, 'ftpkit.yaml'), [
    'anonymous:',
    '  enabled: true',
    '  root: anon',
    '  folders:',
    '    - { path: /pub, root: pub, permissions: read-only }',
    '    - { path: /incoming, root: drop, permissions: [write] }',
    'users:',
    '  - name: alice',
    `    password: "${hash}"`,
    '    root: alice',
    '    folders:',
    '      - { path: /pub, root: pub }',
    '    paths:',
    '      /pub: read-only',
    '      /pub/uploads: { preset: read-only, write: true }',
  ].join('\n'));
  const config = await loadConfigFile(join(d, 'ftpkit.yaml'));
  assert.equal(config.users![0]!.folders![0]!.root, join(d, 'pub'), 'relative to the file');
  assert.equal(config.anonymous!.folders![1]!.root, join(d, 'drop'));
  const plan = planServe(config, d);
  await checkRoots(plan, config);
  const banner = bannerLines(plan, 2121).join('\n');
  assert.match(banner, new RegExp(`\\n    folder /incoming: ${join(d, 'drop')} \\(write\\)`), banner);
  assert.match(banner, new RegExp(`\\n    folder /pub: ${join(d, 'pub')} \\(read-only\\)`), 'what applies at the mount point (a paths entry)');

  const anon = (await plan.options.authenticator.authenticate('anonymous', 'x', ctx))!;
  assert.ok(anon.storage instanceof MountedStorage);
  assert.deepEqual((await anon.storage.list('/')).map((e) => e.name).sort(), ['incoming', 'pub']);
  assert.equal(describePermissions(permissionsAt(anon, '/incoming/x')), 'write');
  assert.equal(describePermissions(permissionsAt(anon, '/pub')), 'read-only');

  const alice = (await plan.options.authenticator.authenticate('alice', 'secret', ctx))!;
  assert.equal(describePermissions(permissionsAt(alice, '/')), 'read-write');
  assert.equal(describePermissions(permissionsAt(alice, '/pub/p.txt')), 'read-only');
  assert.equal(describePermissions(permissionsAt(alice, '/pub/uploads/a')), 'list,read,write', 'the longest prefix wins');
  assert.equal(describePermissions(permissionsAt(alice, '/pubx')), 'read-write', 'a prefix is a whole path segment');
  assert.equal((await alice.storage.stat('/pub/p.txt')).size, 1);
});

test('bad folders and paths name their key', async (t) => {
  const d = await tempDir(t, 'ftpkit-config-folders-');
  const hash = await hashPassword('secret', { ln: 10, r: 8, p: 1 });
  const user = (extra: object) => ({ users: [{ name: 'bob', password: hash, root: d, ...extra }] });
  assert.equal(keyOf(() => validateConfig(user({ folders: [{ path: 'pub', root: d }] }))), 'users.0.folders.0.path');
  assert.equal(keyOf(() => validateConfig(user({ folders: [{ path: '/pub', root: d, permissions: ['wirte'] }] }))), 'users.0.folders.0.permissions.0');
  assert.equal(keyOf(() => validateConfig(user({ paths: { pub: 'read-only' } }))), 'users.0.paths.pub');
  assert.equal(keyOf(() => validateConfig(user({ folders: [{ path: '/pub', root: d, extra: 1 }] }))), 'users.0.folders.0.extra');
  const plan = (extra: object) => () => planServe(validateConfig(user(extra)), d);
  assert.equal(keyOf(plan({ folders: [{ path: '/a/../pub', root: d }] })), 'users.0.folders.0.path');
  assert.equal(keyOf(plan({ folders: [{ path: '/pub/', root: d }] })), 'users.0.folders.0.path');
  assert.equal(keyOf(plan({ folders: [{ path: '/', root: d }] })), 'users.0.folders.0.path');
  assert.equal(keyOf(plan({ folders: [{ path: '/p', root: d }, { path: '/p', root: d }] })), 'users.0.folders.1.path');
  assert.equal(keyOf(plan({ folders: [{ path: '/p', root: d, permissions: 'read-only' }], paths: { '/p': 'read-write' } })), 'users.0.paths./p');
  assert.equal(keyOf(plan({ paths: { '/x/': 'read-only' } })), 'users.0.paths./x/');
  const missing = validateConfig(user({ folders: [{ path: '/p', root: join(d, 'nope') }] }));
  const err = await checkRoots(planServe(missing, d), missing).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof FtpConfigError);
  assert.equal(err.key, 'users.0.folders.0.root');
  // A home inside a folder is not looked for in the user's own root.
  const homeInFolder = validateConfig(user({ home: '/p', folders: [{ path: '/p', root: d }] }));
  await checkRoots(planServe(homeInFolder, d), homeInFolder);
});
