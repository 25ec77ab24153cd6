/**
 * Owns the Readable a listing transfer sends (LIST, NLST, MLSD): lines formatted a chunk of entries at a
 * time into listing buffers (protocol/listing-buffers.ts), so the first bytes leave while the storage is
 * still looking at the rest of a big folder (storage/types.ts ChunkedListCapability; issue 10), and no more
 * is formatted than the data connection takes (the stream's backpressure).
 */
import { Readable } from 'node:stream';
import type { FileInfo, ListingChunks } from '../storage/types.js';
import { ListingBuffers } from '../../protocol/listing-buffers.js';

/** Every entry of `chunks`, in order (STAT over the control connection needs them all at once). */
export async function allEntries(chunks: ListingChunks): Promise<FileInfo[]> {
  let all: FileInfo[] = [];
  // concat, not push(...chunk): a storage without chunks gives its whole folder as one (a spread of
  // 100,000s of arguments overflows the stack).
  for (let r = await chunks.next(); !r.done; r = await chunks.next()) all = all.concat(r.value);
  return all;
}

class ListingSource extends Readable {
  private readonly out = new ListingBuffers((bytes) => { this.room = this.push(bytes); });
  private room = true;
  private pumping = false;
  private finished = false;

  constructor(private readonly chunks: ListingChunks, private readonly format: (entry: FileInfo) => string, head: readonly string[]) {
    super();
    for (const line of head) this.out.line(line);
  }

  override _read(): void {
    if (!this.pumping && !this.finished) void this.pump();
  }

  /** Format chunk after chunk until the consumer's buffer is full or the entries end. */
  private async pump(): Promise<void> {
    this.pumping = true;
    this.room = true;
    try {
      while (this.room && !this.destroyed) {
        const r = await this.chunks.next();
        if (this.destroyed) return;
        if (r.done) {
          this.finished = true;
          this.out.flush();
          this.push(null);
          return;
        }
        // Lines leave as buffers fill (LISTING_BUFFER_BYTES), not per chunk: few, big socket writes.
        for (const entry of r.value) this.out.line(this.format(entry));
      }
    } catch (err) {
      this.destroy(err as Error);
    } finally {
      this.pumping = false;
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Releases what the storage holds for the listing (an open folder) when the transfer ends early.
    this.chunks.return().then(() => callback(error), () => callback(error));
  }
}

/** The bytes of a listing: `head` lines, then one line per entry, each ended by CRLF (RFC 959 s3.1.1.1). */
export function listingSource(chunks: ListingChunks, format: (entry: FileInfo) => string, head: readonly string[] = []): Readable {
  return new ListingSource(chunks, format, head);
}
