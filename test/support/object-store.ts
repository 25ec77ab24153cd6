import type { MemoryStorage } from '../../src/server/storage/memory.js';
import type { Storage } from '../../src/server/storage/types.js';

/**
 * Only the required operations of a MemoryStorage, as an object store offers them: no writing at an offset
 * (openWriteAt), no appending (openAppend), none of the other optional capabilities.
 */
export function objectStore(base: MemoryStorage): Storage {
  return {
    stat: p => base.stat(p), list: p => base.list(p), openRead: (p, o) => base.openRead(p, o), openWrite: (p, o) => base.openWrite(p, o),
    mkdir: p => base.mkdir(p), rmdir: p => base.rmdir(p), delete: p => base.delete(p), rename: (a, b) => base.rename(a, b),
  };
}
