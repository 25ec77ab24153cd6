/**
 * The CLI's side of segmented downloads, verification, timestamps and FXP (docs/client.md): the flags
 * of `get`/`put` (--segments, --verify, --no-preserve) turned into library options, what they add to the
 * printed line and the JSON, and the `copy` command (FXP, src/client/fxp.ts).
 */
import type { TransferResult } from '../client/ftp-client.js';
import { FtpUsageError } from '../errors.js';
import type { ClientFlags } from './client-options.js';
import { humanBytes } from './client-output.js';
import { runWithClient, type Io, type RunContext } from './client-run.js';
import { remoteBaseName } from './url.js';

export interface TransferOpsFlags {
  /** get: --segments N. */
  segments?: string;
  verify?: boolean;
  /** commander's --no-preserve: false when given. */
  preserve?: boolean;
}

/** The library options of get's flags (`connect` opens the extra connections the CLI tracks). */
export function downloadOpsOptions(ctx: RunContext, flags: TransferOpsFlags): { segments?: number; connect?: RunContext['connect']; verify: boolean; preserveTime: boolean } {
  let segments: number | undefined;
  if (flags.segments !== undefined) {
    segments = Number(flags.segments);
    if (!Number.isInteger(segments) || segments < 1 || segments > 32) throw new FtpUsageError(`--segments needs a number from 1 to 32, got ${flags.segments}`);
  }
  return { ...(segments !== undefined ? { segments, connect: () => ctx.connect() } : {}), verify: !!flags.verify, preserveTime: flags.preserve !== false };
}

export function uploadOpsOptions(flags: TransferOpsFlags): { verify: boolean; preserveTime: boolean } {
  return { verify: !!flags.verify, preserveTime: flags.preserve !== false };
}

/** " (4 segments, verified by SHA-256)" for the printed line; '' when none applies. */
export function opsNote(r: TransferResult): string {
  const parts = [
    ...(r.segments ? [`${r.segments} segments`] : []),
    ...(r.verified ? [`verified by ${r.verified.method}`] : []),
  ];
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** The JSON fields of these options. */
export function opsJson(r: TransferResult): Record<string, unknown> {
  return {
    ...(r.segments ? { segments: r.segments } : {}),
    ...(r.verified ? { verified: r.verified } : {}),
    ...(r.modifiedAt ? { modifiedAt: r.modifiedAt.toISOString() } : {}),
  };
}

export type CopyFlags = ClientFlags & { passiveSide?: string };

/** `ftpkit copy SOURCE-URL TARGET-URL`: FXP, the data going from server to server. */
export async function copy(io: Io, sourceText: string, targetText: string, flags: CopyFlags): Promise<void> {
  await runWithClient(sourceText, flags, io, async ctx => {
    if (!ctx.url.path || ctx.url.isDir) throw new FtpUsageError('the source URL names no file');
    const passive = flags.passiveSide ?? 'target';
    if (passive !== 'source' && passive !== 'target') throw new FtpUsageError(`--passive-side is source or target, got ${passive}`);
    const { client: target, url } = await ctx.connectUrl(targetText);
    // A target URL naming a folder receives the file under its own name, like cp.
    let targetPath = url.path;
    if (url.isDir || !targetPath) targetPath = `${targetPath ? `${targetPath}/` : ''}${remoteBaseName(ctx.url.path)}`;
    const r = await ctx.client.copyTo(ctx.url.path, target, targetPath, { passive });
    let size: number | undefined;
    try { size = await target.size(targetPath); } catch { /* SIZE is optional */ }
    ctx.say(`${ctx.url.path} -> ${url.host}:${targetPath}${size !== undefined ? `: ${humanBytes(size)}` : ''} (server to server, the ${r.passive} listening)`);
    return { source: ctx.url.path, target: targetPath, passive: r.passive, ...(size !== undefined ? { bytes: size } : {}) };
  });
}
