/**
 * Bookmarks of the client CLI (docs/client.md#bookmarks): a small YAML file, name -> URL (+ data settings),
 * and `@name` / `@name:path` in place of a URL. The file is $FTPKIT_BOOKMARKS, else
 * $XDG_CONFIG_HOME/ftpkit/bookmarks.yaml, else ~/.config/ftpkit/bookmarks.yaml.
 *
 *   work:
 *     url: ftp://alice@files.example.com/reports/
 *     settings: { data: { mode: active }, secure: explicit }   # as --settings takes them
 *
 * Passwords: not stored unless the user asks (`bookmark add --save-password`); they come from ~/.netrc,
 * $FTPKIT_PASSWORD or the prompt, as for a URL. A file holding one is written mode 0600.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { FtpConfigError, FtpUsageError } from '../errors.js';
import type { ClientSettings } from '../client/options.js';
import { parseFtpUrl } from './url.js';

export interface Bookmark {
  /** ftp:// or ftps:// URL, normally without a password. */
  url: string;
  /** Only when saved on purpose (--save-password). */
  password?: string;
  /** Client settings as `--settings` takes them (data connection, TLS, transfer type). */
  settings?: ClientSettings;
}

export type Bookmarks = Record<string, Bookmark>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** `@name` or `@name:path`. */
const REF = /^@([^:/]+)(?::(.*))?$/s;

export function bookmarksFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FTPKIT_BOOKMARKS) return env.FTPKIT_BOOKMARKS;
  const config = env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(config, 'ftpkit', 'bookmarks.yaml');
}

export function checkBookmarkName(name: string): string {
  if (!NAME.test(name)) throw new FtpUsageError(`a bookmark name is letters, digits, "_", "-" and "." (up to 64), got ${JSON.stringify(name)}`);
  return name;
}

export function isBookmarkRef(text: string): boolean {
  return REF.test(text);
}

/** The bookmarks of `file`; none when it does not exist. Invalid content is an FtpConfigError naming the entry. */
export async function readBookmarks(file: string): Promise<Bookmarks> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new FtpUsageError(`cannot read the bookmarks file ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (e) {
    throw new FtpConfigError('', `${file}: not valid YAML: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new FtpConfigError('', `${file}: expected bookmark names, each with a url`);
  const out: Bookmarks = {};
  for (const [name, value] of Object.entries(doc as Record<string, unknown>)) {
    const b = value as Partial<Bookmark> | null;
    if (!NAME.test(name) || !b || typeof b !== 'object' || typeof b.url !== 'string') {
      throw new FtpConfigError(name, `needs a url (in ${file})`);
    }
    parseFtpUrl(b.url);
    if (b.password !== undefined && typeof b.password !== 'string') throw new FtpConfigError(`${name}.password`, `must be a string (in ${file})`);
    const entry: Bookmark = { url: b.url };
    if (b.password !== undefined) entry.password = b.password;
    if (b.settings !== undefined) {
      // The same checks as a --settings file (zod loaded only for a bookmark with settings).
      const { parseSettingsJson } = await import('./client-settings-file.js');
      entry.settings = parseSettingsJson(JSON.stringify(b.settings), `${file}: ${name}.settings`);
    }
    out[name] = entry;
  }
  return out;
}

/** Write all bookmarks (a temporary file renamed over the old one); mode 0600 (it may hold a password). */
export async function writeBookmarks(file: string, bookmarks: Bookmarks): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  const header = '# ftpkit bookmarks (docs/client.md#bookmarks): name -> url, settings; `ftpkit get @name:path`\n';
  await writeFile(temp, header + (Object.keys(bookmarks).length ? stringifyYaml(bookmarks) : ''), { mode: 0o600 });
  await rename(temp, file);
}

export interface ResolvedRef {
  name: string;
  /** The URL to use: the bookmark's, its password when saved, and the path after ":" appended. */
  urlText: string;
  settings?: ClientSettings;
}

/**
 * `@name:path` -> the bookmark's URL with `path` appended to its path (a folder: "/" added when missing);
 * `@name` alone is the bookmark's URL. The path is written as a plain path, not URL-encoded: each segment
 * is encoded here ("?" and spaces included), so wildcards still reach `get` (client-glob.ts).
 */
export async function resolveBookmarkRef(ref: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedRef> {
  const m = REF.exec(ref);
  if (!m) throw new FtpUsageError(`not a bookmark reference (@name or @name:path): ${ref}`);
  const [, name, rest] = m;
  const file = bookmarksFile(env);
  const bookmarks = await readBookmarks(file);
  const b = Object.hasOwn(bookmarks, name!) ? bookmarks[name!] : undefined;
  if (!b) {
    const known = Object.keys(bookmarks);
    throw new FtpUsageError(`unknown bookmark @${name}: ${known.length ? `${file} has ${known.map(k => `@${k}`).join(', ')}` : `${file} has none`} `
      + '(add one with `ftpkit bookmark add NAME URL`)');
  }
  const url = new URL(b.url);
  if (b.password !== undefined && !url.password) url.password = encodeURIComponent(b.password);
  let urlText = url.href;
  if (rest) {
    const base = urlText.endsWith('/') ? urlText : `${urlText}/`;
    urlText = base + rest.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
  }
  return { name: name!, urlText, ...(b.settings ? { settings: b.settings } : {}) };
}
