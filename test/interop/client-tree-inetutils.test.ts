/**
 * Tree operations of the CLI against GNU inetutils ftpd, which hands LIST's argument to /bin/ls: a folder
 * whose name has a space lists as empty unless the client enters it (CWD + LIST), and a folder ls may not
 * read lists as empty with 226. `mirror`, `rm -r` and `mirror --delete --dry-run` must never take such an
 * empty listing for an empty folder when the server shows otherwise: the parent's link count says the
 * folder has subfolders, or the server answers SIZE for a local file that the listing left out.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { peerSkip } from '../support/peers.js';
import { startInetutilsFtpd, type InetutilsPeer } from '../support/peers-inetutils.js';
import { runFtpkit, type CliResult } from '../support/ftpkit-cli.js';
import { tempDir } from '../support/temp-dir.js';

const FILES = {
  'site/top.txt': 'top\n',
  'site/my dir/a.txt': 'a\n',
  'site/my dir/sub folder/b.txt': 'b\n',
};

/** Root-owned folders with mode 0711: the ftp account may enter them but /bin/ls may not read them. */
async function lockFolder(root: string, rel: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel, name)), { recursive: true });
    await writeFile(path.join(root, rel, name), content);
  }
  await chown(path.join(root, rel), 0, 0);
  await chmod(path.join(root, rel), 0o711);
}

async function start(t: { after(fn: () => unknown): void }, prepare?: (root: string) => Promise<void>): Promise<InetutilsPeer> {
  const server = await startInetutilsFtpd({ files: FILES, prepare });
  t.after(() => server.stop());
  return server;
}

function cli(server: InetutilsPeer, args: string[]): Promise<CliResult> {
  return runFtpkit(args.map((a) => a.replace('URL', server.url)), { timeoutMs: 60000 });
}

function explain(r: CliResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

describe('CLI tree operations -> inetutils-ftpd', peerSkip('inetutils-ftpd'), () => {
  test('mirror of a tree with folders whose names have spaces copies every file', async (t) => {
    const server = await start(t);
    const local = path.join(await tempDir(t), 'copy');
    const r = await cli(server, ['mirror', 'URL/site', local]);
    assert.equal(r.code, 0, explain(r));
    assert.equal(await readFile(path.join(local, 'my dir/sub folder/b.txt'), 'utf8'), 'b\n');
    assert.equal(await readFile(path.join(local, 'my dir/a.txt'), 'utf8'), 'a\n');
  });

  test('rm -r of a folder whose name has a space removes all of it', async (t) => {
    const server = await start(t);
    const r = await cli(server, ['rm', '-r', 'URL/site/my dir']);
    assert.equal(r.code, 0, explain(r));
    assert.ok(!existsSync(path.join(server.root, 'site/my dir')));
  });

  test('mirror --delete --dry-run with an unchanged copy proposes nothing', async (t) => {
    const server = await start(t);
    const local = path.join(await tempDir(t), 'copy');
    assert.equal((await cli(server, ['mirror', 'URL/site', local])).code, 0);
    const r = await cli(server, ['mirror', '--delete', '--dry-run', 'URL/site', local]);
    assert.equal(r.code, 0, explain(r));
    assert.doesNotMatch(r.stdout, /would delete/);
  });

  test('a folder that lists empty although its link count shows subfolders fails the mirror', async (t) => {
    const server = await start(t, (root) => lockFolder(root, 'site/z locked dir', { 'x.txt': 'x\n', 'inner/y.txt': 'y\n' }));
    const local = path.join(await tempDir(t), 'copy');
    const r = await cli(server, ['mirror', 'URL/site', local]);
    assert.notEqual(r.code, 0, explain(r));
    assert.match(r.stderr, /locked dir/, explain(r));
    assert.match(r.stderr, /empty/, explain(r));
  });

  test('rm -r stops before deleting anything when a folder inside lists empty but is not', async (t) => {
    const server = await start(t, (root) => lockFolder(root, 'site/z locked dir', { 'x.txt': 'x\n', 'inner/y.txt': 'y\n' }));
    const r = await cli(server, ['rm', '-r', 'URL/site']);
    assert.notEqual(r.code, 0, explain(r));
    assert.match(r.stderr, /locked dir/, explain(r));
    assert.ok(existsSync(path.join(server.root, 'site/top.txt')), 'nothing was deleted');
    assert.ok(existsSync(path.join(server.root, 'site/my dir/a.txt')), 'nothing was deleted');
  });

  test('mirror --delete --dry-run never proposes deleting local files the server still has', async (t) => {
    // "locked" has only files (link count 2): the listing gives no hint, SIZE of the local files does.
    const server = await start(t, (root) => lockFolder(root, 'site/locked', { 'kept.txt': 'kept\n' }));
    const local = path.join(await tempDir(t), 'copy');
    await mkdir(path.join(local, 'locked'), { recursive: true });
    await writeFile(path.join(local, 'locked/kept.txt'), 'kept\n');
    const r = await cli(server, ['mirror', '--delete', '--dry-run', 'URL/site', local]);
    assert.doesNotMatch(r.stdout, /would delete-file locked\/kept\.txt/, explain(r));
    assert.notEqual(r.code, 0, explain(r));
    assert.match(r.stderr, /locked/, explain(r));
  });
});
