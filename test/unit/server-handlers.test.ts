/**
 * Command handlers through the narrow CommandContext, without a session or a socket
 * (test/support/fake-command-context.ts): the verbs with the most rules, REST/STOR/APPE/STOU, RNFR/RNTO,
 * PORT/EPRT/EPSV, each with its refusals and the state changes it makes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Readable, Writable } from 'node:stream';
import type { HandlerResult, Outcome } from '../../src/server/commands/contract.js';
import { READ_WRITE } from '../../src/server/auth/types.js';
import { MemoryStorage } from '../../src/server/storage/memory.js';
import type { FileInfo, Storage } from '../../src/server/storage/types.js';
import type { TransferRequest } from '../../src/server/transfer.js';
import { fakeContext as fake } from '../support/fake-command-context.js';
import type { FakeContextOptions } from '../support/fake-command-context.js';
import { objectStore } from '../support/object-store.js';

/** A fake context whose slot holds a data channel before each command, as after PASV. */
function fakeContext(o: FakeContextOptions = {}) {
  const f = fake(o);
  return { ...f, run: (line: string) => { f.prepareDataChannel(); return f.run(line); } };
}

/** The reply of a one-reply result, as "code text". */
function said(r: HandlerResult): string {
  const one = 'kind' in r ? (r.kind === 'outcome' ? r.replies[r.replies.length - 1] : undefined) : r;
  assert.ok(one, `expected a reply, got a ${'kind' in r ? r.kind : '?'}`);
  return `${one.code} ${one.lines.join('\n')}`;
}

function transfer(r: HandlerResult): TransferRequest {
  assert.ok('kind' in r && r.kind === 'transfer', `expected a transfer, got ${'kind' in r ? r.kind : said(r)}`);
  return r;
}

function close(t: TransferRequest): void {
  (t.sink as Writable | undefined)?.destroy();
  (t.source as Readable | undefined)?.destroy();
}

test('REST: a decimal offset is kept in the state; anything else is 501 and changes nothing', async () => {
  const { ctx, run } = fakeContext();
  assert.equal(said(await run('REST abc')), '501 REST needs a byte offset');
  assert.equal(said(await run('REST -1')), '501 REST needs a byte offset');
  assert.equal(ctx.state.restOffset, 0);
  assert.equal(said(await run('REST 100')), '350 Restarting at 100. Send STOR or RETR');
  assert.equal(ctx.state.restOffset, 100);
});

test('STOR: a plain upload replaces; REST resumes at the offset; the path is resolved against the working directory', async () => {
  const storage = new MemoryStorage();
  storage.writeFile('/d/f.txt', '0123456789');
  const { ctx, run } = fakeContext({ storage });
  ctx.state.cwd = '/d';
  const plain = transfer(await run('STOR new.txt'));
  assert.deepEqual([plain.direction, plain.path, plain.offset, plain.ascii], ['upload', '/d/new.txt', 0, true]);
  assert.equal(plain.openingText, 'Opening ASCII mode data connection for /d/new.txt');
  close(plain);
  ctx.state.restOffset = 4;
  ctx.state.type = 'I';
  const resumed = transfer(await run('STOR f.txt'));
  assert.deepEqual([resumed.path, resumed.offset, resumed.ascii], ['/d/f.txt', 4, false]);
  await new Promise<void>((resolve, reject) => (resumed.sink as Writable).end(Buffer.from('AB'), (err?: Error | null) => (err ? reject(err) : resolve())));
  assert.equal(storage.readFile('/d/f.txt').toString(), '0123AB', 'the first 4 bytes kept, the rest written from there');
});

test('STOR refusals: REST needs the append permission, a file as long as the offset, and a storage that can resume', async () => {
  const base = new MemoryStorage();
  base.writeFile('/f.txt', '0123456789');
  const noAppend = fakeContext({ storage: base, permissions: { ...READ_WRITE, append: false } });
  noAppend.ctx.state.restOffset = 2;
  assert.equal(said(await noAppend.run('STOR f.txt')), '550 Permission denied');

  const beyond = fakeContext({ storage: base });
  beyond.ctx.state.restOffset = 11;
  assert.equal(said(await beyond.run('STOR f.txt')), '554 Restart offset 11 is beyond the end of /f.txt (10 bytes)');
  assert.equal(said(await beyond.run('STOR missing.txt')), '554 Restart offset 11 is beyond the end of /missing.txt (0 bytes)');

  const store = fakeContext({ storage: objectStore(base) });
  store.ctx.state.restOffset = 2;
  assert.match(said(await store.run('STOR f.txt')), /^554 Restart offset 2 refused: this storage cannot resume an upload/);
  // Without REST the same storage takes the upload.
  store.ctx.state.restOffset = 0;
  close(transfer(await store.run('STOR f.txt')));

  const nul = fakeContext({ storage: base });
  assert.equal(said(await nul.run('STOR a\0b')), '553 File name not allowed');
});

