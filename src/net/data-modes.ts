/**
 * The MODE Z and MODE B stages of a data pipeline (net/data-pipeline.ts), built from the pipeline's options:
 * the codecs themselves are pure and live in protocol/codecs/ (mode-z.ts, mode-b.ts).
 *
 * Restart markers (RFC 959 s3.5) name file offsets, so they are sent and reported in TYPE I only: in TYPE A
 * the block codec sees CRLF text, whose offsets are not the file's (a REST offset in TYPE A is not a byte
 * offset either, docs/client.md).
 */
import type { Transform } from 'node:stream';
import { BlockDecoder, BlockEncoder } from '../protocol/codecs/mode-b.js';
import { createDeflateEncoder, InflateDecoder, type InflateLimits } from '../protocol/codecs/mode-z.js';

export interface ModeCodecOptions {
  /** MODE Z sending: the deflate level (1-9; default 6). */
  deflateLevel?: number;
  /** MODE Z receiving: the inflate bounds. */
  inflate?: InflateLimits;
  /** MODE B sending, TYPE I: a restart marker block after about every this many bytes (0/undefined: none). */
  markerEvery?: number;
  /** The file offset the transfer starts at (REST): markers name file offsets. */
  startOffset?: number;
  /**
   * MODE B receiving, TYPE I: a restart marker arrived; `fileOffset` is the offset in the file of the data
   * received before it (startOffset + the data bytes decoded so far).
   */
  onRestartMarker?: (marker: string, fileOffset: number) => void;
}

export function modeEncoder(mode: 'deflate' | 'block', o: ModeCodecOptions, ascii: boolean): Transform {
  if (mode === 'deflate') return createDeflateEncoder(o.deflateLevel);
  return new BlockEncoder({ markerEvery: ascii ? 0 : o.markerEvery, startOffset: o.startOffset });
}

export function modeDecoder(mode: 'deflate' | 'block', o: ModeCodecOptions, ascii: boolean): Transform {
  if (mode === 'deflate') return new InflateDecoder(o.inflate);
  const report = o.onRestartMarker;
  return new BlockDecoder(report && !ascii
    ? { onMarker: (marker, before) => report(marker, (o.startOffset ?? 0) + before) }
    : {});
}
