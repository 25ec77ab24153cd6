/**
 * Directory listing formats a server sends (pure, no file system).
 *
 * Owns: LIST lines in the Unix `ls -l` form that clients parse best (RFC 959 leaves LIST's format open;
 * every mainstream client has a parser for this one), NLST names (RFC 959 s4.1.3), MLSx fact lines
 * (RFC 3659 s7) and the fact selection of OPTS MLST (RFC 3659 s7.9).
 */
import type { FileInfo } from './file-info.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `ls` shows the year instead of the time for entries older than about six months or in the future. */
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;
const FUTURE_SLACK_MS = 3600 * 1000;

/** Names with a line end would break the listing into fake lines; show them with "?" instead. */
function displayName(name: string): string {
  return name.includes('\r') || name.includes('\n') ? name.replace(/[\r\n]/g, '?') : name;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "drwxr-xr-x" from the entry type and mode bits. */
export function modeString(type: FileInfo['type'], mode: number): string {
  const t = type === 'dir' ? 'd' : type === 'link' ? 'l' : type === 'file' ? '-' : '?';
  const rwx = (bits: number, special: boolean, specialChar: string): string =>
    (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') +
    (special ? (bits & 1 ? specialChar : specialChar.toUpperCase()) : (bits & 1 ? 'x' : '-'));
  return t +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't');
}

/**
 * The last date text made, by the minute (recent entries) or the day (older ones) it shows: the files of a
 * folder tend to share them, and a listing of 10,000 entries formats 10,000 dates (issue 10).
 */
const lastDate = { minute: NaN, minuteText: '', day: NaN, dayText: '' };

/** "Mon DD HH:MM" or "Mon DD  YYYY" in UTC, as `ls -l` (with vsftpd's zero-padded day). */
export function listDate(date: Date, now: Date): string {
  const t = date.getTime();
  if (!Number.isFinite(t)) return 'Jan 01  1970';
  const age = now.getTime() - t;
  const month = (): string => `${MONTHS[date.getUTCMonth()] ?? 'Jan'} ${two(date.getUTCDate())}`;
  if (age > SIX_MONTHS_MS || age < -FUTURE_SLACK_MS) {
    const day = Math.floor(t / 86_400_000);
    if (day !== lastDate.day) { lastDate.day = day; lastDate.dayText = `${month()}  ${date.getUTCFullYear()}`; }
    return lastDate.dayText;
  }
  const minute = Math.floor(t / 60_000);
  if (minute !== lastDate.minute) {
    lastDate.minute = minute;
    lastDate.minuteText = `${month()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}`;
  }
  return lastDate.minuteText;
}

/** modeString() by type and mode (at most 4 x 4096 texts; a folder uses a handful). */
const modeTexts = new Map<string, string>();

/** Owner and group columns by name (whitespace made "_", padded); bounded, cleared when full. */
const nameColumns = new Map<string, string>();
const NAME_COLUMNS_MAX = 1024;

function nameColumn(name: string): string {
  let text = nameColumns.get(name);
  if (text === undefined) {
    if (nameColumns.size >= NAME_COLUMNS_MAX) nameColumns.clear();
    text = name.replace(/\s/g, '_').padEnd(8);
    nameColumns.set(name, text);
  }
  return text;
}

/** One LIST line: "-rw-r--r--    1 ftp      ftp          1234 Mar 04 12:30 name". */
export function formatListLine(info: FileInfo, now: Date = new Date()): string {
  let name = displayName(info.name);
  if (info.type === 'link' && info.linkTarget !== undefined) name += ` -> ${displayName(info.linkTarget)}`;
  const modeKey = `${info.type}${info.mode & 0o7777}`;
  let mode = modeTexts.get(modeKey);
  if (mode === undefined) modeTexts.set(modeKey, mode = modeString(info.type, info.mode & 0o7777));
  return `${mode} ${String(info.links ?? 1).padStart(4)} ${nameColumn(info.owner ?? 'ftp')} ${nameColumn(info.group ?? 'ftp')} ` +
    `${String(info.size).padStart(12)} ${listDate(info.modifiedAt, now)} ${name}`;
}

/** NLST: one name per line (RFC 959 s4.1.3). */
export function formatNameLine(name: string): string {
  return displayName(name);
}

/** The last time-val made, by the second it shows (the entries of a folder listed by MLSD tend to share it). */
const lastTimeVal = { second: NaN, text: '' };

/** RFC 3659 s2.3 time-val: YYYYMMDDHHMMSS[.sss] in UTC. */
export function formatTimeVal(date: Date): string {
  const t = date.getTime();
  const second = Math.floor(t / 1000);
  if (second !== lastTimeVal.second) {
    lastTimeVal.second = second;
    lastTimeVal.text = `${date.getUTCFullYear().toString().padStart(4, '0')}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}` +
      `${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}`;
  }
  const ms = date.getUTCMilliseconds();
  return ms ? `${lastTimeVal.text}.${String(ms).padStart(3, '0')}` : lastTimeVal.text;
}

/** Parse a time-val (MFMT, RFC 3659 s2.3); undefined when malformed or not a real date. */
export function parseTimeVal(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d ||
      date.getUTCHours() !== h || date.getUTCMinutes() !== mi || date.getUTCSeconds() !== s) return undefined;
  return date;
}

