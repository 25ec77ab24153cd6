// Mirror a tree with odd names up to and back down from real servers (vsftpd, pure-ftpd, proftpd,
// pyftpdlib) with two connections; a second run of each direction transfers nothing. Exercises the LIST
// (vsftpd) and MLSD (pure-ftpd, proftpd, pyftpdlib) paths of the listing parser on real output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FtpClient } from '../../src/client/ftp-client.js';
import { mirror, type TreeEvent } from '../../src/client/tree/index.js';
import {
  ODD_TREE, requirePeer, startProftpd, startPureFtpd, startPyftpdlib, startVsftpd, treeDigest, writeTree,
  type PeerName, type PeerServer,
} from '../support/peers.js';

const launchers: [PeerName, () => Promise<PeerServer>][] = [
  ['vsftpd', () => startVsftpd()],
  ['pure-ftpd', () => startPureFtpd()],
  ['proftpd', () => startProftpd()],
  ['pyftpdlib', () => startPyftpdlib()],
];

for (const [name, launch] of launchers) {
  test(`mirror up and down against ${name}`, async t => {
    if (!requirePeer(t, name)) return;
    const server = await launch();
    t.after(() => server.stop());
    const work = await mkdtemp(path.join(tmpdir(), `ftpkit-mirror-${name}-`));
    t.after(() => rm(work, { recursive: true, force: true }));
    const src = path.join(work, 'src');
    await writeTree(src, ODD_TREE);

    const options = { host: server.host, port: server.port, user: server.user, password: server.password, timeouts: { commandMs: 15_000, dataMs: 15_000 } };
    const clients: FtpClient[] = [];
    const connect = async () => { const c = await FtpClient.connect(options); clients.push(c); return c; };
    t.after(() => { for (const c of clients) c.destroy(); });
    const client = await connect();
    const events: TreeEvent[] = [];
    const onEvent = (e: TreeEvent) => events.push(e);
    const remoteDir = `${server.uploadDir}/tree`;
    const fail = async (what: string, r: { failures: { action: unknown; error: Error }[] }) =>
      `${what}: ${JSON.stringify(r.failures.map(f => [f.action, f.error.message]))}\n${JSON.stringify(events.filter(e => e.type === 'refused'))}\n${await server.logs()}`;

    const up = await mirror(client, { direction: 'upload', remoteDir, localDir: src, parallel: 2, connect, onEvent });
    assert.equal(up.failures.length, 0, await fail('upload', up));
    assert.deepEqual(await treeDigest(path.join(server.localUploadDir, 'tree')), await treeDigest(src));
    const upAgain = await mirror(client, { direction: 'upload', remoteDir, localDir: src, parallel: 2, connect });
    assert.equal(upAgain.transferred, 0, JSON.stringify(upAgain.actions));

    const down = path.join(work, 'down');
    const r = await mirror(client, { remoteDir, localDir: down, parallel: 2, connect, onEvent });
    assert.equal(r.failures.length, 0, await fail('download', r));
    assert.equal(r.refused, 0);
    assert.deepEqual(await treeDigest(down), await treeDigest(src));
    const downAgain = await mirror(client, { remoteDir, localDir: down, parallel: 2, connect });
    assert.equal(downAgain.transferred, 0, JSON.stringify(downAgain.actions));
  });
}
