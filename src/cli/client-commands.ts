/**
 * The client commands of the CLI: `ftpkit ls | get | put | rm | mkdir | rmdir | mv | mirror | raw`.
 * Source before destination, like cp and scp: `get URL [LOCAL]`, `put LOCAL URL`, `mirror URL LOCALDIR`,
 * `mirror --reverse LOCALDIR URL`. This module only declares them (arguments, flags from client-flags.ts,
 * help); what each one does is in client-actions.ts, imported when the command runs, so `ftpkit --version`
 * and the other subcommands do not load the client (CLI start-up, issue 10).
 */
import type { Command } from 'commander';
import { FtpUsageError } from '../errors.js';
import type { ClientFlags } from './client-options.js';
import { addClientFlags, sizeCheckOption } from './client-flags.js';
import type { Io } from './client-run.js';
import type { TreeFlags } from './client-tree.js';
import type { CopyFlags, TransferOpsFlags } from './client-ops.js';

const actions = () => import('./client-actions.js');

export function registerClientCommands(program: Command, io: Io = { stdout: process.stdout, stderr: process.stderr }): void {
  addClientFlags(program.command('ls')
    .description('list a remote folder')
    .argument('<url>', 'ftp://[user[:password]@]host[:port]/path')
    .option('-l, --long', 'type, size, date and name'),
  { data: true }
  ).action(async (urlText: string, flags: ClientFlags & { long?: boolean }) => (await actions()).ls(io, urlText, flags));

  addClientFlags(program.command('get')
    .description('download a file (or a folder with -r) to LOCAL (default: the remote name; "-" for stdout)')
    .argument('<url>').argument('[local]')
    .option('-r, --recursive', 'download a whole folder')
    .option('--resume', 'continue a partial local file (REST)')
    .option('--parallel <n>', 'connections for a recursive download')
    .option('-g, --globoff', 'take "*", "?" and "[" in the URL literally (default: a wildcard in the last segment downloads every match into LOCAL)')
    .option('--segments <n>', 'download one file on N connections at once, each a range (lftp pget -n)')
    .option('--verify', 'check the file against the server\'s after the download (HASH/XSHA256/XMD5/XCRC, else SIZE)')
    .option('--no-preserve', 'keep the download time instead of the server\'s modification time')
    .addOption(sizeCheckOption()),
  { data: true, transferType: true }
  ).action(async (urlText: string, local: string | undefined, flags: TreeFlags & TransferOpsFlags & { resume?: boolean; globoff?: boolean }) => (await actions()).get(io, urlText, local, flags));

  addClientFlags(program.command('put')
    .description('upload LOCAL ("-" for stdin) to the URL (a URL ending in "/" keeps the local name); several LOCAL files (or a quoted pattern) go into the folder the URL names')
    .argument('<local...>', 'local files (the last argument is the URL)')
    .option('-r, --recursive', 'upload a whole folder')
    .option('--resume', 'continue a partial remote file (SIZE + APPE)')
    .option('--append', 'append to the remote file (APPE)')
    .option('--parallel <n>', 'connections for a recursive upload')
    .option('--create-dirs', 'create the missing remote folders of the URL first (curl\'s --ftp-create-dirs)')
    .option('-g, --globoff', 'take "*", "?" and "[" in LOCAL literally')
    .option('--verify', 'check the remote file against the local one after the upload (HASH/XSHA256/XMD5/XCRC, else SIZE)')
    .option('--no-preserve', 'do not give the remote file the local modification time (MFMT)'),
  { data: true, transferType: true }
  ).action(async (args: string[], flags: TreeFlags & TransferOpsFlags & { resume?: boolean; append?: boolean; createDirs?: boolean; globoff?: boolean }) => {
    if (args.length < 2) throw new FtpUsageError('put needs LOCAL... and a URL: `put FILE ftp://host/path`');
    return (await actions()).put(io, args.slice(0, -1), args[args.length - 1]!, flags);
  });

  addClientFlags(program.command('rm')
    .description('delete a remote file (or a folder with -r)')
    .argument('<url>')
    .option('-r, --recursive', 'delete a folder and everything in it'),
  { data: true } // -r lists folders
  ).action(async (urlText: string, flags: ClientFlags & { recursive?: boolean }) => (await actions()).rm(io, urlText, flags));

  addClientFlags(program.command('mkdir')
    .description('create a remote folder')
    .argument('<url>')
    .option('-p, --parents', 'create missing parent folders too')
  ).action(async (urlText: string, flags: ClientFlags & { parents?: boolean }) => (await actions()).mkdir(io, urlText, flags));

  addClientFlags(program.command('rmdir')
    .description('remove a remote folder (empty, or with -r everything in it)')
    .argument('<url>')
    .option('-r, --recursive', 'remove the content too'),
  { data: true } // -r lists folders
  ).action(async (urlText: string, flags: ClientFlags & { recursive?: boolean }) => (await actions()).rmdir(io, urlText, flags));

  addClientFlags(program.command('mv')
    .description('rename a remote file or folder; TO without "/" is a new name in the same folder; an existing folder (or TO ending in "/") receives it under its own name, like mv')
    .argument('<url>').argument('<to>', 'new name, a path, or a URL on the same server')
  ).action(async (urlText: string, to: string, flags: ClientFlags) => (await actions()).mv(io, urlText, to, flags));

  addClientFlags(program.command('mirror')
    .description('one-way sync by size and time: `mirror URL LOCALDIR` (download) or `mirror LOCALDIR URL` / `mirror --reverse LOCALDIR URL` (upload)')
    .argument('<source>').argument('<destination>')
    .option('-R, --reverse', 'upload: the source is the local folder')
    .option('--delete', 'delete destination files and folders that the source does not have')
    .option('--parallel <n>', 'transfer on this many connections (default 1)')
    .option('-n, --dry-run', 'print what would be done, do nothing')
    .option('--size-only', 'compare sizes only, not times (LIST-only servers listing in another time zone)')
    .option('--checksum', 'also compare by hash (HASH/XSHA256...) the files whose size and time match')
    .addOption(sizeCheckOption()),
  { data: true, transferType: true }
  ).action(async (src: string, dst: string, flags: TreeFlags & { reverse?: boolean }) => (await actions()).mirror(io, src, dst, flags));

  addClientFlags(program.command('copy')
    .description('copy a file from one server to another, the data going between the servers (FXP); both must allow it (docs/client.md)')
    .argument('<source-url>').argument('<target-url>', 'a URL ending in "/" keeps the source name')
    .option('--passive-side <side>', 'which server listens (PASV): target (default) or source'),
  ).action(async (source: string, target: string, flags: CopyFlags) => (await import('./client-ops.js')).copy(io, source, target, flags));

  addClientFlags(program.command('raw')
    .description('send raw commands after login and print the replies (e.g. "SITE CHMOD 644 f" "STAT")')
    .argument('<url>').argument('<commands...>')
  ).action(async (urlText: string, commands: string[], flags: ClientFlags) => (await actions()).raw(io, urlText, commands, flags));
}
