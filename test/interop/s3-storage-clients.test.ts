/**
 * `ftpkit serve --config` with a user whose root is `s3://bucket/prefix/` on Ceph's radosgw (the shared
 * service test/support/services/radosgw.ts), used by real clients: curl and lftp upload and download a
 * multi-part file byte-exact, lftp mirrors a tree with nested folders and odd names up and back; and a
 * bucket that does not exist or credentials the endpoint refuses are a clear start-up error
 * (docs/configuration.md#s3-storage), from `serve --check` and from `serve` itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '../../src/server/auth/password-hash.js';
import { startServeProcess } from '../support/serve-process.js';
import { runFtpkit, describeCli } from '../support/ftpkit-cli.js';
import { describeRun, lftpOpen, peerSkip, runCurl, runLftp } from '../support/peers.js';
import { s3Fixture, type S3Fixture } from '../support/s3-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const PASSWORD = 'pw for s3';

async function config(dir: string, fx: S3Fixture, s3: Record<string, string | boolean>, root = `s3://${fx.bucket}/${fx.prefix}alice/`): Promise<string> {
  const hash = await hashPassword(PASSWORD, { ln: 10, r: 8, p: 1 });
  const file = join(dir, 'ftpkit.yaml');
  await writeFile(file, [
    'host: 127.0.0.1',
    'limits: { loginFailureDelay: 0 }',
    's3:',
    ...Object.entries(s3).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    'users:',
    '  - name: alice',
    `    password: '${hash}'`,
    `    root: ${root}`,
  ].join('\n'));
  return file;
}

function goodS3(fx: S3Fixture): Record<string, string | boolean> {
  return {
    endpoint: fx.details.endpoint, region: fx.details.region, accessKeyId: fx.details.accessKeyId,
    secretAccessKey: fx.details.secretAccessKey, forcePathStyle: true,
  };
}

test('curl and lftp through `ftpkit serve` on an s3:// root: multipart upload and download byte-exact, mirror of a tree up and back', peerSkip('curl', 'lftp'), async t => {
  const fx = await s3Fixture(t);
  if (!fx) return;
  const dir = await tempDir(t, 'ftpkit-s3-');
  const serve = await startServeProcess(t, ['--config', await config(dir, fx, goodS3(fx))], 60_000);
  assert.match(serve.stdout(), new RegExp(`user alice: s3://${fx.bucket}/${fx.prefix}alice/`));
  const url = `ftp://127.0.0.1:${serve.port}/`;
  const big = randomBytes(12 * 1024 * 1024 + 1);
  await writeFile(join(dir, 'big.bin'), big);

  const auth = ['-u', `alice:${PASSWORD}`, '-sS'];
  let r = await runCurl([...auth, '-T', join(dir, 'big.bin'), `${url}big.bin`], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, describeRun(r));
  assert.deepEqual(await fx.keys(), ['alice/big.bin']);
  r = await runCurl([...auth, '-o', join(dir, 'curl.bin'), `${url}big.bin`], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, describeRun(r));
  assert.ok((await readFile(join(dir, 'curl.bin'))).equals(big), 'curl download byte-exact');
  r = await runCurl([...auth, '-r', '12582000-', '-o', join(dir, 'tail.bin'), `${url}big.bin`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeRun(r));
  assert.ok((await readFile(join(dir, 'tail.bin'))).equals(big.subarray(12582000)), 'curl ranged download (REST)');

  // lftp: put, get, then a tree with nested folders and odd names mirrored up and back.
  const tree = join(dir, 'tree');
  const files: Record<string, string> = {
    'a.txt': 'a', 'with space.txt': 'spaced', 'ünïcödé.txt': 'utf-8', 'deep/er/x.bin': 'x'.repeat(70_000),
    'deep/y.txt': 'y', '%percent#hash.txt': 'odd',
  };
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(tree, name, '..'), { recursive: true });
    await writeFile(join(tree, name), content);
  }
  const open = lftpOpen({ url, user: 'alice', password: PASSWORD });
  r = await runLftp([
    open, `put ${join(dir, 'big.bin')} -o lftp.bin`, `get lftp.bin -o ${join(dir, 'lftp-back.bin')}`,
    `mirror -R ${tree} /tree`, `mirror /tree ${join(dir, 'back')}`,
  ], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, describeRun(r));
  assert.ok((await readFile(join(dir, 'lftp-back.bin'))).equals(big), 'lftp put/get byte-exact');
  for (const [name, content] of Object.entries(files)) {
    assert.equal(await readFile(join(dir, 'back', name), 'utf8'), content, name);
  }
  assert.deepEqual((await readdir(join(dir, 'back'))).sort(), ['%percent#hash.txt', 'a.txt', 'deep', 'with space.txt', 'ünïcödé.txt'].sort());
  assert.deepEqual(await fx.uploads(), [], 'no multipart upload left behind');
});

test('a missing bucket and refused credentials are clear start-up errors (serve --check exit 2, serve exits before listening)', async t => {
  const fx = await s3Fixture(t);
  if (!fx) return;
  const dir = await tempDir(t, 'ftpkit-s3-');
  const cases = [
    { s3: goodS3(fx), root: 's3://no-such-bucket-ftpkit/', want: /users\.0\.root.*no such bucket "no-such-bucket-ftpkit"/ },
    { s3: { ...goodS3(fx), secretAccessKey: 'wrong-secret' }, root: undefined, want: /users\.0\.root.*secret key does not match/ },
    { s3: { ...goodS3(fx), accessKeyId: 'NOSUCHACCESSKEY00000' }, root: undefined, want: /users\.0\.root.*access key is not known/ },
  ];
  for (const [i, c] of cases.entries()) {
    const file = await config(dir, fx, c.s3, c.root);
    const check = await runFtpkit(['serve', '--config', file, '--check'], { env: { FTPKIT_ALLOW_ROOT: '1' } });
    assert.equal(check.code, 2, describeCli(check));
    assert.match(check.stderr, c.want, describeCli(check));
    if (i > 0) continue; // `serve` runs the same check (checkRoots): once is enough to see it stops there
    const serve = await runFtpkit(['serve', '--config', file, '--port', '0'], { env: { FTPKIT_ALLOW_ROOT: '1' } });
    assert.notEqual(serve.code, 0, describeCli(serve));
    assert.match(serve.stderr, c.want, describeCli(serve));
    assert.doesNotMatch(serve.stderr, /\n\s+at /, 'no stack trace');
  }
});
