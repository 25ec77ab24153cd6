/**
 * The client's plain download path that reads the data socket straight into the pipeline's 1 MiB blocks
 * (src/net/wire-blocks.ts): through real loopback sockets made by connectTcp with `readInto`, into a file
 * with a block writer. Content and counts, backpressure from a slow file, a failed file write, a reset
 * wire, a sink without a block writer, and FtpClient using it for a download into a file. A TLS socket
 * switched to the blocks (forAccepted, as the pipeline does under PROT P): TLS hands over every record it has
 * decrypted even after the reads were stopped, and its last record together with the end: a slow file (the
 * case that overwrote a block being written), a bandwidth cap, and an admission that answers after the end.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { PassThrough, type Readable } from 'node:stream';
import { connectTcp } from '../../src/net/connect.js';
import { runDataPipeline } from '../../src/net/data-pipeline.js';
import { attachBlockWriter, fileBlockWriter, type BlockWriter } from '../../src/net/block-source.js';
import { WireBlocks } from '../../src/net/wire-blocks.js';
import { userBufferSwitches } from '../../src/net/socket-user-buffer.js';
import { FtpClient } from '../../src/client/ftp-client.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { startServer } from '../support/server-harness.js';
import { makeTestPki } from '../support/tls-certs.js';
import { TokenBucket } from '../../src/net/token-bucket.js';
import { tempDir } from '../support/temp-dir.js';

const BOUNDED = { timeout: 20_000 };

/** A loopback connection whose client end reads into `blocks`: `wire` for the pipeline, `peer` for the test. */
async function blockSocketPair(t: TestContext, blocks: WireBlocks): Promise<{ wire: net.Socket; peer: net.Socket }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const wire = await connectTcp({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, timeoutMs: 5000,
    connection: 'data', readInto: blocks });
  const [peer] = await accepted;
  server.close();
  for (const s of [wire, peer]) { s.on('error', () => {}); t.after(() => s.destroy()); }
  return { wire, peer };
}

/** A file sink with a block writer that records the size of each block and may hold each write back. */
async function fileSink(t: TestContext, holdMs = 0, failAt = -1) {
  const dir = await tempDir(t, 'ftpkit-wire-blocks-');
  const file = join(dir, 'out.bin');
  const handle = await open(file, 'w');
  const real = fileBlockWriter(handle, 0);
  const sizes: number[] = [];
  const writer: BlockWriter = {
    async write(block) {
      sizes.push(block.length);
      if (sizes.length - 1 === failAt) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      if (holdMs) await new Promise(resolve => setTimeout(resolve, holdMs));
      await real.write(block);
    },
  };
  const sink = attachBlockWriter(handle.createWriteStream(), writer);
  return { file, sink, sizes };
}

/** A loopback TLS connection: `wire` the receiving end (the server's TLSSocket), `peer` the sending one. */
async function tlsSocketPair(t: TestContext): Promise<{ wire: tls.TLSSocket; peer: tls.TLSSocket }> {
  const pki = await makeTestPki();
  t.after(() => pki.cleanup());
  const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
  const peer = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ca: pki.ca.cert, servername: 'localhost' });
  await once(peer, 'secureConnect');
  const [wire] = await accepted;
  wire.pause();
  server.close();
  for (const s of [wire, peer]) { s.on('error', () => {}); t.after(() => s.destroy()); }
  return { wire, peer };
}

function send(peer: net.Socket, data: Buffer): void {
  // In pieces, as a server's writes arrive.
  for (let i = 0; i < data.length; i += 200_000) peer.write(data.subarray(i, i + 200_000));
  peer.end();
}

test('a download read into blocks: every byte in the file, in order, counted once, written in blocks of at most 1 MiB', BOUNDED, async t => {
  const blocks = new WireBlocks();
  const { wire, peer } = await blockSocketPair(t, blocks);
  const { file, sink, sizes } = await fileSink(t);
  const data = randomBytes(5 * 1024 * 1024 + 12345);
  let counted = 0;
  const run = runDataPipeline({ direction: 'receive', wire, sink, onWireBytes: n => { counted += n; } });
  send(peer, data);
  await run.done;
  assert.ok(sink.closed || (await once(sink, 'close'), true));
  assert.ok((await readFile(file)).equals(data));
  assert.equal(counted, data.length);
  assert.equal(run.wireBytes, data.length);
  assert.equal(run.localBytes, data.length);
  assert.equal(sizes.reduce((a, b) => a + b, 0), data.length);
  assert.ok(sizes.every(s => s > 0 && s <= 1024 * 1024), `block sizes ${sizes.join(',')}`);
  assert.ok(sizes.length >= 5, `${sizes.length} block writes for 5 MiB`);
});

