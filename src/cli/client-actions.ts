/**
 * What the client commands of the CLI do (declared in client-commands.ts, which imports this module when one
 * of them runs). Thin: parse argv -> FtpClient / tree operations -> print -> exit code. The shared flags are
 * in client-flags.ts, connecting and printing in client-run.ts, trees in client-tree.ts (imported only by
 * the commands that copy trees).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { FtpReplyError, FtpUsageError } from '../errors.js';
import type { FileEntry } from '../protocol/listing-types.js';
import { maskOutgoingCommand } from '../protocol/masking.js';
import type { ClientFlags } from './client-options.js';
import { humanBytes } from './client-output.js';
import { modeFields, sizeAndWire } from './client-transfer-mode.js';
import { exitCodeFor, ExitCode } from './exit-codes.js';
import { isFtpUrl, parseFtpUrl, remoteBaseName, type FtpUrl } from './url.js';
import { runWithClient, type Io, type RunContext } from './client-run.js';
import type { CompareMode } from '../client/tree/index.js';
import type { TreeFlags } from './client-tree.js';
import { expandLocalSources, getMatching, globUrlText, isGlobGet, type GlobFlags } from './client-glob.js';
import { putSeveral, type PutFlags } from './client-put-several.js';
import { isRemoteFolder, joinRemote } from './client-remote.js';
import { downloadOpsOptions, opsJson, opsNote, uploadOpsOptions, type TransferOpsFlags } from './client-ops.js';
import { Retrier } from '../client/retry.js';

/** The tree commands' module (src/client/tree/), loaded only by get -r, put -r and mirror. */
async function runTree(ctx: RunContext, direction: 'download' | 'upload', remote: string, local: string,
  flags: TreeFlags, compare: CompareMode): Promise<Record<string, unknown>> {
  return (await import('./client-tree.js')).runTree(ctx, direction, remote, local, flags, compare);
}

function longLine(e: FileEntry): string {
  const type = e.type === 'dir' ? 'd' : e.type === 'link' ? 'l' : e.type === 'file' ? '-' : '?';
  const size = e.size !== undefined ? String(e.size) : '-';
  const date = e.modifiedAt ? e.modifiedAt.toISOString().slice(0, 16).replace('T', ' ') : '-'.padEnd(16);
  return `${type} ${size.padStart(12)} ${date} ${e.name}${e.linkTarget ? ` -> ${e.linkTarget}` : ''}`;
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
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

export async function ls(io: Io, urlText: string, flags: ClientFlags & { long?: boolean }): Promise<void> {
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
}

export async function get(io: Io, urlText: string, local: string | undefined, flags: TreeFlags & GlobFlags & TransferOpsFlags & { resume?: boolean }): Promise<void> {
  await runWithClient(globUrlText(urlText, flags), flags, io, async ctx => {
    if (isGlobGet(ctx.url.path, flags)) {
      return getMatching(ctx, local, flags, (remote, dir) => runTree(ctx, 'download', remote, dir, flags, 'always'));
    }
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
      if (flags.verify || flags.segments) throw new FtpUsageError('--verify and --segments need a local file, not stdout');
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
    // Segments are their own recovery unit (a failed range fails the download cleanly); --retries covers one stream.
    const ops = downloadOpsOptions(ctx, flags);
    const r = ops.segments !== undefined ? await ctx.client.download(ctx.url.path, dest, { resume: !!flags.resume, ...ops })
      : await new Retrier(ctx.client).download(ctx.url.path, dest, { resume: !!flags.resume, ...ops });
    ctx.say(`${ctx.url.path} -> ${dest}: ${sizeAndWire(r)}${r.startOffset ? ` (resumed at ${r.startOffset})` : ''}${opsNote(r)}`);
    return { bytes: r.bytes, startOffset: r.startOffset, destination: dest, mode: r.mode, ...modeFields(r), ...opsJson(r) };
  });
}

export async function put(io: Io, sources: string[], urlText: string, flags: TreeFlags & PutFlags & TransferOpsFlags): Promise<void> {
  await runWithClient(urlText, flags, io, async ctx => {
    const locals = await expandLocalSources(sources, flags);
    if (locals.length > 1) return putSeveral(ctx, locals, flags, (local, remote) => runTree(ctx, 'upload', remote, local, flags, 'always'));
    const local = locals[0]!;
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
    if (local === '-' && flags.verify) throw new FtpUsageError('--verify needs a local file, not stdin');
    const source = local === '-' ? process.stdin : local;
    const upOpts = { resume: !!flags.resume, append: !!flags.append, createDirs: !!flags.createDirs };
    const r = typeof source === 'string' ? await new Retrier(ctx.client).upload(source, remote, { ...upOpts, ...uploadOpsOptions(flags) })
      : await ctx.client.upload(source, remote, upOpts);
    ctx.say(`${local} -> ${remote}: ${sizeAndWire(r)}${r.startOffset ? ` (resumed at ${r.startOffset})` : ''}${opsNote(r)}`);
    return { bytes: r.bytes, startOffset: r.startOffset, remotePath: remote, mode: r.mode, ...modeFields(r), ...opsJson(r) };
  });
}

export async function rm(io: Io, urlText: string, flags: ClientFlags & { recursive?: boolean }): Promise<void> {
  await runWithClient(urlText, flags, io, async ctx => {
    if (!ctx.url.path) throw new FtpUsageError('the URL names nothing to delete');
    if (flags.recursive) await ctx.client.rmdir(ctx.url.path, { recursive: true });
    else await ctx.client.delete(ctx.url.path);
    ctx.say(`deleted ${ctx.url.path}`);
    return { deleted: ctx.url.path };
  });
}

export async function mkdir(io: Io, urlText: string, flags: ClientFlags & { parents?: boolean }): Promise<void> {
  await runWithClient(urlText, flags, io, async ctx => {
    if (!ctx.url.path) throw new FtpUsageError('the URL names no folder');
    await ctx.client.mkdir(ctx.url.path, { recursive: !!flags.parents });
    ctx.say(`created ${ctx.url.path}`);
    return { created: ctx.url.path };
  });
}

export async function rmdir(io: Io, urlText: string, flags: ClientFlags & { recursive?: boolean }): Promise<void> {
  await runWithClient(urlText, flags, io, async ctx => {
    if (!ctx.url.path) throw new FtpUsageError('the URL names no folder');
    await ctx.client.rmdir(ctx.url.path, { recursive: !!flags.recursive });
    ctx.say(`removed ${ctx.url.path}`);
    return { removed: ctx.url.path };
  });
}

export async function mv(io: Io, urlText: string, to: string, flags: ClientFlags): Promise<void> {
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
}

export async function mirror(io: Io, src: string, dst: string, flags: TreeFlags & { reverse?: boolean }): Promise<void> {
  // A bookmark reference (`@name:path`, bookmarks.ts) is a URL too.
  const remote = (text: string): boolean => isFtpUrl(text) || /^@[^:/]+(?::|$)/.test(text);
  const srcUrl = remote(src);
  const dstUrl = remote(dst);
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
}

export async function raw(io: Io, urlText: string, commands: string[], flags: ClientFlags): Promise<void> {
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
}
