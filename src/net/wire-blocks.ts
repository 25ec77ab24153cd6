/**
 * A TYPE I download read straight into the pipeline's blocks: the client's plain data socket is created
 * with net.connect's `onread` (connect.ts), so each read() syscall copies the bytes from the kernel into
 * free room of a reused 1 MiB block, and a full block is written to the file (a positional write,
 * block-source.ts BlockWriter) while the socket reads into the other block. Without it every read allocates
 * a fresh 64 KiB buffer (a malloc, page faults, external memory for the GC) that passes a Readable's
 * queue and 'data' event and is then gathered again into a 1 MiB batch for writev (data-direct.ts).
 * Measured (`ftpkit get` of 1 GiB from vsftpd into tmpfs, loopback, 2 cores, interleaved runs, medians of
 * the client's user+sys CPU): 1650 ms -> 1060 ms per GiB, as much as lftp's 1060; read() calls per GiB
 * 20,900 -> 3,500, page faults 20-34k -> 6k.
 *
 * Backpressure: when both blocks are being written the socket stops reading (the callback returns false:
 * readStop) and resumes when a block is free again; TCP holds the peer back meanwhile.
 *
 * For sockets this module was given at creation (the client's, connect.ts) and for sockets accepted or
 * connected without it (the server's data connections): forAccepted() switches those to the same reads
 * through Node's internals (socket-user-buffer.ts; a TLS socket too: its decrypted records), or declines
 * (another Node). Always into a sink with
 * a block writer (a local file: the client's local-files.ts, the server's storage/local-file-sink.ts); the
 * pipeline (data-pipeline.ts) chooses it. A socket created for it whose transfer ends up elsewhere (no
 * block writer after all) is turned back into ordinary 'data' events by asDataEvents().
 * Measured for the server's STOR: see docs/bench.md (server STOR CPU).
 */
import type { Duplex, Writable } from 'node:stream';
import type net from 'node:net';
import { finished } from 'node:stream/promises';
import type { BlockWriter } from './block-source.js';
import { BLOCK_SIZE, releaseBlocks, takeBlock, type DirectHooks } from './data-direct.js';
import { readIntoUserBuffers } from './socket-user-buffer.js';

/** A block with less room than this is written rather than read into: a read that small costs a syscall for little. */
const MIN_READ = 64 * 1024;

/**
 * Received bytes wait in a block at most this long before they are written (a slow sender's bytes reach
 * the file soon, as they did in 'data' batches: resumable uploads keep them, a kill -9 loses little).
 */
const FLUSH_MS = 20;

const WIRE_BLOCKS = Symbol('ftpkit.wireBlocks');

/** What receive() is given by the pipeline. */
interface Receiver {
  wire: net.Socket;
  writer: BlockWriter;
  hooks: DirectHooks;
  /** The transfer failed (already reported): no more reads or writes. */
  fail(end: 'wire' | 'local', err: unknown): void;
}

export class WireBlocks {
  private readonly blocks = [takeBlock(), takeBlock()];
  /** The block being read into, how much of it holds data, and up to where that was handed to the writer. */
  private cur = 0;
  private filled = 0;
  private flushedTo = 0;
  /** Writes the current block's bytes that came so far (FLUSH_MS after the first unwritten one). */
  private flushTimer: NodeJS.Timeout | undefined;
  /** The writes of each block in flight (the block is not read into again until they completed). */
  private readonly writes: Array<Promise<void> | undefined> = [undefined, undefined];
  private receiver: Receiver | undefined;
  /** The socket stopped reading: both blocks busy. */
  private stalled = false;
  /** asDataEvents(): reads are copied out and emitted as 'data' on this socket. */
  private emitTo: Duplex | undefined;
  private failed = false;
  /** A bandwidth cap holds the reads until this timer fires (hooks.throttle). */
  private holdTimer: NodeJS.Timeout | undefined;
  /** The reads wait for hooks.admit's answer on the bytes last read (data-direct.ts Admission). */
  private admitting = false;
  /** Bytes the socket had queued before it was switched (forAccepted), already in the block: counted by receive(). */
  private queued = 0;
  /**
   * Where reads go while they should have stopped, and copies of what came there, in order. A plain socket
   * stops at once when the callback returns false (libuv's read stop); a TLS socket does not: Node's
   * TLSWrap::ClearOut() goes on handing over every record it has already decrypted, each into the buffer
   * asked for last. Those must not land in a block that is being written (or past the bytes still waiting
   * for their admission): they are kept here and taken into the blocks before the reads resume.
   */
  private spill: Buffer | undefined;
  private readonly spilled: Buffer[] = [];
  /** The wire's end came while spilled bytes waited: receive()'s end, run once they are in the blocks. */
  private endOnceTaken: (() => void) | undefined;