test('a slow file holds the socket back (both blocks busy) and still gets every byte', BOUNDED, async t => {
  const blocks = new WireBlocks();
  const { wire, peer } = await blockSocketPair(t, blocks);
  const { file, sink, sizes } = await fileSink(t, 40);
  const data = randomBytes(6 * 1024 * 1024 + 7);
  const run = runDataPipeline({ direction: 'receive', wire, sink });
  send(peer, data);
  await run.done;
  assert.ok((await readFile(file)).equals(data));
  assert.ok(sizes.length >= 6);
});

test('bytes that arrive before the pipeline starts are kept and counted', BOUNDED, async t => {
  const blocks = new WireBlocks();
  const { wire, peer } = await blockSocketPair(t, blocks);
  const { file, sink } = await fileSink(t);
  const data = randomBytes(3 * 1024 * 1024 + 99);
  send(peer, data);
  // Let the socket read (and fill, then stop on, its first block) before anyone receives.
  await new Promise(resolve => setTimeout(resolve, 200));
  const run = runDataPipeline({ direction: 'receive', wire, sink });
  await run.done;
  assert.ok((await readFile(file)).equals(data));
  assert.equal(run.wireBytes, data.length);
});

test('a failed file write fails the local end and destroys the sink', BOUNDED, async t => {
  const blocks = new WireBlocks();
  const { wire, peer } = await blockSocketPair(t, blocks);
  const { sink } = await fileSink(t, 0, 1);
  const run = runDataPipeline({ direction: 'receive', wire, sink });
  peer.on('error', () => {});
  peer.write(randomBytes(4 * 1024 * 1024));
  await assert.rejects(run.done, /ENOSPC/);
  assert.equal(run.failedEnd, 'local');
  assert.ok(sink.destroyed);
});

test('a wire reset before the end of data fails the wire end', BOUNDED, async t => {
  const blocks = new WireBlocks();
  const { wire, peer } = await blockSocketPair(t, blocks);
  const { sink } = await fileSink(t);
  let counted = 0;
  let readAll!: () => void;
  const allRead = new Promise<void>(resolve => { readAll = resolve; });
  const run = runDataPipeline({ direction: 'receive', wire, sink, onWireBytes: n => { if ((counted += n) === 300_000) readAll(); } });
  peer.write(randomBytes(300_000));
  // Reset once every byte was read: a reset with bytes still queued may read as an end of data (the kernel's
  // doing, the same on the ordinary path), which the transfer's final reply then tells apart.
  await allRead;
  peer.resetAndDestroy();
  const err = await run.done.catch(e => e);
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNRESET', String(err));
  assert.equal(run.failedEnd, 'wire');
  assert.ok(sink.destroyed);
});

test('a socket made for blocks whose sink has no block writer delivers ordinary chunks', BOUNDED, async t => {
  const blocks = new WireBlocks();
  const { wire, peer } = await blockSocketPair(t, blocks);
  const sink = new PassThrough();
  const received = collect(sink);
  const data = randomBytes(2 * 1024 * 1024 + 5);
  send(peer, data);
  await new Promise(resolve => setTimeout(resolve, 100)); // some of it read into a block already
  const run = runDataPipeline({ direction: 'receive', wire, sink });
  await run.done;
  assert.ok((await received).equals(data));
});

test('TYPE A on a socket made for blocks: the stages get its bytes', BOUNDED, async t => {
  const blocks = new WireBlocks();
  const { wire, peer } = await blockSocketPair(t, blocks);
  const sink = new PassThrough();
  const received = collect(sink);
  const run = runDataPipeline({ direction: 'receive', wire, sink, type: 'ascii' });
  peer.end('one\r\ntwo\r\n');
  await run.done;
  assert.equal((await received).toString(), 'one\ntwo\n');
});

