/**
 * The ONE place where storage failures become FTP replies (RFC 959 s4.2 reply codes).
 *
 * Owns: the mapping FtpStorageError.failure -> reply code and a fixed, client-safe text. Raw OS error text
 * (which can name host paths) never reaches the wire: only the virtual path and our own wording do.
 */
import { FtpStorageError } from '../errors.js';
import type { StorageFailure } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { reply } from '../protocol/reply.js';
import type { Reply } from '../protocol/reply.js';
import { InvalidPathError } from '../protocol/paths.js';

const MAP: Record<StorageFailure, { code: number; text: string }> = {
  'not-found': { code: ReplyCode.FileUnavailable, text: 'No such file or directory' },
  exists: { code: ReplyCode.FileUnavailable, text: 'File exists' },
  'not-a-directory': { code: ReplyCode.FileUnavailable, text: 'Not a directory' },
  'is-a-directory': { code: ReplyCode.FileUnavailable, text: 'Is a directory' },
  'not-empty': { code: ReplyCode.FileUnavailable, text: 'Directory not empty' },
  permission: { code: ReplyCode.FileUnavailable, text: 'Permission denied' },
  'invalid-name': { code: ReplyCode.FileNameNotAllowed, text: 'File name not allowed' },
  'no-space': { code: ReplyCode.InsufficientStorage, text: 'Insufficient storage space' },
  quota: { code: ReplyCode.ExceededStorageAllocation, text: 'Exceeded storage allocation' },
  transient: { code: ReplyCode.FileActionNotTaken, text: 'File unavailable, try again later' },
  'not-supported': { code: ReplyCode.CommandNotImplemented, text: 'Not supported by this storage' },
  io: { code: ReplyCode.LocalError, text: 'Local error in processing' },
};

/** True for errors that are an expected storage outcome (not a bug to report as a session error). */
export function isExpectedStorageError(err: unknown): boolean {
  return err instanceof FtpStorageError || err instanceof InvalidPathError;
}

/**
 * The reply for a failed storage operation. `path` is the virtual path concerned, shown to the client.
 * Unknown errors (a backend that threw something else) answer 451 without their text.
 */
export function storageErrorReply(err: unknown, path?: string): Reply {
  const where = path !== undefined ? `${path}: ` : '';
  if (err instanceof InvalidPathError) return reply(ReplyCode.FileNameNotAllowed, `${where}File name not allowed`);
  if (err instanceof FtpStorageError) {
    const m = MAP[err.failure] ?? MAP.io;
    return reply(m.code, `${where}${err.replyText ?? m.text}`);
  }
  return reply(ReplyCode.LocalError, `${where}${MAP.io.text}`);
}