  /**
   * Blocks for a socket that was not created with them (accepted, or connected without `onread`): switch
   * it to reading into them now, or undefined when it cannot be (nothing changed: the caller keeps the
   * 'data' path). Call receive() in the same turn of the event loop: reads come from then on.
   */
  static forAccepted(socket: Duplex): WireBlocks | undefined {
    const blocks = new WireBlocks();
    // What was queued fits in the first block with room to spare, so taking it in never waits for a write.
    const switched = readIntoUserBuffers(socket, blocks.onread, BLOCK_SIZE - MIN_READ, (chunk) => {
      chunk.copy(blocks.blocks[0]!, blocks.filled);
      blocks.filled += chunk.length;
      blocks.queued += chunk.length;
    });
    if (!switched) { releaseBlocks(blocks.blocks); return undefined; }
    return blocks;
  }

  /** For net.connect({ onread }): the buffer the next read goes into, and the callback after it. */
  readonly onread = {
    buffer: (): Buffer => {
      const block = this.blocks[this.cur]!;
      if (this.emitTo) return block;
      // Capped: reads of about 1/20 s of the cap (the throttle's piece), so the wire is paced, not bursty.
      const piece = this.receiver?.hooks.throttle?.pieceBytes() ?? BLOCK_SIZE;
      if (this.held()) {
        const spill = (this.spill ??= Buffer.allocUnsafeSlow(MIN_READ));
        return piece < MIN_READ ? spill.subarray(0, piece) : spill;
      }
      return piece < BLOCK_SIZE - this.filled ? block.subarray(this.filled, this.filled + piece) : block.subarray(this.filled);
    },
    callback: (n: number, buf: Uint8Array): boolean => this.onRead(n, buf),
  };

  /** Mark `socket` as reading into these blocks (connect.ts, once created with `onread`). */
  bind(socket: net.Socket): void {
    (socket as net.Socket & { [WIRE_BLOCKS]?: WireBlocks })[WIRE_BLOCKS] = this;
  }

  private onRead(n: number, buf: Uint8Array): boolean {
    if (this.emitTo) {
      this.emitTo.emit('data', Buffer.from(buf.subarray(0, n)));
      return true;
    }
    const r = this.receiver;
    // The socket is paused until receive() or asDataEvents() (connect.ts): no read comes before either.
    if (!r || this.failed) return false;
    if (this.spill && buf.buffer === this.spill.buffer) {
      const read = buf.subarray(0, n);
      // Nothing holds the reads any more (the first read after a resume lands here): straight into the block.
      if (!this.held()) return this.takeIn(r, read) && this.takeSpilled(r);
      this.spilled.push(Buffer.from(read));
      return this.takeSpilled(r);
    }
    this.filled += n;
    return this.took(r, n);
  }

  /** The reads must wait for a block still being written, an admission, or a cap's delay. */
  private waiting(): boolean {
    return this.stalled || this.admitting || this.holdTimer !== undefined;
  }

  /** The reads must wait: waiting(), or spilled bytes still to go before them. */
  private held(): boolean {
    return this.waiting() || this.spilled.length > 0;
  }

  /** Take spilled bytes into the blocks, in order, while nothing else holds the reads; true when all are in. */
  private takeSpilled(r: Receiver): boolean {
    while (this.spilled.length > 0) {
      if (this.failed || this.waiting()) return false;
      if (!this.takeIn(r, this.spilled.shift()!)) return false;
    }
    return !this.failed && !this.waiting();
  }

