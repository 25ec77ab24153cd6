/**
 * What the quota means to the commands around it: the bytes AVBL announces
 * (draft-peterson-streamlined-ftp-command-extensions s4: what may still be stored), the figures STAT and
 * SITE QUOTA show (proftpd's mod_quotatab has SITE QUOTA), and what a DELE or an RNTO over a file frees.
 */
import type { CommandContext } from '../commands/contract.js';
import { formatByteSize } from './size.js';

/**
 * Bytes the user may still store under their quota: 0 when the file count is used up (nothing new can be
 * stored), Infinity when only files are limited and some are left; undefined without a quota.
 */
export async function quotaBytesLeft(ctx: CommandContext): Promise<number | undefined> {
  const user = ctx.user;
  const usage = await ctx.services.quotas.measured(user);
  if (!usage) return undefined;
  const left = usage.left(user!.quota!);
  return left.files < 1 ? 0 : left.bytes;
}

/** The quota as STAT and SITE QUOTA show it; no lines without a quota. Never waits for a scan. */
export function quotaStatusLines(ctx: CommandContext): string[] {
  const user = ctx.user;
  const usage = ctx.services.quotas.usageOf(user);
  if (!usage) return [];
  if (Number.isNaN(usage.scannedAt)) return ['Quota: usage being measured'];
  const { bytes, files } = user!.quota!;
  const parts = [
    bytes === undefined ? `${formatByteSize(usage.bytes)} used (no byte limit)` : `${formatByteSize(usage.bytes)} of ${formatByteSize(bytes)} used (${usage.bytes} of ${bytes} bytes)`,
    files === undefined ? `${usage.files} files (no file limit)` : `${usage.files} of ${files} files`,
  ];
  return [`Quota: ${parts.join(', ')}`];
}

/**
 * Before DELE, or an RNTO onto an existing file: what the operation frees. Call the result once the
 * operation succeeded and await it before the reply: it resolves once the freed room is where every
 * session (and, with a shared database, every node) reads it. Undefined when nothing is counted (no
 * quota, not a regular file).
 */
export async function freedBy(ctx: CommandContext, path: string): Promise<(() => Promise<void>) | undefined> {
  const usage = await ctx.services.quotas.measured(ctx.user);
  if (!usage) return undefined;
  let size: number;
  try {
    const info = await ctx.storage.stat(path);
    if (info.type !== 'file') return undefined;
    size = info.size;
  } catch {
    return undefined; // the operation itself reports what is wrong with the path
  }
  return () => { usage.change(-size, -1); return usage.written(); };
}
