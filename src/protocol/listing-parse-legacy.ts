/**
 * LIST parsers for the servers that do not speak `ls -l` or MS-DOS: OpenVMS, IBM i (OS/400), z/OS (MVS
 * data sets and PDS members; z/OS UNIX files are `ls -l` and go to parseUnixLine) and NetWare. RFC 959
 * s4.1.3 leaves LIST's format to the server; these follow the formats their vendors document (cited per
 * parser; test/fixtures/listings/README.md lists the sources of the fixtures).
 *
 * Linear: a line is cut into its first few white-space separated tokens by one forward scan (headTokens),
 * each token is checked by an anchored pattern without nested repetition, and the name is the rest.
 *
 * Sizes: VMS lists blocks, MVS tracks and PDS members records, none of them bytes: such entries carry no
 * `size` rather than a wrong one (mirror compares sizes).
 */
import type { FileEntry } from './listing-types.js';
import { monthIndex, parseUnixDate, validDate } from './listing-dates.js';

interface Token { text: string; start: number; end: number }

function isBlank(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

/** The first `max` tokens of a line (space or tab separated), one forward scan. */
export function headTokens(line: string, max: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (tokens.length < max) {
    while (isBlank(line[i])) i++;
    if (i >= line.length) break;
    const start = i;
    while (i < line.length && !isBlank(line[i])) i++;
    tokens.push({ text: line.slice(start, i), start, end: i });
  }
  return tokens;
}

/** The line after token `t`, without the blanks before it. */
function restAfter(line: string, t: Token): string {
  let i = t.end;
  while (isBlank(line[i])) i++;
  return line.slice(i);
}

function twoDigitYear(y: number): number {
  // The pivot of POSIX strptime %y: 69-99 are 19xx, 00-68 20xx.
  return y < 69 ? 2000 + y : 1900 + y;
}

function clock(text: string): { h: number; mi: number } | undefined {
  const m = /^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d{1,2})?)?$/.exec(text);
  return m ? { h: Number(m[1]), mi: Number(m[2]) } : undefined;
}

// ---------------------------------------------------------------- OpenVMS

/**
 * A VMS file name with its version: `LOGIN.COM;2`, `DATA.DIR;1` (HP TCP/IP Services for OpenVMS, the
 * DIRECTORY output its FTP server sends for LIST). A long name stands alone on its line and the rest of
 * the entry follows on the next one (joinVmsContinuations).
 */
const VMS_NAME = /^([^\s;]+);(\d{1,5})$/;
const VMS_DATE = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/;

/**
 * `NAME.EXT;VERSION  used/allocated  DD-MMM-YYYY HH:MM:SS  [owner]  (protection)`; the size column may be
 * one number, and owner and protection are optional (DIRECTORY/DATE vs /FULL defaults of the server).
 * A `.DIR` file is a folder, named without the extension; the version is FileEntry.version.
 */
export function parseVmsLine(line: string): FileEntry | undefined {
  const t = headTokens(line, 4);
  if (t.length < 3) return undefined;
  const nm = VMS_NAME.exec(t[0].text);
  if (!nm) return undefined;
  let i = 1;
  if (/^\d+(?:\/\d+)?$/.test(t[i].text)) i++;
  const dm = t[i] && VMS_DATE.exec(t[i].text);
  const month = dm ? monthIndex(dm[2]) : undefined;
  const time = t[i + 1] && clock(t[i + 1].text);
  if (!dm || month === undefined || !time) return undefined;
  // What follows the time may only be the owner ([GROUP,USER]) and the protection ((RWED,...)).
  const tail = restAfter(line, t[i + 1]);
  if (tail && !/^(?:\[[^\]\s]*\]\s*)?(?:\([A-Z,]*\)\s*)?$/.test(tail)) return undefined;
  let name = nm[1];
  const isDir = /\.DIR$/i.test(name);
  if (isDir) name = name.slice(0, -4);
  if (!name) return undefined;
  const entry: FileEntry = { name, type: isDir ? 'dir' : 'file', raw: line, version: Number(nm[2]) };
  const date = validDate(Number(dm[3]), month, Number(dm[1]), time.h, time.mi);
  if (date) entry.modifiedAt = date;
  return entry;
}

