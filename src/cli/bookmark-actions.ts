/** What `ftpkit bookmark add|list|del` do (declared in bookmark-command.ts). */
import { FtpUsageError } from '../errors.js';
import { bookmarksFile, checkBookmarkName, readBookmarks, writeBookmarks, type Bookmark } from './bookmarks.js';
import { escapeControls } from './client-output.js';
import { parseFtpUrl, redactUrl } from './url.js';

export async function add(name: string, urlText: string, flags: { settings?: string; savePassword?: boolean }): Promise<void> {
  checkBookmarkName(name);
  const parsed = parseFtpUrl(urlText);
  const url = new URL(urlText);
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  url.password = '';
  const entry: Bookmark = { url: url.href };
  if (password !== undefined && flags.savePassword) entry.password = password;
  if (flags.settings) entry.settings = await (await import('./client-settings-file.js')).loadSettingsFile(flags.settings);
  const file = bookmarksFile();
  const bookmarks = await readBookmarks(file);
  const replaced = Object.hasOwn(bookmarks, name);
  bookmarks[name] = entry;
  await writeBookmarks(file, bookmarks);
  process.stdout.write(`${replaced ? 'replaced' : 'added'} @${name}: ${redactUrl(parsed)} (${file})\n`);
  if (password !== undefined && !flags.savePassword) {
    process.stderr.write(`ftpkit: the password in the URL was not stored; put it in ~/.netrc or $FTPKIT_PASSWORD (or add --save-password)\n`);
  }
}

export async function list(flags: { json?: boolean }): Promise<void> {
  const file = bookmarksFile();
  const bookmarks = await readBookmarks(file);
  const rows = Object.entries(bookmarks).map(([name, b]) => ({
    name, url: redactUrl(parseFtpUrl(b.url)), passwordSaved: b.password !== undefined, ...(b.settings ? { settings: b.settings } : {}),
  }));
  if (flags.json) { process.stdout.write(`${JSON.stringify({ file, bookmarks: rows })}\n`); return; }
  if (rows.length === 0) { process.stderr.write(`no bookmarks in ${file}\n`); return; }
  for (const r of rows) {
    process.stdout.write(`@${r.name}\t${escapeControls(r.url)}${r.passwordSaved ? '\t(password saved)' : ''}${r.settings ? '\t(settings)' : ''}\n`);
  }
}

export async function del(name: string): Promise<void> {
  const file = bookmarksFile();
  const bookmarks = await readBookmarks(file);
  if (!Object.hasOwn(bookmarks, name)) throw new FtpUsageError(`unknown bookmark @${name} in ${file}`);
  delete bookmarks[name];
  await writeBookmarks(file, bookmarks);
  process.stdout.write(`deleted @${name}\n`);
}
