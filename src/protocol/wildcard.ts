/**
 * Shell-style wildcards ("*" any run of characters, "?" one character) as classic `ftp` clients send them in
 * LIST/NLST/STAT arguments for mget/mdelete (RFC 959 leaves the argument's meaning to the server; every
 * widely used server globs it).
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

/** One fixed-length piece between stars, as code points; `undefined` stands for "?". */
type Segment = ReadonlyArray<string | undefined>;

export function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

export function compileWildcard(text: string): WildcardResult {
  if (!hasWildcard(text)) return { kind: 'literal' };
  const collapsed = text.replace(/\*{2,}/g, '*');
  const points = Array.from(collapsed);
  if (points.length > MAX_WILDCARD_LENGTH) return { kind: 'too-long', length: points.length };
  const segments: Segment[] = [[]];
  for (const p of points) {
    if (p === '*') segments.push([]);
    else (segments[segments.length - 1] as Array<string | undefined>).push(p === '?' ? undefined : p);
  }
  return { kind: 'pattern', wildcard: { matches: name => matchSegments(segments, Array.from(name)) } };
}

/** Whether `segment` matches `name` at code point index `at` (the caller checked it fits). */
function matchesAt(segment: Segment, name: readonly string[], at: number): boolean {
  for (let i = 0; i < segment.length; i++) {
    const want = segment[i];
    if (want !== undefined && want !== name[at + i]) return false;
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
