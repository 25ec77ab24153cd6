/**
 * The data pipeline both sides' transfers are built on (src/net/data-pipeline.ts), through real TCP
 * sockets: TYPE A both ways, what is metered on each side, the idle deadline, failures from either end,
 * abort, backpressure, and completion by what the wire accepted.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { PassThrough, Readable, Writable } from 'node:stream';
import { FtpAbortedError, FtpNetworkError } from '../../src/errors.js';
import { runDataPipeline } from '../../src/net/data-pipeline.js';
import { attachBlockReader, fileBlockReader } from '../../src/net/block-source.js';

/** A broken pipeline waits forever on its peer: fail the test instead. */
const BOUNDED = { timeout: 20_000 };

/** Two ends of one loopback TCP connection: `wire` for the pipeline, `peer` for the test. */
async function socketPair(t: TestContext): Promise<{ wire: net.Socket; peer: net.Socket }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const wire = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [[peer]] = await Promise.all([accepted, once(wire, 'connect')]);
  server.close();
  for (const s of [wire, peer]) { s.on('error', () => {}); t.after(() => s.destroy()); }
  return { wire, peer };
}

function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

function collector(): { sink: Writable; data: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } });
  return { sink, data: () => Buffer.concat(chunks) };
}

/** Waits until `value()` has not changed for `quietMs` (bounded by `maxMs`): a stalled flow has settled. */
async function settled(value: () => number, quietMs = 150, maxMs = 5000): Promise<number> {
  const started = Date.now();
  let last = value();
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() - started < maxMs) {
    await new Promise(resolve => setTimeout(resolve, 20));
    if (value() !== last) { last = value(); since = Date.now(); }
  }
  return last;
}

test('TYPE A send: LF becomes CRLF on the wire; the wire and the local side are metered apart', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const received = readAll(peer);
  const wireChunks: number[] = [];
  const p = runDataPipeline({ direction: 'send', wire, type: 'ascii', source: Readable.from([Buffer.from('a\nb\r'), Buffer.from('\nc\n')]),
    onWireBytes: n => wireChunks.push(n) });
  await p.done;
  assert.equal((await received).toString(), 'a\r\nb\r\nc\r\n');
  assert.deepEqual([p.wireBytes, p.localBytes, p.failedEnd], [9, 7, undefined]);
  assert.equal(wireChunks.reduce((a, b) => a + b, 0), 9);
});

test('TYPE A receive: CRLF becomes LF locally, also split across chunks; a lone CR stays', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const { sink, data } = collector();
  let local = 0;
  const p = runDataPipeline({ direction: 'receive', wire, type: 'ascii', sink, onLocalBytes: n => { local += n; } });
  peer.write('a\r\nb\r');
  peer.end('\nc\rd');
  await p.done;
  assert.equal(data().toString(), 'a\nb\nc\rd');
  assert.deepEqual([p.wireBytes, p.localBytes, local], [9, 7, 7]);
});

test('TYPE I both ways: the bytes as they are, one count for both sides', BOUNDED, async t => {
  const body = randomBytes(3 * 1024 * 1024 + 17);
  const a = await socketPair(t);
  const received = readAll(a.peer);
  const send = runDataPipeline({ direction: 'send', wire: a.wire, source: Readable.from([body.subarray(0, 1000), body.subarray(1000)]) });
  await send.done;
  assert.ok((await received).equals(body));
  assert.deepEqual([send.wireBytes, send.localBytes], [body.length, body.length]);

  const b = await socketPair(t);
  const { sink, data } = collector();
  const receive = runDataPipeline({ direction: 'receive', wire: b.wire, sink });
  b.peer.end(body);
  await receive.done;
  assert.ok(data().equals(body));
  assert.deepEqual([receive.wireBytes, receive.localBytes], [body.length, body.length]);
});

test('idle timeout: no byte for idleTimeoutMs fails with a typed error and closes the wire', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const { sink } = collector();
  const p = runDataPipeline({ direction: 'receive', wire, sink, idleTimeoutMs: 200, endpoint: '127.0.0.1:1 (test)' });
  peer.write('hello');
  const err = await p.done.catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.deepEqual([err.connection, err.phase, err.failure, p.failedEnd], ['data', 'transfer', 'timeout', 'idle']);
  assert.match(err.message, /127\.0\.0\.1:1 \(test\).*no data moved for 200 ms after 5 bytes/);
  assert.ok(wire.destroyed);
  await once(peer, 'close');
});

