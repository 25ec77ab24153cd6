/**
 * Listings of an S3-backed node that span several ListObjectsV2 pages (1,000 keys each;
 * docs/server.md#s3-compatible-storage): a tree with 1,000 small files in one folder (plus its marker, so
 * the folder is 1,001 keys: two pages), nested folders and odd names, mirrored both ways by our client
 * (`ftpkit mirror`) and lftp's `mirror` through `ftpkit serve --config` with an `s3://` root on Ceph's
 * radosgw (services/radosgw.ts). The trees that come back equal the tree sent, and the bucket holds
 * exactly the keys expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { startServeProcess } from '../support/serve-process.js';
import { runFtpkit, describeCli } from '../support/ftpkit-cli.js';
import { describeRun, peerSkip, runLftp } from '../support/peers.js';
import { s3Fixture } from '../support/s3-fixture.js';
import { tempDir } from '../support/temp-dir.js';

const FILES = 1000;

/** Every file under `dir` (relative paths, sorted) with its content. */
async function tree(dir: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push([relative(dir, join(e.parentPath, e.name)), await readFile(join(e.parentPath, e.name), 'utf8')]);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

test(`ftpkit mirror and lftp mirror, both ways, against an S3-backed node: ${FILES} files in one folder, nested folders, odd names`, peerSkip('lftp'), async t => {
  const fx = await s3Fixture(t);
  if (!fx) return;
  const dir = await tempDir(t, 'ftpkit-s3-mirror-');
  const config = join(dir, 'ftpkit.yaml');
  await writeFile(config, [
    'host: 127.0.0.1',
    's3:',
    `  endpoint: ${JSON.stringify(fx.details.endpoint)}`,
    `  region: ${JSON.stringify(fx.details.region)}`,
    `  accessKeyId: ${JSON.stringify(fx.details.accessKeyId)}`,
    `  secretAccessKey: ${JSON.stringify(fx.details.secretAccessKey)}`,
    '  forcePathStyle: true',
    `anonymous: { enabled: true, write: true, root: "s3://${fx.bucket}/${fx.prefix}" }`,
  ].join('\n') + '\n');
  const serve = await startServeProcess(t, ['--config', config], 60_000);
  const url = `ftp://127.0.0.1:${serve.port}`;

  const src = join(dir, 'src');
  const files: Record<string, string> = {
    'with space.txt': 'spaced', 'ünïcödé.txt': 'utf-8', '%percent#hash.txt': 'odd', '-dash.txt': 'dash',
    'a/b c/d/deep.txt': 'deep', 'a/x.txt': 'x',
  };
  for (let i = 0; i < FILES; i++) files[`many/f-${String(i).padStart(4, '0')}.txt`] = `file ${i}\n`;
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(src, name, '..'), { recursive: true });
    await writeFile(join(src, name), content);
  }
  const want = await tree(src);
  assert.equal(want.length, FILES + 6);

  // Up with our client, down with lftp.
  let cli = await runFtpkit(['mirror', '--reverse', '--parallel', '4', src, `${url}/one`], { timeoutMs: 240_000 });
  assert.equal(cli.code, 0, describeCli(cli));
  const keys = (await fx.keys()).filter(k => k.startsWith('one/many/'));
  assert.equal(keys.filter(k => k !== 'one/many/').length, FILES, `the bucket holds the ${FILES} files`);
  let r = await runLftp([`open ${url}`, `mirror --parallel=4 /one ${join(dir, 'lftp-back')}`], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, describeRun(r));
  assert.deepEqual(await tree(join(dir, 'lftp-back')), want, 'lftp mirror brings back the tree ftpkit mirror sent (listings paginated)');

  // Up with lftp, down with our client.
  r = await runLftp([`open ${url}`, `mirror -R --parallel=4 ${src} /two`], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, describeRun(r));
  cli = await runFtpkit(['mirror', '--parallel', '4', `${url}/two`, join(dir, 'ftpkit-back')], { timeoutMs: 240_000 });
  assert.equal(cli.code, 0, describeCli(cli));
  assert.deepEqual(await tree(join(dir, 'ftpkit-back')), want, 'ftpkit mirror brings back the tree lftp mirror sent (listings paginated)');

  // One listing of the 1,000-file folder (NLST through our client): every name once.
  cli = await runFtpkit(['ls', `${url}/two/many/`], { timeoutMs: 60_000 });
  assert.equal(cli.code, 0, describeCli(cli));
  const names = cli.stdout.split('\n').filter(l => /f-\d{4}\.txt/.test(l));
  assert.equal(names.length, FILES, 'the listing of the folder has every file once');
  assert.deepEqual(await fx.uploads(), [], 'no multipart upload left behind');
});
