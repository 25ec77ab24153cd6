/**
 * `ftpkit bookmark add|list|del`: the bookmarks file of the client commands (bookmarks.ts,
 * docs/client.md#bookmarks). Declared here; what it does is imported when it runs (CLI start-up).
 */
import type { Command } from 'commander';

const actions = () => import('./bookmark-actions.js');

export function registerBookmark(program: Command): void {
  const bookmark = program.command('bookmark')
    .description('name URLs of servers: `ftpkit get @name:path` (file: $FTPKIT_BOOKMARKS or ~/.config/ftpkit/bookmarks.yaml)');
  bookmark.command('add')
    .description('add or replace a bookmark; a password in the URL is left out unless --save-password')
    .argument('<name>').argument('<url>', 'ftp://[user@]host[:port]/folder/')
    .option('--settings <file>', 'store these client settings (JSON, as --settings takes them) with the bookmark')
    .option('--save-password', 'store the URL\'s password in the file (mode 0600; prefer ~/.netrc or $FTPKIT_PASSWORD)')
    .action(async (name: string, url: string, flags: { settings?: string; savePassword?: boolean }) => (await actions()).add(name, url, flags));
  bookmark.command('list')
    .description('list the bookmarks (passwords never shown)')
    .option('--json', 'print them as JSON')
    .action(async (flags: { json?: boolean }) => (await actions()).list(flags));
  bookmark.command('del')
    .description('delete a bookmark')
    .argument('<name>')
    .action(async (name: string) => (await actions()).del(name));
}