test('idle timeout when sending: a local source that stalls fails the transfer too, source destroyed', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  peer.resume();
  const source = new PassThrough();
  source.write(Buffer.alloc(1000));   // then nothing, never ended
  const p = runDataPipeline({ direction: 'send', wire, source, idleTimeoutMs: 200 });
  const err = await p.done.catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.deepEqual([err.failure, p.failedEnd, p.wireBytes], ['timeout', 'idle', 1000]);
  assert.ok(wire.destroyed && source.destroyed);
});

test('sending: a wire reset while the source is idle ends the transfer at the idle deadline', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const source = new PassThrough();
  source.write(Buffer.alloc(10));
  const p = runDataPipeline({ direction: 'send', wire, source, idleTimeoutMs: 300 });
  await once(peer, 'data');   // the 10 bytes arrived; the source now stays silent
  peer.resetAndDestroy();
  const err = await p.done.catch(e => e);
  assert.ok(err instanceof Error, String(err));
  assert.ok(p.failedEnd === 'wire' || p.failedEnd === 'idle', String(p.failedEnd));
  assert.ok(source.destroyed);
});

test('idle timeout: bytes that keep moving keep the transfer alive', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const { sink, data } = collector();
  const p = runDataPipeline({ direction: 'receive', wire, sink, idleTimeoutMs: 250 });
  for (let i = 0; i < 8; i++) {
    peer.write('x');
    await new Promise(resolve => setTimeout(resolve, 80)); // the scenario: a slow sender, 8 x 80 ms > 250 ms
  }
  peer.end();
  await p.done;
  assert.equal(data().toString(), 'xxxxxxxx');
});

test('a local source that fails mid-send: its error, failedEnd local, the wire closed', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const boom = new Error('disk read failed');
  let sent = false;
  const source = new Readable({
    read() {
      if (!sent) { sent = true; this.push(Buffer.alloc(1000)); } else this.destroy(boom);
    },
  });
  const received = readAll(peer).catch(() => Buffer.alloc(0));
  const p = runDataPipeline({ direction: 'send', wire, source });
  await assert.rejects(p.done, e => e === boom);
  assert.equal(p.failedEnd, 'local');
  assert.ok(wire.destroyed);
  await received;
});

test('a wire reset mid-receive: the socket error, failedEnd wire, the sink destroyed', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const sink = new PassThrough();
  sink.resume();
  const p = runDataPipeline({ direction: 'receive', wire, sink });
  peer.write('partial');
  await once(sink, 'data');
  peer.resetAndDestroy();
  const err = await p.done.catch(e => e);
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNRESET', String(err));
  assert.equal(p.failedEnd, 'wire');
  assert.ok(sink.destroyed);
});

test('end: false: the caller keeps its stream, intact and without leftover listeners, even on failure', BOUNDED, async t => {
  const kept = new PassThrough();
  kept.resume();
  const before = ['error', 'close', 'drain', 'finish'].map(e => kept.listenerCount(e));
  const a = await socketPair(t);
  const ok = runDataPipeline({ direction: 'receive', wire: a.wire, sink: kept, endSink: false });
  a.peer.end('first');
  await ok.done;
  const b = await socketPair(t);
  const failing = runDataPipeline({ direction: 'receive', wire: b.wire, sink: kept, endSink: false });
  b.peer.write('second');
  await new Promise(resolve => kept.once('data', resolve));
  b.peer.resetAndDestroy();
  await assert.rejects(failing.done);
  assert.equal(failing.failedEnd, 'wire');
  assert.ok(!kept.destroyed && !kept.writableEnded, 'the caller stream is neither destroyed nor ended');
  assert.deepEqual(['error', 'close', 'drain', 'finish'].map(e => kept.listenerCount(e)), before);
});

test('a local sink that fails mid-receive: its error, failedEnd local, the wire closed', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const full = Object.assign(new Error('no space left'), { code: 'ENOSPC' });
  const sink = new Writable({ write(_c, _e, cb) { cb(full); } });
  const p = runDataPipeline({ direction: 'receive', wire, sink });
  peer.write('data');
  await assert.rejects(p.done, e => e === full);
  assert.equal(p.failedEnd, 'local');
  await once(peer, 'close');
});

