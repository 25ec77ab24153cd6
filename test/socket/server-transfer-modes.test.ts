/**
 * MODE Z (deflate) and MODE B (block) on the server over real sockets, with a raw client that codes the
 * data itself (node:zlib, hand-made blocks): the MODE/OPTS/FEAT replies, downloads, uploads and listings,
 * REST offsets in file bytes, restart markers (110 MARK), and broken streams from the client (corrupt,
 * truncated, a bomb over limits.maxInflateRatio) ending the upload with nothing under the final name;
 * the CPU guard (limits.maxCompressedTransfers).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import type { FtpServerOptions } from '../../src/server/index.js';
import { BlockDecoder, BlockEncoder, DESCRIPTOR_EOF, DESCRIPTOR_RESTART, blockHeader } from '../../src/protocol/codecs/mode-b.js';
import { tempDir } from '../support/temp-dir.js';
import { RawControl, localSession, openPassive, readAll, writeAll } from '../support/server-harness.js';
import type { Harness } from '../support/server-harness.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface Setup { h: Harness; c: RawControl; root: string }

const TEXT = Buffer.from('2026-12-06T05:00:00Z GET /files/report.csv 200 4711 "curl/8.5"\n'.repeat(20_000));

async function setup(t: TestContext, options: Partial<FtpServerOptions> = {}): Promise<Setup> {
  const root = await tempDir(t);
  return { ...await localSession(t, root, options), root };
}

async function decodeBlocks(wire: Buffer, markers: string[] = []): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([wire]), new BlockDecoder({ onMarker: m => markers.push(m) }),
    async function* (s) { for await (const c of s) out.push(c as Buffer); });
  return Buffer.concat(out);
}

async function encodeBlocks(data: Buffer, markerEvery = 0): Promise<Buffer> {
  const out: Buffer[] = [];
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += 50_000) pieces.push(data.subarray(at, at + 50_000));
  await pipeline(Readable.from(pieces), new BlockEncoder({ markerEvery }), async function* (s) { for await (const c of s) out.push(c as Buffer); });
  return Buffer.concat(out);
}

/** RETR (or LIST...) with a data connection; the wire bytes and the final reply. */
async function download(c: RawControl, command: string): Promise<{ wire: Buffer; final: number; text: string }> {
  const data = await openPassive(c);
  const opening = await c.send(command);
  assert.equal(opening.code, 150, opening.text);
  const [wire, final] = await Promise.all([readAll(data), c.read()]);
  return { wire, final: final.code, text: final.text };
}

/** STOR (or APPE) of raw wire bytes; the replies after 150 up to the final one. */
async function upload(c: RawControl, command: string, wire: Buffer, close = true): Promise<Array<{ code: number; text: string }>> {
  const data = await openPassive(c);
  const opening = await c.send(command);
  assert.equal(opening.code, 150, opening.text);
  if (close) await writeAll(data, wire);
  else data.write(wire);
  const replies: Array<{ code: number; text: string }> = [];
  for (;;) {
    const r = await c.read();
    replies.push({ code: r.code, text: r.text });
    if (r.code >= 200) break;
  }
  data.destroy();
  return replies;
}

test('MODE: S, B and Z are accepted, C gets 504 with a reason, nonsense 501; FEAT offers MODE Z; STAT names the mode', async t => {
  const { c } = await setup(t);
  assert.equal((await c.send('MODE Z')).code, 200);
  assert.match((await c.send('STAT')).text, /MODE: Deflate/);
  assert.equal((await c.send('MODE B')).code, 200);
  assert.equal((await c.send('MODE S')).code, 200);
  const modeC = await c.send('MODE C');
  assert.equal(modeC.code, 504);
  assert.match(modeC.text, /MODE Z/);
  assert.equal((await c.send('MODE Q')).code, 501);
  const feat = await c.send('FEAT');
  assert.ok(feat.lines.includes(' MODE Z'), feat.text);
});

test('modeZ: false: FEAT does not offer MODE Z and MODE Z gets 504; MODE B still works', async t => {
  const { c } = await setup(t, { modeZ: false });
  const feat = await c.send('FEAT');
  assert.ok(!feat.lines.includes(' MODE Z'), feat.text);
  const z = await c.send('MODE Z');
  assert.equal(z.code, 504);
  assert.match(z.text, /not enabled/);
  assert.equal((await c.send('MODE B')).code, 200);
});

