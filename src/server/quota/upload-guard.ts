/**
 * The limits one upload is held to: the user's quota (bytes and files, shared by all their sessions) and
 * the size of one upload (limits.maxUploadBytes, or the user's own). RFC 959 s4.2: 552 "Requested file
 * action aborted. Exceeded storage allocation".
 *
 * Owns: when an upload is refused and what it is charged.
 * - Before the 150 (and before the file is opened, which would truncate it): a new file when the file
 *   count is at its limit, any byte when the byte quota is used up and nothing is being replaced, and a
 *   size announced by ALLO (RFC 959 s4.1.3) that does not fit.
 * - While streaming: each chunk is charged to the shared counter before it is stored; the chunk that would
 *   pass a limit is refused (not written) and the transfer fails with FtpStorageError 'quota' (552), whose
 *   storage stream is destroyed like any failed upload's. Concurrent uploads of one user therefore cannot
 *   together pass the quota by more than the chunk in hand.
 * - Overwriting counts the difference: the bytes that replace old content (STOR over a file, REST + STOR
 *   over its tail) are not charged until the upload outgrows what it replaces.
 * - Afterwards (settle): the charges are dropped and the real change is counted: from the bytes stored
 *   when the upload completed, from the file as it stands (stat) when it failed (a partial file, the old
 *   content, or none, whichever the storage left).
 */
import { FtpStorageError } from '../../errors.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply, type Reply } from '../../protocol/reply.js';
import type { QuotaLimits } from '../auth/types.js';
import type { CommandContext } from '../commands/contract.js';
import type { Storage } from '../storage/types.js';
import type { Admission } from '../../net/data-direct.js';
import type { UploadLimit } from '../transfer.js';
import { formatByteSize } from './size.js';
import type { UserUsage } from './usage.js';

/**
 * How the upload writes: 'replace' (STOR), 'resume' (REST + STOR at `offset`), 'append' (APPE), 'unique'
 * (STOU: always a new file).
 */
export type UploadKind = 'replace' | 'resume' | 'append' | 'unique';

interface Before {
  existed: boolean;
  size: number;
}

async function fileBefore(storage: Storage, path: string): Promise<Before> {
  try {
    const info = await storage.stat(path);
    return { existed: info.type === 'file', size: info.type === 'file' ? info.size : 0 };
  } catch (err) {
    if (err instanceof FtpStorageError && err.failure === 'not-found') return { existed: false, size: 0 };
    throw err;
  }
}

/** The 552 text, naming the limit hit: the operator and the user must tell a quota from the size limit. */
function allocationText(why: string): string {
  return `Exceeded storage allocation (${why})`;
}

function refusal(path: string, why: string): Reply {
  return reply(ReplyCode.ExceededStorageAllocation, `${path}: ${allocationText(why)}`);
}

/**
 * The limits of an upload of `path`: a 552 refusal before any 150, or a guard (undefined when nothing
 * limits this user's uploads: nothing is counted then).
 */
export async function guardUpload(ctx: CommandContext, path: string, kind: UploadKind, offset = 0): Promise<{ refusal: Reply } | { guard: UploadGuard | undefined }> {
  const user = ctx.user!;
  const maxUpload = user.maxUploadBytes ?? ctx.options.limits.maxUploadBytes;
  const usage = await ctx.services.quotas.measured(user);
  const announced = ctx.state.allocation;
  if (announced !== undefined && announced > maxUpload) return { refusal: refusal(path, `uploads are limited to ${formatByteSize(maxUpload)}`) };
  if (!usage) return { guard: Number.isFinite(maxUpload) ? new UploadGuard(path, kind, offset, maxUpload) : undefined };

  const quota = user.quota!;
  const before = kind === 'unique' ? { existed: false, size: 0 } : await fileBefore(ctx.storage, path);
  // A rescan (another session's login) may have started while stat ran: its result would overwrite this
  // upload's charges. From here on everything is synchronous up to the reservation, which holds off rescans.
  await usage.idle();
  const left = usage.left(quota);
  const guard = new UploadGuard(path, kind, offset, maxUpload, usage, quota, before);
  if (!before.existed && left.files < 1) return { refusal: refusal(path, `file quota of ${quota.files} files reached`) };
  if (quota.bytes !== undefined && guard.credit === 0 && left.bytes === 0) {
    return { refusal: refusal(path, `quota of ${formatByteSize(quota.bytes)} used up`) };
  }
  if (announced !== undefined && Math.max(0, announced - guard.credit) > left.bytes) {
    return { refusal: refusal(path, `${formatByteSize(left.bytes)} left of the quota`) };
  }
  guard.reserve();
  await usage.prepareUpload(quota);
  return { guard };
}