test('abort: FtpAbortedError with the reason, failedEnd aborted, the wire closed', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const { sink } = collector();
  const ac = new AbortController();
  const p = runDataPipeline({ direction: 'receive', wire, sink, signal: ac.signal });
  peer.write('some');
  await settled(() => p.wireBytes, 50);
  ac.abort('ABOR from the client');
  const err = await p.done.catch(e => e);
  assert.ok(err instanceof FtpAbortedError, String(err));
  assert.match(err.message, /ABOR from the client/);
  assert.equal(p.failedEnd, 'aborted');
  assert.ok(wire.destroyed);
  const pre = new AbortController();
  pre.abort();
  const c = await socketPair(t);
  const early = runDataPipeline({ direction: 'send', wire: c.wire, source: Readable.from([Buffer.from('x')]), signal: pre.signal });
  await assert.rejects(early.done, FtpAbortedError);
});

test('backpressure: a sink that does not take data stops reading from the wire; all of it comes when it does', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const total = 16 * 1024 * 1024;
  let held: (() => void) | undefined;
  let sinkBytes = 0;
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(c: Buffer, _e, cb) { sinkBytes += c.length; if (sinkBytes > 64 * 1024 && !released) held = cb; else cb(); },
  });
  let released = false;
  const p = runDataPipeline({ direction: 'receive', wire, sink });
  peer.end(Buffer.alloc(total, 7));
  const metered = await settled(() => p.wireBytes);
  assert.ok(metered < 4 * 1024 * 1024, `read ${metered} bytes from the wire while the sink held one write`);
  released = true;
  held?.();
  await p.done;
  assert.deepEqual([p.wireBytes, sinkBytes], [total, total]);
});

test('backpressure when sending: a peer that does not read stops the source', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  peer.pause();
  let produced = 0;
  const source = new Readable({ read() { produced += 65536; this.push(Buffer.alloc(65536)); } });
  const p = runDataPipeline({ direction: 'send', wire, source });
  const pulled = await settled(() => produced);
  assert.ok(pulled < 64 * 1024 * 1024, `pulled ${pulled} bytes from a source the peer did not read`);
  source.destroy(new Error('stop'));
  await assert.rejects(p.done);
});

test('send: complete once the wire accepted every byte, even if the peer resets before our end of file', BOUNDED, async t => {
  const { wire, peer } = await socketPair(t);
  const body = randomBytes(256 * 1024);
  let got = 0;
  // A peer that knows the size resets the moment the last byte arrives; our source's end of file comes later.
  peer.on('data', (c: Buffer) => { got += c.length; if (got === body.length) peer.resetAndDestroy(); });
  const source = new Readable({ read() {} });
  source.push(body);
  wire.once('close', () => source.push(null));
  const p = runDataPipeline({ direction: 'send', wire, source });
  await p.done;
  assert.equal(p.wireBytes, body.length);
  assert.equal(p.failedEnd, undefined);
});

/** A temp file holding `body`, opened for reading as LocalStorage and the client open theirs. */
async function fileSource(
  t: TestContext, body: Buffer, start = 0, size?: number,
): Promise<{ stream: Readable; handle: FileHandle; blockReads: () => number; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ftpkit-pipeline-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'f');
  await writeFile(file, body);
  const handle = await open(file, 'r');
  const reader = fileBlockReader(handle, start, undefined, size);
  let reads = 0;
  const counted = {
    read: (b: Buffer) => { reads++; return reader.read(b); },
    get expected() { return reader.expected; },
    get ended() { return reader.ended; },
  };
  const stream = attachBlockReader(handle.createReadStream({ start }), counted);
  return { stream, handle, blockReads: () => reads, file };
}

test('TYPE I send of a small file of known size: one read, no second one to learn the end', BOUNDED, async t => {
  const body = randomBytes(64 * 1024);
  const { stream, blockReads } = await fileSource(t, body, 10, body.length);
  const { wire, peer } = await socketPair(t);
  const received = readAll(peer);
  const p = runDataPipeline({ direction: 'send', wire, source: stream });
  await p.done;
  assert.ok((await received).equals(body.subarray(10)));
  assert.equal(p.wireBytes, body.length - 10);
  assert.equal(blockReads(), 1, 'the read into a buffer one byte larger than the file came back short: the end');
});

test('TYPE I send of a known size: a file that grew since it was opened is sent whole, reads go on to the end', BOUNDED, async t => {
  const body = randomBytes(5000);
  const more = randomBytes(3 * 1024 * 1024);
  const { stream, file } = await fileSource(t, body, 0, body.length);
  await appendFile(file, more);
  const { wire, peer } = await socketPair(t);
  const received = readAll(peer);
  const p = runDataPipeline({ direction: 'send', wire, source: stream });
  await p.done;
  assert.ok((await received).equals(Buffer.concat([body, more])));
});

