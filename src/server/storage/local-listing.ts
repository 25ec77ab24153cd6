/**
 * Owns the lstat() of every entry of a folder being listed (LocalStorage.list).
 *
 * Synchronous lstat on the main thread, in slices bounded in time, rather than fs/promises through the libuv
 * thread pool: each pooled call is a round trip (queue, worker thread, completion, promise) that costs far
 * more than the syscall itself, and 10,000 entries took ~110 ms that way against vsftpd's ~30 ms for the
 * whole LIST (issue 10; scripts/listing-time.ts). A slice runs at most LIST_SLICE_MS, then the event loop
 * runs (setImmediate), so other sessions' commands and transfers are not starved by a big folder.
 *
 * The cost: a file system that hangs on lstat (a dead network mount) holds the event loop for that call,
 * where the pool held one of its threads. The folder itself was already opened and read, so such a mount
 * would usually have failed before this point.
 */
import { lstatSync, type Stats } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Longest one slice of lstat calls holds the event loop before other sessions get a turn. */
export const LIST_SLICE_MS = 4;
/** How many lstat calls run between two looks at the clock (a call is a few microseconds). */
const CLOCK_EVERY = 32;

function nextTurn(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve));
}

/**
 * lstat of each of `names` in the folder `dir` (a host path), in order. An entry that vanished since the
 * folder was read, or cannot be looked at, is undefined: it is not part of the listing. `sliceMs`: the
 * longest slice (tests pass 0 to yield after every CLOCK_EVERY calls).
 */
export async function lstatEntries(dir: string, names: readonly string[], sliceMs = LIST_SLICE_MS): Promise<(Stats | undefined)[]> {
  const out: (Stats | undefined)[] = new Array(names.length);
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  let sliceStart = performance.now();
  for (let i = 0; i < names.length; i++) {
    if (i % CLOCK_EVERY === CLOCK_EVERY - 1 && performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
    try {
      out[i] = lstatSync(prefix + names[i]!, { throwIfNoEntry: false });
    } catch {
      out[i] = undefined;
    }
  }
  return out;
}