/** The MLSx facts we can send, in the order they appear (RFC 3659 s7.5; UNIX.mode is a common extension). */
export const MLST_FACTS = ['type', 'size', 'modify', 'perm', 'unique', 'unix.mode'] as const;
export type MlstFact = typeof MLST_FACTS[number];
const FACT_LABEL: Record<MlstFact, string> = {
  type: 'type', size: 'size', modify: 'modify', perm: 'perm', unique: 'unique', 'unix.mode': 'UNIX.mode',
};
/** Facts on by default: all of them. */
export const DEFAULT_MLST_FACTS: ReadonlySet<MlstFact> = new Set(MLST_FACTS);

/** The FEAT line for MLST: "MLST type*;size*;modify*;perm*;unique*;UNIX.mode*;" (RFC 3659 s7.8). */
export function formatMlstFeature(selected: ReadonlySet<MlstFact>): string {
  return 'MLST ' + MLST_FACTS.map(f => `${FACT_LABEL[f]}${selected.has(f) ? '*' : ''};`).join('');
}

/**
 * OPTS MLST argument (RFC 3659 s7.9): "fact;fact;" case-insensitive; unknown facts are ignored.
 * Returns the new selection; the reply echoes it.
 */
export function parseMlstOpts(arg: string): Set<MlstFact> {
  const wanted = new Set(arg.split(';').map(s => s.trim().toLowerCase()).filter(Boolean));
  return new Set(MLST_FACTS.filter(f => wanted.has(f)));
}

export function formatMlstOptsReply(selected: ReadonlySet<MlstFact>): string {
  return 'MLST OPTS ' + MLST_FACTS.filter(f => selected.has(f)).map(f => `${FACT_LABEL[f]};`).join('');
}

export interface FactOptions {
  facts: ReadonlySet<MlstFact>;
  /** RFC 3659 s7.5.1: 'cdir' for the listed directory itself, 'pdir' for its parent. */
  typeOverride?: 'cdir' | 'pdir';
  /** perm fact value (RFC 3659 s7.5.5), computed by the server from the user's permissions. */
  perm?: string;
  /** Name (or path, for MLST) to put after the facts. */
  name: string;
}

/** "type=file;size=12;modify=20240102030405;perm=rw;unique=1a;UNIX.mode=0644; name" (RFC 3659 s7.2). */
export function formatFactLine(info: FileInfo, opts: FactOptions): string {
  let facts = '';
  const has = (f: MlstFact): boolean => opts.facts.has(f);
  if (has('type')) {
    const t = opts.typeOverride ?? (info.type === 'dir' ? 'dir' : info.type === 'file' ? 'file' : info.type === 'link' ? 'OS.unix=symlink' : 'OS.unix=other');
    facts += `type=${t};`;
  }
  if (has('size') && info.type !== 'dir') facts += `size=${info.size};`;
  if (has('modify') && Number.isFinite(info.modifiedAt.getTime())) facts += `modify=${formatTimeVal(info.modifiedAt)};`;
  if (has('perm') && opts.perm !== undefined) facts += `perm=${opts.perm};`;
  if (has('unique') && info.unique !== undefined && /^[!-~]+$/.test(info.unique) && !info.unique.includes(';')) {
    facts += `unique=${info.unique};`;
  }
  if (has('unix.mode')) facts += `UNIX.mode=0${(info.mode & 0o7777).toString(8)};`;
  return `${facts} ${displayName(opts.name)}`;
}
