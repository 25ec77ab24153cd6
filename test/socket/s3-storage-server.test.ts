/**
 * The S3 storage (src/server/storage/s3/) behind ftpkit's server, against Ceph's radosgw (the shared service
 * test/support/services/radosgw.ts), over real control and data connections with our FtpClient and raw
 * commands: byte-exact multipart STOR/RETR, REST as a ranged GET, listings paged past 1000 keys, folders as
 * markers or bare key prefixes, renames as copies, aborted uploads leaving nothing, the start-up sweep, and
 * the capabilities S3 lacks refused cleanly (docs/server.md#s3-compatible-storage).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CreateMultipartUploadCommand, HeadObjectCommand, ListPartsCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { FtpClient } from '../../src/client/index.js';
import { RawControl, openPassive, readAll, startServer, writeAll } from '../support/server-harness.js';
import { s3Fixture, type S3Fixture } from '../support/s3-fixture.js';

const BIG = randomBytes(12 * 1024 * 1024 + 12345);

async function serveS3(t: Parameters<typeof s3Fixture>[0], fx: S3Fixture) {
  const h = await startServer({ storage: fx.storage });
  t.after(() => h.close());
  return h;
}

/** A fixture, the server on it and a raw control connection logged in, in TYPE I; undefined when skipped. */
async function rawSession(t: Parameters<typeof s3Fixture>[0], options: Parameters<typeof s3Fixture>[1] = {}) {
  const fx = await s3Fixture(t, options);
  if (!fx) return undefined;
  const h = await serveS3(t, fx);
  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('TYPE I');
  return { fx, h, c };
}

function sink(): { stream: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return { stream: new Writable({ write(c: Buffer, _e, cb) { parts.push(Buffer.from(c)); cb(); } }), bytes: () => Buffer.concat(parts) };
}

async function ftpClient(t: Parameters<typeof s3Fixture>[0], port: number): Promise<FtpClient> {
  const c = new FtpClient({ host: '127.0.0.1', port, user: 'test', password: 'test', timeouts: { commandMs: 30_000, dataMs: 30_000 } });
  t.after(() => c.destroy());
  await c.connect();
  return c;
}

/** Bounded poll (radosgw answers at once; a busy machine may not). */
async function eventually<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  let last = await get();
  while (!ok(last) && Date.now() < deadline) {
    await delay(100);
    last = await get();
  }
  assert.ok(ok(last), `${what}: ${JSON.stringify(last)}`);
  return last;
}

