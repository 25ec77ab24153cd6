/**
 * `put A B C ftp://h/dir/` (or a local pattern that expanded to several files, client-glob.ts): each file
 * into the remote folder under its own name, like cp with several sources. The URL must name a folder:
 * ending in "/", an existing remote folder, or one --create-dirs creates.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { FtpUsageError } from '../errors.js';
import type { GlobFlags } from './client-glob.js';
import { humanBytes } from './client-output.js';
import type { RunContext } from './client-run.js';
import { isRemoteFolder, joinRemote } from './client-remote.js';

export type PutFlags = GlobFlags & { append?: boolean; createDirs?: boolean };

export async function putSeveral(ctx: RunContext, locals: string[], flags: PutFlags,
  runTree: (local: string, remote: string) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  if (locals.includes('-')) throw new FtpUsageError('stdin ("-") can only be uploaded alone');
  if (flags.append) throw new FtpUsageError('--append takes one local file');
  const folder = ctx.url.path;
  if (flags.createDirs && folder) await ctx.client.mkdir(folder, { recursive: true });
  else if (folder && !await isRemoteFolder(ctx, folder)) {
    throw new FtpUsageError(`several files go into a folder: ${folder} is not one (end the URL with "/" and add --create-dirs to create it)`);
  }
  const files: Array<Record<string, unknown>> = [];
  let bytes = 0;
  for (const local of locals) {
    const info = await stat(local).catch(() => undefined);
    if (!info) throw new FtpUsageError(`${local}: no such local file or folder`);
    const remote = joinRemote(folder, path.basename(path.resolve(local)));
    if (info.isDirectory()) {
      if (!flags.recursive) throw new FtpUsageError(`${local} is a folder: use -r`);
      files.push({ local, remotePath: remote, tree: await runTree(local, remote) });
      continue;
    }
    const r = await ctx.client.upload(local, remote, { resume: !!flags.resume });
    bytes += r.bytes;
    ctx.say(`${local} -> ${remote}: ${humanBytes(r.bytes)}${r.startOffset ? ` (resumed at ${r.startOffset})` : ''}`);
    files.push({ local, remotePath: remote, bytes: r.bytes, startOffset: r.startOffset });
  }
  return { files, bytes };
}