test('FtpClient downloads a file through the block path (plain, passive, TYPE I)', BOUNDED, async t => {
  const root = await tempDir(t, 'ftpkit-srv-');
  const data = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(join(root, 'big.bin'), data);
  const h = await startServer({ storage: new LocalStorage(root) });
  t.after(() => h.close());
  const client = await FtpClient.connect({ host: h.host, port: h.port, user: 'test', password: 'test' });
  t.after(() => client.destroy());
  const original = WireBlocks.prototype.receive;
  let used = 0;
  WireBlocks.prototype.receive = function (this: WireBlocks, ...args: Parameters<typeof original>) { used++; return original.apply(this, args); };
  t.after(() => { WireBlocks.prototype.receive = original; });
  const out = join(await tempDir(t, 'ftpkit-local-'), 'copy.bin');
  const r = await client.download('big.bin', out);
  assert.equal(r.bytes, data.length);
  assert.ok((await readFile(out)).equals(data));
  assert.equal(used, 1);
  // An empty file: the end of data before any byte, still a (empty) file.
  await writeFile(join(root, 'empty.bin'), '');
  const emptyOut = join(await tempDir(t, 'ftpkit-local-'), 'empty.bin');
  const e = await client.download('empty.bin', emptyOut);
  assert.equal(e.bytes, 0);
  assert.equal((await readFile(emptyOut)).length, 0);
  assert.equal(used, 2);
  // Resumed in place: the blocks are written from the local size on.
  await writeFile(out, data.subarray(0, 1_000_000));
  const resumed = await client.download('big.bin', out, { resume: true });
  assert.equal(resumed.bytes, data.length - 1_000_000);
  assert.ok((await readFile(out)).equals(data));
  assert.equal(used, 3);
  // A stream destination is not a file the pipeline writes blocks into: the ordinary path.
  const stream = new PassThrough();
  const got = collect(stream);
  await client.download('big.bin', stream);
  assert.ok((await got).equals(data));
  assert.equal(used, 3);
});

function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => { s.once('end', () => resolve(Buffer.concat(chunks))); s.once('error', reject); });
}

for (const slow of ['a slow file (both blocks busy)', 'a bandwidth cap'] as const) {
  test(`a TLS socket read into blocks with ${slow}: every byte in order, counted once`, BOUNDED, async t => {
    const { wire, peer } = await tlsSocketPair(t);
    const capped = slow === 'a bandwidth cap';
    const { file, sink } = await fileSink(t, capped ? 0 : 40);
    const data = randomBytes(capped ? 3 * 1024 * 1024 + 5 : 6 * 1024 * 1024 + 7);
    const bucket = new TokenBucket(16 * 1024 * 1024);
    const throttle = capped ? { delay: (n: number) => bucket.reserve(n), pieceBytes: () => 256 * 1024 } : undefined;
    const before = userBufferSwitches.count;
    let counted = 0;
    const run = runDataPipeline({ direction: 'receive', wire, sink, throttle, onWireBytes: n => { counted += n; } });
    // 64 KiB writes: several TLS records in each TCP read, so a stop comes with records still decrypted.
    for (let i = 0; i < data.length; i += 65_536) peer.write(data.subarray(i, i + 65_536));
    peer.end();
    await run.done;
    assert.equal(userBufferSwitches.count - before, 1, 'the pipeline switched the TLS socket to the blocks');
    assert.ok((await readFile(file)).equals(data), 'the file holds every byte, in order');
    assert.equal(counted, data.length);
  });
}

test('a TLS upload whose last bytes are refused after the end of data came (a quota answering late) fails, not completes', BOUNDED, async t => {
  const { wire, peer } = await tlsSocketPair(t);
  const { sink } = await fileSink(t);
  const data = randomBytes(300_000);
  let admitted = 0;
  const refusal = Object.assign(new Error('quota exceeded'), { code: 'EDQUOT' });
  // Every chunk is admitted at once but the last, which waits for its answer (a shared quota's round trip).
  const admit = (bytes: number) => {
    admitted += bytes;
    return admitted < data.length ? undefined : new Promise<Error>(resolve => setTimeout(() => resolve(refusal), 200));
  };
  const run = runDataPipeline({ direction: 'receive', wire, sink, admit });
  peer.end(data);
  await assert.rejects(run.done, refusal);
  assert.equal(run.failedEnd, 'local');
});
