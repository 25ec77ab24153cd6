/**
 * Incremental parser for FTP replies as a client receives them (RFC 959 s4.2).
 *
 * Owns: splitting the control stream into lines, grouping lines into single- and multi-line replies, and
 * bounding everything a server can send (line length, reply size, line count). Pure: bytes in, replies out.
 *
 * Tolerances, because real servers need them:
 * - LF-only line ends (and stray extra CRs) are accepted.
 * - Inside a multi-line reply, any line that is not the closing line is text: indented lines, lines that start
 *   with another code, lines that repeat "NNN-" (RFC 959 s4.2 only requires the closing "NNN " line).
 * - A bare "NNN" line (no text, no space) is a complete single-line reply / a closing line.
 */
import { FtpProtocolError } from '../errors.js';

/** One complete reply from the server. */
export interface FtpResponse {
  /** Three-digit reply code (RFC 959 s4.2). */
  code: number;
  /** The text without the code prefixes; lines joined with "\n". */
  message: string;
  /** Raw lines as received (without line ends). */
  lines: string[];
}

export interface ReplyParserLimits {
  /** Longest accepted line in bytes (without the line end). Default 16 KiB. */
  maxLineBytes?: number;
  /** Largest accepted multi-line reply in bytes. Default 1 MiB. */
  maxReplyBytes?: number;
  /** Most lines in one multi-line reply. Default 100 000. */
  maxReplyLines?: number;
}

const CODE_LINE = /^([1-5]\d\d)([ -]|$)/;

export function isPreliminary(code: number): boolean { return code >= 100 && code < 200; }
export function isPositive(code: number): boolean { return code >= 200 && code < 300; }
export function isIntermediate(code: number): boolean { return code >= 300 && code < 400; }
export function isNegative(code: number): boolean { return code >= 400; }

/** How many CR bytes end `buf[0, end)`. */
function trailingCrs(buf: Buffer, end: number): number {
  let i = end;
  while (i > 0 && buf[i - 1] === 0x0d) i--;
  return end - i;
}

export class ReplyParser {
  private readonly maxLineBytes: number;
  private readonly maxReplyBytes: number;
  private readonly maxReplyLines: number;
  /** Bytes of the current, unterminated line. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /**
   * CRs at the end of the partial line: they may be its line end (CR LF, or stray CRs before the LF), so
   * they are not counted against maxLineBytes yet; otherwise a line of exactly the bound would be refused
   * when a chunk ends between its CR and LF, and accepted in one chunk. A run of CRs is bounded on its own.
   */
  private partialTrailingCrs = 0;
  /** A multi-line reply that has begun but not closed. */
  private open: { code: number; lines: string[]; texts: string[]; bytes: number } | undefined;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(limits: ReplyParserLimits = {}) {
    this.maxLineBytes = limits.maxLineBytes ?? 16 * 1024;
    this.maxReplyBytes = limits.maxReplyBytes ?? 1024 * 1024;
    this.maxReplyLines = limits.maxReplyLines ?? 100_000;
  }

  /** True while a reply has started (a partial line or an unclosed multi-line reply). */
  get pending(): boolean { return this.open !== undefined || this.partialBytes > 0; }

  /** Describes what is pending, for error messages ("multi-line reply 211 with 3 lines not closed"). */
  describePending(): string | undefined {
    if (this.open) return `multi-line reply ${this.open.code} with ${this.open.lines.length} line(s) not closed`;
    if (this.partialBytes > 0) return `a reply line of ${this.partialBytes} bytes without line end`;
    return undefined;
  }

  /**
   * Feed bytes; returns the replies completed by them, in order. Throws FtpProtocolError on a reply that
   * breaks the protocol or a bound; the parser is then unusable (the connection must be closed).
   */
  push(chunk: Buffer | string): FtpResponse[] {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const out: FtpResponse[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) {
        const rest = buf.length - start;
        if (rest > 0) {
          const piece = buf.subarray(start);
          const crs = trailingCrs(piece, piece.length);
          this.partialTrailingCrs = crs === rest ? this.partialTrailingCrs + crs : crs;
          this.partialBytes += rest;
          if (this.partialBytes - this.partialTrailingCrs > this.maxLineBytes || this.partialTrailingCrs > this.maxLineBytes) {
            throw new FtpProtocolError(`reply line longer than ${this.maxLineBytes} bytes`);
          }
          this.partial.push(piece);
        }
        return out;
      }
      const piece = buf.subarray(start, nl);
      let lineBuf: Buffer;
      if (this.partial.length) {
        this.partial.push(piece);
        lineBuf = Buffer.concat(this.partial);
        this.partial = [];
        this.partialBytes = 0;
        this.partialTrailingCrs = 0;
      } else {
        lineBuf = piece;
      }
      start = nl + 1;
      const end = lineBuf.length - trailingCrs(lineBuf, lineBuf.length);
      if (end > this.maxLineBytes || lineBuf.length - end > this.maxLineBytes) throw new FtpProtocolError(`reply line longer than ${this.maxLineBytes} bytes`);
      const line = this.decoder.decode(lineBuf.subarray(0, end));
      const reply = this.line(line, end);
      if (reply) out.push(reply);
    }
  }

  private line(line: string, bytes: number): FtpResponse | undefined {
    if (this.open) {
      const o = this.open;
      o.bytes += bytes + 2;
      if (o.bytes > this.maxReplyBytes) {
        throw new FtpProtocolError(`multi-line reply ${o.code} larger than ${this.maxReplyBytes} bytes`);
      }
      if (o.lines.length + 1 > this.maxReplyLines) {
        throw new FtpProtocolError(`multi-line reply ${o.code} has more than ${this.maxReplyLines} lines`);
      }
      o.lines.push(line);
      // RFC 959 s4.2: the reply ends with a line that starts with the same code followed by a space.
      const m = CODE_LINE.exec(line);
      if (m && Number(m[1]) === o.code && m[2] !== '-') {
        o.texts.push(line.slice(4));
        this.open = undefined;
        return { code: o.code, message: o.texts.join('\n'), lines: o.lines };
      }
      // Some servers prefix every line with "NNN-": strip it from the text, keep it in lines.
      o.texts.push(m && Number(m[1]) === o.code ? line.slice(4) : line);
      return undefined;
    }
    if (line.trim() === '') return undefined; // tolerate blank lines between replies
    const m = CODE_LINE.exec(line);
    if (!m) {
      throw new FtpProtocolError(`malformed reply line (expected a three-digit code): ${JSON.stringify(line.slice(0, 120))}`);
    }
    const code = Number(m[1]);
    if (m[2] === '-') {
      this.open = { code, lines: [line], texts: [line.slice(4)], bytes: bytes + 2 };
      return undefined;
    }
    return { code, message: line.slice(4), lines: [line] };
  }
}
