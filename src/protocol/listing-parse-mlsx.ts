/**
 * Parser for machine listings: MLSD data lines and MLST reply lines (RFC 3659 s7).
 * Pure: no sockets, no fs.
 *
 * Grammar (RFC 3659 s7.2): `entry = [facts] SP pathname`, `facts = 1*(factname "=" value ";")`.
 * A fact value never contains a space, so the facts end at the first space and everything after it is
 * the name, which may contain spaces and ';'. Fact names are case-insensitive (s7.1).
 */
import { MAX_LISTING_LINE_CHARS, type FileEntry } from './listing-types.js';

/** A FileEntry from MLSD/MLST, with every fact kept (names lower-cased). */
export interface MlsxEntry extends FileEntry {
  /** All facts, names lower-cased, values as sent. */
  facts: Record<string, string>;
  /** The `type` fact lower-cased ("file", "dir", "cdir", "pdir", "os.unix=slink:...", ...). */
  mlsxType: string;
}

const FACTS = /^(?:[A-Za-z0-9.\-_!]+=[^; ]*;)+$/;

/**
 * RFC 3659 s2.3 time-val: YYYYMMDDHHMMSS[.sss], always UTC. Returns undefined for anything else
 * (some servers send out-of-range values; a wrong date is worse than none).
 */
export function parseMlsxTime(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$/.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59), ms));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Split "fact=value;fact=value;" into a record with lower-cased names. */
function parseFacts(text: string): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const part of text.split(';')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    // Split at the first '=' only: pure-ftpd sends "type=OS.unix=slink:target".
    facts[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1);
  }
  return facts;
}

/**
 * Parse one MLSD line or MLST fact line. Returns undefined when the line is not a machine-listing entry.
 * An MLST reply line starts with one extra space (RFC 3659 s7.2: "each line ... begins with a space");
 * it is recognised because the text after that space is a fact list.
 */
export function parseMlsxLine(line: string): MlsxEntry | undefined {
  let text = line.replace(/\r?\n$/, '').replace(/\r$/, '');
  if (text.startsWith(' ')) {
    const rest = text.slice(1);
    const sp = rest.indexOf(' ');
    if (sp > 0 && FACTS.test(rest.slice(0, sp))) text = rest;
  }
  const sp = text.indexOf(' ');
  if (sp < 0) return undefined;
  const factText = text.slice(0, sp);
  const name = text.slice(sp + 1);
  if (!name) return undefined;
  if (factText !== '' && !FACTS.test(factText)) return undefined;
  const facts = parseFacts(factText);
  const mlsxType = (facts.type ?? '').toLowerCase();
  const entry: MlsxEntry = { name, type: 'other', facts, mlsxType, raw: line };

  if (mlsxType === 'file') entry.type = 'file';
  else if (mlsxType === 'dir' || mlsxType === 'cdir' || mlsxType === 'pdir') entry.type = 'dir';
  else if (mlsxType.startsWith('os.unix=slink') || mlsxType.startsWith('os.unix=symlink')) {
    entry.type = 'link';
    // "OS.unix=slink:target" (pure-ftpd, proftpd); keep the target's original case.
    const colon = (facts.type ?? '').indexOf(':');
    // Chrooted pure-ftpd sends "slink:" with nothing after it: no target is better than an empty one.
    if (colon >= 0 && colon < facts.type.length - 1) entry.linkTarget = facts.type.slice(colon + 1);
  }

  if (facts.size !== undefined && /^\d+$/.test(facts.size)) entry.size = Number(facts.size);
  if (facts.modify !== undefined) {
    const d = parseMlsxTime(facts.modify);
    if (d) entry.modifiedAt = d;
  }
  const mode = facts['unix.mode'];
  if (mode !== undefined && /^[0-7]{1,6}$/.test(mode)) entry.mode = parseInt(mode, 8) & 0o7777;
  if (facts.perm !== undefined) entry.perm = facts.perm;
  if (facts.unique !== undefined) entry.unique = facts.unique;
  return entry;
}

/** True for the entries that name the listed directory itself or its parent (RFC 3659 s7.5.1). */
export function isSelfOrParent(entry: MlsxEntry): boolean {
  return entry.mlsxType === 'cdir' || entry.mlsxType === 'pdir';
}

/** Parse a whole MLSD body; skips cdir/pdir entries, blank and unparsable lines, and lines over MAX_LISTING_LINE_CHARS. */
export function parseMlsd(text: string | string[]): MlsxEntry[] {
  const lines = Array.isArray(text) ? text : text.split('\n');
  const out: MlsxEntry[] = [];
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.length > MAX_LISTING_LINE_CHARS) continue;
    const e = parseMlsxLine(line);
    if (e && !isSelfOrParent(e)) out.push(e);
  }
  return out;
}
