/**
 * Reply values and their wire format (RFC 959 s4.2).
 *
 * A single-line reply is `NNN text\r\n`. A multi-line reply is `NNN-first\r\n ... NNN last\r\n`;
 * intermediate lines that could be mistaken for the closing line (start with three digits and a space or
 * a dash, or are just three digits) are indented with one space, as RFC 959 s4.2 allows.
 */

export interface Reply {
  code: number;
  /** One entry per line; at least one. */
  lines: string[];
}

export function reply(code: number, ...lines: string[]): Reply {
  return { code, lines: lines.length ? lines : [''] };
}

/** Strip CR/LF so no handler can inject a line (or a fake reply) into the control stream. */
function sanitizeLine(line: string): string {
  return line.replace(/[\r\n]/g, ' ');
}

export function formatReply(r: Reply): string {
  if (!Number.isInteger(r.code) || r.code < 100 || r.code > 599) {
    throw new RangeError(`invalid reply code ${r.code}`);
  }
  const lines = (r.lines.length ? r.lines : ['']).map(sanitizeLine);
  if (lines.length === 1) return `${r.code} ${lines[0]}\r\n`;
  let out = `${r.code}-${lines[0]}\r\n`;
  for (let i = 1; i < lines.length - 1; i++) {
    const l = lines[i];
    // A bare "NNN" counts too: clients (ours included) accept it as a complete closing line.
    out += (/^\d{3}(?:[ -]|$)/.test(l) ? ` ${l}` : l) + '\r\n';
  }
  out += `${r.code} ${lines[lines.length - 1]}\r\n`;
  return out;
}

/** RFC 959 s7 (MKD/PWD, 257): a double quote inside a path name is written twice. */
export function quotePath(path: string): string {
  return `"${path.replace(/"/g, '""')}"`;
}

/** Inverse of quotePath on the text of a 257 reply: returns the path or undefined if none is quoted. */
export function unquotePath(text: string): string | undefined {
  const start = text.indexOf('"');
  if (start < 0) return undefined;
  let out = '';
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      if (text[i + 1] === '"') { out += '"'; i++; continue; }
      return out;
    }
    out += ch;
  }
  return undefined;
}