test('STOR storage failures are answered by the dispatcher, naming the path', async () => {
  const storage = new MemoryStorage();
  await storage.mkdir('/dir');
  const { run, errors } = fakeContext({ storage });
  assert.equal(said(await run('STOR dir')), '550 /dir: Is a directory');
  assert.equal(said(await run('STOR nowhere/x')), '550 /nowhere/x: No such file or directory');
  assert.equal(errors.length, 0, 'expected storage outcomes are not session errors');
});

test('APPE: appends where the storage can, 502 where it cannot, 550 without the permission', async () => {
  const base = new MemoryStorage();
  const ok = transfer(await fakeContext({ storage: base }).run('APPE log.txt'));
  assert.deepEqual([ok.direction, ok.path, ok.offset], ['upload', '/log.txt', 0]);
  close(ok);
  assert.equal(said(await fakeContext({ storage: objectStore(base) }).run('APPE log.txt')), '502 APPE not supported by this storage');
  assert.equal(said(await fakeContext({ storage: base, permissions: { ...READ_WRITE, append: false } }).run('APPE log.txt')), '550 Permission denied');
});

test('STOU: a new unique name in the working directory, named in the 150; a REST offset does not apply to it', async () => {
  const storage = new MemoryStorage();
  await storage.mkdir('/in');
  const { ctx, run } = fakeContext({ storage });
  ctx.state.cwd = '/in';
  ctx.state.restOffset = 1;
  const t = transfer(await run('STOU report'));
  assert.match(t.path, /^\/in\/report\.[0-9a-f]{8}$/);
  assert.equal(t.offset, 0);
  assert.equal(t.openingText, `FILE: ${t.path.slice(4)}`);
  // Atomic uploads (the default): the unique name appears when the upload completes, never before.
  assert.equal(storage.exists(t.path), false, 'nothing under the name while the upload runs');
  await new Promise<void>((resolve, reject) => (t.sink as Writable).end('r', () => resolve()).once('error', reject));
  assert.equal(storage.readFile(t.path).toString(), 'r', 'created when complete');
  const unnamed = transfer(await run('STOU'));
  assert.match(unnamed.path, /^\/in\/ftpkit\.[0-9a-f]{8}$/);
  close(unnamed);
  assert.equal(said(await fakeContext({ storage, permissions: { ...READ_WRITE, write: false } }).run('STOU')), '550 Permission denied');
});

test('RNFR: remembers an existing path; refuses the root and a missing path', async () => {
  const storage = new MemoryStorage();
  storage.writeFile('/a.txt', 'a');
  const { ctx, run } = fakeContext({ storage });
  assert.equal(said(await run('RNFR /')), '550 Permission denied');
  assert.equal(said(await run('RNFR missing')), '550 /missing: No such file or directory');
  assert.equal(ctx.state.renameFrom, undefined);
  assert.equal(said(await run('RNFR a.txt')), '350 Ready for RNTO');
  assert.equal(ctx.state.renameFrom, '/a.txt');
});

test('RNTO: needs RNFR first, refuses the root, renames, and names the target in a storage failure', async () => {
  const storage = new MemoryStorage();
  storage.writeFile('/a.txt', 'a');
  const { ctx, run } = fakeContext({ storage });
  assert.equal(said(await run('RNTO b.txt')), '503 RNFR required first');
  ctx.state.renameFrom = '/a.txt';
  assert.equal(said(await run('RNTO /')), '553 File name not allowed');
  assert.equal(said(await run('RNTO no/such/b.txt')), '550 /no/such/b.txt: No such file or directory');
  assert.equal(said(await run('RNTO b.txt')), '250 Rename successful');
  assert.equal(storage.readFile('/b.txt').toString(), 'a');
  const noRename = fakeContext({ storage, permissions: { ...READ_WRITE, rename: false } });
  assert.equal(said(await noRename.run('RNFR b.txt')), '550 Permission denied');
});

