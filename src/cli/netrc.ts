/**
 * ~/.netrc reader (the format of ftp(1), curl and lftp): `machine NAME login USER password PASS`,
 * a `default` entry, `account`, and `macdef` blocks (skipped up to the next blank line). Tokens are
 * separated by any whitespace; a token may be double-quoted with backslash escapes (as curl accepts).
 * The file is found at $NETRC or ~/.netrc.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

export interface NetrcEntry {
  /** undefined for the `default` entry. */
  machine?: string;
  login?: string;
  password?: string;
  account?: string;
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) { i++; continue; }
    if (ch === '#') { // comment to end of line (curl, lftp)
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '"') {
      let tok = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        tok += text[i++];
      }
      i++;
      tokens.push(tok);
      continue;
    }
    let tok = '';
    while (i < text.length && !/\s/.test(text[i])) tok += text[i++];
    if (tok === 'macdef') {
      // A macro body runs until an empty line; its content is not netrc tokens.
      const end = text.indexOf('\n\n', i);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    tokens.push(tok);
  }
  return tokens;
}

export function parseNetrc(text: string): NetrcEntry[] {
  const tokens = tokenize(text);
  const entries: NetrcEntry[] = [];
  let cur: NetrcEntry | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === 'machine') { cur = { machine: tokens[++i] }; entries.push(cur); }
    else if (t === 'default') { cur = {}; entries.push(cur); }
    else if (cur && (t === 'login' || t === 'password' || t === 'account')) cur[t] = tokens[++i];
  }
  return entries;
}

/**
 * The entry for `host` (case-insensitive), preferring one whose login is `user` when a user is given;
 * the `default` entry when no machine matches.
 */
export function findNetrcEntry(entries: NetrcEntry[], host: string, user?: string): NetrcEntry | undefined {
  const h = host.toLowerCase();
  const forHost = entries.filter(e => e.machine?.toLowerCase() === h);
  const pick = (list: NetrcEntry[]) => user === undefined ? list[0] : list.find(e => e.login === user) ?? list.find(e => e.login === undefined);
  return pick(forHost) ?? pick(entries.filter(e => e.machine === undefined));
}

export function netrcPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.NETRC || path.join(homedir(), '.netrc');
}

export async function readNetrc(file = netrcPath()): Promise<NetrcEntry[]> {
  try {
    return parseNetrc(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
