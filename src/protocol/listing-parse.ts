/**
 * Parser for LIST output, whatever the server: Unix `ls -l` style (vsftpd, pure-ftpd, proftpd, pyftpdlib,
 * FileZilla Server), DOS/IIS style, EPLF, and (listing-parse-legacy.ts) OpenVMS, IBM i, z/OS and NetWare. RFC 959 s4.1.3 leaves the LIST format to the server, so the
 * format is detected per line. Pure: no sockets, no fs. MLSD/MLST live in listing-parse-mlsx.ts.
 *
 * Dates without a year (`Nov 21 11:37`) are in the last twelve months (that is what `ls` means by them);
 * dates in LIST output carry no zone, so they are read as UTC (vsftpd's default, use_localtime=NO).
 */
import { MAX_LISTING_LINE_CHARS, type FileEntry } from './listing-types.js';
import { parseUnixDate, validDate } from './listing-dates.js';
import { isListingFrame, isVmsNameOnly, parseLegacyLine } from './listing-parse-legacy.js';

export { parseMlsxLine, parseMlsd, parseMlsxTime, isSelfOrParent } from './listing-parse-mlsx.js';
export type { MlsxEntry } from './listing-parse-mlsx.js';

export interface ParseListingOptions {
  /** Reference time for dates without a year (default: now). */
  now?: Date;
}

/** rwx column -> permission bits (with setuid/setgid/sticky from s/S/t/T). */
export function parseModeString(perms: string): number | undefined {
  if (!/^[-r][-w][-xsS][-r][-w][-xsS][-r][-w][-xtT]$/.test(perms)) return undefined;
  let mode = 0;
  const bit = (i: number, v: number) => { if (perms[i] !== '-' && perms[i] !== 'S' && perms[i] !== 'T') mode |= v; };
  bit(0, 0o400); bit(1, 0o200); bit(2, 0o100);
  bit(3, 0o040); bit(4, 0o020); bit(5, 0o010);
  bit(6, 0o004); bit(7, 0o002); bit(8, 0o001);
  if (perms[2] === 's' || perms[2] === 'S') mode |= 0o4000;
  if (perms[5] === 's' || perms[5] === 'S') mode |= 0o2000;
  if (perms[8] === 't' || perms[8] === 'T') mode |= 0o1000;
  return mode;
}

// type + 9 permission chars + optional ACL/xattr marker (+ . @).
const UNIX_HEAD = /^([-bcdlpsDnw?])([-r?][-w?][-xsS?][-r?][-w?][-xsS?][-r?][-w?][-xtT?])[+.@]?\s+(.*)$/;
/**
 * Unix `ls -l` line. Columns between the permissions and the size vary between servers
 * (link count, owner, group, any of them may be missing, numeric or named), so they are found
 * from the right: the size is the last number before a date.
 */
export function parseUnixLine(line: string, now: Date = new Date()): FileEntry | undefined {
  const head = UNIX_HEAD.exec(line.replace(/^ +(?=[-bcdlpsDnw?][-r?][-w?])/, ''));
  if (!head) return undefined;
  const [, typeChar, perms, rest] = head;
  // Walk the whitespace-separated tokens; try each position as "size date name".
  // Only the first seven tokens can matter (size at most the sixth, plus a device minor): don't split a
  // long line into all of its tokens.
  const tokens: RegExpExecArray[] = [];
  for (const t of rest.matchAll(/\S+/g)) { tokens.push(t); if (tokens.length === 7) break; }
  for (let i = 0; i < tokens.length && i < 6; i++) {
    const tok = tokens[i];
    let size: number | undefined;
    let after: string;
    const start = tok.index!;
    if (/^\d+$/.test(tok[0])) {
      size = Number(tok[0]);
      after = rest.slice(start + tok[0].length).replace(/^\s+/, '');
    } else if (/^\d+,$/.test(tok[0]) && tokens[i + 1] && /^\d+$/.test(tokens[i + 1][0])) {
      // Device file: "major, minor" in place of the size.
      const next = tokens[i + 1];
      after = rest.slice(next.index! + next[0].length).replace(/^\s+/, '');
    } else if (/^\d+,\d+$/.test(tok[0])) {
      after = rest.slice(start + tok[0].length).replace(/^\s+/, '');
    } else continue;
    const dn = parseUnixDate(after, now);
    if (!dn || dn.name === '') continue;
    const entry: FileEntry = { name: dn.name, type: 'other', raw: line };
    const mode = parseModeString(perms.replace(/\?/g, '-'));
    if (mode !== undefined) entry.mode = mode;
    if (dn.date) entry.modifiedAt = dn.date;
    switch (typeChar) {
      case '-': entry.type = 'file'; break;
      case 'd': entry.type = 'dir'; break;
      case 'l': {
        entry.type = 'link';
        const arrow = entry.name.indexOf(' -> ');
        if (arrow > 0) { entry.linkTarget = entry.name.slice(arrow + 4); entry.name = entry.name.slice(0, arrow); }
        break;
      }
      default: entry.type = 'other';
    }
    if (size !== undefined && entry.type !== 'other') entry.size = size;
    // "links owner group size": the first column is the link count only when three come before the
    // size; with fewer, a number there may be a numeric owner.
    if (i >= 3 && /^\d+$/.test(tokens[0][0])) entry.links = Number(tokens[0][0]);
    return entry;
  }
  return undefined;
}

