/**
 * Owns the local storage's atomic uploads and the start-up sweep of what a crash left of them
 * (docs/server.md#uploads-atomic-resumable-or-direct).
 *
 * An atomic upload writes a hidden temporary file (upload-temp.ts) in the final name's folder (same file
 * system: rename(2) is atomic there) and renames it over the final name, fsyncing the file before and the
 * folder after only when durable (uploads.fsync); on failure it removes it (local-file-sink.ts says
 * when). Until the rename the final name keeps its old
 * content, whatever happens: a kill -9 leaves only the temporary file, which the next start's sweep
 * removes. Every name is reached through the jail (local-jail.ts), as every other operation.
 */
import { constants as fsc, type Dirent, type Stats } from 'node:fs';
import { link, lstat, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Writable } from 'node:stream';
import { FtpStorageError } from '../../errors.js';
import { FileSink } from './local-file-sink.js';
import { storageError, toStorageError } from './local-errors.js';
import { SAFE_OPEN_FLAGS, virtualSegments, type Jail } from './local-jail.js';
import { isUploadTempName, uploadTempName, uploadTempWriterAlive } from './upload-temp.js';

/** The start-up sweep looks at most this many entries, this deep (a bounded walk). */
const SWEEP_MAX_ENTRIES = 1_000_000;
const SWEEP_MAX_DEPTH = 64;
/** Block size of the copy-on-write of REST + STOR in atomic mode. */
const COPY_BLOCK = 1024 * 1024;

export interface AtomicUploadOptions {
  /** STOU: link(2) at the end, which never replaces a name that appeared meanwhile. */
  exclusive?: boolean;
  /**
   * REST + STOR: the first `keep` bytes of the current file are copied in first (copy-on-write: the file
   * is untouched if the resumed upload fails).
   */
  keep: number;
  /** fsync the file before the rename and the folder after it (AtomicWriteOption.durable). */
  durable: boolean;
  highWaterMark: number;
  /**
   * A symlink at the final name is written through, in place: renaming over it would replace the link
   * the administrator made (a documented limit of atomic mode).
   */
  inPlace: () => Promise<Writable>;
}

export async function openAtomicUpload(jail: Jail, path: string, options: AtomicUploadOptions): Promise<Writable> {
  const names = virtualSegments(path);
  const name = names.at(-1);
  if (name === undefined) throw storageError('is-a-directory', path);
  const parent = '/' + names.slice(0, -1).join('/');
  let existing: Stats | undefined;
  try {
    existing = await jail.entry(path, (host) => lstat(host));
  } catch (err) {
    const failure = toStorageError(err, path);
    if (!(failure instanceof FtpStorageError && failure.failure === 'not-found')) throw failure;
  }
  if (existing && options.exclusive) throw storageError('exists', path);
  if (existing?.isDirectory()) throw storageError('is-a-directory', path);
  if (existing?.isSymbolicLink()) return options.inPlace();
  if (existing && !existing.isFile()) throw storageError('permission', path);

  const temp = uploadTempName();
  // The folder is resolved again for each step: a rename of it meanwhile makes the upload fail, never
  // write elsewhere (and its temporary file is then left to the sweep).
  const inFolder = <T>(op: (hostDir: string) => Promise<T>): Promise<T> => jail.pinned(parent, async (hostDir, st) => {
    if (!st.isDirectory()) throw storageError('not-a-directory', path);
    return op(hostDir);
  });
  const removeTemp = () => inFolder((dir) => unlink(join(dir, temp))).then(() => undefined, () => undefined);
  let handle: FileHandle | undefined;
  try {
    handle = await inFolder((dir) => open(join(dir, temp), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | SAFE_OPEN_FLAGS, 0o666));
    // The new version keeps the permission bits of the one it replaces (a 0600 file stays 0600).
    if (existing) await handle.chmod(existing.mode & 0o777).catch(() => undefined);
    if (options.keep > 0) await copyPrefix(jail, path, handle, options.keep);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    if (handle) await removeTemp();
    throw toStorageError(err, path);
  }
  return new FileSink(handle, options.keep, path, {
    sync: options.durable,
    commit: () => inFolder(async (dir) => {
      const from = join(dir, temp);
      const to = join(dir, name);
      if (options.exclusive) await linkNoReplace(from, to);
      else await rename(from, to);
      if (options.durable) await syncFolder(dir);
    }),
    abandon: removeTemp,
  }, options.highWaterMark);
}

/** Copy the first `length` bytes of the file at `path` into `target` (REST + STOR in atomic mode). */
async function copyPrefix(jail: Jail, path: string, target: FileHandle, length: number): Promise<void> {
  const source = await jail.object(path, (host) => open(host, fsc.O_RDONLY | SAFE_OPEN_FLAGS));
  try {
    const buffer = Buffer.allocUnsafe(Math.min(COPY_BLOCK, length));
    for (let at = 0; at < length;) {
      const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, length - at), at);
      if (bytesRead === 0) break; // shorter than checked: the file shrank meanwhile
      await target.write(buffer, 0, bytesRead, at);
      at += bytesRead;
    }
  } finally {
    await source.close().catch(() => undefined);
  }
}

/** fsync a folder after a rename in it, so the new name survives a crash (best effort: not every file system can). */
async function syncFolder(hostDir: string): Promise<void> {
  const dir = await open(hostDir, fsc.O_RDONLY | fsc.O_DIRECTORY).catch(() => undefined);
  if (!dir) return;
  await dir.sync().catch(() => undefined);
  await dir.close().catch(() => undefined);
}

/**
 * Give `from` the name `to` only if `to` does not exist (STOU, RFC 959 s4.1.3: a unique name is never an
 * existing file's): link(2) fails with EEXIST instead of replacing, then the temporary name goes. Where
 * hard links are not supported, a check then rename(2), which a concurrent creator can race.
 */
async function linkNoReplace(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    if (await lstat(to).then(() => true, () => false)) throw Object.assign(new Error('file exists'), { code: 'EEXIST' });
    await rename(from, to);
    return;
  }
  await unlink(from).catch(() => undefined);
}

/**
 * Remove the temporary files of atomic uploads whose process is gone (kill -9, power loss), anywhere in
 * the tree: a bounded walk (SWEEP_MAX_ENTRIES, SWEEP_MAX_DEPTH) that follows no symlink and removes only
 * names of our pattern whose writer is not alive (upload-temp.ts). Returns how many were removed.
 */
export async function sweepUploadTemps(jail: Jail): Promise<number> {
  let removed = 0;
  let seen = 0;
  const walk = async (folder: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await jail.pinned(folder, async (host, st) => (st.isDirectory() ? readdir(host, { withFileTypes: true }) : []));
    } catch {
      return; // vanished or unreadable: nothing of ours can be removed there anyway
    }
    for (const entry of entries) {
      if (++seen > SWEEP_MAX_ENTRIES) return;
      const child = posix.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (depth < SWEEP_MAX_DEPTH) await walk(child, depth + 1);
      } else if (entry.isFile() && isUploadTempName(entry.name) && !uploadTempWriterAlive(entry.name)) {
        try {
          await jail.entry(child, (host) => unlink(host));
          removed++;
        } catch {
          // removed by someone else meanwhile: nothing to do
        }
      }
    }
  };
  await walk('/', 0);
  return removed;
}
