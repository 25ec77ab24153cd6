/**
 * MODE B (block) codec of the data connection (RFC 959 s3.4.2): the data goes as blocks, each a header of
 * one descriptor byte and a 16-bit byte count (big-endian), then that many bytes. Descriptor bits: 128 end
 * of record, 64 end of file, 32 suspected errors, 16 restart marker. The end of the data is the block
 * flagged EOF, not the close of the connection: a data connection that closes before it is a failed
 * transfer, which stream mode cannot tell apart from a complete one (RFC 959 s3.4.1).
 *
 * Owns: the block encoder and decoder stages, restart markers (RFC 959 s3.5: a marker block's data is the
 * sender's marker, here the decimal byte offset of the file reached, so the receiver can pass it back with
 * REST), and their typed failures (FtpStreamCodecError: corrupt, truncated).
 *
 * Used by both sides beside the TYPE A codec (type-a.ts). File structure only (STRU F): an EOR flag is
 * accepted and carries no meaning; "suspected errors" data is kept (the sender could not do better).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { FtpStreamCodecError } from '../../errors.js';

export const DESCRIPTOR_EOR = 128;
export const DESCRIPTOR_EOF = 64;
export const DESCRIPTOR_SUSPECT = 32;
export const DESCRIPTOR_RESTART = 16;
/** The 16-bit count's largest value: a block carries at most this many bytes. */
export const MAX_BLOCK_BYTES = 0xffff;
/** A marker longer than this is not a marker of ours or of any sane sender (RFC 959 gives no bound). */
const MAX_MARKER_BYTES = 64;

/** One block header (3 bytes) for `count` bytes with these descriptor bits. */
export function blockHeader(descriptor: number, count: number): Buffer {
  const h = Buffer.allocUnsafe(3);
  h[0] = descriptor;
  h.writeUInt16BE(count, 1);
  return h;
}

export interface BlockEncoderOptions {
  /**
   * Send a restart marker block after about every this many bytes (0 or undefined: none). Markers are only
   * meaningful when the encoder's input is the file's own bytes (TYPE I).
   */
  markerEvery?: number;
  /** The file offset the first byte stands at (a REST offset), so markers name file offsets. */
  startOffset?: number;
}

/** Bytes -> blocks; the end of the data becomes an empty EOF block. */
export class BlockEncoder extends Transform {
  /** Data bytes encoded so far (not counting headers and markers). */
  dataBytes = 0;
  private sinceMarker = 0;

  constructor(private readonly options: BlockEncoderOptions = {}) {
    super({ highWaterMark: 256 * 1024 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const every = this.options.markerEvery ?? 0;
    for (let at = 0; at < chunk.length; at += MAX_BLOCK_BYTES) {
      const piece = chunk.subarray(at, at + MAX_BLOCK_BYTES);
      this.push(blockHeader(0, piece.length));
      this.push(piece);
      this.dataBytes += piece.length;
      this.sinceMarker += piece.length;
    }
    if (every > 0 && this.sinceMarker >= every) {
      this.sinceMarker = 0;
      const marker = Buffer.from(String((this.options.startOffset ?? 0) + this.dataBytes), 'latin1');
      this.push(blockHeader(DESCRIPTOR_RESTART, marker.length));
      this.push(marker);
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    cb(null, blockHeader(DESCRIPTOR_EOF, 0));
  }
}

export interface BlockDecoderOptions {
  /** A restart marker arrived: its text and the data bytes decoded before it. */
  onMarker?: (marker: string, dataBytesBefore: number) => void;
}

/** Blocks -> bytes; fails 'truncated' when the input ends without an EOF block, 'corrupt' on nonsense. */
export class BlockDecoder extends Transform {
  /** Data bytes decoded so far. */
  dataBytes = 0;
  /** The EOF block was seen. */
  eof = false;
  /** Header bytes gathered across chunks (a header may be split by a chunk boundary). */
  private readonly header = Buffer.alloc(3);
  private headerHave = 0;
  /** The block being read: its descriptor and the bytes of it still to come. */
  private descriptor = 0;
  private remaining = 0;
  private marker: Buffer[] = [];
  private markerBytes = 0;

  constructor(private readonly options: BlockDecoderOptions = {}) {
    super({ highWaterMark: 256 * 1024 });
  }

  private corrupt(why: string): FtpStreamCodecError {
    return new FtpStreamCodecError('block', 'corrupt', `MODE B: ${why}`);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.eof) { cb(this.corrupt('data after the end-of-file block')); return; }
      if (this.remaining === 0 && this.headerHave < 3) {
        const take = Math.min(3 - this.headerHave, chunk.length - at);
        chunk.copy(this.header, this.headerHave, at, at + take);
        this.headerHave += take;
        at += take;
        if (this.headerHave < 3) break;
        const err = this.startBlock();
        if (err) { cb(err); return; }
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - at);
      const piece = chunk.subarray(at, at + take);
      at += take;
      this.remaining -= take;
      if (this.descriptor & DESCRIPTOR_RESTART) {
        this.marker.push(piece);
        this.markerBytes += piece.length;
      } else {
        this.dataBytes += piece.length;
        this.push(piece);
      }
      if (this.remaining === 0) this.endBlock();
    }
    cb();
  }

  /** A full header was read: check it and start its block. */
  private startBlock(): FtpStreamCodecError | undefined {
    this.descriptor = this.header[0];
    this.remaining = this.header.readUInt16BE(1);
    const known = DESCRIPTOR_EOR | DESCRIPTOR_EOF | DESCRIPTOR_SUSPECT | DESCRIPTOR_RESTART;
    if ((this.descriptor & ~known) !== 0) return this.corrupt(`unknown descriptor ${this.descriptor}`);
    if (this.descriptor & DESCRIPTOR_RESTART) {
      if (this.descriptor !== DESCRIPTOR_RESTART) return this.corrupt(`restart marker combined with descriptor ${this.descriptor}`);
      if (this.remaining === 0 || this.remaining > MAX_MARKER_BYTES) return this.corrupt(`restart marker of ${this.remaining} bytes`);
    }
    if (this.remaining === 0) this.endBlock();
    return undefined;
  }

  private endBlock(): void {
    this.headerHave = 0;
    if (this.descriptor & DESCRIPTOR_RESTART) {
      const text = Buffer.concat(this.marker, this.markerBytes).toString('latin1');
      this.marker = [];
      this.markerBytes = 0;
      this.options.onMarker?.(text, this.dataBytes);
    }
    if (this.descriptor & DESCRIPTOR_EOF) this.eof = true;
  }

  override _flush(cb: TransformCallback): void {
    if (this.eof) { cb(); return; }
    cb(new FtpStreamCodecError('block', 'truncated', 'MODE B: the data connection closed before the end-of-file block'));
  }
}
