/**
 * Control-connection framing and command parsing on the server side (RFC 959 s4.1, s5.3; RFC 854 Telnet).
 *
 * Owns: turning the bytes a client sends on the control connection into lines, and each line into a typed
 * FtpCommand once (docs/architecture.md#parse-once). Pure: bytes in, values out, no sockets.
 *
 * Quirks handled, each with a unit test in test/unit/commands.test.ts:
 * - Lines end with CRLF (RFC 959 s4.1.3); LF alone is accepted too (many scripts send it), and any CRs
 *   right before the LF are dropped.
 * - Telnet commands (RFC 854) are removed: IAC IP / IAC DM sent before ABOR (RFC 959 s4.1.3), option
 *   negotiation (IAC WILL/WONT/DO/DONT x), sub-negotiation (IAC SB ... IAC SE). IAC IAC is a literal 0xFF.
 *   Telnet "CR NUL" (a bare carriage return) keeps the CR.
 * - A line longer than the bound is refused (one 'too-long' event) without buffering it: the rest is
 *   discarded up to the next line end.
 * - Text is UTF-8 (RFC 2640 s2.2); a line that is not valid UTF-8 is read as Latin-1, so old clients can
 *   still name their files.
 * - Verbs are case-insensitive (RFC 959 s5.3) and upper-cased here; the argument is kept verbatim except
 *   for the one space that separates it from the verb (file names may start or end with spaces).
 */

const IAC = 0xff;
const SB = 0xfa; // sub-negotiation begin
const SE = 0xf0; // sub-negotiation end
const DM = 0xf2; // data mark (RFC 854), sent with IAC IP before ABOR
const WILL = 0xfb;
const DONT = 0xfe;
const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

/** A parsed command line. */
export interface FtpCommand {
  /** Upper-cased verb ("RETR"). */
  verb: string;
  /** Everything after the single space that follows the verb; "" when there is none. */
  argument: string;
  /**
   * Not a command: a line over the bound (verb and argument empty), queued like one so that its 500 comes
   * in its turn (RFC 959 s4.2: replies in the order of the commands).
   */
  tooLong?: true;
}

