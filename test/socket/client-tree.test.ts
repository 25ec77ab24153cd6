// Tree operations of the client against our own server (LocalStorage on a temp folder): mirror a nested
// tree down and up, with parallel connections, unchanged files skipped, delete of extras, dry run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, mkdir, writeFile, readFile, readdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FtpClient } from '../../src/client/ftp-client.js';
import { mirror, downloadTree, type TreeEvent } from '../../src/client/tree/index.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { startServer } from '../support/server-harness.js';
import { startFakeServer } from '../support/fake-server.js';
import { tempDir } from '../support/temp-dir.js';

type T = { after: (fn: () => unknown) => void };

/** name -> content of every file below dir (relative, "/"-separated), and the folders with a trailing "/". */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const parent = (e as unknown as { parentPath?: string; path: string }).parentPath ?? (e as unknown as { path: string }).path;
    const rel = path.relative(dir, path.join(parent, e.name)).split(path.sep).join('/');
    out[e.isDirectory() ? `${rel}/` : rel] = e.isDirectory() ? '' : (await readFile(path.join(dir, rel))).toString('base64');
  }
  return out;
}

async function makeTree(root: string): Promise<void> {
  await mkdir(path.join(root, 'a/b/c'), { recursive: true });
  await mkdir(path.join(root, 'empty dir'), { recursive: true });
  await mkdir(path.join(root, 'x y'), { recursive: true });
  await writeFile(path.join(root, 'top.txt'), 'top\n');
  await writeFile(path.join(root, 'a/one.bin'), randomBytes(70_000));
  await writeFile(path.join(root, 'a/b/two.txt'), 'two');
  await writeFile(path.join(root, 'a/b/c/three.bin'), randomBytes(300_000));
  await writeFile(path.join(root, 'x y/sp ace;semi.txt'), 'odd name');
  for (let i = 0; i < 6; i++) await writeFile(path.join(root, 'a', `f${i}.dat`), randomBytes(10_000 + i));
}

async function setup(t: T) {
  const serverRoot = await tempDir(t, 'ftpkit-srv-');
  const h = await startServer({ storage: new LocalStorage(serverRoot) });
  t.after(() => h.close());
  const options = { host: h.host, port: h.port, user: 'test', password: 'test' };
  const clients: FtpClient[] = [];
  const connect = async () => { const c = await FtpClient.connect(options); clients.push(c); return c; };
  const client = await connect();
  t.after(() => { for (const c of clients) c.destroy(); });
  return { serverRoot, client, connect, clients };
}

test('mirror down a nested tree with 3 connections, then nothing to do, then changes and --delete', async t => {
  const { serverRoot, client, connect, clients } = await setup(t);
  await makeTree(path.join(serverRoot, 'site'));
  const local = path.join(await tempDir(t, 'ftpkit-local-'), 'copy');
  const events: TreeEvent[] = [];
  const r1 = await mirror(client, { remoteDir: 'site', localDir: local, parallel: 3, connect, onEvent: e => events.push(e) });
  assert.deepEqual(r1.failures, []);
  assert.equal(r1.transferred, 11);
  assert.deepEqual(await snapshot(local), await snapshot(path.join(serverRoot, 'site')));
  const workers = new Set(events.flatMap(e => (e.type === 'action-done' && e.action.kind === 'transfer' ? [e.worker] : [])));
  assert.ok(workers.size >= 2, `transfers ran on ${workers.size} connection(s)`);
  assert.equal(clients.length, 3);

  const r2 = await mirror(client, { remoteDir: 'site', localDir: local, parallel: 3, connect });
  assert.equal(r2.transferred, 0);
  assert.equal(r2.skipped, 11);

  await writeFile(path.join(serverRoot, 'site/a/b/two.txt'), 'two, longer now');
  await rm(path.join(serverRoot, 'site/top.txt'));
  await rm(path.join(serverRoot, 'site/a/b/c'), { recursive: true });
  await writeFile(path.join(local, 'local-only.txt'), 'x');
  const r3 = await mirror(client, { remoteDir: 'site', localDir: local, delete: true });
  assert.deepEqual(r3.failures, []);
  assert.equal(r3.transferred, 1);
  assert.equal(r3.deleted, 3); // top.txt, a/b/c (with its file), local-only.txt
  assert.deepEqual(await snapshot(local), await snapshot(path.join(serverRoot, 'site')));
});