test('STOR and RETR of 12 MiB (a multipart upload) are byte-exact; REST is a ranged GET; SIZE and MDTM from HeadObject', async t => {
  const fx = await s3Fixture(t);
  if (!fx) return;
  const h = await serveS3(t, fx);
  const c = await ftpClient(t, h.port);
  const before = Date.now();
  await c.upload(Readable.from([BIG.subarray(0, 5_000_000), BIG.subarray(5_000_000)]), '/big.bin');
  assert.deepEqual(await fx.keys(), ['big.bin']);
  assert.deepEqual(await fx.uploads(), [], 'the multipart upload was completed');
  const head = await fx.raw.send(new HeadObjectCommand({ Bucket: fx.bucket, Key: `${fx.prefix}big.bin` }));
  assert.match(head.ETag ?? '', /-\d+"?$/, 'stored as a multipart object (ETag "md5-parts")');

  const down = sink();
  await c.download('/big.bin', down.stream);
  assert.ok(down.bytes().equals(BIG), 'RETR byte-exact');
  assert.equal(await c.size('/big.bin'), BIG.length);
  const mtime = await c.modifiedAt('/big.bin');
  assert.ok(Math.abs(mtime.getTime() - before) < 120_000, `MDTM ${mtime.toISOString()} is the upload time`);

  const raw = await RawControl.login(h);
  t.after(() => raw.close());
  await raw.send('TYPE I');
  const data = await openPassive(raw);
  assert.equal((await raw.send('REST 7340033')).code, 350);
  assert.equal((await raw.send('RETR big.bin')).code, 150);
  const [got, done] = await Promise.all([readAll(data), raw.read()]);
  assert.equal(done.code, 226);
  assert.ok(got.equals(BIG.subarray(7340033)), 'REST + RETR sends the rest, byte-exact');
  assert.equal((await raw.send('SIZE nope.bin')).code, 550);
});

test('LIST, MLSD and NLST page through a folder of 1,010 keys (ListObjectsV2, delimiter "/"): its own entries only', async t => {
  const fx = await s3Fixture(t);
  if (!fx) return;
  const names = Array.from({ length: 1010 }, (_, i) => `f${String(i).padStart(4, '0')}.txt`);
  for (let i = 0; i < names.length; i += 100) {
    await Promise.all(names.slice(i, i + 100).map((n) => fx.put(`many/${n}`, n)));
  }
  await fx.put('many/sub/deeper/x.txt', 'deep');
  const h = await serveS3(t, fx);
  const c = await ftpClient(t, h.port);
  const listed = await c.list('/many');
  assert.equal(listed.length, 1011);
  assert.deepEqual(listed.filter((e) => e.type === 'dir').map((e) => e.name), ['sub']);
  assert.equal(listed.find((e) => e.name === 'f1009.txt')?.size, 'f1009.txt'.length);
  const nlst = await c.nameList('/many');
  assert.equal(nlst.length, 1011);
  assert.ok(nlst.some((n) => n.endsWith('f0000.txt')) && nlst.some((n) => n.endsWith('f1009.txt')));

  const raw = await RawControl.login(h);
  t.after(() => raw.close());
  for (const verb of ['LIST', 'MLSD']) {
    const data = await openPassive(raw);
    assert.equal((await raw.send(`${verb} /many`)).code, 150);
    const [text, done] = await Promise.all([readAll(data), raw.read()]);
    assert.equal(done.code, 226);
    const lines = text.toString('utf8').split('\r\n').filter(Boolean);
    assert.equal(lines.filter((l) => /f\d{4}\.txt$/.test(l)).length, 1010, verb);
    assert.ok(!lines.some((l) => l.includes('x.txt')), `${verb} shows no deeper key`);
  }
  assert.equal((await raw.send('CWD /many/sub/deeper')).code, 250, 'a folder that is only a key prefix');
});

test('MKD/RMD as marker objects, DELE, RNFR/RNTO of a file (copy + delete), refusals with 550', async t => {
  const session = await rawSession(t);
  if (!session) return;
  const { fx, c } = session;
  assert.equal((await c.send('MKD d')).code, 257);
  assert.deepEqual(await fx.keys(), ['d/']);
  assert.equal((await c.send('MKD d')).code, 550, 'exists');
  assert.equal((await c.send('MKD nope/e')).code, 550, 'no parent folder');

  let data = await openPassive(c);
  assert.equal((await c.send('STOR d/f.txt')).code, 150);
  await writeAll(data, Buffer.from('hello'));
  assert.equal((await c.read()).code, 226);
  data = await openPassive(c);
  assert.equal((await c.send('STOR nope/f.txt')).code, 550, 'STOR into a missing folder');
  data.destroy();

  assert.equal((await c.send('RMD d')).code, 550, 'RMD of a folder with a file');
  assert.equal((await c.send('RNFR d/f.txt')).code, 350);
  assert.equal((await c.send('RNTO d/g.txt')).code, 250);
  assert.deepEqual(await fx.keys(), ['d/', 'd/g.txt']);
  assert.equal((await c.send('SIZE d/g.txt')).code, 213);

  const rnfr = await c.send('RNFR d');
  assert.equal(rnfr.code, 350);
  const rnto = await c.send('RNTO e');
  assert.equal(rnto.code, 550, 'a folder with entries is not renamed by default');
  assert.match(rnto.text, /not empty/);
  assert.equal((await c.send('DELE d')).code, 550, 'DELE of a folder');
  assert.equal((await c.send('DELE d/g.txt')).code, 250);
  assert.equal((await c.send('DELE d/g.txt')).code, 550);
  assert.equal((await c.send('RNFR d')).code, 350);
  assert.equal((await c.send('RNTO e')).code, 250, 'an empty folder moves its marker');
  assert.deepEqual(await fx.keys(), ['e/']);
  assert.equal((await c.send('RMD e')).code, 250);
  assert.deepEqual(await fx.keys(), []);

  // A folder another tool made (no marker): listed, entered, its file renamed; RETR of a folder refused.
  await fx.put('other/x.txt', 'x');
  assert.equal((await c.send('CWD other')).code, 250);
  assert.equal((await c.send('RNFR x.txt')).code, 350);
  assert.equal((await c.send('RNTO /y.txt')).code, 250);
  assert.deepEqual(await fx.keys(), ['y.txt']);
  assert.equal((await c.send('CWD /')).code, 250);
  await fx.put('tree/a.txt', 'a');
  data = await openPassive(c);
  assert.equal((await c.send('RETR tree')).code, 550);
  data.destroy();
});

test('renameFolders: copy moves a whole tree, key by key', async t => {
  const session = await rawSession(t, { renameFolders: 'copy' });
  if (!session) return;
  const { fx, c } = session;
  await Promise.all(['a/', 'a/1.txt', 'a/b/2.txt', 'a/b/c/3.txt'].map((k) => fx.put(k, k.endsWith('/') ? '' : k)));
  assert.equal((await c.send('RNFR a')).code, 350);
  assert.equal((await c.send('RNTO z')).code, 250);
  assert.deepEqual(await fx.keys(), ['z/', 'z/1.txt', 'z/b/2.txt', 'z/b/c/3.txt']);
  assert.equal((await c.send('RNFR z')).code, 350);
  assert.equal((await c.send('RNTO z/inside')).code, 553, 'not into itself');
});

test('an upload cut by ABOR or by a dropped data connection leaves no object and no multipart upload', async t => {
  const session = await rawSession(t);
  if (!session) return;
  const { fx, c } = session;
  await fx.put('keep.bin', 'old content');
  for (const how of ['ABOR', 'drop'] as const) {
    const data = await openPassive(c);
    assert.equal((await c.send('STOR keep.bin')).code, 150);
    // More than one 8 MiB part, and no end of data: the multipart upload exists at S3 when the upload is cut.
    await new Promise<void>((resolve, reject) => data.write(BIG.subarray(0, 10 * 1024 * 1024), (err) => (err ? reject(err) : resolve())));
    await eventually('a multipart upload in progress', () => fx.uploads(), (u) => u.length === 1);
    if (how === 'ABOR') {
      c.write('ABOR\r\n');
      const codes = [(await c.read()).code, (await c.read()).code];
      assert.deepEqual(codes, [426, 226]);
      data.destroy();
    } else {
      data.resetAndDestroy(); // a reset, not the FIN that ends an upload (RFC 959 s3.4.1: EOF is the end of the file)
      assert.equal((await c.read()).code, 426);
    }
    await eventually(`${how}: no multipart upload left`, () => fx.uploads(), (u) => u.length === 0);
    assert.deepEqual(await fx.keys(), ['keep.bin'], `${how}: the old object stays, nothing else`);
    const down = await openPassive(c);
    assert.equal((await c.send('RETR keep.bin')).code, 150);
    const [got] = await Promise.all([readAll(down), c.read()]);
    assert.equal(got.length < 100 ? got.toString() : `${got.length} bytes`, 'old content', how);
  }
});

test('the start-up sweep aborts multipart uploads older than staleUploadAgeMs, and only those', async t => {
  const fx = await s3Fixture(t);
  if (!fx) return;
  const { UploadId } = await fx.raw.send(new CreateMultipartUploadCommand({ Bucket: fx.bucket, Key: `${fx.prefix}crashed.bin` }));
  await fx.raw.send(new UploadPartCommand({ Bucket: fx.bucket, Key: `${fx.prefix}crashed.bin`, UploadId, PartNumber: 1, Body: Buffer.alloc(1024) }));
  assert.equal(await fx.storage.sweepUploadTemps(), 0, 'one day old by default: a running upload of another node is kept');
  assert.equal((await fx.uploads()).length, 1);

  // The server sweeps at listen(), before its first session: a storage of the same prefix with age 0.
  const sweeper = await s3Fixture(t, { staleUploadAgeMs: 0, prefix: fx.prefix });
  if (!sweeper) return;
  await startServer({ storage: sweeper.storage, options: { uploads: { sweep: [sweeper.storage] } } }).then((h) => t.after(() => h.close()));
  assert.deepEqual(await fx.uploads(), [], 'swept');
  assert.equal(await sweeper.storage.sweepUploadTemps(), 0, 'nothing left to sweep');
});

test('what S3 cannot do is refused cleanly: FEAT without REST STREAM and MFMT, REST+STOR 554, APPE 502, MFMT and SITE CHMOD 502; STOU makes a new object', async t => {
  const session = await rawSession(t);
  if (!session) return;
  const { fx, c } = session;
  await fx.put('f.txt', '0123456789');
  const feat = (await c.send('FEAT')).lines.map((l) => l.trim());
  assert.ok(!feat.includes('REST STREAM'), feat.join('|'));
  assert.ok(!feat.some((l) => l.startsWith('MFMT')), feat.join('|'));
  let data = await openPassive(c);
  assert.equal((await c.send('REST 4')).code, 350);
  assert.equal((await c.send('STOR f.txt')).code, 554);
  data.destroy();
  data = await openPassive(c);
  assert.equal((await c.send('APPE f.txt')).code, 502);
  data.destroy();
  assert.equal((await c.send('MFMT 20200101000000 f.txt')).code, 502);
  assert.equal((await c.send('SITE CHMOD 600 f.txt')).code, 502);

  data = await openPassive(c);
  const stou = await c.send('STOU');
  assert.equal(stou.code, 150);
  await writeAll(data, Buffer.from('unique'));
  assert.equal((await c.read()).code, 226);
  const keys = await fx.keys();
  assert.equal(keys.length, 2, keys.join(','));
});

test('conditionalPut: an exclusive write (STOU) that loses a race to another writer fails with "exists" (If-None-Match: *, which radosgw 16 honours on PutObject)', async t => {
  const fx = await s3Fixture(t, { conditionalPut: true });
  if (!fx) return;
  const w = await fx.storage.openWrite('/race.txt', { exclusive: true });
  await fx.put('race.txt', 'theirs');
  const failed = new Promise<Error>((resolve) => w.once('error', resolve));
  w.end('mine');
  const err = await failed;
  assert.equal((err as { failure?: string }).failure, 'exists', String(err));
  const down = sink();
  await new Promise<void>((resolve, reject) => {
    void fx.storage.openRead('/race.txt').then((r) => r.pipe(down.stream).on('finish', resolve).on('error', reject), reject);
  });
  assert.equal(down.bytes().toString(), 'theirs', 'the other writer\'s object is kept');
});

test('resumableUploads: REST + STOR and APPE make a new version from server-side copies (>= 5 MiB kept) or a re-upload (below); FEAT offers REST STREAM; a cut APPE leaves the object whole', async t => {
  const session = await rawSession(t, { resumableUploads: true });
  if (!session) return;
  const { fx, c } = session;
  const base = BIG.subarray(0, 9 * 1024 * 1024);
  await fx.put('f.bin', base);
  assert.ok((await c.send('FEAT')).lines.map((l) => l.trim()).includes('REST STREAM'));
  const store = async (verb: string, name: string, bytes: Buffer, rest?: number) => {
    const data = await openPassive(c);
    if (rest !== undefined) assert.equal((await c.send(`REST ${rest}`)).code, 350);
    const r = await c.send(`${verb} ${name}`);
    assert.equal(r.code, 150, `${verb} ${r.code} ${r.text}`);
    await writeAll(data, bytes);
    assert.equal((await c.read()).code, 226, verb);
  };
  const read = async (name: string) => {
    const data = await openPassive(c);
    assert.equal((await c.send(`RETR ${name}`)).code, 150);
    const [got] = await Promise.all([readAll(data), c.read()]);
    return got;
  };
  const tail = Buffer.from('-resumed-tail-');
  // 6 MiB kept: one copied part of 6 MiB, then the new data.
  await store('STOR', 'f.bin', tail, 6 * 1024 * 1024);
  assert.ok((await read('f.bin')).equals(Buffer.concat([base.subarray(0, 6 * 1024 * 1024), tail])), 'REST 6 MiB + STOR');
  // 3 MiB kept: below S3's part minimum, read back and re-uploaded.
  await store('STOR', 'f.bin', tail, 3 * 1024 * 1024);
  const short = Buffer.concat([base.subarray(0, 3 * 1024 * 1024), tail]);
  assert.ok((await read('f.bin')).equals(short), 'REST 3 MiB + STOR');
  await store('APPE', 'f.bin', Buffer.from('+more'));
  const appended = Buffer.concat([short, Buffer.from('+more')]);
  assert.ok((await read('f.bin')).equals(appended), 'APPE');
  await store('APPE', 'new.txt', Buffer.from('created'));
  assert.equal((await read('new.txt')).toString(), 'created', 'APPE creates');
  const data = await openPassive(c);
  assert.equal((await c.send('REST 99999999')).code, 350);
  assert.equal((await c.send('STOR f.bin')).code, 554, 'REST beyond the end (the server checks the size)');
  data.destroy();

  // An APPE cut by a reset: the multipart upload is aborted, the object keeps its content.
  const cut = await openPassive(c);
  assert.equal((await c.send('APPE f.bin')).code, 150);
  // Every byte handed to the kernel first: a reset with writes still queued in Node may close with a FIN
  // instead, which ends the upload normally.
  await new Promise<void>((resolve, reject) => cut.write(BIG.subarray(0, 9 * 1024 * 1024), (err) => (err ? reject(err) : resolve())));
  // The resumed upload exists from the open: wait until the server has sent a part of this data (it read it).
  const [pending] = await eventually('a multipart upload in progress', () => fx.uploads(), (u) => u.length === 1);
  await eventually('a part sent', async () => (await fx.raw.send(new ListPartsCommand({
    Bucket: fx.bucket, Key: `${fx.prefix}f.bin`, UploadId: pending!.uploadId,
  }))).Parts?.length ?? 0, (n) => n >= 1);
  cut.resetAndDestroy();
  assert.equal((await c.read()).code, 426);
  await eventually('no multipart upload left', () => fx.uploads(), (u) => u.length === 0);
  assert.ok((await read('f.bin')).equals(appended), 'the cut APPE changed nothing');
});
