/**
 * Dates in LIST output (RFC 959 s4.1.3 leaves the format to the server): month names in the common server
 * locales, `ls -l` dates with a time instead of a year, and calendar checks. Shared by the parsers of
 * listing-parse.ts and listing-parse-legacy.ts. Pure; every pattern here is anchored and linear.
 */

/** Month names, lower-case, without a trailing dot: English first, then common server locales. */
const MONTHS: Record<string, number> = {};
for (const [list, base] of [
  ['jan feb mar apr may jun jul aug sep oct nov dec', 0],
  ['jan feb mär apr mai jun jul aug sep okt nov dez', 0],   // German
  ['janv févr mars avr mai juin juil août sept oct nov déc', 0], // French
  ['ene feb mar abr may jun jul ago sep oct nov dic', 0],   // Spanish
  ['gen feb mar apr mag giu lug ago set ott nov dic', 0],   // Italian
  ['jan fev mar abr mai jun jul ago set out nov dez', 0],   // Portuguese
  ['jan feb mrt apr mei jun jul aug sep okt nov dec', 0],   // Dutch
  ['maa', 2], ['mrz', 2], ['sept', 8], ['fév', 1], ['fevr', 1], ['juli', 6], ['juni', 5], ['märz', 2],
] as const) {
  (list as string).split(' ').forEach((m, i) => { if (!(m in MONTHS)) MONTHS[m] = (base as number) + i; });
}

export function monthIndex(token: string): number | undefined {
  const key = token.toLowerCase().replace(/\.$/, '');
  return MONTHS[key];
}

export function validDate(y: number, mo: number, d: number, h: number, mi: number): Date | undefined {
  if (mo < 0 || mo > 11 || d < 1 || d > 31 || h > 23 || mi > 59) return undefined;
  const date = new Date(Date.UTC(y, mo, d, h, mi));
  return date.getUTCDate() === d ? date : undefined;
}

/** `ls` shows HH:MM instead of a year for dates within six months; pick the year that puts it in the past. */
export function dateWithoutYear(mo: number, d: number, h: number, mi: number, now: Date): Date | undefined {
  const year = now.getUTCFullYear();
  const date = validDate(year, mo, d, h, mi);
  // A day of slack for clock and time-zone differences between server and client.
  if (date && date.getTime() > now.getTime() + 86_400_000) return validDate(year - 1, mo, d, h, mi);
  return date ?? validDate(year - 1, mo, d, h, mi);
}

// "<month> <day> <time|year> name"  or  "<day> <month> <time|year> name"  or ISO "2024-01-15 10:30 name".
const DATE_MD = /^(\S+)\s+(\d{1,2})\s+(\d{1,2}:\d{2}|\d{4})\s(.*)$/;
const DATE_DM = /^(\d{1,2})\.?\s+(\S+)\s+(\d{1,2}:\d{2}|\d{4})\s(.*)$/;
const DATE_ISO = /^(\d{4})-(\d{2})-(\d{2})\s+(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:\s+[+-]\d{4})?\s(.*)$/;

export interface DateAndName { date: Date | undefined; name: string }

export function parseUnixDate(text: string, now: Date): DateAndName | undefined {
  let m = DATE_ISO.exec(text);
  if (m) {
    const [y, mo, d, h, mi] = m.slice(1, 6).map(Number);
    return { date: validDate(y, mo - 1, d, h, mi), name: m[6] };
  }
  let month: number | undefined; let day = 0; let tail: string; let rest: string;
  m = DATE_MD.exec(text);
  if (m && (month = monthIndex(m[1])) !== undefined) { day = Number(m[2]); tail = m[3]; rest = m[4]; }
  else {
    m = DATE_DM.exec(text);
    if (!m || (month = monthIndex(m[2])) === undefined) return undefined;
    day = Number(m[1]); tail = m[3]; rest = m[4];
  }
  let date: Date | undefined;
  if (tail.includes(':')) {
    const [h, mi] = tail.split(':').map(Number);
    date = dateWithoutYear(month, day, h, mi, now);
  } else {
    date = validDate(Number(tail), month, day, 0, 0);
  }
  return { date, name: rest };
}