test('mirror up a nested tree with 2 connections, unchanged skipped, extras deleted on the server', async t => {
  const { serverRoot, client, connect } = await setup(t);
  const src = await tempDir(t, 'ftpkit-src-');
  await makeTree(src);
  // Old local times: the remote copies get their times by MFMT, so the second run compares equal.
  const old = new Date(Date.UTC(2020, 4, 5, 6, 7, 8));
  await utimes(path.join(src, 'top.txt'), old, old);
  const r1 = await mirror(client, { direction: 'upload', remoteDir: 'up/site', localDir: src, parallel: 2, connect });
  assert.deepEqual(r1.failures, []);
  assert.equal(r1.transferred, 11);
  assert.deepEqual(await snapshot(path.join(serverRoot, 'up/site')), await snapshot(src));
  assert.equal((await client.modifiedAt('up/site/top.txt')).getTime(), old.getTime());

  const r2 = await mirror(client, { direction: 'upload', remoteDir: 'up/site', localDir: src, parallel: 2, connect });
  assert.equal(r2.transferred, 0);
  assert.equal(r2.skipped, 11);

  await writeFile(path.join(serverRoot, 'up/site/stale.txt'), 'stale');
  await mkdir(path.join(serverRoot, 'up/site/stale dir/deeper'), { recursive: true });
  await writeFile(path.join(serverRoot, 'up/site/stale dir/deeper/f'), 'f');
  await writeFile(path.join(src, 'a/b/two.txt'), 'changed locally');
  const dry = await mirror(client, { direction: 'upload', remoteDir: 'up/site', localDir: src, delete: true, dryRun: true });
  assert.deepEqual(dry.actions.filter(a => a.kind !== 'skip').map(a => `${a.kind} ${a.rel}`).sort(),
    ['delete-dir stale dir', 'delete-file stale.txt', 'transfer a/b/two.txt']);
  assert.ok((await readdir(path.join(serverRoot, 'up/site'))).includes('stale.txt'));
  const r3 = await mirror(client, { direction: 'upload', remoteDir: 'up/site', localDir: src, delete: true });
  assert.deepEqual(r3.failures, []);
  assert.equal(r3.transferred, 1);
  assert.equal(r3.deleted, 2);
  assert.deepEqual(await snapshot(path.join(serverRoot, 'up/site')), await snapshot(src));
});

test('downloadTree of a folder that does not exist fails with the server reply and writes nothing', async t => {
  const { client } = await setup(t);
  const local = path.join(await tempDir(t, 'ftpkit-local-'), 'nothing');
  await assert.rejects(downloadTree(client, 'no/such/dir', local), (e: unknown) => (e as { replyCode?: number }).replyCode === 550);
  await assert.rejects(readdir(local), { code: 'ENOENT' });
});

test('a download cut off mid-transfer leaves no file that looks complete, and the mirror reports it', async t => {
  // The fake lists two files; RETR of one sends half its bytes, then 426 (RFC 959 s4.2: transfer aborted).
  const fake = await startFakeServer({
    mlsd: 'type=file;size=10;modify=20240115103000; good.txt\r\ntype=file;size=100000;modify=20240115103000; cut.bin\r\n',
    files: { 'good.txt': '0123456789' },
    commands: {
      FEAT: '211-Features:\r\n EPSV\r\n MLST type*;size*;modify*;\r\n SIZE\r\n211 End',
      RETR: cmd => cmd.arg === 'cut.bin'
        ? { transfer: { send: Buffer.alloc(50_000, 1), final: '426 Connection closed; transfer aborted.' } }
        : { transfer: { send: '0123456789' } },
    },
  });
  t.after(() => fake.close());
  const client = await FtpClient.connect({ host: '127.0.0.1', port: fake.port, timeouts: { commandMs: 5000, dataMs: 5000 } });
  t.after(() => client.destroy());
  const local = await tempDir(t, 'ftpkit-cut-');
  const r = await downloadTree(client, '', local);
  assert.equal(r.transferred, 1);
  assert.equal(r.failures.length, 1);
  assert.equal(r.failures[0].action.rel, 'cut.bin');
  assert.equal((r.failures[0].error as { replyCode?: number }).replyCode, 426);
  assert.deepEqual(await readdir(local), ['good.txt']); // no cut.bin, no leftover temporary file
  assert.ok(fake.verbs().includes('MLSD'));
});

test('mirror takes each file size from the listing: no SIZE per file, and progress still has the total', async t => {
  const { serverRoot, client } = await setup(t);
  await makeTree(path.join(serverRoot, 'site'));
  const local = path.join(await tempDir(t, 'ftpkit-local-'), 'copy');
  const commands: string[] = [];
  const totals = new Map<string, number | undefined>();
  client.on('command', (e: { command: string }) => commands.push(e.command));
  // A progress listener is what makes a download ask SIZE (a progress bar wants the total).
  client.on('progress', (e: { path: string; total?: number; done: boolean }) => { if (e.done) totals.set(e.path, e.total); });
  const r = await mirror(client, { remoteDir: 'site', localDir: local });
  assert.deepEqual(r.failures, []);
  assert.equal(r.transferred, 11);
  assert.deepEqual(commands.filter(c => c.startsWith('SIZE')), []);
  assert.equal(totals.get('site/a/b/c/three.bin'), 300_000);
  assert.deepEqual(await snapshot(local), await snapshot(path.join(serverRoot, 'site')));
});