// IIS / DOS: "01-15-24  10:30AM       <DIR>          name", 24-hour "01-15-2024  22:30  1234 name".
// Grammar: \s* MM[-/.]DD[-/.](YY|YYYY) \s+ H:MM \s* [AP]M? \s+ (<DIR>|<JUNCTION>|\d[\d,]*) \s+ name.
// Read by a cursor, not a regex: the regex for it (\s*([AaPp][Mm])?\s+) backtracked quadratically over a
// long run of spaces (a 300,000-space line took ~50 s). Every character is looked at a bounded number of times.

/** True for what a regex's \s matches (Unicode white space and line terminators). */
function isSpace(ch: string | undefined): boolean {
  return ch !== undefined && /\s/.test(ch);
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** A cursor over one line: each step moves forward only, so a whole parse is linear in the line length. */
class LineCursor {
  pos = 0;
  constructor(readonly text: string) {}
  get ch(): string | undefined { return this.text[this.pos]; }
  /** Skip white space; returns how much was skipped. */
  spaces(): number {
    const from = this.pos;
    while (isSpace(this.text[this.pos])) this.pos++;
    return this.pos - from;
  }
  /** Read a run of digits of one of the allowed lengths (the whole run must fit, like \d{1,2} before a non-digit). */
  digits(min: number, max: number): string | undefined {
    const from = this.pos;
    while (isDigit(this.text[this.pos])) this.pos++;
    const len = this.pos - from;
    return len >= min && len <= max ? this.text.slice(from, this.pos) : undefined;
  }
  oneOf(chars: string): boolean {
    if (this.ch === undefined || !chars.includes(this.ch)) return false;
    this.pos++;
    return true;
  }
  word(w: string): boolean {
    if (!this.text.startsWith(w, this.pos)) return false;
    this.pos += w.length;
    return true;
  }
}

/** A regex's `.` does not match these: a name holding one was never a DOS line (the old `(.+)$`). */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

export function parseDosLine(line: string): FileEntry | undefined {
  const c = new LineCursor(line);
  c.spaces();
  const mo = c.digits(1, 2);
  if (mo === undefined || !c.oneOf('-/.')) return undefined;
  const d = c.digits(1, 2);
  if (d === undefined || !c.oneOf('-/.')) return undefined;
  const yText = c.digits(2, 4);
  if (yText === undefined || yText.length === 3 || c.spaces() === 0) return undefined;
  const hText = c.digits(1, 2);
  if (hText === undefined || !c.oneOf(':')) return undefined;
  const mi = c.digits(2, 2);
  if (mi === undefined) return undefined;
  let gap = c.spaces();
  let ampm: string | undefined;
  if (c.ch !== undefined && 'AaPp'.includes(c.ch) && 'Mm'.includes(line[c.pos + 1] ?? '')) {
    ampm = line.slice(c.pos, c.pos + 2);
    c.pos += 2;
    gap = c.spaces();
  }
  if (gap === 0) return undefined;
  let sizeOrDir: string;
  if (c.word('<DIR>')) sizeOrDir = '<DIR>';
  else if (c.word('<JUNCTION>')) sizeOrDir = '<JUNCTION>';
  else {
    const from = c.pos;
    if (!isDigit(c.ch)) return undefined;
    while (isDigit(c.ch) || c.ch === ',') c.pos++;
    sizeOrDir = line.slice(from, c.pos);
  }
  const nameGap = c.spaces();
  if (nameGap === 0) return undefined;
  // The name is the rest; a name of spaces only keeps the last one (what `\s+(.+)$` matched).
  let nameStart = c.pos;
  if (nameStart === line.length) {
    if (nameGap < 2) return undefined;
    nameStart--;
  }
  const name = line.slice(nameStart);
  if (LINE_TERMINATOR.test(name)) return undefined;

  let year = Number(yText);
  // Two-digit years: the IIS convention (and POSIX strptime %y) of 69/70 as the pivot.
  if (yText.length === 2) year += year < 70 ? 2000 : 1900;
  let h = Number(hText);
  if (ampm) {
    if (h > 12 || h === 0) return undefined;
    const pm = ampm.toLowerCase() === 'pm';
    if (h === 12) h = pm ? 12 : 0; else if (pm) h += 12;
  }
  const entry: FileEntry = { name, type: 'file', raw: line };
  const date = validDate(year, Number(mo) - 1, Number(d), h, Number(mi));
  if (date) entry.modifiedAt = date;
  if (sizeOrDir.startsWith('<')) entry.type = sizeOrDir === '<DIR>' ? 'dir' : 'link';
  else entry.size = Number(sizeOrDir.replace(/,/g, ''));
  return entry;
}

/**
 * EPLF (D. J. Bernstein, https://cr.yp.to/ftp/list/eplf.html): "+facts,\tname", facts separated by
 * commas: "/" directory, "r" retrievable file, "s<size>", "m<unix seconds>", "i<id>", "up<octal mode>".
 */
export function parseEplfLine(line: string): FileEntry | undefined {
  if (!line.startsWith('+')) return undefined;
  const tab = line.indexOf('\t');
  if (tab < 0) return undefined;
  const name = line.slice(tab + 1);
  if (!name) return undefined;
  const entry: FileEntry = { name, type: 'other', raw: line };
  for (const fact of line.slice(1, tab).split(',')) {
    if (fact === '/') entry.type = 'dir';
    else if (fact === 'r') { if (entry.type === 'other') entry.type = 'file'; }
    else if (/^s\d+$/.test(fact)) entry.size = Number(fact.slice(1));
    else if (/^m\d+$/.test(fact)) {
      const d = new Date(Number(fact.slice(1)) * 1000);
      if (!Number.isNaN(d.getTime())) entry.modifiedAt = d;
    }
    else if (/^i.+$/.test(fact)) entry.unique = fact.slice(1);
    else if (/^up[0-7]{1,4}$/.test(fact)) entry.mode = parseInt(fact.slice(2), 8);
  }
  return entry;
}

/** Parse one LIST line in whichever format it is; undefined when no format matches. */
export function parseListingLine(line: string, options: ParseListingOptions = {}): FileEntry | undefined {
  const now = options.now ?? new Date();
  return parseEplfLine(line) ?? parseUnixLine(line, now) ?? parseDosLine(line) ?? parseLegacyLine(line, now);
}

/**
 * Parse LIST output. Lines longer than MAX_LISTING_LINE_CHARS are not parsed (reported as unparsed). Blank lines, `total N` lines, and the `.`/`..` entries (`LIST -a`) are skipped;
 * a line no format recognises is skipped too (servers add banners; see parseListingDetailed to see them).
 */
export function parseListing(text: string | string[], options: ParseListingOptions = {}): FileEntry[] {
  return parseListingDetailed(text, options).entries;
}

export interface DetailedListing {
  entries: FileEntry[];
  /** Lines no parser recognised (not counting blank and `total` lines). */
  unparsed: string[];
}

export function parseListingDetailed(text: string | string[], options: ParseListingOptions = {}): DetailedListing {
  const now = options.now ?? new Date();
  const lines = Array.isArray(text) ? text : text.split('\n');
  const entries: FileEntry[] = [];
  const unparsed: string[] = [];
  /** VMS lists every version of a file, newest first: the names (without version) already listed. */
  const versioned = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/\r$/, '');
    if (line.length > MAX_LISTING_LINE_CHARS) { unparsed.push(line); continue; }
    if (!line.trim() || /^total\s+\d+/i.test(line.trim()) || isListingFrame(line)) continue;
    // OpenVMS: a long name stands alone and its columns follow on the next, indented line.
    const next = lines[i + 1]?.replace(/\r$/, '');
    if (next !== undefined && /^[ \t]/.test(next) && isVmsNameOnly(line) && line.length + next.length <= MAX_LISTING_LINE_CHARS) {
      line = `${line.trimEnd()} ${next.trimStart()}`;
      i++;
    }
    const entry = parseListingLine(line, { now });
    if (!entry) { unparsed.push(line); continue; }
    if (entry.name === '.' || entry.name === '..') continue;
    if (entry.version !== undefined) {
      if (versioned.has(entry.name)) continue; // an older version of a file listed already
      versioned.add(entry.name);
    }
    entries.push(entry);
  }
  return { entries, unparsed };
}
