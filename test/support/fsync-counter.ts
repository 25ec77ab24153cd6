/**
 * Test helper: count fsyncs of files (FileHandle.prototype.sync, the prototype of every open handle) for
 * the rest of a test; the original is put back after it. `dir` is where a probe file is opened to reach
 * that prototype.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export async function countFileSyncs(t: TestContext, dir: string): Promise<() => number> {
  const probe = await open(join(dir, '.fsync-probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const original = proto.sync;
  let syncs = 0;
  proto.sync = function (this: unknown) { syncs++; return original.call(this); };
  t.after(() => { proto.sync = original; });
  return () => syncs;
}
