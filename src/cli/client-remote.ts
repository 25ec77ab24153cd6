/**
 * Remote paths as the client commands of the CLI see them: is a path a folder, and a name joined to a folder
 * (client-actions.ts, client-put-several.ts).
 */
import { FtpReplyError } from '../errors.js';
import type { RunContext } from './client-run.js';

/** The remote path exists and is a folder; a refusal (550: no such file) means it is not. */
export async function isRemoteFolder(ctx: RunContext, remotePath: string): Promise<boolean> {
  try {
    return (await ctx.client.stat(remotePath)).type === 'dir';
  } catch (e) {
    if (e instanceof FtpReplyError) return false;
    throw e;
  }
}

/** `folder/name`, keeping an absolute root ("/" + name) and the login folder ("" + name). */
export function joinRemote(folder: string, name: string): string {
  const trimmed = folder.replace(/\/+$/, '');
  if (trimmed) return `${trimmed}/${name}`;
  return folder.startsWith('/') ? `/${name}` : name;
}