/** A line that is only a VMS name with a version: the entry goes on on the next line. */
export function isVmsNameOnly(line: string): boolean {
  return VMS_NAME.test(line.trimEnd());
}

// ---------------------------------------------------------------- IBM i (OS/400)

/** Object types that hold other objects: a library, a folder, a directory, a database file with members. */
const AS400_CONTAINERS = new Set(['*DIR', '*LIB', '*FLR', '*FILE', '*DDIR', '*DSTMF_DIR']);
/** MM/DD/YY (job date format *MDY, the default) or DD.MM.YY (*DMY); four-digit years too. */
const AS400_DATE = /^(\d{2})([/.])(\d{2})\2(\d{2}|\d{4})$/;

/**
 * IBM i FTP server LIST (IBM Docs, "LIST (List Files) FTP server subcommand", NAMEFMT 1):
 * `owner  size  date  time  *TYPE  name`; members of a database file (`*MEM`) have neither size nor date:
 * `owner  *MEM  LIB.FILE/MBR.MBR`. A name ending in "/" or a container type (*DIR, *LIB, *FLR, *FILE) is a
 * folder; *STMF (stream file), *MEM, *SAVF and other types are files.
 */
export function parseAs400Line(line: string): FileEntry | undefined {
  const t = headTokens(line, 5);
  if (t.length >= 3 && t[1].text === '*MEM') return as400Entry(line, '*MEM', restAfter(line, t[1]));
  if (t.length < 5 || !/^\d+$/.test(t[1].text) || !/^\*[A-Z0-9_]+$/.test(t[4].text)) return undefined;
  const dm = AS400_DATE.exec(t[2].text);
  const time = clock(t[3].text);
  if (!dm || !time) return undefined;
  const entry = as400Entry(line, t[4].text, restAfter(line, t[4]));
  if (!entry) return undefined;
  const [a, b] = [Number(dm[1]), Number(dm[3])];
  const [month, day] = dm[2] === '.' ? [b, a] : [a, b];
  const year = dm[4].length === 2 ? twoDigitYear(Number(dm[4])) : Number(dm[4]);
  const date = validDate(year, month - 1, day, time.h, time.mi);
  if (date) entry.modifiedAt = date;
  if (entry.type === 'file') entry.size = Number(t[1].text);
  return entry;
}

function as400Entry(line: string, type: string, rawName: string): FileEntry | undefined {
  const slash = rawName.endsWith('/');
  const name = slash ? rawName.slice(0, -1) : rawName;
  if (!name) return undefined;
  return { name, type: slash || AS400_CONTAINERS.has(type) ? 'dir' : 'file', raw: line };
}

// ---------------------------------------------------------------- z/OS (MVS)

const MVS_REFERRED = /^(\d{4})\/(\d{2})\/(\d{2})$/;
/** Partitioned data sets (PDS, PDSE) hold members: listed by CWD into them, a folder to the client. */
const MVS_PARTITIONED = new Set(['PO', 'PO-E']);

/**
 * z/OS FTP server, LIST of data sets (IBM z/OS Communications Server: IP User's Guide, "LIST"):
 * `Volume Unit Referred Ext Used Recfm Lrecl BlkSz Dsorg Dsname`, e.g.
 * `WYOSPT 3420   2003/05/21  1  200  FB      80  8000  PS  'JOHN.DATA'`; `Migrated  DSNAME` and
 * `Pseudo Directory  QUALIFIER` have no attributes. PO data sets (and pseudo directories) are folders.
 */
export function parseMvsDatasetLine(line: string): FileEntry | undefined {
  const t = headTokens(line, 10);
  if (t.length === 2 && t[0].text === 'Migrated') return { name: t[1].text, type: 'file', raw: line };
  if (t.length === 3 && t[0].text === 'Pseudo' && t[1].text === 'Directory') return { name: t[2].text, type: 'dir', raw: line };
  if (t.length < 10) return undefined;
  const referred = MVS_REFERRED.exec(t[2].text);
  if (!referred && t[2].text !== '**NONE**') return undefined;
  if (!/^\d+$/.test(t[3].text) || !/^\d+$/.test(t[4].text) || !/^[A-Z]{1,4}$/.test(t[5].text)) return undefined;
  const name = restAfter(line, t[8]);
  if (!name || !/^[A-Z]{2}(?:-E)?$/.test(t[8].text)) return undefined;
  const entry: FileEntry = { name, type: MVS_PARTITIONED.has(t[8].text) ? 'dir' : 'file', raw: line };
  if (referred) {
    const date = validDate(Number(referred[1]), Number(referred[2]) - 1, Number(referred[3]), 0, 0);
    if (date) entry.modifiedAt = date;
  }
  return entry;
}

