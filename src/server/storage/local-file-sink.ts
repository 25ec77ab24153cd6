/**
 * Owns the stream an upload writes into on the local file system, and when it is committed or undone.
 *
 * An fs.WriteStream cannot say "the upload is complete" apart from "the stream was closed": both end in
 * close(2), and a failed upload left its bytes where they were written. This Writable writes the same way
 * (one pwritev per corked batch, net/data-direct.ts) and gives the storage two moments of its own:
 * - commit: after the last byte, before 'finish' (so before 226): fsync and rename a temporary file over
 *   the final name (atomic mode), nothing for a write in place;
 * - abandon: the upload failed or was cut (client reset, ABOR, idle timeout, ENOSPC, server close): the
 *   stream is destroyed without finishing; remove the temporary file, or cut an appended tail back off.
 * OS errors leave it as FtpStorageError naming the virtual path only (local-errors.ts), so ENOSPC is 452.
 *
 * It also offers a block writer (net/block-source.ts): a plain TYPE I upload reads the data socket into
 * the pipeline's two 1 MiB blocks (net/wire-blocks.ts) and hands each full block here, written with one
 * write in the order given (queued: O_APPEND has no position to take in advance), never concurrently
 * with the commit or the abandon, which wait for the queue.
 */
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { attachBlockWriter } from '../../net/block-source.js';
import { toStorageError } from './local-errors.js';

export interface FileSinkHooks {
  /** Before the first byte (and before an empty upload commits): e.g. truncate the file written in place. */
  beforeFirstWrite?(handle: FileHandle): Promise<void>;
  /** The data is complete and the handle closed: make it the file (rename). Throws to fail the upload. */
  commit?(): Promise<void>;
  /** The upload failed before commit succeeded; the handle is still open. Best effort, never throws. */
  abandon?(handle: FileHandle): Promise<void>;
  /** fsync before commit (atomic uploads: the data is on disk before the name points at it). */
  sync?: boolean;
}

export class FileSink extends Writable {
  private started = false;
  private handleClosed = false;
  private committed = false;
  /** The block writes queued so far (each after the previous one); a failure fails every later one. */
  private blocks: Promise<void> = Promise.resolve();

  constructor(
    private readonly handle: FileHandle,
    /** Where the next byte goes; null: at the end (O_APPEND). */
    private position: number | null,
    private readonly virtualPath: string,
    private readonly hooks: FileSinkHooks,
    highWaterMark: number,
  ) {
    super({ highWaterMark });
    attachBlockWriter(this, { write: (block) => this.writeBlock(block) });
  }

  private writeBlock(block: Buffer): Promise<void> {
    this.blocks = this.blocks.then(() => this.writeAll([block]).catch((err: unknown) => {
      throw toStorageError(err, this.virtualPath);
    }));
    return this.blocks;
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.hooks.beforeFirstWrite?.(this.handle);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.writeAll(chunks.map(c => c.chunk)).then(() => callback(), err => callback(toStorageError(err, this.virtualPath)));
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    await this.start();
    let left = buffers;
    while (left.length > 0) {
      const { bytesWritten } = await this.handle.writev(left, this.position ?? undefined);
      if (this.position !== null) this.position += bytesWritten;
      // A short write (rare on regular files; the next call then reports ENOSPC or EDQUOT): write the rest.
      let skip = bytesWritten;
      while (left.length > 0 && skip >= left[0]!.length) { skip -= left[0]!.length; left = left.slice(1); }
      if (skip > 0) left = [left[0]!.subarray(skip), ...left.slice(1)];
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      await this.blocks;
      await this.start();
      if (this.hooks.sync) await this.handle.sync();
      this.handleClosed = true;
      await this.handle.close();
      await this.hooks.commit?.();
      this.committed = true;
    })().then(() => callback(), err => callback(toStorageError(err, this.virtualPath)));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    (async () => {
      // A block write still in flight would land after the abandon (an APPE's tail cut back, then regrown).
      await this.blocks.catch(() => undefined);
      if (!this.committed) await this.hooks.abandon?.(this.handle).catch(() => undefined);
      if (!this.handleClosed) {
        this.handleClosed = true;
        await this.handle.close().catch(() => undefined);
      }
    })().then(() => callback(error ? toStorageError(error, this.virtualPath) : null));
  }
}