test('TYPE I send from a file with a block reader: the bytes from the offset, counted, the file released', BOUNDED, async t => {
  // Over 2 blocks and not a multiple of the block size: both buffers are reused and the last read is short.
  const body = randomBytes(2 * 1024 * 1024 + 12345);
  const { stream, handle, blockReads } = await fileSource(t, body, 777);
  const { wire, peer } = await socketPair(t);
  const received = readAll(peer);
  const p = runDataPipeline({ direction: 'send', wire, source: stream });
  await p.done;
  assert.ok((await received).equals(body.subarray(777)));
  assert.deepEqual([p.wireBytes, p.localBytes], [body.length - 777, body.length - 777]);
  assert.ok(stream.destroyed, 'the source (and its file) is released');
  if (!stream.closed) await once(stream, 'close');
  assert.equal(handle.fd, -1, 'the file handle is closed');
  assert.equal(blockReads(), 4, 'three 1 MiB block reads with data, one at the end of the file');
});

test('a block reader that fails mid-send: its error, failedEnd local, the wire closed, the source destroyed', BOUNDED, async t => {
  const boom = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  let reads = 0;
  const source = attachBlockReader(new Readable({ read() {} }), {
    read: async (buffer: Buffer) => { if (++reads > 2) throw boom; buffer.fill(1); return buffer.length; },
  });
  const { wire, peer } = await socketPair(t);
  peer.resume();
  const p = runDataPipeline({ direction: 'send', wire, source });
  await assert.rejects(p.done, e => e === boom);
  assert.equal(p.failedEnd, 'local');
  assert.ok(wire.destroyed && source.destroyed);
});

test('receive into a synchronous sink that reports "full" (stdout on a file): the wire is never paused for drain', BOUNDED, async t => {
  // A SyncWriteStream has written a chunk before write() returns, yet returns false for a chunk above its
  // 16 KiB high-water mark; waiting for its 'drain' paused the socket once per chunk.
  const { wire, peer } = await socketPair(t);
  let written = 0;
  const sink = new Writable({ highWaterMark: 16 * 1024, write(c: Buffer, _e, cb) { written += c.length; cb(); } });
  let pauses = 0;
  const pause = wire.pause.bind(wire);
  wire.pause = () => { pauses++; return pause(); };
  const p = runDataPipeline({ direction: 'receive', wire, sink, endSink: false });
  const total = 8 * 1024 * 1024;
  peer.end(Buffer.alloc(total, 3));
  await p.done;
  assert.deepEqual([written, p.wireBytes, pauses], [total, total, 0]);
});

test('receive: a batch that arrives while the sink is still writing the previous one is written without more data', BOUNDED, async t => {
  // A Writable keeps what was written while corked until the next uncork, even after its write in flight
  // completed. If the receiver re-corked after a flush, the last batch sat in memory until more bytes came:
  // a sender that waits for the stored size to grow (a client checking progress before it goes on) hung.
  const { wire, peer } = await socketPair(t);
  const pending: (() => void)[] = [];
  let written = 0;
  let firstWriteResolve!: () => void;
  const firstWriteStarted = new Promise<void>(resolve => { firstWriteResolve = resolve; });
  const sink = new Writable({
    highWaterMark: 64 * 1024 * 1024, // never full: this is not about backpressure
    writev(chunks, cb) {
      for (const { chunk } of chunks) written += (chunk as Buffer).length;
      pending.push(cb);
      firstWriteResolve();
    },
  });
  const p = runDataPipeline({ direction: 'receive', wire, sink, endSink: false });
  peer.write(Buffer.alloc(100_000, 1));
  await firstWriteStarted; // the first batch is being written (its callback held)
  const before = written;
  // The second batch arrives and is flushed while the first write is still in flight.
  peer.write(Buffer.alloc(100_000, 2));
  await new Promise<void>(resolve => { const check = () => (p.wireBytes >= 200_000 ? resolve() : setImmediate(check)); check(); });
  await new Promise<void>(resolve => setImmediate(resolve));
  await new Promise<void>(resolve => setImmediate(resolve));
  // The first write completes; nothing more comes from the peer.
  while (pending.length > 0) pending.shift()!();
  for (let i = 0; i < 20 && written < 200_000; i++) {
    await new Promise<void>(resolve => setImmediate(resolve));
    while (pending.length > 0) pending.shift()!();
  }
  assert.ok(before < 200_000, `first write had ${before} bytes`);
  assert.equal(written, 200_000, 'the second batch reached the sink without more data from the peer');
  peer.end();
  await p.done;
});