  /**
   * Copy a read that went to the spill buffer into the current block, then take it (took). A spilled read
   * is at most MIN_READ bytes and a block being read into has at least that much room; should it not fit,
   * the rest goes back to the front of the spilled reads.
   */
  private takeIn(r: Receiver, read: Uint8Array): boolean {
    const n = Math.min(read.length, BLOCK_SIZE - this.filled);
    this.blocks[this.cur]!.set(read.subarray(0, n), this.filled);
    this.filled += n;
    if (n < read.length) this.spilled.unshift(Buffer.from(read.subarray(n)));
    return this.took(r, n);
  }

  /** Whatever held the reads is over: take the spilled bytes, then read on (or end, if the wire's end came meanwhile). */
  private resumeReads(r: Receiver): void {
    if (!this.takeSpilled(r)) return;
    const end = this.endOnceTaken;
    if (end) { this.endOnceTaken = undefined; end(); return; }
    r.wire.resume();
  }

  /** n more bytes are in the current block: admitted (hooks.admit), counted, then placed. */
  private took(r: Receiver, n: number): boolean {
    const answer = r.hooks.admit?.(n);
    if (answer instanceof Promise) {
      // No more reads until these bytes are admitted or refused. Node asks for the next read's buffer as
      // soon as this returns, so the block is handled now (a refusal fails the transfer with at most this
      // read written: the quota's settle measures the file) and the bytes are counted once admitted.
      this.admitting = true;
      this.place(r, n);
      answer.then(refused => {
        this.admitting = false;
        if (this.failed) return;
        if (refused) { r.fail('local', refused); return; }
        r.hooks.count(n);
        this.resumeReads(r);
      }, (err: unknown) => { this.admitting = false; r.fail('local', err); });
      return false;
    }
    if (answer) { r.fail('local', answer); return false; }
    r.hooks.count(n);
    return this.place(r, n);
  }

  /** n more bytes are in the current block: write it once (nearly) full; false while the reads must wait. */
  private place(r: Receiver, n: number): boolean {
    let reading = true;
    // The block is (nearly) full: write it, read on into the other one, unless that is still being written.
    // The buffer for the next read is asked for after this returns: it is the new current block, whole.
    if (BLOCK_SIZE - this.filled >= MIN_READ) {
      this.flushTimer ??= setTimeout(() => this.flushPartial(r), FLUSH_MS);
    } else if (!this.rotate(r)) {
      this.stalled = true;
      reading = false;
    }
    // A bandwidth cap: no reads for its delay (the socket's window fills, TCP slows the sender).
    const ms = r.hooks.throttle?.delay(n) ?? 0;
    if (ms > 0) {
      clearTimeout(this.holdTimer);
      this.holdTimer = setTimeout(() => {
        this.holdTimer = undefined;
        this.resumeReads(r);
      }, ms);
      reading = false;
    }
    return reading;
  }

  /** Write the current block and read into the other one; false when that one is still being written. */
  private rotate(r: Receiver): boolean {
    this.writeRest(r);
    this.cur ^= 1;
    this.filled = 0;
    this.flushedTo = 0;
    return this.writes[this.cur] === undefined;
  }

  /** FLUSH_MS passed: write what the current block holds so far; reads go on after it, in the same block. */
  private flushPartial(r: Receiver): void {
    this.flushTimer = undefined;
    if (!this.failed) this.writeRest(r);
  }

  /** Hand the current block's bytes not yet written to the writer. */
  private writeRest(r: Receiver): void {
    if (this.filled === this.flushedTo) return;
    const i = this.cur;
    const block = this.blocks[i]!;
    const write = r.writer.write(this.flushedTo === 0 && this.filled === BLOCK_SIZE ? block : block.subarray(this.flushedTo, this.filled));
    this.flushedTo = this.filled;
    const before = this.writes[i];
    const tracked: Promise<void> = (before ? Promise.all([before, write]) : write).then(() => {
      if (this.writes[i] !== tracked) return; // a later write of this block is still in flight
      this.writes[i] = undefined;
      // The block being waited for is free: read again.
      if (this.stalled && i === this.cur && !this.failed) {
        this.stalled = false;
        this.resumeReads(r);
      }
    }, (err: unknown) => { r.fail('local', err); throw err; });
    tracked.catch(() => { /* reported through fail(); awaited at the end */ });
    this.writes[i] = tracked;
  }

