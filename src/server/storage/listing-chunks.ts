/**
 * Owns the helpers around ChunkedListCapability (types.ts): the listing order, and chunks over entries
 * already in hand (a storage without the capability, a file, a pattern's matches, a folder holding mounts).
 */
import type { FileInfo, ListingChunks } from './types.js';

/** The order listings show: by name, UTF-16 code units (as LocalStorage sorts the names it stats). */
export function byName(a: FileInfo, b: FileInfo): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A folder's entries from a storage's list(), sorted by name, as one chunk (a storage without the capability). */
export async function sortedListChunks(storage: { list(path: string): Promise<FileInfo[]> }, path: string): Promise<ListingChunks> {
  return chunksOf((await storage.list(path)).sort(byName));
}

/** One chunk of `entries` (none when empty), as they are. */
export function chunksOf(entries: FileInfo[]): ListingChunks {
  let given = false;
  return {
    next: async () => {
      if (given || !entries.length) return { done: true, value: undefined };
      given = true;
      return { done: false, value: entries };
    },
    return: async () => { given = true; return { done: true, value: undefined }; },
  };
}