export type FramerEvent =
  | { kind: 'line'; text: string }
  /** The line went over the bound; its bytes were discarded. Emitted once per such line, when detected. */
  | { kind: 'too-long' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode a command line: UTF-8 (RFC 2640), Latin-1 when the bytes are not valid UTF-8. */
export function decodeLine(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}

type TelnetState = 'data' | 'iac' | 'option' | 'sb' | 'sb-iac' | 'cr';

/**
 * Incremental line framer. Feed it chunks with push(); it returns the events those bytes complete.
 * State (a half line, a Telnet sequence split over chunks) is kept between calls.
 */
/** A framer holds no buffer between lines (see CommandLineFramer.buf). */
const NO_BYTES = Buffer.alloc(0);
/** First size of a line buffer; it doubles up to the bound. Most command lines fit. */
const FIRST_LINE_BUFFER = 64;

export class CommandLineFramer {
  readonly maxLineLength: number;
  /** Longest line content (without its CRLF). */
  private readonly maxContent: number;
  /**
   * The line being read. Empty between lines and grown on demand: a server holds one framer per session,
   * and an idle session must not keep a line-sized buffer (4 KiB x 10,000 sessions, issue 10).
   */
  private buf: Buffer = NO_BYTES;
  private len = 0;
  private discarding = false;
  private state: TelnetState = 'data';
  /** Lines ended so far (discarded too-long ones included): lets a caller see a new line begin. */
  completedLines = 0;

  /** @param maxLineLength longest accepted line in bytes, counting the CRLF (default 4096). */
  constructor(maxLineLength = 4096) {
    if (!Number.isInteger(maxLineLength) || maxLineLength < 8) throw new RangeError('maxLineLength must be an integer >= 8');
    this.maxLineLength = maxLineLength;
    // The line (without its CRLF) may use maxLineLength - 2 bytes.
    this.maxContent = maxLineLength - 2;
  }

  push(chunk: Uint8Array): FramerEvent[] {
    const out: FramerEvent[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          // BSD ftp sends "IAC IP IAC" as urgent data, then "DM ABOR": the kernel keeps the urgent IAC out
          // of the stream (no SO_OOBINLINE in Node), leaving a bare DM before the verb. No verb starts with it.
          else if (b === DM && this.len === 0) { /* dropped */ }
          else if (b === LF) this.endLine(out);
          else if (b === CR) this.state = 'cr';
          else this.addByte(b, out);
          break;
        case 'cr':
          // RFC 854: CR must be followed by LF or NUL. CR LF ends the line; CR NUL is a bare CR.
          this.state = 'data';
          if (b === LF) this.endLine(out);
          else if (b === NUL) this.addByte(CR, out);
          else if (b === CR) this.state = 'cr'; // "CR CR LF": stray CRs before the line end are dropped
          else { this.addByte(CR, out); i--; } // lenient: keep the CR, re-read this byte as data
          break;
        case 'iac':
          if (b === IAC) { this.state = 'data'; this.addByte(IAC, out); }
          else if (b >= WILL && b <= DONT) this.state = 'option';
          else if (b === SB) this.state = 'sb';
          else this.state = 'data'; // IP, DM, AO, AYT, NOP...: a two-byte command, dropped
          break;
        case 'option':
          this.state = 'data'; // the option byte of WILL/WONT/DO/DONT, dropped
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          break;
        case 'sb-iac':
          this.state = b === SE ? 'data' : 'sb';
          break;
      }
    }
    // Python's ftplib sends "ABOR\r\n" with MSG_OOB: the kernel takes the last byte (the LF) out of the
    // stream as urgent data, so the line never ends. A chunk that ends in "ABOR\r" is therefore taken as
    // the complete ABOR (RFC 959 s4.1.3); should the LF come after all, it only makes an ignored blank line.
    if (this.state === 'cr' && !this.discarding && this.len >= 4 && /^ *abor$/i.test(this.buf.toString('latin1', 0, this.len))) {
      this.state = 'data';
      this.endLine(out);
    }
    return out;
  }

  private addByte(b: number, out: FramerEvent[]): void {
    if (this.discarding) return;
    if (this.len >= this.maxContent) {
      this.discarding = true;
      this.len = 0;
      this.buf = NO_BYTES;
      out.push({ kind: 'too-long' });
      return;
    }
    if (this.len >= this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxContent, Math.max(FIRST_LINE_BUFFER, this.buf.length * 2)));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    this.buf[this.len++] = b;
  }

  /** Bytes of buffer the framer holds now: none between lines (an idle session costs no line buffer). */
  get heldBytes(): number {
    return this.buf.length;
  }

  /** True while bytes of a line that has not ended yet are held (or a Telnet sequence is half read). */
  get hasPartialLine(): boolean {
    return this.len > 0 || this.discarding || this.state !== 'data';
  }

  private endLine(out: FramerEvent[]): void {
    this.completedLines++;
    if (this.discarding) {
      this.discarding = false;
      this.len = 0;
      return;
    }
    const text = decodeLine(this.buf.subarray(0, this.len));
    this.len = 0;
    this.buf = NO_BYTES;
    out.push({ kind: 'line', text });
  }
}

/**
 * Parse one command line (without its line end). Returns undefined for an empty or blank line, which
 * the server ignores (a stray CRLF is not a command).
 */
export function parseCommandLine(line: string): FtpCommand | undefined {
  // Leading spaces before the verb are tolerated; RFC 959 has none, some scripts send them.
  const start = line.search(/[^ ]/);
  if (start < 0) return undefined;
  const rest = line.slice(start);
  const sp = rest.indexOf(' ');
  if (sp < 0) return { verb: rest.toUpperCase(), argument: '' };
  return { verb: rest.slice(0, sp).toUpperCase(), argument: rest.slice(sp + 1) };
}

/** A verb that looks like an FTP command (3-4 letters, RFC 959 s5.3.1), as opposed to line noise. */
export function isPlausibleVerb(verb: string): boolean {
  return /^[A-Z]{3,4}$/.test(verb);
}
