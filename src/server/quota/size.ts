/**
 * Byte sizes as operators write them: a number of bytes, or a number with a unit ("500MiB", "10 GB",
 * "1.5g"). Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (kB, MB, GB, TB) powers of
 * 1000, and a bare letter (K, M, G, T) is binary, as pure-ftpd's `-n files:MB` and `du -h` read it.
 *
 * Owns: parsing (for the config schema and the library's user options) and the short form STAT shows.
 */
import { FtpConfigError } from '../../errors.js';
import type { QuotaLimits } from '../auth/types.js';

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kib: 1024, kb: 1000,
  m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
  t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
};

/** The text every refusal carries, so an operator sees what is accepted. */
export const BYTE_SIZE_HELP = 'expected a size: a whole number of bytes, or a number with a unit like "500MiB", "10GB", "2G"';

/** A size as configured: bytes, or text with a unit. */
export type ByteSize = number | string;

/**
 * Bytes for `value`, or a message saying why it is not a size (the caller names the key). Sizes are whole
 * bytes (rounded down) and at least 1: "no limit" is said by leaving the key out.
 */
export function parseByteSize(value: unknown): number | { error: string } {
  let bytes: number;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return { error: `${BYTE_SIZE_HELP}, got ${value}` };
    bytes = value;
  } else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
    const factor = m ? UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || factor === undefined) return { error: `${BYTE_SIZE_HELP}, got ${JSON.stringify(value)}` };
    bytes = Math.floor(Number(m[1]) * factor);
    if (!Number.isSafeInteger(bytes)) return { error: `${JSON.stringify(value)} is too large` };
  } else {
    return { error: BYTE_SIZE_HELP };
  }
  if (bytes < 1) return { error: 'must be at least 1 byte (leave the key out for no limit)' };
  return bytes;
}

/** "1.5 MiB", "812 B": for STAT and messages (binary units, one decimal). */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${bytes} B` : `${v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

/** A size option of the library API (a number or text with a unit) in bytes; FtpConfigError naming `key` otherwise. */
export function byteSizeOption(value: ByteSize | undefined, key: string): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseByteSize(value);
  if (typeof bytes !== 'number') throw new FtpConfigError(key, bytes.error);
  return bytes;
}

/** A quota as the library API takes it (sizes may have units); FtpConfigError naming `key`.bytes/.files otherwise. */
export function quotaOption(value: QuotaSpec | undefined, key: string): QuotaLimits | undefined {
  if (value === undefined) return undefined;
  const bytes = byteSizeOption(value.bytes, `${key}.bytes`);
  const files = value.files;
  if (files !== undefined && (!Number.isSafeInteger(files) || files < 1)) {
    throw new FtpConfigError(`${key}.files`, 'must be a whole number of files >= 1 (leave it out for no limit)');
  }
  return bytes === undefined && files === undefined ? undefined : { bytes, files };
}

/** A quota in the library's user options: bytes as a number or text with a unit ("10GiB"), a file count. */
export interface QuotaSpec {
  bytes?: ByteSize;
  files?: number;
}
