/**
 * The storage interface behind the server.
 *
 * Paths given to a Storage are *virtual*: absolute, normalized POSIX paths ("/", "/a/b.txt") produced by
 * protocol/paths.ts. A Storage never sees "..", relative paths or client text. Implementations map them
 * onto their medium (a confined local folder, memory, later an object store) and report failures as
 * FtpStorageError with a StorageFailure kind; the server turns that into the reply code in one place.
 *
 * Required operations are the minimum every backend can offer; optional capabilities are separate
 * interfaces detected with the type guards below, so FEAT/HELP only announce what the backend can do.
 */
import type { Readable, Writable } from 'node:stream';
import type { FileInfo } from '../../protocol/file-info.js';
import { FtpUsageError } from '../../errors.js';

export type { EntryType, FileInfo } from '../../protocol/file-info.js';

export interface ReadOptions {
  /** Byte offset to start reading at (REST, RFC 3659 s5). */
  start?: number;
}

/**
 * How an upload reaches its final name (docs/server.md#uploads-atomic-resumable-or-direct): 'atomic' (a hidden temporary file in
 * the same folder, renamed over the final name once complete, removed on failure), 'resumable' (in place;
 * a partial file is kept for REST/APPE to resume) or 'direct' (in place, truncated at once).
 */
export type UploadMode = 'atomic' | 'resumable' | 'direct';
export const UPLOAD_MODES: readonly UploadMode[] = ['atomic', 'resumable', 'direct'];

/**
 * Atomic uploads, an option of every write a backend may honour (a backend that cannot writes in place):
 * until the upload completes the final name keeps its old content, and a failed upload (the stream
 * destroyed before 'finish') leaves nothing of itself behind. An object store's multipart upload is atomic
 * by nature; the local storage writes a hidden temporary file (storage/upload-temp.ts), the memory storage
 * keeps the new content aside.
 */
export interface AtomicWriteOption {
  atomic?: boolean;
  /**
   * With `atomic`: make the new content durable before its name points at it (the local storage fsyncs
   * the file, and its folder after the rename). Default false: the atomic rename alone (a failed or killed
   * upload still leaves nothing), the flush left to the kernel, as vsftpd, proftpd and pure-ftpd do; an
   * operating-system crash or power loss soon after may lose the upload. True costs a disk flush per upload
   * (uploads.fsync, docs/server.md#uploads-atomic-resumable-or-direct).
   */
  durable?: boolean;
}

export interface WriteOptions extends AtomicWriteOption {
  /** STOU: fail with 'exists' rather than replace an existing file. */
  exclusive?: boolean;
  /**
   * Written in place (not atomic): truncate an existing file when the first byte arrives (or the upload
   * completes empty), not at open, so a STOR whose data connection never delivers keeps the old content.
   */
  truncateOnData?: boolean;
}

/**
 * openWrite() once took { start } and { append }; those are the capabilities openWriteAt() and openAppend()
 * now. A caller still passing them would silently replace the file, so the bundled storages refuse them.
 */
export function refuseRetiredWriteOptions(options: WriteOptions): void {
  const o = options as WriteOptions & { start?: unknown; append?: unknown };
  if (o.start !== undefined || o.append !== undefined) {
    throw new FtpUsageError('openWrite() takes no start or append any more: use openWriteAt(path, offset) or openAppend(path)');
  }
}

