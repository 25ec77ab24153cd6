/**
 * The TYPE I (image, RFC 959 s3.1.1.3) paths of the data pipeline, where the bytes pass unchanged: no
 * stream stages between the wire and the local end, the bytes counted where they are written. Composed by
 * net/data-pipeline.ts, which keeps the stage pipeline for TYPE A and for sources without a block reader.
 *
 * send (a file with a block reader, net/block-source.ts): two reused 1 MiB buffers; the next block is read
 *   from the file while the socket writes the previous one (read-ahead), and a buffer is read into again
 *   only once the socket's write of it completed (that is the backpressure: at most two blocks in flight).
 *   Blocks are taken when first read into, and a small file gets one buffer of its own size (bufferFor).
 * receive: the socket's chunks are written straight into the sink, corked into batches (up to 1 MiB, or
 *   what arrived in one turn of the event loop) so that a file sink writes them with one writev
 *   (fs.WriteStream's _writev) instead of one thread-pool round trip per 64 KiB (16 KiB under TLS) chunk;
 *   the wire pauses while the sink holds more than its high-water mark unwritten (a synchronous sink such
 *   as stdout on a file never does). File sinks use a 1 MiB mark: one batch being written, the next one
 *   filling. Measured (STOR of 1 GiB, loopback, interleaved, server CPU per GiB): ~1000 ms with a 1 MiB or
 *   256 KiB mark, ~2000 with 2 MiB or more (not profiled; the batches may fall out of the CPU caches), ~1500-2400 for
 *   the stage pipeline this replaces.
 *
 * Completion and failure follow net/data-pipeline.ts: sending is complete when the socket accepted every
 * byte (see WireWriter in data-stages.ts for why not later), receiving when the wire ended and the sink
 * finished; the first end to fail is reported through `fail` before the returned promise rejects.
 */
import type { Duplex, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { FtpNetworkError } from '../errors.js';
import type { BlockReader } from './block-source.js';
import type { Throttle } from './token-bucket.js';

/** Block size for file reads, and the batch size for sink writes. */
export const BLOCK_SIZE = 1024 * 1024;
/** Blocks kept for reuse across transfers (a busy server reuses instead of allocating 2 MiB per RETR). */
const POOL_MAX = 8;
const pool: Buffer[] = [];

/** A 1 MiB block from the pool (also net/wire-blocks.ts's, for the client's downloads). */
export function takeBlock(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(BLOCK_SIZE);
}

/**
 * Give blocks back once nothing writes from or reads into them any more. Only full-size blocks join the
 * pool (a small file's own buffer would come back as a block too short for the next transfer).
 */
export function releaseBlocks(blocks: ReadonlyArray<Buffer | undefined>): void {
  for (const b of blocks) if (b && b.length === BLOCK_SIZE && pool.length < POOL_MAX) pool.push(b);
}

/**
 * The answer of DirectHooks.admit for a received chunk: undefined (store it), an Error (refuse it: the
 * transfer fails), or a promise of either while the answer needs a round trip (a quota shared through the
 * database waits for its reservation, src/server/db/shared-quota.ts): the wire is not read meanwhile, so
 * the sender is held back by TCP instead of being refused while the quota still has room.
 */
export type Admission = Error | undefined | Promise<Error | undefined>;

/** `then` applied to an admission's answer: at once, or once a later answer comes. */
export function mapAdmission(answer: Admission, then: (refused: Error | undefined) => Error | undefined): Admission {
  return answer instanceof Promise ? answer.then(then) : then(answer);
}

export interface DirectHooks {
  /** Bytes moved on the wire (in TYPE I also the local bytes). */
  count(bytes: number): void;
  /** Note which end failed first (the pipeline's noteFailure). */
  fail(end: 'wire' | 'local', err: unknown): void;
  /** Rejects when the transfer is stopped from outside: abort, idle deadline. */
  stopped: Promise<never>;
  /** Receiving: asked before a chunk is written; an error refuses it and fails the local end. */
  admit?(bytes: number): Admission;
  /**
   * A bandwidth cap (net/token-bucket.ts): sending reads pieces of its size and waits its delay before
   * writing each; receiving pauses the wire for its delay (TCP backpressure slows the peer). Absent: the
   * paths below are the unlimited ones, untouched.
   */
  throttle?: Throttle;
}

/** Wait `ms` on one timer, or until the transfer is stopped (the timer is cleared either way). */
function pause(ms: number, stopped: Promise<never>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>(resolve => { timer = setTimeout(resolve, ms); }), stopped])
    .finally(() => clearTimeout(timer));
}

function closedWireError(): FtpNetworkError {
  return new FtpNetworkError({ connection: 'data', phase: 'transfer', failure: 'closed',
    message: 'the data connection closed before the transfer was complete' });
}

