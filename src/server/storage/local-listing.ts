/**
 * Owns the lstat() of every entry of a folder being listed (LocalStorage.list).
 *
 * Synchronous lstat on the main thread, in slices bounded in time, rather than fs/promises through the libuv
 * thread pool: each pooled call is a round trip (queue, worker thread, completion, promise) that costs far
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

function nextTurn(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve));
}

/**
 * lstat of each of `names` in the folder `dir` (a host path), in order. An entry that vanished since the
 * folder was read, or cannot be looked at, is undefined: it is not part of the listing. `sliceMs`: the
 * longest slice (tests pass 0 to yield after every CLOCK_EVERY calls).
 */
export async function lstatEntries(dir: string, names: readonly string[], sliceMs = LIST_SLICE_MS): Promise<(Stats | undefined)[]> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  if (!(await onLocalFileSystem(dir))) return lstatPooled(prefix, names);
  const out: (Stats | undefined)[] = new Array(names.length);
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

/** lstat through the libuv pool, POOLED_WINDOW calls in flight: a hung file system holds threads, not the loop. */
async function lstatPooled(prefix: string, names: readonly string[]): Promise<(Stats | undefined)[]> {
  const out: (Stats | undefined)[] = new Array(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++;
      out[i] = await lstat(prefix + names[i]!).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(POOLED_WINDOW, names.length) }, worker));
  return out;
}
