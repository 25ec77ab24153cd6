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
import type { Readable } from 'node:stream';

export interface BlockReader {
  /**
   * Read the next bytes into `buffer` (up to its length); resolves with how many, 0 at the end of the
   * data. A failure is the local end's (already in the error type its owner wants reported).
   */
  read(buffer: Buffer): Promise<number>;
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
 * `mapError` turns an OS error into what the owner reports (the server's FtpStorageError).
 */
export function fileBlockReader(handle: FileHandle, start: number, mapError: (err: unknown) => unknown = e => e): BlockReader {
  let position = start;
  return {
    async read(buffer: Buffer): Promise<number> {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, buffer.length, position));
      } catch (err) {
        throw mapError(err);
      }
      position += bytesRead;
      return bytesRead;
    },
  };
}