/** Write one block; resolves once the socket accepted it (its write completed), so the block may be reused. */
function writeBlock(wire: Duplex, block: Buffer, hooks: DirectHooks): Promise<void> {
  return new Promise((resolve, reject) => {
    if (wire.destroyed || wire.writableEnded) { reject(closedWireError()); return; }
    wire.write(block, (err?: Error | null) => {
      if (err) { hooks.fail('wire', err); reject(err); return; }
      hooks.count(block.length);
      resolve();
    });
  });
}

/**
 * The buffer a read goes into, taken when first needed rather than two per transfer up front: a file that
 * fits in one read never takes a second one. A small file (its expected size under a block) is read into
 * one buffer of that size plus a byte, so the read comes back short and says the end (BlockReader.ended)
 * without a second read; 500 concurrent RETRs of 64 KiB then hold 64 KiB each instead of 2 MiB (issue 10).
 */
function bufferFor(reader: BlockReader, blocks: Array<Buffer | undefined>, i: number): Buffer {
  const taken = blocks[i];
  if (taken) return taken;
  const { expected } = reader;
  const first = blocks[i ^ 1] === undefined;
  const buffer = first && expected !== undefined && expected < BLOCK_SIZE ? Buffer.allocUnsafe(expected + 1) : takeBlock();
  blocks[i] = buffer;
  return buffer;
}

/** Send a file through the wire with read-ahead into two reused blocks, then queue the wire's end (FIN). */
export async function sendBlocks(wire: Duplex, reader: BlockReader, hooks: DirectHooks): Promise<void> {
  const blocks: Array<Buffer | undefined> = [undefined, undefined];
  const writes: Array<Promise<void> | undefined> = [undefined, undefined];
  const orStop = <T>(p: Promise<T>): Promise<T> => Promise.race([p, hooks.stopped]);
  let reusable = false;
  try {
    for (let i = 0; ; i ^= 1) {
      // The block is free once the socket took it; meanwhile the other block is being written.
      if (writes[i]) await orStop(writes[i]!);
      const block = bufferFor(reader, blocks, i);
      // Capped: a piece of about 1/20 s of the cap, so the wire is paced rather than sent 1 MiB bursts.
      const { throttle } = hooks;
      const want = throttle ? Math.min(throttle.pieceBytes(), block.length) : block.length;
      let n: number;
      try {
        n = await orStop(reader.read(want < block.length ? block.subarray(0, want) : block));
      } catch (err) {
        hooks.fail('local', err);
        throw err;
      }
      if (n === 0) break;
      if (throttle) {
        const ms = throttle.delay(n);
        if (ms > 0) await pause(ms, hooks.stopped);
      }
      const write = writeBlock(wire, n === block.length ? block : block.subarray(0, n), hooks);
      write.catch(() => { /* awaited before the block is reused, or at the end */ });
      writes[i] = write;
      if (reader.ended) break;
    }
    await orStop(Promise.all(writes));
    // Every byte was accepted: a peer that closes or resets now does not fail the transfer (RFC 959 s3.4).
    if (!wire.destroyed && !wire.writableEnded) await orStop(new Promise<void>(resolve => wire.end(() => resolve())));
    reusable = true;
  } finally {
    // After a failure a socket write may still hold a block: leave those to the garbage collector.
    if (reusable) releaseBlocks(blocks);
  }
}

/**
 * Receive from the wire into `sink`. endSink: end the sink at the end of the data and wait until it
 * finished (its data committed); otherwise leave it open, without listeners, once it took every byte.
 * On failure, a corked batch is still handed to the sink before it is destroyed (endSink) or left (not).
 */