test('OPTS MODE Z LEVEL n: 1-9 accepted, others 501; the level is used for downloads', async t => {
  const { c, root } = await setup(t);
  await writeFile(join(root, 'log.txt'), TEXT);
  assert.equal((await c.send('OPTS MODE Z LEVEL 0')).code, 501);
  assert.equal((await c.send('OPTS MODE Z LEVEL 10')).code, 501);
  assert.equal((await c.send('OPTS MODE Z LEVEL x')).code, 501);
  assert.equal((await c.send('OPTS MODE Z LEVEL 1')).code, 200);
  assert.match((await c.send('OPTS MODE Z')).text, /LEVEL 1/);
  await c.send('MODE Z');
  const fast = await download(c, 'RETR log.txt');
  assert.equal(fast.final, 226);
  assert.ok(inflateSync(fast.wire).equals(TEXT));
  assert.equal((await c.send('OPTS MODE Z LEVEL 9')).code, 200);
  const small = await download(c, 'RETR log.txt');
  assert.ok(inflateSync(small.wire).equals(TEXT));
  assert.ok(small.wire.length <= fast.wire.length, `level 9 ${small.wire.length} vs level 1 ${fast.wire.length}`);
  assert.ok(small.wire.length * 5 < TEXT.length);
});

test('MODE Z: RETR with REST (file offsets), STOR, APPE and listings are deflated', async t => {
  const { c, root } = await setup(t);
  const random = randomBytes(300_000);
  await writeFile(join(root, 'random.bin'), random);
  await c.send('MODE Z');
  const whole = await download(c, 'RETR random.bin');
  assert.equal(whole.final, 226);
  assert.ok(inflateSync(whole.wire).equals(random));
  assert.equal((await c.send('REST 100000')).code, 350);
  const tail = await download(c, 'RETR random.bin');
  assert.ok(inflateSync(tail.wire).equals(random.subarray(100_000)));

  const stored = await upload(c, 'STOR up.txt', deflateSync(TEXT));
  assert.equal(stored.at(-1)!.code, 226, stored.at(-1)!.text);
  assert.ok((await readFile(join(root, 'up.txt'))).equals(TEXT));
  const appended = await upload(c, 'APPE up.txt', deflateSync(Buffer.from('one more line\n')));
  assert.equal(appended.at(-1)!.code, 226);
  assert.ok((await readFile(join(root, 'up.txt'))).equals(Buffer.concat([TEXT, Buffer.from('one more line\n')])));

  for (const verb of ['LIST', 'NLST', 'MLSD']) {
    const listing = await download(c, verb);
    assert.equal(listing.final, 226, verb);
    assert.match(inflateSync(listing.wire).toString(), /random\.bin/, verb);
  }
});

test('MODE Z: a corrupt, a truncated and a bomb upload end the transfer (426/552) and leave nothing under the name', async t => {
  const { c, root } = await setup(t, { limits: { maxInflateRatio: 500 } });
  await c.send('MODE Z');
  const good = deflateSync(TEXT);
  const corrupt = Buffer.from(good);
  corrupt.fill(0x55, 10, 200);
  let replies = await upload(c, 'STOR corrupt.txt', corrupt);
  assert.equal(replies.at(-1)!.code, 426, replies.at(-1)!.text);
  assert.match(replies.at(-1)!.text, /corrupt/);
  replies = await upload(c, 'STOR truncated.txt', good.subarray(0, good.length - 20));
  assert.equal(replies.at(-1)!.code, 426);
  assert.match(replies.at(-1)!.text, /ended early/);
  replies = await upload(c, 'STOR bomb.bin', deflateSync(Buffer.alloc(32 * 1024 * 1024), { level: 9 }));
  assert.equal(replies.at(-1)!.code, 552, replies.at(-1)!.text);
  assert.deepEqual(await readdir(root), []);
  // The session goes on.
  replies = await upload(c, 'STOR fine.txt', good);
  assert.equal(replies.at(-1)!.code, 226);
});

test('MODE Z: an upload inflating beyond limits.maxUploadBytes gets 552 and nothing is kept', async t => {
  const { c, root } = await setup(t, { limits: { maxUploadBytes: 100_000 } });
  await c.send('MODE Z');
  const replies = await upload(c, 'STOR big.txt', deflateSync(TEXT));
  assert.equal(replies.at(-1)!.code, 552, replies.at(-1)!.text);
  assert.deepEqual(await readdir(root), []);
});

