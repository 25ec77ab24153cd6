/**
 * The client commands of the CLI: `ftpkit ls | get | put | rm | mkdir | rmdir | mv | mirror | raw`.
 * Thin: parse argv -> FtpClient / tree operations -> print -> exit code. Source before destination,
 * like cp and scp: `get URL [LOCAL]`, `put LOCAL URL`, `mirror URL LOCALDIR`, `mirror --reverse LOCALDIR URL`.
 * The shared flags are in client-flags.ts, connecting and printing in client-run.ts, trees in client-tree.ts.
 */
import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { FtpReplyError, FtpUsageError } from '../errors.js';
import type { FileEntry } from '../protocol/listing-types.js';
import { maskOutgoingCommand } from '../protocol/masking.js';
import type { ClientFlags } from './client-options.js';
import { humanBytes } from './client-output.js';
import { exitCodeFor, ExitCode } from './exit-codes.js';
import { isFtpUrl, parseFtpUrl, remoteBaseName, type FtpUrl } from './url.js';
import { addClientFlags } from './client-flags.js';
import { defaultIo, runWithClient, type Io, type RunContext } from './client-run.js';
import { runTree, type TreeFlags } from './client-tree.js';

function longLine(e: FileEntry): string {
  const type = e.type === 'dir' ? 'd' : e.type === 'link' ? 'l' : e.type === 'file' ? '-' : '?';
  const size = e.size !== undefined ? String(e.size) : '-';
  const date = e.modifiedAt ? e.modifiedAt.toISOString().slice(0, 16).replace('T', ' ') : '-'.padEnd(16);
  return `${type} ${size.padStart(12)} ${date} ${e.name}${e.linkTarget ? ` -> ${e.linkTarget}` : ''}`;
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** The remote path exists and is a folder; a refusal (550: no such file) means it is not. */
async function isRemoteFolder(ctx: RunContext, remotePath: string): Promise<boolean> {
  try {
    return (await ctx.client.stat(remotePath)).type === 'dir';
  } catch (e) {
    if (e instanceof FtpReplyError) return false;
    throw e;
  }
}

/** `folder/name`, keeping an absolute root ("/" + name) and the login folder ("" + name). */
function joinRemote(folder: string, name: string): string {
  const trimmed = folder.replace(/\/+$/, '');
  if (trimmed) return `${trimmed}/${name}`;
  return folder.startsWith('/') ? `/${name}` : name;
}

/** The error (or one of its causes) says the reader of a pipe went away (EPIPE). */
function isClosedPipe(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return true;
  }
  return false;
}

function remotePathOf(url: FtpUrl): string {
  return url.path === '' ? '.' : url.path;
}

