/**
 * Owns the translation of operating-system errors (errno codes) into FtpStorageError kinds for the
 * local-filesystem storage. The server maps the kind to a reply code in one place (storage-replies.ts);
 * the raw OS message, which names host paths, never reaches the wire: only the virtual path does.
 */
import { FtpError, FtpStorageError, type StorageFailure } from '../../errors.js';

/** errno code -> StorageFailure. Anything unlisted is a local processing error ('io', 451). */
const ERRNO_TO_FAILURE: Readonly<Record<string, StorageFailure>> = {
  ENOENT: 'not-found',
  EEXIST: 'exists',
  ENOTDIR: 'not-a-directory',
  EISDIR: 'is-a-directory',
  ENOTEMPTY: 'not-empty',
  EACCES: 'permission',
  EPERM: 'permission',
  EROFS: 'permission',
  // ELOOP: O_NOFOLLOW met a symbolic link, or a link cycle; either way the object is not reachable.
  ELOOP: 'permission',
  EXDEV: 'permission',
  ENOSPC: 'no-space',
  EDQUOT: 'quota',
  EFBIG: 'quota',
  ENAMETOOLONG: 'invalid-name',
  EINVAL: 'invalid-name',
  EILSEQ: 'invalid-name',
  EBUSY: 'transient',
  EAGAIN: 'transient',
  EMFILE: 'transient',
  ENFILE: 'transient',
  ETXTBSY: 'transient',
};

/** Short, path-free wording per failure kind (the server may use it as reply text). */
const FAILURE_TEXT: Readonly<Record<StorageFailure, string>> = {
  'not-found': 'no such file or directory',
  'exists': 'already exists',
  'not-a-directory': 'not a directory',
  'is-a-directory': 'is a directory',
  'not-empty': 'directory not empty',
  'permission': 'permission denied',
  'invalid-name': 'file name not allowed',
  'no-space': 'insufficient storage space',
  'quota': 'storage allocation exceeded',
  'transient': 'temporarily unavailable, try again',
  'not-supported': 'not supported',
  'io': 'local error in processing',
};

export function failureOf(err: unknown): StorageFailure {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined && ERRNO_TO_FAILURE[code]) || 'io';
}

/** Build an FtpStorageError whose message names only the virtual path. */
export function storageError(failure: StorageFailure, virtualPath: string | undefined, cause?: unknown): FtpStorageError {
  const where = virtualPath === undefined ? '' : `${virtualPath}: `;
  return new FtpStorageError(failure, `${where}${FAILURE_TEXT[failure]}`, virtualPath, cause === undefined ? undefined : { cause });
}

/**
 * Convert whatever an fs call threw into an FtpStorageError. Errors that are already ftpkit errors
 * (e.g. a confinement refusal, or an FtpNetworkError a consumer destroyed a stream with) pass through.
 */
export function toStorageError(err: unknown, virtualPath: string | undefined): Error {
  if (err instanceof FtpError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) {
    // Not an OS error (stream plumbing such as ERR_STREAM_PREMATURE_CLOSE): keep it as it is.
    return err instanceof Error ? err : storageError('io', virtualPath, err);
  }
  return storageError(failureOf(err), virtualPath, err);
}