/**
 * z/OS FTP server, LIST inside a PDS (same guide): source members
 * `Name VV.MM Created Changed Size Init Mod Id` as `MEMBER1 01.01 2002/09/18 2002/09/18 14:27 21 21 0 JOHN`
 * (Size counts records); load-library members `Name Size TTR Alias-of AC Attributes Amode Rmode` as
 * `MEMB1 000060 000018 00 FO 31 ANY` (Size: hexadecimal bytes).
 */
export function parseMvsMemberLine(line: string): FileEntry | undefined {
  const t = headTokens(line, 6);
  if (t.length < 3 || !/^[A-Z#@$][A-Z0-9#@$]{0,7}$/.test(t[0].text)) return undefined;
  if (t.length >= 6 && /^\d{2}\.\d{2}$/.test(t[1].text) && MVS_REFERRED.test(t[2].text)) {
    const changed = MVS_REFERRED.exec(t[3].text);
    const time = clock(t[4].text);
    if (!changed || !time) return undefined;
    const entry: FileEntry = { name: t[0].text, type: 'file', raw: line };
    const date = validDate(Number(changed[1]), Number(changed[2]) - 1, Number(changed[3]), time.h, time.mi);
    if (date) entry.modifiedAt = date;
    return entry;
  }
  if (/^[0-9A-F]{6}$/.test(t[1].text) && /^[0-9A-F]{6}$/.test(t[2].text)) {
    return { name: t[0].text, type: 'file', size: parseInt(t[1].text, 16), raw: line };
  }
  return undefined;
}

// ---------------------------------------------------------------- NetWare

/**
 * Novell NetWare FTP server (NWFTPD) LIST: `d [RWCEAFMS] owner  size  Mon DD HH:MM  name`, the type
 * ("d" or "-"), the trustee rights in brackets, then an `ls -l` date. Names never start with a blank, so
 * the blanks before the name are column padding.
 */
export function parseNetwareLine(line: string, now: Date): FileEntry | undefined {
  const t = headTokens(line, 4);
  if (t.length < 4 || !/^[-d]$/.test(t[0].text) || !/^\[[-RWCEAFMS]{8}\]$/.test(t[1].text) || !/^\d+$/.test(t[3].text)) return undefined;
  const dn = parseUnixDate(restAfter(line, t[3]), now);
  const name = dn?.name.replace(/^[ \t]+/, '');
  if (!dn || !name) return undefined;
  const entry: FileEntry = { name, type: t[0].text === 'd' ? 'dir' : 'file', raw: line };
  if (entry.type === 'file') entry.size = Number(t[3].text);
  if (dn.date) entry.modifiedAt = dn.date;
  return entry;
}

// ---------------------------------------------------------------- lines around the entries

/**
 * Lines that frame a listing and name no entry: VMS's `Directory DISK$USER:[SMITH]`, `Total of 3 files,
 * 26/34 blocks.` and `Grand total of ...`, the z/OS column headings. Skipped like `total 12` of `ls -l`.
 */
export function isListingFrame(line: string): boolean {
  return /^Directory [^\s]+:\[[^\]]*\]$/.test(line.trim())
    || /^(?:Grand )?[Tt]otal of \d+ (?:files?|directories)/.test(line.trim())
    || /^Volume Unit\s/.test(line)
    || /^ ?Name {2,}(?:VV\.MM|Size) /.test(line);
}

/** One line in any of the formats of this file (tried after `ls -l`, MS-DOS and EPLF); undefined when none matches. */
export function parseLegacyLine(line: string, now: Date): FileEntry | undefined {
  return parseNetwareLine(line, now) ?? parseVmsLine(line) ?? parseAs400Line(line)
    ?? parseMvsDatasetLine(line) ?? parseMvsMemberLine(line);
}
