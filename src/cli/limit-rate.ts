/**
 * `--limit-rate RATE` of get, put and mirror: curl's syntax, bytes per second with an optional 1024-based
 * suffix (curl's manual, --limit-rate: "k", "M", "G", "T"; case-insensitive): 100K, 2M, 1.5G, 65536.
 * The cap itself is the library's limitRate (src/client/rate-limit.ts).
 */
import { FtpUsageError } from '../errors.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

export function parseByteRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgt]?)$/i.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]!) : NaN;
  if (!m || !(bytes >= 1) || !Number.isSafeInteger(bytes)) {
    throw new FtpUsageError(`--limit-rate needs bytes per second like 100K, 2M or 1G (curl's syntax), got ${text}`);
  }
  return bytes;
}
