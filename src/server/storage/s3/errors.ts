/**
 * S3 failures -> the storage failure kinds (docs/architecture.md#storage-errors-carry-their-ftp-meaning), so
 * the server answers 550 for a missing key, 452 for a full store, 451 for an unreachable endpoint. The
 * service's own message is kept in `message` (logs) and never reaches the wire (storage-replies.ts).
 */
import { FtpStorageError, type StorageFailure } from '../../../errors.js';

interface S3LikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The HTTP status of an SDK error, or undefined for a network failure. */
export function httpStatus(err: unknown): number | undefined {
  return (err as S3LikeError | undefined)?.$metadata?.httpStatusCode;
}

/** The S3 error code ("NoSuchKey", "AccessDenied"...) of an SDK error. */
export function s3Code(err: unknown): string {
  const e = err as S3LikeError | undefined;
  return e?.name ?? e?.code ?? '';
}

export function isNotFound(err: unknown): boolean {
  const code = s3Code(err);
  return httpStatus(err) === 404 || code === 'NoSuchKey' || code === 'NotFound';
}

function failureOf(err: unknown): StorageFailure {
  const code = s3Code(err);
  const status = httpStatus(err);
  if (isNotFound(err)) return 'not-found';
  if (code === 'PreconditionFailed' || status === 412) return 'exists';
  if (code === 'QuotaExceeded' || code === 'EntityTooLarge') return 'no-space';
  if (code === 'KeyTooLongError' || code === 'InvalidObjectName') return 'invalid-name';
  if (status === 403 || code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') return 'permission';
  if (code === 'NotImplemented' || status === 501) return 'not-supported';
  // 5xx, throttling (SlowDown, 503), and no answer at all (connection refused, timeout): try again later.
  if (status === undefined || status >= 500 || code === 'SlowDown' || code === 'RequestTimeout') return 'transient';
  return 'io';
}

/** Wraps any error of an S3 call as an FtpStorageError for `path` (an FtpStorageError passes through). */
export function storageError(err: unknown, path: string): FtpStorageError {
  if (err instanceof FtpStorageError) return err;
  const code = s3Code(err);
  const message = `S3 ${code || 'error'}${httpStatus(err) ? ` (HTTP ${httpStatus(err)})` : ''}: ${(err as Error)?.message ?? String(err)}`;
  return new FtpStorageError(failureOf(err), message, path, { cause: err });
}
