/**
 * The S3 side of the configuration without a store (the store itself: test/socket/s3-storage-server.test.ts
 * and test/interop/s3-storage-clients.test.ts against radosgw): `s3://` roots parsed and kept as they are
 * (not made relative to the file), the `s3` section validated, each root a storage of its own prefix on one
 * shared client, and S3 failures mapped to the storage failure kinds that choose the reply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfigFile, validateConfig } from '../../src/server/config/load.js';
import { planServe } from '../../src/server/config/to-options.js';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { FtpConfigError, FtpStorageError } from '../../src/errors.js';
import { fileKey, folderPrefix, isS3Root, parentPath, parseS3Root } from '../../src/server/storage/s3/keys.js';
import { storageError } from '../../src/server/storage/s3/errors.js';
import { DeferredS3Storage } from '../../src/server/storage/s3/deferred.js';
import { copyRanges } from '../../src/server/storage/s3/resume.js';
import { tempDir } from '../support/temp-dir.js';

test('s3:// roots: bucket and prefix parsed, keys and folder prefixes mapped from virtual paths', () => {
  assert.ok(isS3Root('s3://b/x/') && isS3Root('S3://b') && !isS3Root('/srv/s3://x') && !isS3Root('data'));
  assert.deepEqual(parseS3Root('s3://files', 'k'), { bucket: 'files', prefix: '' });
  assert.deepEqual(parseS3Root('s3://files/users//alice', 'k'), { bucket: 'files', prefix: 'users/alice/' });
  for (const bad of ['s3://', 's3://UPPER/', 's3://b/', 's3://ok-bucket/a/../b/']) {
    assert.throws(() => parseS3Root(bad, 'users.0.root'), (e: unknown) => e instanceof FtpConfigError && e.key === 'users.0.root', bad);
  }
  const loc = { bucket: 'b', prefix: 'p/' };
  assert.equal(fileKey(loc, '/a/b.txt'), 'p/a/b.txt');
  assert.equal(folderPrefix(loc, '/'), 'p/');
  assert.equal(folderPrefix(loc, '/a'), 'p/a/');
  assert.equal(folderPrefix({ bucket: 'b', prefix: '' }, '/'), '');
  assert.equal(parentPath('/a/b'), '/a');
  assert.equal(parentPath('/a'), '/');
});

test('resumed uploads: the kept bytes are copied in ranges of at least 5 MiB, a shorter tail is read back', () => {
  const MiB = 1024 * 1024;
  assert.deepEqual(copyRanges(0), { ranges: [], copied: 0 });
  assert.deepEqual(copyRanges(3 * MiB), { ranges: [], copied: 0 });
  assert.deepEqual(copyRanges(6 * MiB), { ranges: [[0, 6 * MiB - 1]], copied: 6 * MiB });
  assert.deepEqual(copyRanges(1024 * MiB + 2 * MiB), { ranges: [[0, 1024 * MiB - 1]], copied: 1024 * MiB }, '2 MiB tail read back');
  assert.deepEqual(copyRanges(1024 * MiB + 7 * MiB), { ranges: [[0, 1024 * MiB - 1], [1024 * MiB, 1031 * MiB - 1]], copied: 1031 * MiB });
});

test('S3 errors become storage failure kinds (550, 452, 451...), the service text kept out of the reply', () => {
  const err = (name: string, status?: number) => Object.assign(new Error(`${name} text`), { name, ...(status ? { $metadata: { httpStatusCode: status } } : {}) });
  const kind = (e: unknown) => storageError(e, '/x').failure;
  assert.equal(kind(err('NoSuchKey', 404)), 'not-found');
  assert.equal(kind(err('NotFound', 404)), 'not-found');
  assert.equal(kind(err('AccessDenied', 403)), 'permission');
  assert.equal(kind(err('PreconditionFailed', 412)), 'exists');
  assert.equal(kind(err('QuotaExceeded', 403)), 'no-space');
  assert.equal(kind(err('SlowDown', 503)), 'transient');
  assert.equal(kind(err('InternalError', 500)), 'transient');
  assert.equal(kind(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), 'transient');
  assert.equal(kind(err('InvalidArgument', 400)), 'io');
  const passed = new FtpStorageError('exists', 'x', '/x');
  assert.equal(storageError(passed, '/y'), passed, 'an FtpStorageError passes through');
});

test('the s3 section is validated; s3:// roots are not made relative to the file; each root is a storage on its own prefix', async t => {
  const bad = (value: unknown) => assert.throws(() => validateConfig(value), FtpConfigError);
  bad({ s3: { accessKeyId: 'only-one' } });
  bad({ s3: { partSize: '1MiB' } });
  bad({ s3: { endpoint: 'not a url' } });
  bad({ s3: { renameFolders: 'move' } });
  bad({ s3: { unknown: 1 } });
  const ok = validateConfig({ s3: { endpoint: 'http://127.0.0.1:7480', partSize: '16MiB', staleUploadAge: '2h', renameFolders: 'copy' } });
  assert.equal(ok.s3?.partSize, 16 * 1024 * 1024);
  assert.equal(ok.s3?.staleUploadAge, 2 * 3600 * 1000);

  const dir = await tempDir(t, 'ftpkit-s3-config-');
  const hash = await hashPassword('pw', { ln: 10, r: 8, p: 1 });
  const file = join(dir, 'ftpkit.yaml');
  await writeFile(file, [
    's3: { endpoint: "http://127.0.0.1:1", accessKeyId: a, secretAccessKey: b }',
    'users:',
    `  - { name: alice, password: '${hash}', root: "s3://files/users/alice/" }`,
    `  - { name: bob, password: '${hash}', root: "s3://files/users/bob/", folders: [{ path: /shared, root: "s3://files/shared/" }] }`,
    `  - { name: carol, password: '${hash}', root: "s3://files/users/bob" }`,
  ].join('\n'));
  const config = await loadConfigFile(file);
  assert.equal(config.users?.[0]?.root, 's3://files/users/alice/', 'kept as written');
  const plan = planServe(config, dir);
  const sweep = plan.options.uploads?.sweep ?? [];
  assert.ok(sweep.every((s) => s instanceof DeferredS3Storage));
  assert.deepEqual(sweep.map((s) => (s as DeferredS3Storage).root).sort(),
    ['s3://files/shared/', 's3://files/users/alice/', 's3://files/users/bob/'], 'one storage per prefix (bob and carol share one)');
  assert.match(plan.summary.users[0]!.root, /^s3:\/\/files\/users\/alice\/$/);
  await assert.rejects(plan.s3.check('s3://files/users/alice/', 'users.0.root'),
    (e: unknown) => e instanceof FtpConfigError && e.key === 'users.0.root' && /cannot be reached/.test(e.message));
});

test('a reload that changes the s3 section reports it as needing a restart and keeps the running S3 settings', async t => {
  const { reloadServe } = await import('../../src/cli/serve-reload.js');
  const { FtpServer } = await import('../../src/server/index.js');
  const before = validateConfig({ s3: { endpoint: 'http://127.0.0.1:7480', region: 'one' } });
  const after = validateConfig({ s3: { endpoint: 'http://127.0.0.1:7481', region: 'two' } });
  const root = process.cwd();
  const plan = planServe(before, root);
  const server = new FtpServer(plan.options);
  t.after(() => server.close());
  const host = { server, readConfig: async () => after, defaultRoot: root, current: { config: before, plan }, log: () => undefined };
  const outcome = await reloadServe(host);
  assert.equal(outcome.ok, true, outcome.message);
  assert.deepEqual(outcome.changed, ['s3.endpoint', 's3.region']);
  assert.deepEqual(outcome.needsRestart, ['s3.endpoint', 's3.region']);
  assert.deepEqual(host.current.config.s3, before.s3, 'the running configuration keeps the S3 settings of the start');
});
