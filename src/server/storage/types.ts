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

export interface WriteOptions {
  /** STOU: fail with 'exists' rather than replace an existing file. */
  exclusive?: boolean;
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
  openWriteAt(path: string, offset: number): Promise<Writable>;
}

/** APPE (RFC 959 s4.1.3): write at the end of the file, creating it if needed. Without it APPE answers 502. */
export interface AppendCapability {
  openAppend(path: string): Promise<Writable>;
}

export function canSetModifiedTime(s: Storage): s is Storage & SetModifiedTimeCapability {
  return typeof (s as Partial<SetModifiedTimeCapability>).setModifiedAt === 'function';
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
export function canAppend(s: Storage): s is Storage & AppendCapability {
  return typeof (s as Partial<AppendCapability>).openAppend === 'function';
}