export class UploadGuard implements UploadLimit {
  /** Bytes this upload replaces in place (not charged until it outgrows them). */
  readonly credit: number;
  private streamed = 0;
  /** Bytes charged to the shared counter so far. */
  private charged = 0;
  private reservedFile = false;
  private reserved = false;

  constructor(
    /** The file written (STOU sets it once its unique name is chosen). */
    public path: string,
    private readonly kind: UploadKind,
    private readonly offset: number,
    private readonly maxUpload: number,
    private readonly usage?: UserUsage,
    private readonly quota?: QuotaLimits,
    private readonly before: Before = { existed: false, size: 0 },
  ) {
    this.credit = kind === 'replace' ? before.size : kind === 'resume' ? Math.max(0, before.size - offset) : 0;
  }

  /** Count the upload as running and its new file as taken (before the 150). */
  reserve(): void {
    if (!this.usage || this.reserved) return;
    this.reserved = true;
    this.usage.inFlight++;
    if (!this.before.existed) { this.reservedFile = true; this.usage.change(0, 1); }
  }

  /** Open the storage stream; when that fails, nothing stays reserved. */
  async opened<T>(open: Promise<T>): Promise<T> {
    try {
      return await open;
    } catch (err) {
      this.release();
      throw err;
    }
  }

  admit(bytes: number): Admission {
    this.streamed += bytes;
    if (this.streamed > this.maxUpload) {
      return new FtpStorageError('quota', `upload larger than ${this.maxUpload} bytes`, this.path,
        { replyText: allocationText(`uploads are limited to ${formatByteSize(this.maxUpload)}`) });
    }
    if (!this.usage || this.quota?.bytes === undefined) return undefined;
    const due = Math.max(0, this.streamed - this.credit) - this.charged;
    if (due <= 0) return undefined;
    const bytesLimit = this.quota.bytes;
    const charged = this.usage.charge(due, bytesLimit);
    if (charged instanceof Promise) return charged.then(ok => this.chargeAnswer(ok, due, bytesLimit));
    return this.chargeAnswer(charged, due, bytesLimit);
  }

  /** The usage's answer for `due` more bytes: counted, or the quota's refusal. */
  private chargeAnswer(ok: boolean, due: number, limit: number): Error | undefined {
    if (!ok) {
      return new FtpStorageError('quota', `quota of ${limit} bytes exceeded`, this.path,
        { replyText: allocationText(`quota of ${formatByteSize(limit)} exceeded`) });
    }
    this.charged += due;
    return undefined;
  }

  /**
   * Count what the upload left stored, before its final reply (src/server/transfer.ts awaits this): the
   * change is written where every session and node reads it (UserUsage.written) by the time the client
   * hears 226 or the failure, as a DELE's freed room is (quota/report.ts freedBy).
   */
  async settle(result: { ok: boolean; bytes: number }): Promise<void> {
    const usage = this.usage;
    if (!usage || !this.reserved) return;
    this.release();
    const { existed, size } = this.before;
    if (result.ok) {
      const now = this.kind === 'append' ? size + result.bytes : this.kind === 'resume' ? this.offset + result.bytes : result.bytes;
      usage.change(now - size, existed ? 0 : 1);
    } else {
      try {
        const after = await fileBefore(usage.storage, this.path);
        usage.change(after.size - size, Number(after.existed) - Number(existed));
      } catch {
        // Cannot tell what the storage kept: the counters stay as before the upload until the next scan.
      }
    }
    await usage.written();
  }

  /** Drop this upload's charges and reservation (an upload that never started). */
  release(): void {
    if (!this.usage || !this.reserved) return;
    this.reserved = false;
    this.usage.inFlight--;
    this.usage.change(-this.charged, this.reservedFile ? -1 : 0);
    this.charged = 0;
    this.reservedFile = false;
  }
}
