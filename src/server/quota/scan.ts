/**
 * Measuring what a user's root holds: regular files and their bytes, the two things a quota counts
 * (folders and symbolic links count for nothing, as in SFTPGo and pure-ftpd).
 *
 * Owns: the walk. It goes through the Storage interface (so it works for every backend and sees exactly
 * what the user sees), never recursion: a queue of folders and a few workers (bounded concurrency, so a
 * big tree neither exhausts the stack nor floods the thread pool). The local backend shows a symbolic link
 * that points inside the root as its target and one pointing out as a bare link; bare links are not
 * followed (never out of the root), and a folder reached twice (a link to an ancestor or a sibling) is
 * walked once, by its `unique` identity. A file reachable by two names (hard links, links to files) counts
 * twice, as a client that downloads both would see it. A folder that cannot be listed (vanished, no
 * permission) is skipped and counted in `unreadable`.
 */
import type { Storage } from '../storage/types.js';
import { joinPath } from '../../protocol/paths.js';

export interface UsageScan {
  bytes: number;
  files: number;
  /** Folders that could not be listed (their content is not counted). */
  unreadable: number;
}

/** Folders listed at once. Each list() of the local backend is one readdir plus an lstat per entry. */
export const DEFAULT_SCAN_CONCURRENCY = 4;
/** A backstop for storages without `unique`: no walk deeper than this (a link cycle would be endless). */
const MAX_DEPTH = 256;

export async function scanUsage(storage: Storage, concurrency = DEFAULT_SCAN_CONCURRENCY): Promise<UsageScan> {
  const result: UsageScan = { bytes: 0, files: 0, unreadable: 0 };
  const queue: Array<{ path: string; depth: number }> = [{ path: '/', depth: 0 }];
  const seen = new Set<string>();
  const visit = async ({ path, depth }: { path: string; depth: number }): Promise<void> => {
    let entries;
    try {
      entries = await storage.list(path);
    } catch {
      result.unreadable++;
      return;
    }
    for (const e of entries) {
      if (e.type === 'file') {
        result.files++;
        result.bytes += e.size;
      } else if (e.type === 'dir' && depth < MAX_DEPTH) {
        if (e.unique !== undefined) {
          if (seen.has(e.unique)) continue;
          seen.add(e.unique);
        }
        queue.push({ path: joinPath(path, e.name), depth: depth + 1 });
      }
    }
  };
  // A pool: up to `concurrency` folders listed at once; done when none is being listed and none waits.
  await new Promise<void>((resolve) => {
    let active = 0;
    const pump = (): void => {
      while (active < Math.max(1, concurrency) && queue.length > 0) {
        active++;
        void visit(queue.pop()!).finally(() => { active--; pump(); });
      }
      if (active === 0 && queue.length === 0) resolve();
    };
    pump();
  });
  return result;
}
