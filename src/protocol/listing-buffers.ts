/**
 * Owns the bytes of a listing on its way to the data connection (LIST, NLST, MLSD): lines are encoded
 * straight into buffers of LISTING_BUFFER_BYTES, each handed on when full, instead of one string per line
 * joined into one string the size of the listing (10,000 entries: ~700 KB of text, then as much again in
 * UTF-8; issue 10). Every line ends with CRLF (RFC 959 s3.1.1.1: listings are sent as ASCII lines).
 */

/** Size of one listing buffer: a few socket writes' worth, and a 10,000-entry LIST fills three. */
export const LISTING_BUFFER_BYTES = 256 * 1024;

/** UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units). */
const MAX_BYTES_PER_UNIT = 3;

export class ListingBuffers {
  private buffer: Buffer | undefined;
  private used = 0;

  /** `emit` receives each full buffer (a view of its used part; never written again). */
  constructor(private readonly emit: (bytes: Buffer) => void, private readonly size = LISTING_BUFFER_BYTES) {}

  /** Append `text` and CRLF. */
  line(text: string): void {
    const most = text.length * MAX_BYTES_PER_UNIT + 2;
    if (this.buffer && this.used + most > this.buffer.length) this.flush();
    if (most > this.size) {
      // A line longer than a buffer (a very long link target): on its own.
      this.emit(Buffer.from(`${text}\r\n`, 'utf8'));
      return;
    }
    const buffer = (this.buffer ??= Buffer.allocUnsafe(this.size));
    // write() encodes as Buffer.from() does (a lone surrogate becomes U+FFFD), and the room is there.
    this.used += buffer.write(text, this.used, 'utf8');
    buffer[this.used++] = 13;
    buffer[this.used++] = 10;
  }

  /** Hand on what the current buffer holds, if anything; the next line starts a new buffer. */
  flush(): void {
    if (this.buffer && this.used) this.emit(this.buffer.subarray(0, this.used));
    this.buffer = undefined;
    this.used = 0;
  }
}
