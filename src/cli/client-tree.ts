/**
 * Tree commands of the CLI (`get -r`, `put -r`, `mirror`): the --parallel flag, the events printed while
 * the tree is copied, and the result as JSON (src/client/tree/ does the work).
 */
import { mirror, type CompareMode, type MirrorResult, type TreeClient, type TreeEvent } from '../client/tree/index.js';
import type { FtpClient } from '../client/ftp-client.js';
import { retryingTreeClient } from '../client/retry-tree.js';
import { FtpUsageError } from '../errors.js';
import type { ClientFlags } from './client-options.js';
import { errorJson, escapeControls, humanBytes } from './client-output.js';
import { exitCodeFor } from './exit-codes.js';
import { inCliTerms } from './library-terms.js';
import type { RunContext } from './client-run.js';

export type TreeFlags = ClientFlags & { parallel?: string; delete?: boolean; dryRun?: boolean; recursive?: boolean; sizeOnly?: boolean; checksum?: boolean };

function parallelOf(flags: TreeFlags): number {
  if (flags.parallel === undefined) return 1;
  const n = Number(flags.parallel);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new FtpUsageError(`--parallel needs a number from 1 to 64, got ${flags.parallel}`);
  return n;
}

function treeEventPrinter(ctx: RunContext): (e: TreeEvent) => void {
  return e => {
    switch (e.type) {
      case 'refused':
        ctx.io.stderr.write(`ftpkit: refused ${e.side} name ${escapeControls(JSON.stringify(e.name))} in ${escapeControls(e.dir)}: ${e.reason}\n`);
        break;
      case 'skipped-entry':
        if (ctx.flags.verbose) ctx.io.stderr.write(`Status:\tskipped ${escapeControls(e.rel)}: ${escapeControls(e.reason)}\n`);
        break;
      case 'action-failed':
        ctx.io.stderr.write(`ftpkit: ${e.action.kind} ${escapeControls(e.action.rel)} failed: ${escapeControls(inCliTerms(e.error.message, ctx.flags))}\n`);
        break;
      case 'retrying':
        if (ctx.flags.verbose) ctx.io.stderr.write(`Status:\tupload of ${escapeControls(e.action.rel)} failed (${escapeControls(inCliTerms(e.error.message, ctx.flags))}); creating its folder and trying once more\n`);
        break;
      case 'connection-failed':
        ctx.io.stderr.write(`ftpkit: parallel connection ${e.worker} failed (${escapeControls(inCliTerms(e.error.message, ctx.flags))}); continuing with fewer\n`);
        break;
      case 'checksum-unavailable':
        ctx.io.stderr.write('ftpkit: --checksum: the server offers no hash command (HASH, XSHA256, XMD5, XCRC); files were compared by size and time only\n');
        break;
      case 'mtime-not-set':
        if (ctx.flags.verbose) ctx.io.stderr.write(`Status:\tcannot set remote modification times (${escapeControls(inCliTerms(e.error.message, ctx.flags))})\n`);
        break;
      case 'action-done':
        if (e.action.kind !== 'skip') ctx.say(`${e.action.kind} ${e.action.rel}`);
        break;
      default:
    }
  };
}

function treeResultJson(r: MirrorResult, flags: TreeFlags): Record<string, unknown> {
  return {
    dryRun: r.dryRun, transferred: r.transferred, skipped: r.skipped, deleted: r.deleted, created: r.created,
    bytes: r.bytes, refused: r.refused,
    actions: r.actions,
    failures: r.failures.map(f => ({ action: f.action, error: errorJson(f.error, flags) })),
    // A tree operation with failed actions is not a success; the exit code says why the first one failed.
    exitCode: r.failures.length ? exitCodeFor(r.failures[0].error) : 0,
  };
}

export async function runTree(ctx: RunContext, direction: 'download' | 'upload', remoteDir: string, localDir: string,
  flags: TreeFlags, compare: CompareMode): Promise<Record<string, unknown>> {
  // With --retries every step retries on its own connection (retry-tree.ts); without, the client as is.
  const retry = ctx.client.options.retry;
  const wrap = (c: FtpClient): TreeClient => (retry?.retries ? retryingTreeClient(c, retry) : c);
  const r = await mirror(wrap(ctx.client), {
    direction, remoteDir, localDir, compare, delete: !!flags.delete, dryRun: !!flags.dryRun, checksum: !!flags.checksum,
    parallel: parallelOf(flags), connect: async () => wrap(await ctx.connect()), onEvent: treeEventPrinter(ctx),
  });
  if (r.dryRun) for (const a of r.actions) if (a.kind !== 'skip') ctx.say(`would ${a.kind} ${a.rel} (${a.reason})`);
  ctx.say(`${r.dryRun ? 'dry run: ' : ''}${r.transferred} transferred (${humanBytes(r.bytes)}), ${r.skipped} unchanged, `
    + `${r.created} folders created, ${r.deleted} deleted, ${r.failures.length} failed`);
  return treeResultJson(r, flags);
}
