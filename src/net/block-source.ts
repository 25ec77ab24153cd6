/**
 * A local source that the data pipeline may read in blocks, into its own reused buffers, instead of taking
 * the chunks its stream allocates: a file. The source stays an ordinary Readable for every other reader
 * (TYPE A, HASH, SIZE in TYPE A); net/data-direct.ts uses the block reader for TYPE I transfers.
 *
 * Why: reading a file as a stream costs a fresh buffer and a thread-pool round trip per 256 KiB chunk, and
 * the disk read and the socket write never overlap. With a block reader the pipeline reads 1 MiB into one
 * buffer while the socket writes the other (net/data-direct.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

export interface BlockReader {
  /**
   * Read the next bytes into `buffer` (up to its length); resolves with how many, 0 at the end of the
   * data. A failure is the local end's (already in the error type its owner wants reported).
   */
  read(buffer: Buffer): Promise<number>;
  /**
   * Bytes left to read when the source was opened (a file's size less the start), when known: the sender
   * reads a small file into one buffer of that size (plus one byte) instead of taking 1 MiB blocks. A hint:
   * the file may change meanwhile, and the reads alone say where the data ends.
   */
  readonly expected?: number;
  /**
   * True once a read came back shorter than asked at or past the expected end: that is the end of the data
   * (POSIX read(2) on a regular file returns less only at its end), so the sender need not ask once more
   * to be told 0, one thread-pool round trip fewer per download. Never set without `expected`: a short read
   * before it (a file cut meanwhile) is followed by reads until 0 as before.
   */
  readonly ended?: boolean;
}

const BLOCK_READER = Symbol('ftpkit.blockReader');

type WithBlockReader = Readable & { [BLOCK_READER]?: BlockReader };

/**
 * Offer `reader` alongside `stream`: both read the same data, and only one of them may be used. Destroying
 * the stream still releases what both read from (the file handle the stream owns).
 */
export function attachBlockReader<T extends Readable>(stream: T, reader: BlockReader): T {
  (stream as WithBlockReader)[BLOCK_READER] = reader;
  return stream;
}

/** The block reader offered with `stream`, unless the stream has already been read from. */
export function blockReaderOf(stream: Readable): BlockReader | undefined {
  const reader = (stream as WithBlockReader)[BLOCK_READER];
  if (!reader || stream.readableDidRead || stream.readableFlowing !== null || stream.destroyed) return undefined;
  return reader;
}

/**
 * Positional reads of an open file from `start` (pread: the stream on the same handle is not disturbed).
 * `mapError` turns an OS error into what the owner reports (the server's FtpStorageError). `size`: the
 * file's size when it was opened (fstat), for BlockReader.expected and .ended.
 */
export function fileBlockReader(handle: FileHandle, start: number, mapError: (err: unknown) => unknown = e => e, size?: number): BlockReader {
  let position = start;
  let ended = false;
  return {
    expected: size === undefined ? undefined : Math.max(0, size - start),
    get ended() { return ended; },
    async read(buffer: Buffer): Promise<number> {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, buffer.length, position));
      } catch (err) {
        throw mapError(err);
      }
      position += bytesRead;
      if (size !== undefined && bytesRead < buffer.length && position >= size) ended = true;
      return bytesRead;
    },
  };
}

/**
 * The other direction: a local sink that the data pipeline may write whole blocks into, from its own reused
 * buffers, instead of handing it the socket's chunks: a file (the client's downloads, net/wire-blocks.ts).
 * The sink stays an ordinary Writable for everything else, and is still ended by the pipeline (which closes
 * the file it owns).
 */
export interface BlockWriter {
  /**
   * Write all of `block` after the bytes of the previous call (the place is taken at the call, so two
   * writes may be in flight at once). The caller may reuse `block` once this resolves.
   */
  write(block: Buffer): Promise<void>;
}

const BLOCK_WRITER = Symbol('ftpkit.blockWriter');

type WithBlockWriter = Writable & { [BLOCK_WRITER]?: BlockWriter };

/** Offer `writer` alongside `stream`: both write the same file, and only one of them may be used. */
export function attachBlockWriter<T extends Writable>(stream: T, writer: BlockWriter): T {
  (stream as WithBlockWriter)[BLOCK_WRITER] = writer;
  return stream;
}

/** The block writer offered with `stream`, unless the stream has already been written to or ended. */
export function blockWriterOf(stream: Writable): BlockWriter | undefined {
  const writer = (stream as WithBlockWriter)[BLOCK_WRITER];
  if (!writer || stream.writableLength > 0 || stream.writableEnded || stream.destroyed) return undefined;
  return writer;
}

/** Positional writes into an open file from `start` (pwrite: the stream on the same handle is not disturbed). */
export function fileBlockWriter(handle: FileHandle, start: number): BlockWriter {
  let position = start;
  return {
    async write(block: Buffer): Promise<void> {
      const at = position;
      position += block.length;
      // A regular file takes the whole block at once; the loop covers a short write (a full disk reports
      // ENOSPC on the next call).
      for (let done = 0; done < block.length;) {
        const { bytesWritten } = await handle.write(block, done, block.length - done, at + done);
        done += bytesWritten;
      }
    },
  };
}