test('PORT: only back to the client, never to a privileged port, IPv4 only; success prepares an active channel', async () => {
  const { ctx, run } = fake({ remoteAddress: '127.0.0.1' });
  assert.equal(said(await run('PORT 1,2,3')), '501 Illegal PORT command');
  assert.equal(said(await run('PORT 192,0,2,7,156,64')), "504 PORT refused: I won't open a connection to 192.0.2.7 (only to 127.0.0.1)");
  assert.equal(said(await run('PORT 127,0,0,1,0,25')), '504 PORT refused: port 25 is below 1024');
  assert.equal(ctx.dataChannel.prepared, false);
  assert.equal(said(await run('PORT 127,0,0,1,156,64')), '200 PORT command successful. Consider using EPSV');
  assert.equal(ctx.dataChannel.prepared, true);
  assert.equal(ctx.dataChannel.describe(), 'active to 127.0.0.1:40000');
  ctx.dataChannel.close();
  const v6 = fake({ remoteAddress: '::1', localAddress: '::1' });
  assert.equal(said(await v6.run('PORT 127,0,0,1,156,64')), '522 PORT needs an IPv4 connection; use EPRT (2)');
});

test('EPRT: protocol and family checks (RFC 2428 s2), the unspecified address means the client', async () => {
  const { ctx, run } = fake({ remoteAddress: '127.0.0.1' });
  assert.equal(said(await run('EPRT |3|x|40000|')), '522 Network protocol not supported, use (1,2)');
  assert.equal(said(await run('EPRT garbage')), '501 Illegal EPRT command');
  assert.equal(said(await run('EPRT |2|::1|40000|')), '522 Network protocol not supported, use (1)');
  assert.equal(said(await run('EPRT |1|192.0.2.7|40000|')), "504 EPRT refused: I won't open a connection to 192.0.2.7 (only to 127.0.0.1)");
  assert.equal(ctx.dataChannel.prepared, false);
  assert.equal(said(await run('EPRT |1|0.0.0.0|40000|')), '200 EPRT command successful. Consider using EPSV');
  assert.equal(ctx.dataChannel.describe(), 'active to 127.0.0.1:40000');
  ctx.dataChannel.close();
});

test('EPSV: family checks, EPSV ALL turns PASV/PORT/EPRT away, a listener is prepared and its rule told', async () => {
  const { ctx, run } = fake({ options: { passive: { portRange: { min: 1024, max: 65535 } } } });
  assert.equal(said(await run('EPSV x')), '501 Usage: EPSV [1|2|ALL]');
  assert.equal(said(await run('EPSV 2')), '522 Network protocol not supported, use (1)');
  const r = await run('EPSV');
  const port = Number(/\(\|\|\|(\d+)\|\)/.exec(said(r))?.[1]);
  assert.ok(port >= 1024, said(r));
  assert.deepEqual((r as Outcome).detail, { passive: { port, listenPort: port, rule: 'listened port' } });
  assert.equal(ctx.dataChannel.describe(), `passive on port ${port}`);
  assert.equal(said(await run('EPSV ALL')), '200 EPSV ALL ok');
  assert.equal(ctx.state.epsvAll, true);
  for (const line of ['PASV', 'PORT 127,0,0,1,156,64', 'EPRT |1|127.0.0.1|40000|']) {
    assert.equal(said(await run(line)), '503 EPSV ALL in effect: only EPSV may set up data connections', line);
  }
  assert.equal(ctx.dataChannel.prepared, true, 'the refused commands left the EPSV listener alone');
  ctx.dataChannel.close();
});

test('a storage error that is not a storage outcome is still answered 451 without its text, and reported', async () => {
  const broken: Storage = Object.assign(objectStore(new MemoryStorage()), {
    stat: async (): Promise<FileInfo> => { throw new Error('EIO: /host/disk/failed'); },
  });
  const { run, errors } = fakeContext({ storage: broken });
  assert.equal(said(await run('RNFR x')), '451 /x: Local error in processing');
  assert.equal(errors.length, 1);
});