export interface Storage {
  stat(path: string): Promise<FileInfo>;
  /** Entries of a directory, without "." and "..". */
  list(path: string): Promise<FileInfo[]>;
  /** Resolves once the file is open (so "not found" becomes a reply before 150 is sent). */
  openRead(path: string, options?: ReadOptions): Promise<Readable>;
  /**
   * Resolves once the file is open for writing, replacing what it held (or, with `exclusive`, refusing an
   * existing file). The returned stream's 'finish'/'close' mean the data is committed; an 'error' means it
   * is not.
   */
  openWrite(path: string, options?: WriteOptions): Promise<Writable>;
  mkdir(path: string): Promise<void>;
  /** Remove an empty directory. */
  rmdir(path: string): Promise<void>;
  /** Remove a file. */
  delete(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

/** A file opened for reading, with its size (taken from the open file: the bytes the stream will read). */
export interface OpenedRead {
  source: Readable;
  /** The whole file's size in bytes when it was opened (not less the start offset). */
  size: number;
}

/**
 * RETR's open and stat in one step: a regular file opened for reading and its size, from the open file
 * (local: one open() then fstat() on the descriptor, instead of a stat of the path and then an open: two
 * thread-pool round trips fewer per download, issue 10). Fails like openRead() ('not-found',
 * 'is-a-directory' for a folder, 'permission' for what is no regular file). Without it RETR calls stat()
 * then openRead() (an object store: a HEAD, then a GET).
 */
export interface OpenReadWithInfoCapability {
  openReadWithInfo(path: string, options?: ReadOptions): Promise<OpenedRead>;
}

/** MFMT (draft-somers-ftp-mfxx) and the modify fact. */
export interface SetModifiedTimeCapability {
  setModifiedAt(path: string, date: Date): Promise<void>;
}

/** SITE CHMOD. */
export interface ChmodCapability {
  chmod(path: string, mode: number): Promise<void>;
}

/** AVBL and STAT free-space information. */
export interface AvailableSpaceCapability {
  availableBytes(path: string): Promise<number>;
}

/**
 * REST + STOR (RFC 3659 s5: resuming an upload): keep the first `offset` bytes of the file, drop the rest,
 * and write from there. An object store cannot; without this capability REST + STOR is refused (554) and
 * FEAT does not offer REST STREAM.
 */
export interface WriteAtOffsetCapability {
  /** `atomic`: the first `offset` bytes are copied into the new version (copy-on-write), the file is untouched until it completes. */
  openWriteAt(path: string, offset: number, options?: AtomicWriteOption): Promise<Writable>;
}

/** APPE (RFC 959 s4.1.3): write at the end of the file, creating it if needed. Without it APPE answers 502. */
export interface AppendCapability {
  /** `atomic`: a failed append is cut back off, the bytes that were there stay as they were. */
  openAppend(path: string, options?: AtomicWriteOption): Promise<Writable>;
}

/**
 * Temporary files of atomic uploads cut by a crash (kill -9, power loss) are removed at server start:
 * only names of our pattern whose writing process is gone (storage/upload-temp.ts). Resolves with the
 * number removed.
 */
export interface SweepUploadsCapability {
  sweepUploadTemps(): Promise<number>;
}

/**
 * A folder's entries a chunk at a time, for listings of big folders (issue 10): the first lines go out while
 * the rest is still being looked at. Without it the listing commands take list() whole.
 */
export interface ChunkedListCapability {
  /**
   * Resolves once the folder is read (failing as list() would); the iterator then yields the entries
   * sorted by name (UTF-16 code units), in chunks. The caller runs it to its end or calls return(), which
   * releases what the listing holds (an open folder).
   */
  listChunks(path: string): Promise<ListingChunks>;
}

export type ListingChunks = AsyncIterator<FileInfo[], undefined> & { return(): Promise<IteratorResult<FileInfo[], undefined>> };

export function canSetModifiedTime(s: Storage): s is Storage & SetModifiedTimeCapability {
  return typeof (s as Partial<SetModifiedTimeCapability>).setModifiedAt === 'function';
}
export function canOpenReadWithInfo(s: Storage): s is Storage & OpenReadWithInfoCapability {
  return typeof (s as Partial<OpenReadWithInfoCapability>).openReadWithInfo === 'function';
}
export function canChmod(s: Storage): s is Storage & ChmodCapability {
  return typeof (s as Partial<ChmodCapability>).chmod === 'function';
}
export function canReportSpace(s: Storage): s is Storage & AvailableSpaceCapability {
  return typeof (s as Partial<AvailableSpaceCapability>).availableBytes === 'function';
}
export function canWriteAtOffset(s: Storage): s is Storage & WriteAtOffsetCapability {
  return typeof (s as Partial<WriteAtOffsetCapability>).openWriteAt === 'function';
}
export function canSweepUploads(s: Storage): s is Storage & SweepUploadsCapability {
  return typeof (s as Partial<SweepUploadsCapability>).sweepUploadTemps === 'function';
}
export function canAppend(s: Storage): s is Storage & AppendCapability {
  return typeof (s as Partial<AppendCapability>).openAppend === 'function';
}
export function canListChunks(s: Storage): s is Storage & ChunkedListCapability {
  return typeof (s as Partial<ChunkedListCapability>).listChunks === 'function';
}
