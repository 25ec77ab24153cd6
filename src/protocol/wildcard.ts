/**
 * Shell-style wildcards ("*" any run of characters, "?" one character) as classic `ftp` clients send them in
 * LIST/NLST/STAT arguments for mget/mdelete (RFC 959 leaves the argument's meaning to the server; every
 * widely used server globs it). The client globs too (client/wildcard-select.ts: `get 'ftp://h/dir/*.csv'`), with
 * "[...]" bracket expressions as well (WildcardOptions.classes); one bracket expression is one position.
 *
 * SECURITY: a client controls the pattern, and the matcher runs on the server's one event loop. A pattern
 * turned into a backtracking regular expression costs exponential time in the number of stars (vsftpd's
 * CVE-2011-0762 was this class; here one STAT froze every session). This matcher never backtracks more than
 * one segment:
 *
 * - runs of "*" collapse to one (they match the same names), so a line of 4,000 stars is one star;
 * - the pattern is split at "*" into fixed-length segments ("?" matches exactly one code point); the first
 *   segment must match at the start, the last at the end, and each middle segment is placed at its
 *   leftmost match after the previous one. Leftmost placement is always safe: it leaves the most room for
 *   the segments after it, so no other placement needs to be tried.
 *
 * Cost per name: at most (name length) x (longest segment) code point comparisons, and patterns are bounded
 * to MAX_WILDCARD_LENGTH code points after collapsing, so one name costs a bounded, small amount of work.
 */

/** Longest pattern accepted, in code points after collapsing star runs: a name longer than 255 is refused by
 * almost every file system (NAME_MAX), so no longer pattern can be needed to match one. */
export const MAX_WILDCARD_LENGTH = 255;

/** A compiled pattern. */
export interface Wildcard {
  /** Whether the whole name matches the pattern. */
  matches(name: string): boolean;
}

/** What compileWildcard found. */
export type WildcardResult =
  | { kind: 'literal' }                  // no "*" or "?": the text names one entry
  | { kind: 'too-long'; length: number } // over MAX_WILDCARD_LENGTH after collapsing
  | { kind: 'pattern'; wildcard: Wildcard };

/**
 * A bracket expression ("[abc]", "[a-z]", "[!0-9]" or "[^0-9]"): one code point in (or, negated, not in)
 * the set. Only with `classes` (the client's globbing, client/wildcard-select.ts); the server's LIST/NLST
 * arguments keep "[" literal, as they always did.
 */
interface CharClass { negate: boolean; singles: ReadonlySet<string>; ranges: ReadonlyArray<readonly [string, string]> }

/** One position of a segment: a code point, "?" (`undefined`) or a bracket expression. */
type Element = string | undefined | CharClass;
/** One fixed-length piece between stars. */
type Segment = ReadonlyArray<Element>;

export interface WildcardOptions {
  /** Also "[...]" bracket expressions (shell and curl globbing). Default false: "[" is an ordinary character. */
  classes?: boolean;
}

export function hasWildcard(text: string, options: WildcardOptions = {}): boolean {
  if (text.includes('*') || text.includes('?')) return true;
  if (!options.classes) return false;
  const open = text.indexOf('[');
  return open >= 0 && text.indexOf(']', open + 2) > 0;
}

export function compileWildcard(text: string, options: WildcardOptions = {}): WildcardResult {
  if (!hasWildcard(text, options)) return { kind: 'literal' };
  const collapsed = text.replace(/\*{2,}/g, '*');
  const points = Array.from(collapsed);
  if (points.length > MAX_WILDCARD_LENGTH) return { kind: 'too-long', length: points.length };
  const segments: Segment[] = [[]];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const current = segments[segments.length - 1] as Element[];
    if (p === '*') { segments.push([]); continue; }
    if (p === '[' && options.classes) {
      const parsed = readClass(points, i);
      if (parsed) { current.push(parsed.cls); i = parsed.end; continue; }
    }
    current.push(p === '?' ? undefined : p);
  }
  return { kind: 'pattern', wildcard: { matches: name => matchSegments(segments, Array.from(name)) } };
}

/**
 * The bracket expression opening at `points[open]`, and the index of its "]"; undefined when it is not
 * closed (then "[" is literal, like the shell). A "]" right after "[" or "[!" is a member, as in POSIX.
 */
function readClass(points: readonly string[], open: number): { cls: CharClass; end: number } | undefined {
  let i = open + 1;
  const negate = points[i] === '!' || points[i] === '^';
  if (negate) i++;
  const first = i;
  const singles = new Set<string>();
  const ranges: Array<[string, string]> = [];
  for (; i < points.length; i++) {
    const p = points[i]!;
    if (p === ']' && i > first) return { cls: { negate, singles, ranges }, end: i };
    if (points[i + 1] === '-' && points[i + 2] !== undefined && points[i + 2] !== ']') {
      ranges.push([p, points[i + 2]!]);
      i += 2;
    } else singles.add(p);
  }
  return undefined;
}

function inClass(cls: CharClass, ch: string | undefined): boolean {
  if (ch === undefined) return false;
  let found = cls.singles.has(ch);
  // Ranges compare code points, as the shell does in the C locale.
  for (let r = 0; !found && r < cls.ranges.length; r++) {
    const [lo, hi] = cls.ranges[r]!;
    found = ch.codePointAt(0)! >= lo.codePointAt(0)! && ch.codePointAt(0)! <= hi.codePointAt(0)!;
  }
  return found !== cls.negate;
}

/** Whether `segment` matches `name` at code point index `at` (the caller checked it fits). */
function matchesAt(segment: Segment, name: readonly string[], at: number): boolean {
  for (let i = 0; i < segment.length; i++) {
    const want = segment[i];
    if (want === undefined) continue;
    if (typeof want === 'string' ? want !== name[at + i] : !inClass(want, name[at + i])) return false;
  }
  return true;
}

function matchSegments(segments: readonly Segment[], name: readonly string[]): boolean {
  const first = segments[0]!;
  if (segments.length === 1) return first.length === name.length && matchesAt(first, name, 0);
  const last = segments[segments.length - 1]!;
  // The first segment is anchored at the start, the last at the end; they may not overlap.
  if (first.length + last.length > name.length) return false;
  if (!matchesAt(first, name, 0)) return false;
  const end = name.length - last.length;
  if (!matchesAt(last, name, end)) return false;
  let at = first.length;
  for (let s = 1; s < segments.length - 1; s++) {
    const segment = segments[s]!;
    // Leftmost placement of this segment within [at, end).
    let found = -1;
    for (let i = at; i + segment.length <= end; i++) {
      if (matchesAt(segment, name, i)) { found = i; break; }
    }
    if (found < 0) return false;
    at = found + segment.length;
  }
  return true;
}
