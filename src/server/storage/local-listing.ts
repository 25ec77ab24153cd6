/**
 * Owns the lstat() of every entry of a folder being listed (LocalStorage.list), handed out in order, chunk
 * by chunk, as numbers (STAT_FIELDS per entry, local-lstat-worker.ts), so that a listing can be formatted
 * and sent while the rest is still being looked at.
 *
 * A folder of WORKER_MIN_ENTRIES or more on a local file system is stat'ed in the lstat worker thread
 * (local-lstat-worker.ts): the main thread stays free for every session. Smaller folders, and the rest of
 * a big one if the worker fails, use synchronous lstat on the main thread, in slices bounded in time, rather
 * than fs/promises through the libuv thread pool: each pooled call is a round trip (queue, worker thread, completion, promise) that costs far
 * more than the syscall itself, and 10,000 entries took ~110 ms that way against vsftpd's ~30 ms for the
 * whole LIST (issue 10; scripts/listing-time.ts). A slice runs at most LIST_SLICE_MS, then the event loop
 * runs (setImmediate), so other sessions' commands and transfers are not starved by a big folder.
 *
 * Only on file systems that answer lstat from local memory or disk (statfs(2) f_type in LOCAL_FS_TYPES):
 * on a network or FUSE file system a hung server would hold the event loop, so every session would freeze
 * on one client's LIST. There, and on any type not known, the calls go through the pool as before, at most
 * POOLED_WINDOW at a time.
 */
import { lstatSync, type Stats } from 'node:fs';
import { lstat, statfs } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { CHUNK_ENTRIES, lstatInWorker, NO_ENTRY, STAT_FIELDS, type StatChunk } from './local-lstat-worker.js';

/**
 * statfs(2) f_type values (linux/magic.h) of local file systems: ext2/3/4, xfs, btrfs, tmpfs, overlayfs,
 * zfs, f2fs, ramfs, vfat, ntfs, exfat. Not NFS, CIFS/SMB, FUSE (sshfs, s3fs...), Ceph, 9p.
 */
const LOCAL_FS_TYPES: ReadonlySet<number> = new Set([
  0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630, 0x2fc12fc1, 0xf2f52010, 0x858458f6, 0x4d44, 0x5346544e, 0x2011bab0,
]);
/** lstat calls in flight at once through the pool, on a file system not known to be local. */
const POOLED_WINDOW = 64;

/** Whether the folder `dir` (a host path) is on a local file system, where a synchronous lstat cannot hang. */
export async function onLocalFileSystem(dir: string): Promise<boolean> {
  try {
    return LOCAL_FS_TYPES.has(Number((await statfs(dir)).type));
  } catch {
    return false;
  }
}

/** Longest one slice of lstat calls holds the event loop before other sessions get a turn. */
export const LIST_SLICE_MS = 4;
/** How many lstat calls run between two looks at the clock (a call is a few microseconds). */
const CLOCK_EVERY = 32;
/**
 * Folders with at least this many entries go to the worker: below, the message round trip (~0.1 ms) is
 * worth more than the few milliseconds of lstat it saves the main thread.
 */
export const WORKER_MIN_ENTRIES = 512;

export interface StatOptions {
  /** Longest slice on the main thread (tests pass 0 to yield after every CLOCK_EVERY calls). */
  sliceMs?: number;
  /** Use the worker for big folders (default true; tests turn it off to exercise the main-thread path). */
  worker?: boolean;
}

function nextTurn(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve));
}

/** Write one lstat's numbers at `o` in `out` (the worker writes the same fields: local-lstat-worker.ts). */
function pack(st: Stats | undefined, out: Float64Array, o: number): void {
  if (!st) { out[o] = NO_ENTRY; return; }
  out[o] = st.mode; out[o + 1] = st.size; out[o + 2] = st.mtime.getTime(); out[o + 3] = st.uid;
  out[o + 4] = st.gid; out[o + 5] = st.nlink; out[o + 6] = st.dev; out[o + 7] = st.ino;
}

/**
 * lstat of each of `names` in the folder `dir` (a host path), in order, in chunks of at most CHUNK_ENTRIES.
 * An entry that vanished since the folder was read, or cannot be looked at, has mode NO_ENTRY: it is not
 * part of the listing. Stopping the iteration early (return()) drops what the worker still computes.
 */
export async function* statChunks(dir: string, names: readonly string[], options: StatOptions = {}): AsyncGenerator<StatChunk> {
  if (!names.length) return;
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  if (!(await onLocalFileSystem(dir))) {
    yield* pooledChunks(prefix, names);
    return;
  }
  let next = 0;
  if (options.worker !== false && names.length >= WORKER_MIN_ENTRIES) {
    const queue: StatChunk[] = [];
    let state: 'running' | 'done' | 'failed' = 'running';
    let wake: (() => void) | undefined;
    const forget = lstatInWorker(prefix, names, 0, {
      onChunk(chunk) { queue.push(chunk); wake?.(); },
      onFail() { state = 'failed'; wake?.(); },
      done() { state = 'done'; wake?.(); },
    });
    try {
      for (;;) {
        let chunk: StatChunk | undefined;
        while ((chunk = queue.shift())) {
          next = chunk.start + chunk.stats.length / STAT_FIELDS;
          yield chunk;
        }
        if (state !== 'running') break;
        await new Promise<void>(resolve => { wake = resolve; });
        wake = undefined;
      }
    } finally {
      forget();
    }
    if (next >= names.length) return;
    // The worker failed: the rest on the main thread, from the first entry it did not answer.
  }
  yield* slicedChunks(prefix, names, next, options.sliceMs ?? LIST_SLICE_MS);
}

/** Synchronous lstat on the main thread from names[from], a turn for the event loop every `sliceMs`. */
async function* slicedChunks(prefix: string, names: readonly string[], from: number, sliceMs: number): AsyncGenerator<StatChunk> {
  let sliceStart = performance.now();
  for (let start = from; start < names.length; start += CHUNK_ENTRIES) {
    const end = Math.min(names.length, start + CHUNK_ENTRIES);
    const stats = new Float64Array((end - start) * STAT_FIELDS);
    for (let i = start; i < end; i++) {
      if (i % CLOCK_EVERY === CLOCK_EVERY - 1 && performance.now() - sliceStart >= sliceMs) {
        await nextTurn();
        sliceStart = performance.now();
      }
      let st: Stats | undefined;
      try {
        st = lstatSync(prefix + names[i]!, { throwIfNoEntry: false });
      } catch {
        st = undefined;
      }
      pack(st, stats, (i - start) * STAT_FIELDS);
    }
    yield { start, stats };
  }
}

/** lstat through the libuv pool, POOLED_WINDOW calls in flight: a hung file system holds threads, not the loop. */
async function* pooledChunks(prefix: string, names: readonly string[]): AsyncGenerator<StatChunk> {
  for (let start = 0; start < names.length; start += CHUNK_ENTRIES) {
    const end = Math.min(names.length, start + CHUNK_ENTRIES);
    const stats = new Float64Array((end - start) * STAT_FIELDS);
    let next = start;
    const worker = async (): Promise<void> => {
      while (next < end) {
        const i = next++;
        pack(await lstat(prefix + names[i]!).catch(() => undefined), stats, (i - start) * STAT_FIELDS);
      }
    };
    await Promise.all(Array.from({ length: Math.min(POOLED_WINDOW, end - start) }, worker));
    yield { start, stats };
  }
}