  /**
   * Receive the rest of the transfer into `sink`'s file (through `writer`), then end the sink and wait until
   * it finished (the file closed). Failures as net/data-direct.ts's receiveDirect: reported through
   * hooks.fail, the sink destroyed.
   */
  receive(wire: net.Socket, sink: Writable, writer: BlockWriter, hooks: DirectHooks): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let over = false;
      const cleanup = (): void => {
        over = true;
        clearTimeout(this.holdTimer);
        clearTimeout(this.flushTimer);
        wire.off('end', onEnd); wire.off('close', onWireClose); wire.off('error', onWireError);
        sink.off('error', onSinkError); sink.off('close', onSinkClose);
      };
      /**
       * What came before the wire failed or the transfer was stopped is still written (as the 'data' path
       * did): a resumable upload keeps it. The sink waits for that write before it is undone or closed
       * (storage/local-file-sink.ts).
       */
      const keepReceived = (): void => { if (!this.failed) this.writeRest(r); };
      const failWith = (end: 'wire' | 'local', err: unknown): void => {
        if (over) { this.failed = true; return; }
        if (end === 'wire') keepReceived();
        this.failed = true;
        cleanup();
        hooks.fail(end, err);
        wire.pause();
        sink.destroy();
        reject(err);
      };
      const r: Receiver = { wire, writer, hooks, fail: failWith };
      const onEnd = (): void => {
        wire.off('close', onWireClose);
        // Reads that came after a stop (TLS) go into the file first, and the last bytes' admission is answered
        // first (TLS hands over its last record and the end in one go): end once both are done.
        if (this.admitting || (this.spilled.length > 0 && !this.takeSpilled(r))) { this.endOnceTaken = endOfData; return; }
        endOfData();
      };
      const endOfData = (): void => {
        clearTimeout(this.flushTimer);
        this.writeRest(r);
        Promise.all(this.writes).then(() => {
          if (over) return;
          sink.end();
          return finished(sink, { readable: false }).then(() => {
            if (over) return;
            cleanup();
            releaseBlocks(this.blocks);
            resolve();
          });
        }).catch(err => failWith('local', err));
      };
      const onWireClose = (): void => {
        failWith('wire', Object.assign(new Error('the data connection closed before its end of data'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
      };
      const onWireError = (err: Error): void => failWith('wire', err);
      const onSinkError = (err: Error): void => failWith('local', err);
      const onSinkClose = (): void => {
        if (!sink.writableFinished) failWith('local', sink.errored ?? new Error('the destination stream was closed'));
      };
      sink.on('error', onSinkError);
      sink.on('close', onSinkClose);
      wire.on('error', onWireError);
      wire.on('close', onWireClose);
      wire.on('end', onEnd);
      hooks.stopped.catch((err: unknown) => {
        if (over) { this.failed = true; return; }
        keepReceived();
        this.failed = true;
        cleanup();
        sink.destroy();
        reject(err);
      });
      this.receiver = r;
      if (this.queued > 0) this.took(r, this.queued);
      if (this.failed || this.held()) return; // an admission or a cap's delay resumes the reads itself when it ends
      // Starts the reads (the socket was created paused) and makes the stream flowing, so that the end of
      // data is emitted ('end'); with onread no chunk is ever queued in it.
      wire.resume();
    });
  }

  /**
   * The transfer does not write blocks after all: hand each read to the socket's 'data' listeners (already
   * attached) as an ordinary chunk, a copy (the block is read into again).
   */
  asDataEvents(wire: Duplex): void {
    this.emitTo = wire;
    wire.resume();
  }
}

/** The WireBlocks a socket was created with (connect.ts), if any. */
export function wireBlocksOf(wire: Duplex): WireBlocks | undefined {
  return (wire as Duplex & { [WIRE_BLOCKS]?: WireBlocks })[WIRE_BLOCKS];
}
