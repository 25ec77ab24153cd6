/**
 * Upload mirror against ftp-srv (npm), which answers 451 (not 550) to LIST of a missing folder and fails
 * a STOR into a missing folder: the mirror creates the folder and tries once more, as lftp recovers, and
 * reports a real failure when the second try fails too.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { rmSync, writeFileSync } from 'node:fs';
import { FtpClient } from '../../src/client/ftp-client.js';
import { mirror, type TreeEvent } from '../../src/client/tree/index.js';
import { makeTempDir, peerSkip } from '../support/peers.js';
import { startFtpSrv, type FtpSrvPeer } from '../support/peers-ftp-srv.js';

async function setup(t: { after(fn: () => unknown): void }, files?: Record<string, string>): Promise<{ server: FtpSrvPeer; client: FtpClient; src: string }> {
  const server = await startFtpSrv({ files });
  t.after(() => server.stop());
  const work = await makeTempDir('ftp-srv-mirror');
  t.after(work.cleanup);
  const src = path.join(work.dir, 'src');
  await mkdir(path.join(src, 'sub'), { recursive: true });
  await writeFile(path.join(src, 'a.txt'), 'a\n');
  await writeFile(path.join(src, 'sub', 'b.txt'), 'b\n');
  const client = new FtpClient({ host: server.host, port: server.port, user: server.user, password: server.password,
    timeouts: { commandMs: 15000, dataMs: 15000 } });
  t.after(() => client.destroy());
  await client.connect();
  return { server, client, src };
}

describe('mirror upload -> ftp-srv', peerSkip('ftp-srv'), () => {
  test('into a folder that does not exist yet (LIST answers 451): created, every file sent', async (t) => {
    const { server, client, src } = await setup(t);
    const r = await mirror(client, { direction: 'upload', remoteDir: '/new/deeper', localDir: src });
    assert.deepEqual(r.failures.map((f) => f.error.message), []);
    assert.equal(r.transferred, 2);
    assert.equal(await readFile(path.join(server.root, 'new/deeper/sub/b.txt'), 'utf8'), 'b\n');
  });

  test('a dry run into a missing folder creates nothing and plans every file', async (t) => {
    const { server, client, src } = await setup(t);
    const r = await mirror(client, { direction: 'upload', remoteDir: '/new', localDir: src, dryRun: true });
    assert.deepEqual(r.actions.filter((a) => a.kind === 'transfer').map((a) => a.rel).sort(), ['a.txt', 'sub/b.txt']);
    await assert.rejects(readFile(path.join(server.root, 'new')), /ENOENT/);
  });

  test('a folder removed during the mirror is created again and the file sent once more', async (t) => {
    const { server, client, src } = await setup(t, { 'site/old.txt': 'old\n' });
    const events: TreeEvent[] = [];
    const r = await mirror(client, {
      direction: 'upload', remoteDir: '/site', localDir: src,
      onEvent: (e) => {
        events.push(e);
        // Someone removes the folder on the server right before the file goes up.
        if (e.type === 'action-start' && e.action.rel === 'sub/b.txt') rmSync(path.join(server.root, 'site/sub'), { recursive: true });
      },
    });
    assert.deepEqual(r.failures.map((f) => f.error.message), []);
    assert.ok(events.some((e) => e.type === 'retrying' && e.action.rel === 'sub/b.txt'), 'the retry is reported');
    assert.equal(await readFile(path.join(server.root, 'site/sub/b.txt'), 'utf8'), 'b\n');
  });

  test('when the folder cannot be made, the file is a reported failure after one retry', async (t) => {
    const { server, client, src } = await setup(t, { 'site/old.txt': 'old\n' });
    let retries = 0;
    const r = await mirror(client, {
      direction: 'upload', remoteDir: '/site', localDir: src,
      onEvent: (e) => {
        if (e.type === 'retrying') retries++;
        if (e.type === 'action-start' && e.action.rel === 'sub/b.txt') {
          // The folder is replaced by a file of the same name: neither MKD nor STOR can succeed.
          rmSync(path.join(server.root, 'site/sub'), { recursive: true });
          writeFileSync(path.join(server.root, 'site/sub'), 'x');
        }
      },
    });
    assert.equal(retries, 1);
    assert.deepEqual(r.failures.map((f) => f.action.rel), ['sub/b.txt']);
    assert.equal(r.transferred, 1);
  });
});
