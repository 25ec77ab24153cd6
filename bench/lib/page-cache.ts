/**
 * Free memory for the next write, the same for every program measured. On this kind of machine (a VM
 * whose guest returns free pages to the host: virtio free page reporting) a page that has been free for
 * more than a few seconds costs a host fault on its next touch, so a write into the page cache costs
 * ~3 s of system time per GiB when it lands in such pages and ~0.35 s when it lands in pages freed just
 * before (`dd` of 1 GiB into a new file here: 3.0 s after 10 s idle, 0.34 s right after deleting another
 * 1 GiB file). Without this, whichever server uploads first after other work, or after a pause, pays up to
 * ~2.7 s per GiB more than the next one: the "unexplained" STOR figures of the first full run.
 * recyclePages() writes and deletes a file of the size about to be written, so the transfer measured next
 * finds freshly freed pages whatever ran before it. Not measured itself (the bench process does it).
 */
import { open, rm } from 'node:fs/promises';
import path from 'node:path';

const CHUNK = 8 * 1024 * 1024;
let chunk: Buffer | undefined;

export async function recyclePages(dir: string, bytes: number): Promise<void> {
  chunk ??= Buffer.alloc(CHUNK, 0x5a);
  const file = path.join(dir, `.recycle-pages-${process.pid}`);
  const fh = await open(file, 'w');
  try {
    for (let done = 0; done < bytes; done += CHUNK) await fh.write(chunk, 0, Math.min(CHUNK, bytes - done));
  } finally {
    await fh.close();
    await rm(file, { force: true });
  }
}
