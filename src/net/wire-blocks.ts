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
 * Only for sockets this module was given at creation (onread cannot be added later) and a sink with a block
 * writer; the pipeline (data-pipeline.ts) chooses it. A socket created for it whose transfer ends up
 * elsewhere (no block writer after all) is turned back into ordinary 'data' events by asDataEvents().
 */
import type { Duplex, Writable } from 'node:stream';
import type net from 'node:net';
import { finished } from 'node:stream/promises';
import type { BlockWriter } from './block-source.js';
import { BLOCK_SIZE, releaseBlocks, takeBlock, type DirectHooks } from './data-direct.js';

/** A block with less room than this is written rather than read into: a read that small costs a syscall for little. */
const MIN_READ = 64 * 1024;

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
  /** The block being read into, and how much of it holds data. */
  private cur = 0;
  private filled = 0;
  /** The write of each block in flight (the block is not read into until it completed). */
  private readonly writes: Array<Promise<void> | undefined> = [undefined, undefined];
  private receiver: Receiver | undefined;
  /** The socket stopped reading: both blocks busy. */
  private stalled = false;
  /** asDataEvents(): reads are copied out and emitted as 'data' on this socket. */
  private emitTo: Duplex | undefined;
  private failed = false;

  /** For net.connect({ onread }): the buffer the next read goes into, and the callback after it. */
  readonly onread = {
    buffer: (): Buffer => (this.emitTo ? this.blocks[this.cur]! : this.blocks[this.cur]!.subarray(this.filled)),
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
    this.filled += n;
    const refused = r.hooks.admit?.(n);
    if (refused) { r.fail('local', refused); return false; }
    r.hooks.count(n);
    if (BLOCK_SIZE - this.filled >= MIN_READ) return true;
    // The block is (nearly) full: write it, read on into the other one, unless that is still being written.
    // The buffer for the next read is asked for after this returns: it is the new current block, whole.
    if (this.rotate(r)) return true;
    this.stalled = true;
    return false;
  }

  /** Write the current block and read into the other one; false when that one is still being written. */
  private rotate(r: Receiver): boolean {
    this.writeOut(r, this.cur, this.filled);
    this.cur ^= 1;
    this.filled = 0;
    return this.writes[this.cur] === undefined;
  }

  private writeOut(r: Receiver, i: number, length: number): void {
    const block = this.blocks[i]!;
    const write = r.writer.write(length === BLOCK_SIZE ? block : block.subarray(0, length)).then(() => {
      this.writes[i] = undefined;
      // The block being waited for is free: read again.
      if (this.stalled && i === this.cur && !this.failed) { this.stalled = false; r.wire.resume(); }
    }, (err: unknown) => { r.fail('local', err); throw err; });
    write.catch(() => { /* reported through fail(); awaited at the end */ });
    this.writes[i] = write;
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
        wire.off('end', onEnd); wire.off('close', onWireClose); wire.off('error', onWireError);
        sink.off('error', onSinkError); sink.off('close', onSinkClose);
      };
      const failWith = (end: 'wire' | 'local', err: unknown): void => {
        this.failed = true;
        if (over) return;
        cleanup();
        hooks.fail(end, err);
        wire.pause();
        sink.destroy();
        reject(err);
      };
      const r: Receiver = { wire, writer, hooks, fail: failWith };
      const onEnd = (): void => {
        wire.off('close', onWireClose);
        if (this.filled > 0) this.writeOut(r, this.cur, this.filled);
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
        this.failed = true;
        if (over) return;
        cleanup();
        sink.destroy();
        reject(err);
      });
      this.receiver = r;
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
