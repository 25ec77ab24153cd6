/**
 * Types of the tree operations (recursive download/upload and mirror): the small part of FtpClient they
 * need, the tree snapshot they compare, the planned actions and the events they report.
 */
import type { FileEntry } from '../../protocol/listing-types.js';
import type { FolderHint } from '../listings.js';

/**
 * What tree operations use of a client. FtpClient satisfies it; tests pass an in-memory double.
 * Kept structural so the tree code never reaches into client internals.
 */
export interface TreeClient {
  /** `folder`: what the parent's listing said of it; an empty listing is then checked (client/listings.ts). */
  list(path?: string, folder?: FolderHint): Promise<FileEntry[]>;
  /** SIZE (RFC 3659 s4); optional: asked before deleting local files under a folder that listed empty. */
  size?(path: string): Promise<number>;
  /**
   * With `preserveTime`, the written regular file gets `modifiedAt`. FtpClient resolves to its
   * TransferResult: mirror then takes the size from `fileBytes` and the time as set when `modifiedAt` is
   * there (no stat per file); a client that resolves to anything else has the file stat'ed and timed by mirror.
   */
  download(remotePath: string, destination: string,
    opts?: { signal?: AbortSignal; size?: number; preserveTime?: boolean; modifiedAt?: Date }): Promise<unknown>;
  upload(source: string, remotePath: string, opts?: { signal?: AbortSignal }): Promise<unknown>;
  mkdir(path: string, opts?: { recursive?: boolean }): Promise<unknown>;
  delete(path: string): Promise<unknown>;
  rmdir(path: string, opts?: { recursive?: boolean }): Promise<unknown>;
  /** Compare a remote file with a local one (client/verify.ts), for mirror's `checksum`; throws FtpVerifyError when they differ. */
  verify?(remotePath: string, localPath: string): Promise<{ method: string }>;
  /** MFMT (draft-somers-ftp-mfxx); optional: servers without it leave the upload time. */
  setModifiedAt?(path: string, date: Date): Promise<unknown>;
  close(): unknown;
}

/** One file or folder of a tree, by its path relative to the tree's root (segments, never joined blindly). */
export interface TreeNode {
  /** Path segments below the root. */
  segments: string[];
  /** Relative path with "/" (for display, maps and events). */
  rel: string;
  type: 'file' | 'dir';
  size?: number;
  modifiedAt?: Date;
  /**
   * How precise modifiedAt is, in ms: 1000 for MLSD or a local file, 60 000 for `ls -l` with a time,
   * a day for `ls -l` with only a year. Comparisons allow this much difference.
   */
  precisionMs: number;
}

export type CompareMode = 'newer' | 'size' | 'always';

export type ActionKind = 'mkdir' | 'transfer' | 'delete-file' | 'delete-dir' | 'skip';

export interface TreeAction {
  kind: ActionKind;
  rel: string;
  /** Why: "new", "size differs (10 != 12)", "source is newer", "unchanged", "not in source". */
  reason: string;
  /** For transfers: bytes expected. */
  size?: number;
}

export type TreeEvent =
  /** A name from a listing (or the local disk) was refused and skipped. */
  | { type: 'refused'; side: 'remote' | 'local'; dir: string; name: string; reason: string }
  /** A symlink, device or other entry that is not a plain file or folder was skipped. */
  | { type: 'skipped-entry'; side: 'remote' | 'local'; rel: string; reason: string }
  | { type: 'action-start'; action: TreeAction; worker: number }
  | { type: 'action-done'; action: TreeAction; worker: number }
  | { type: 'action-failed'; action: TreeAction; worker: number; error: Error }
  /** An upload failed as if its remote folder were missing: the folder is created and the file sent once more. */
  | { type: 'retrying'; action: TreeAction; worker: number; error: Error }
  /** A parallel connection could not be opened; the work continues on fewer connections. */
  | { type: 'connection-failed'; worker: number; error: Error }
  /** `checksum` was asked, but the server offers no hash command: files are compared by size and time only. */
  | { type: 'checksum-unavailable'; rel: string }
  /** MFMT is not available: the remote mtime will be the upload time. */
  | { type: 'mtime-not-set'; rel: string; error: Error };

export interface MirrorOptions {
  /** 'download': remote -> local (default); 'upload': local -> remote. */
  direction?: 'download' | 'upload';
  remoteDir: string;
  localDir: string;
  /** Delete files and folders in the destination that the source does not have. Default false. */
  delete?: boolean;
  /** Connections to use for transfers (the given client counts as one). Default 1. */
  parallel?: number;
  /** Compute and return the actions without doing anything. */
  dryRun?: boolean;
  /**
   * 'newer' (mirror, default): transfer when the size differs or the source is newer.
   * 'size': transfer when the size differs (servers whose LIST times are in an unknown time zone).
   * 'always': transfer every file (plain recursive download/upload).
   */
  compare?: CompareMode;
  /**
   * Also compare by hash (HASH, XSHA256..., client/verify.ts) the files whose size and time match, and
   * transfer those that differ (tree/checksum.ts). Costs the server a read of each such file.
   */
  checksum?: boolean;
  /** Deepest folder level to descend (a server with a symlink loop cannot keep us busy). Default 64. */
  maxDepth?: number;
  /** Opens an extra connection for parallel transfers (e.g. `() => FtpClient.connect(options)`). */
  connect?: () => Promise<TreeClient>;
  onEvent?: (event: TreeEvent) => void;
  signal?: AbortSignal;
}

export interface MirrorResult {
  actions: TreeAction[];
  /** Actions that failed, with their error (the mirror goes on after a failure). */
  failures: { action: TreeAction; error: Error }[];
  transferred: number;
  skipped: number;
  deleted: number;
  created: number;
  bytes: number;
  /** Names refused for safety. */
  refused: number;
  dryRun: boolean;
}