export function registerClientCommands(program: Command, io: Io = defaultIo()): void {
  addClientFlags(program.command('ls')
    .description('list a remote folder')
    .argument('<url>', 'ftp://[user[:password]@]host[:port]/path')
    .option('-l, --long', 'type, size, date and name'),
  { data: true }
  ).action(async (urlText: string, flags: ClientFlags & { long?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      let entries: FileEntry[];
      try {
        entries = await ctx.client.list(ctx.url.path || undefined);
      } catch (e) {
        // `ls URL/file`: MLSD answers 501 for a file (RFC 3659 s7.2.1) where LIST would list it; like ls(1),
        // show that one entry (MLST) instead of failing.
        if (!(e instanceof FtpReplyError) || e.replyCode !== 501 || !ctx.url.path || ctx.url.isDir) throw e;
        const one = await ctx.client.stat(ctx.url.path).catch(() => undefined);
        if (!one || one.type === 'dir') throw e;
        entries = [one];
      }
      for (const e of entries) ctx.say(flags.long ? longLine(e) : `${e.name}${e.type === 'dir' ? '/' : ''}`);
      return { entries: entries.map(({ raw: _raw, ...e }) => e) };
    });
  });

  addClientFlags(program.command('get')
    .description('download a file (or a folder with -r) to LOCAL (default: the remote name; "-" for stdout)')
    .argument('<url>').argument('[local]')
    .option('-r, --recursive', 'download a whole folder')
    .option('--resume', 'continue a partial local file (REST)')
    .option('--parallel <n>', 'connections for a recursive download'),
  { data: true, transferType: true }
  ).action(async (urlText: string, local: string | undefined, flags: TreeFlags & { resume?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      const name = remoteBaseName(ctx.url.path);
      // Like put and scp: a folder is copied only when asked (-r); a trailing "/" alone must not start a
      // download of a whole server tree into the current folder.
      if (ctx.url.isDir && !flags.recursive) throw new FtpUsageError('the URL names a folder: use -r to download it, or ls to list it');
      if (flags.recursive) {
        const target = local ?? (name || '.');
        return runTree(ctx, 'download', remotePathOf(ctx.url), target, flags, 'always');
      }
      if (!name) throw new FtpUsageError('the URL names no file (use -r for a folder)');
      if (local === '-') {
        try {
          const r = await ctx.client.download(ctx.url.path, process.stdout, { end: false });
          return { bytes: r.bytes, destination: '-' };
        } catch (e) {
          if (!isClosedPipe(e)) throw e;
          // `get URL - | head`: the reader took what it wanted and left. Like curl, not a failure: the transfer
          // is already stopped (ABOR, RFC 959 s4.1.3), and nothing more can reach stdout, so later writes
          // (--json) must not turn into an unhandled EPIPE.
          process.stdout.on('error', () => undefined);
          return { destination: '-', stdoutClosed: true };
        }
      }
      let dest = local ?? name;
      if (await isDirectory(dest)) dest = path.join(dest, name);
      // LOCAL "dir/" names a folder, like cp; a missing folder is the user's to fix, said before any transfer
      // (not as a failed rename of a temporary file after downloading everything).
      else if (/[\\/]$/.test(dest)) throw new FtpUsageError(`${dest}: no such local folder`);
      else if (!await isDirectory(path.dirname(path.resolve(dest)))) throw new FtpUsageError(`${path.dirname(dest)}: no such local folder`);
      const r = await ctx.client.download(ctx.url.path, dest, { resume: !!flags.resume });
      ctx.say(`${ctx.url.path} -> ${dest}: ${humanBytes(r.bytes)}${r.startOffset ? ` (resumed at ${r.startOffset})` : ''}`);
      return { bytes: r.bytes, startOffset: r.startOffset, destination: dest, mode: r.mode };
    });
  });

  addClientFlags(program.command('put')
    .description('upload LOCAL ("-" for stdin) to the URL (a URL ending in "/" keeps the local name)')
    .argument('<local>').argument('<url>')
    .option('-r, --recursive', 'upload a whole folder')
    .option('--resume', 'continue a partial remote file (SIZE + APPE)')
    .option('--append', 'append to the remote file (APPE)')
    .option('--parallel <n>', 'connections for a recursive upload'),
  { data: true, transferType: true }
  ).action(async (local: string, urlText: string, flags: TreeFlags & { resume?: boolean; append?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (local !== '-' && !await stat(local).catch(() => undefined)) throw new FtpUsageError(`${local}: no such local file or folder`);
      const localIsDir = local !== '-' && await isDirectory(local);
      if (localIsDir) {
        if (!flags.recursive) throw new FtpUsageError(`${local} is a folder: use -r`);
        // Like scp -r: a URL ending in "/" receives the folder under its own name.
        const base = path.basename(path.resolve(local));
        const remote = ctx.url.isDir ? (ctx.url.path ? `${ctx.url.path}/${base}` : base) : ctx.url.path;
        return runTree(ctx, 'upload', remote, local, flags, 'always');
      }
      let remote = ctx.url.path;
      if (ctx.url.isDir) {
        if (local === '-') throw new FtpUsageError('uploading stdin needs a file name in the URL');
        remote = remote ? `${remote}/${path.basename(local)}` : path.basename(local);
      }
      const source = local === '-' ? process.stdin : local;
      const r = await ctx.client.upload(source, remote, { resume: !!flags.resume, append: !!flags.append });
      ctx.say(`${local} -> ${remote}: ${humanBytes(r.bytes)}${r.startOffset ? ` (resumed at ${r.startOffset})` : ''}`);
      return { bytes: r.bytes, startOffset: r.startOffset, remotePath: remote, mode: r.mode };
    });
  });

  addClientFlags(program.command('rm')
    .description('delete a remote file (or a folder with -r)')
    .argument('<url>')
    .option('-r, --recursive', 'delete a folder and everything in it'),
  { data: true } // -r lists folders
  ).action(async (urlText: string, flags: ClientFlags & { recursive?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (!ctx.url.path) throw new FtpUsageError('the URL names nothing to delete');
      if (flags.recursive) await ctx.client.rmdir(ctx.url.path, { recursive: true });
      else await ctx.client.delete(ctx.url.path);
      ctx.say(`deleted ${ctx.url.path}`);
      return { deleted: ctx.url.path };
    });
  });

  addClientFlags(program.command('mkdir')
    .description('create a remote folder')
    .argument('<url>')
    .option('-p, --parents', 'create missing parent folders too')
  ).action(async (urlText: string, flags: ClientFlags & { parents?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (!ctx.url.path) throw new FtpUsageError('the URL names no folder');
      await ctx.client.mkdir(ctx.url.path, { recursive: !!flags.parents });
      ctx.say(`created ${ctx.url.path}`);
      return { created: ctx.url.path };
    });
  });

  addClientFlags(program.command('rmdir')
    .description('remove a remote folder (empty, or with -r everything in it)')
    .argument('<url>')
    .option('-r, --recursive', 'remove the content too'),
  { data: true } // -r lists folders
  ).action(async (urlText: string, flags: ClientFlags & { recursive?: boolean }) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (!ctx.url.path) throw new FtpUsageError('the URL names no folder');
      await ctx.client.rmdir(ctx.url.path, { recursive: !!flags.recursive });
      ctx.say(`removed ${ctx.url.path}`);
      return { removed: ctx.url.path };
    });
  });

  addClientFlags(program.command('mv')
    .description('rename a remote file or folder; TO without "/" is a new name in the same folder; an existing folder (or TO ending in "/") receives it under its own name, like mv')
    .argument('<url>').argument('<to>', 'new name, a path, or a URL on the same server')
  ).action(async (urlText: string, to: string, flags: ClientFlags) => {
    await runWithClient(urlText, flags, io, async ctx => {
      if (!ctx.url.path) throw new FtpUsageError('the URL names nothing to rename');
      let target: string;
      let namesFolder: boolean;
      if (isFtpUrl(to)) {
        const t = parseFtpUrl(to);
        if (t.host !== ctx.url.host || t.port !== ctx.url.port) throw new FtpUsageError('mv works within one server');
        target = t.path;
        namesFolder = t.isDir;
      } else if (!to.includes('/')) {
        const dir = ctx.url.path.includes('/') ? ctx.url.path.slice(0, ctx.url.path.lastIndexOf('/') + 1) : '';
        target = dir + to;
        namesFolder = false;
      } else {
        target = to;
        namesFolder = to.endsWith('/');
      }
      if (/[\r\n\0]/.test(target)) throw new FtpUsageError('the new name contains CR, LF or NUL');
      // Like mv(1): a target that is an existing folder (or written as one, ending in "/") receives the file
      // under its own name; RNTO onto the folder itself is refused by servers ("550 Is a directory").
      if (namesFolder || await isRemoteFolder(ctx, target)) target = joinRemote(target, remoteBaseName(ctx.url.path));
      await ctx.client.rename(ctx.url.path, target);
      ctx.say(`${ctx.url.path} -> ${target}`);
      return { from: ctx.url.path, to: target };
    });
  });

  addClientFlags(program.command('mirror')
    .description('one-way sync by size and time: `mirror URL LOCALDIR` (download) or `mirror LOCALDIR URL` / `mirror --reverse LOCALDIR URL` (upload)')
    .argument('<source>').argument('<destination>')
    .option('-R, --reverse', 'upload: the source is the local folder')
    .option('--delete', 'delete destination files and folders that the source does not have')
    .option('--parallel <n>', 'transfer on this many connections (default 1)')
    .option('-n, --dry-run', 'print what would be done, do nothing')
    .option('--size-only', 'compare sizes only, not times (LIST-only servers listing in another time zone)'),
  { data: true, transferType: true }
  ).action(async (src: string, dst: string, flags: TreeFlags & { reverse?: boolean }) => {
    const srcUrl = isFtpUrl(src);
    const dstUrl = isFtpUrl(dst);
    if (srcUrl === dstUrl || (flags.reverse && srcUrl)) {
      const msg = srcUrl === dstUrl
        ? 'mirror needs exactly one ftp:// URL: `mirror URL LOCALDIR` or `mirror LOCALDIR URL`'
        : '--reverse means `mirror --reverse LOCALDIR URL`';
      io.stderr.write(`ftpkit: ${msg}\n`);
      if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, exitCode: ExitCode.Usage, error: { message: msg } })}\n`);
      process.exitCode = ExitCode.Usage;
      return;
    }
    const upload = !srcUrl;
    await runWithClient(upload ? dst : src, flags, io, ctx =>
      runTree(ctx, upload ? 'upload' : 'download', remotePathOf(ctx.url), upload ? src : dst, flags, flags.sizeOnly ? 'size' : 'newer'));
  });

  addClientFlags(program.command('raw')
    .description('send raw commands after login and print the replies (e.g. "SITE CHMOD 644 f" "STAT")')
    .argument('<url>').argument('<commands...>')
  ).action(async (urlText: string, commands: string[], flags: ClientFlags) => {
    await runWithClient(urlText, flags, io, async ctx => {
      const replies = [];
      for (const command of commands) {
        const r = await ctx.client.send(command);
        replies.push({ command: maskOutgoingCommand(command), code: r.code, lines: r.lines });
        for (const l of r.lines) ctx.say(l);
        // Raw commands go through as given; a refusal still sets the exit code (4) so scripts notice.
        if (r.code >= 400) {
          return { replies, exitCode: exitCodeFor(new FtpReplyError(r.code, r.message, command)) };
        }
      }
      return { replies };
    });
  });
}