test('limits.maxCompressedTransfers: a MODE Z transfer over it gets 450 before any 150; MODE S still runs', async t => {
  const { h, c, root } = await setup(t, { limits: { maxCompressedTransfers: 1 } });
  await writeFile(join(root, 'a.txt'), TEXT);
  const other = await RawControl.login(h);
  t.after(() => other.close());
  await other.send('TYPE I');
  // The first session holds the one slot with an upload that has not ended.
  await c.send('MODE Z');
  const held = await openPassive(c);
  t.after(() => held.destroy());
  assert.equal((await c.send('STOR slow.txt')).code, 150);
  await other.send('MODE Z');
  const data = await openPassive(other);
  t.after(() => data.destroy());
  const refused = await other.send('RETR a.txt');
  assert.equal(refused.code, 450, refused.text);
  await other.send('MODE S');
  const plain = await download(other, 'RETR a.txt');
  assert.equal(plain.final, 226);
  assert.ok(plain.wire.equals(TEXT));
  // The slot comes back when the transfer ends.
  await writeAll(held, deflateSync(Buffer.from('x')));
  assert.equal((await c.read()).code, 226);
  await other.send('MODE Z');
  assert.equal((await download(other, 'RETR a.txt')).final, 226);
});

test('MODE B: RETR sends blocks ending with EOF, with restart markers naming file offsets (from REST on)', async t => {
  const { c, root } = await setup(t);
  const big = randomBytes(40 * 1024 * 1024);
  await writeFile(join(root, 'big.bin'), big);
  await c.send('MODE B');
  const markers: string[] = [];
  const got = await download(c, 'RETR big.bin');
  assert.equal(got.final, 226);
  assert.ok((await decodeBlocks(got.wire, markers)).equals(big));
  assert.ok(markers.length >= 2, `markers: ${markers.join(', ')}`);
  // A marker is a file offset: REST with it resumes exactly there.
  const at = Number(markers[0]);
  assert.ok(at > 0 && at < big.length);
  assert.equal((await c.send(`REST ${markers[0]}`)).code, 350);
  const rest = await download(c, 'RETR big.bin');
  assert.ok((await decodeBlocks(rest.wire)).equals(big.subarray(at)));
});

test('MODE B: STOR with restart markers gets 110 MARK replies; REST + STOR at the mark resumes; listings are blocks', async t => {
  const { c, root } = await setup(t, { uploads: { mode: 'resumable' } });
  await c.send('MODE B');
  const data = randomBytes(200_000);
  const replies = await upload(c, 'STOR up.bin', await encodeBlocks(data, 64 * 1024));
  assert.equal(replies.at(-1)!.code, 226);
  const marks = replies.filter(r => r.code === 110).map(r => r.text);
  assert.ok(marks.length >= 2, JSON.stringify(replies));
  for (const m of marks) assert.match(m, /^MARK (\d+) = \1$/);
  assert.ok((await readFile(join(root, 'up.bin'))).equals(data));
  const resumeAt = Number(/= (\d+)/.exec(marks[0])![1]);
  assert.equal((await c.send(`REST ${resumeAt}`)).code, 350);
  const again = await upload(c, 'STOR up.bin', await encodeBlocks(data.subarray(resumeAt)));
  assert.equal(again.at(-1)!.code, 226);
  assert.ok((await readFile(join(root, 'up.bin'))).equals(data));
  const listing = await download(c, 'NLST');
  assert.match((await decodeBlocks(listing.wire)).toString(), /up\.bin/);
});

test('MODE B: an upload closed without its EOF block fails (426) and leaves nothing; corrupt headers too', async t => {
  const { c, root } = await setup(t);
  await c.send('MODE B');
  const data = randomBytes(100_000);
  const noEof = Buffer.concat([blockHeader(0, 1000), data.subarray(0, 1000)]);
  let replies = await upload(c, 'STOR cut.bin', noEof);
  assert.equal(replies.at(-1)!.code, 426, replies.at(-1)!.text);
  assert.match(replies.at(-1)!.text, /ended early/);
  replies = await upload(c, 'STOR bad.bin', Buffer.from([0x03, 0, 1, 0x41, DESCRIPTOR_EOF, 0, 0]));
  assert.equal(replies.at(-1)!.code, 426);
  replies = await upload(c, 'STOR mark.bin', Buffer.concat([blockHeader(DESCRIPTOR_RESTART, 200), Buffer.alloc(200, 0x31)]));
  assert.equal(replies.at(-1)!.code, 426);
  assert.deepEqual(await readdir(root), []);
  // An empty file: just the EOF block.
  replies = await upload(c, 'STOR empty.bin', blockHeader(DESCRIPTOR_EOF, 0));
  assert.equal(replies.at(-1)!.code, 226);
  assert.equal((await readFile(join(root, 'empty.bin'))).length, 0);
});
