/**
 * Keeping a file's modification time across a transfer (docs/client.md#timestamps): after a download the
 * local file gets the server's time (MDTM, RFC 3659 s3, or the listing's when the caller knows it); after
 * an upload the remote file gets the local one (MFMT, draft-somers-ftp-mfxx) where the server has it. Used by
 * download()/upload() (`preserveTime`) and by mirror (tree/mirror.ts), so both set times the same way.
 * A time that cannot be read or set is a 'status' line, never a failed transfer: the bytes arrived.
 */
import { stat, utimes } from 'node:fs/promises';
import { FtpProtocolError, FtpReplyError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { readModifiedAt } from './remote-ops.js';
import type { ClientSession } from './session.js';

/** MFMT's time-val (RFC 3659 s2.3): YYYYMMDDHHMMSS in UTC. */
export function mfmtCommand(remotePath: string, date: Date): string {
  return `MFMT ${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)} ${remotePath}`;
}

/**
 * Give a local regular file this modification (and access) time; a device or FIFO has no content time
 * to keep and is left alone. Returns whether the time was set.
 */
export async function setLocalModifiedAt(localPath: string, date: Date): Promise<boolean> {
  if (!(await stat(localPath)).isFile()) return false;
  await utimes(localPath, date, date);
  return true;
}

/**
 * After a download: the server's time (`known`, or MDTM) on the local file. Returns the time set. The file
 * is the regular file the download has just written (the callers give a device or FIFO no time), so no
 * stat first: one thread-pool round trip less per file of a mirror (issue 10).
 */
export async function keepRemoteTime(session: ClientSession, remotePath: string, localPath: string,
  known?: Date): Promise<Date | undefined> {
  let date = known;
  if (!date) {
    try {
      date = await readModifiedAt(session, remotePath);
    } catch (e) {
      // A refusal, or a reply that is not a time-val: the bytes arrived all the same.
      if (e instanceof FtpReplyError) {
        session.status(`${remotePath}: MDTM refused (${e.replyCode} ${e.replyText}), so the local file keeps the download time`);
        return undefined;
      }
      if (e instanceof FtpProtocolError) {
        session.status(`${remotePath}: ${e.message}, so the local file keeps the download time`);
        return undefined;
      }
      throw e;
    }
  }
  await utimes(localPath, date, date);
  return date;
}

/** After an upload: the local file's time on the remote file with MFMT. Returns the time set. */
export async function keepLocalTime(session: ClientSession, localPath: string, remotePath: string): Promise<Date | undefined> {
  // Sent even when FEAT does not list it (not every server announces MFMT); a refusal is only a status line.
  const { mtime } = await stat(localPath);
  const r = await session.command(mfmtCommand(remotePath, mtime));
  if (r.code !== ReplyCode.FileStatus && r.code !== ReplyCode.FileActionOk) {
    session.status(`${remotePath}: MFMT refused (${r.code} ${r.message}), so the remote file keeps the upload time`);
    return undefined;
  }
  return mtime;
}