export function receiveDirect(wire: Duplex, sink: Writable, endSink: boolean, hooks: DirectHooks): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let batched = 0;
    /**
     * Corked only from a chunk's arrival until the batch is flushed, never across a flush: a Writable keeps
     * what was written while corked until the next uncork, even once its write in flight completed, so a
     * sink left corked after a flush would hold the last batch until more data came (a sender that waits
     * for the stored size to grow would wait forever).
     */
    let corked = false;
    let over = false;
    /** The wire ended; a caller's stream (not endSink) is waited on until it took the last batch. */
    let ending = false;
    let flushLater: NodeJS.Immediate | undefined;
    /** The wire is paused for a bandwidth cap until this timer fires (hooks.throttle). */
    let rateTimer: NodeJS.Timeout | undefined;
    /** The wire is paused until the sink drains. */
    let drainWait = false;
    /** The wire is paused until hooks.admit answers for the chunk held here (Admission). */
    let admitting = false;
    /** The wire ended while a chunk waited for its admission: end once it is taken. */
    let endAfterAdmit = false;
    const { throttle } = hooks;
    /** Read the wire again unless something else still holds it. */
    const resumeUnlessHeld = (): void => { if (!over && !drainWait && !ending && !admitting && !rateTimer) wire.resume(); };

    const uncork = (): void => { if (corked) { corked = false; sink.uncork(); } };
    const cleanup = (): void => {
      over = true;
      clearImmediate(flushLater);
      clearTimeout(rateTimer);
      wire.off('data', onData); wire.off('end', onEnd); wire.off('close', onWireClose); wire.off('error', onWireError);
      sink.off('error', onSinkError); sink.off('close', onSinkClose); sink.off('drain', onDrain);
    };
    const failWith = (end: 'wire' | 'local', err: unknown): void => {
      if (over) return;
      cleanup();
      hooks.fail(end, err);
      uncork();
      if (endSink) sink.destroy();
      reject(err);
    };
    const done = (): void => { if (!over) { cleanup(); resolve(); } };

    /** Hold the wire for a cap's delay: the socket is not read, its window fills, the sender slows. */
    const holdFor = (ms: number): void => {
      clearTimeout(rateTimer);
      wire.pause();
      rateTimer = setTimeout(() => {
        rateTimer = undefined;
        resumeUnlessHeld();
      }, ms);
    };

    const onData = (chunk: Buffer): void => {
      const answer = hooks.admit?.(chunk.length);
      if (answer instanceof Promise) {
        // No more chunks until this one is admitted or refused (in order: the wire is not read meanwhile).
        admitting = true;
        wire.pause();
        answer.then(refused => {
          admitting = false;
          if (over) return;
          if (refused) { failWith('local', refused); return; }
          take(chunk);
          if (!endAfterAdmit) resumeUnlessHeld();
          else if (!over) onEnd();
        }, (err: unknown) => { admitting = false; failWith('local', err); });
        return;
      }
      if (answer) { failWith('local', answer); return; }
      take(chunk);
    };
    /** An admitted chunk: counted, paced by the cap, batched into the sink. */
    const take = (chunk: Buffer): void => {
      hooks.count(chunk.length);
      if (throttle) {
        const ms = throttle.delay(chunk.length);
        if (ms > 0) holdFor(ms);
      }
      // A sink that failed a write is destroyed at once but reports its error a tick later: name that error.
      if (sink.destroyed || sink.writableEnded) { failWith('local', sink.errored ?? new Error('the destination stream is closed')); return; }
      if (!corked) { corked = true; sink.cork(); }
      sink.write(chunk);
      batched += chunk.length;
      if (batched >= BLOCK_SIZE) flush();
      else flushLater ??= setImmediate(flush);
    };
    /**
     * Hand the batch to the sink (one writev for a file): at 1 MiB, or once the chunks that arrived in this
     * turn of the event loop are in (a slow sender's bytes are not held back). Then go on unless the sink
     * is still behind by more than its high-water mark.
     */
    const flush = (): void => {
      clearImmediate(flushLater);
      flushLater = undefined;
      if (over || !corked) return;
      batched = 0;
      uncork();
      if (sink.writableLength >= sink.writableHighWaterMark && sink.writableNeedDrain) {
        drainWait = true;
        wire.pause();
        sink.once('drain', onDrain);
      }
    };
    const onDrain = (): void => {
      drainWait = false;
      if (over) return;
      if (ending) { done(); return; }
      resumeUnlessHeld();
    };
    const onEnd = (): void => {
      if (admitting) { endAfterAdmit = true; return; }
      ending = true;
      clearImmediate(flushLater);
      wire.off('close', onWireClose);
      sink.off('drain', onDrain);
      uncork();
      if (endSink) {
        sink.end();
        finished(sink, { readable: false }).then(done, err => failWith('local', err));
      } else if (sink.writableNeedDrain) {
        sink.once('drain', onDrain);
      } else {
        done();
      }
    };
    const onWireClose = (): void => {
      failWith('wire', Object.assign(new Error('the data connection closed before its end of data'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    const onWireError = (err: Error): void => failWith('wire', err);
    const onSinkError = (err: Error): void => failWith('local', err);
    const onSinkClose = (): void => {
      // A sink that closes before we ended it (endSink) or at all (a caller's stream) lost data.
      if (!(endSink && sink.writableFinished)) failWith('local', sink.errored ?? new Error('the destination stream was closed'));
    };

    sink.on('error', onSinkError);
    sink.on('close', onSinkClose);
    wire.on('error', onWireError);
    wire.on('close', onWireClose);
    wire.on('end', onEnd);
    wire.on('data', onData);
    hooks.stopped.catch((err: unknown) => {
      if (over) return;
      cleanup();
      uncork();
      if (endSink) sink.destroy();
      reject(err);
    });
  });
}
