/**
 * mirror --checksum: the files whose size and time match (planned as 'unchanged') are compared by hash
 * too (client/verify.ts: HASH, XSHA256...), and those that differ are transferred after all. Same size and
 * time with different content happens: a file rewritten within the listing's time precision, a time set
 * by hand, a damaged copy. A server without a hash command leaves the plan as it is (one 'checksum-
 * unavailable' event): SIZE, the fallback, would only repeat what the plan already compared.
 */
import { FtpVerifyError } from '../../errors.js';
import type { MirrorPlan } from './plan.js';
import type { TreeClient, TreeEvent } from './types.js';

/** Move the 'unchanged' skips whose hashes differ to the transfers. */
export async function recheckUnchanged(client: TreeClient, plan: MirrorPlan, pathsOf: (rel: string) => { remote: string; local: string },
  emit: (e: TreeEvent) => void, signal?: AbortSignal): Promise<void> {
  if (!client.verify) return;
  const kept = [];
  for (const skip of plan.skips) {
    signal?.throwIfAborted();
    if (skip.reason !== 'unchanged') { kept.push(skip); continue; }
    const { remote, local } = pathsOf(skip.rel);
    try {
      const outcome = await client.verify(remote, local);
      if (outcome.method === 'SIZE') {
        emit({ type: 'checksum-unavailable', rel: skip.rel });
        return; // the server has no hash command: nothing more to learn from the other files
      }
      kept.push(skip);
    } catch (err) {
      if (!(err instanceof FtpVerifyError) || err.reason !== 'mismatch') throw err;
      plan.transfers.push({ kind: 'transfer', rel: skip.rel, reason: `checksum differs (${err.method})`, size: skip.size });
    }
  }
  plan.skips = kept;
}
