/**
 * File transfer commands and transfer parameters: RETR STOR STOU APPE REST ALLO ABOR (RFC 959 s4.1.3,
 * RFC 3659 s5 for REST STREAM), TYPE MODE STRU (RFC 959 s4.1.2).
 *
 * Owns: opening the storage side of a transfer (so "not found" is a 550 before any 150) and describing the
 * transfer for the session; the data movement itself is src/server/transfer.ts. Resuming an upload (REST +
 * STOR) and appending (APPE) are optional storage capabilities (storage/types.ts): a storage without them
 * (an object store) gets them refused, and FEAT does not offer REST STREAM. Every upload is held to the
 * user's quota and the upload size limit (server/quota/upload-guard.ts): 552 before the 150 or while streaming.
 * How an upload reaches its final name is the upload mode (docs/server.md#uploads-atomic-resumable-or-direct),
 * asked of the storage as write options.
 */
import type { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { FtpStorageError } from '../../errors.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import { baseName, joinPath } from '../../protocol/paths.js';
import type { Reply } from '../../protocol/reply.js';
import { canAppend, canOpenReadWithInfo, canWriteAtOffset } from '../storage/types.js';
import type { OpenedRead, Storage, UploadMode, WriteOptions } from '../storage/types.js';
import { storageErrorReply } from '../storage-replies.js';
import type { TransferRequest, UploadLimit } from '../transfer.js';
import { guardUpload } from '../quota/upload-guard.js';
import { allocationArgument, modeArgument, offsetArgument, optionalPathArgument, pathArgument, structureArgument, typeArgument } from './arguments.js';
import { command } from './contract.js';
import type { CommandContext, CommandModule } from './contract.js';
import { permissionsAt } from '../auth/path-permissions.js';
import { vetoed } from './veto.js';
import { modeOptions } from '../transfer-modes.js';

function modeName(ctx: CommandContext): string {
  return ctx.state.type === 'A' ? 'ASCII' : 'BINARY';
}

/**
 * REST + STOR resumes an upload: the bytes before the offset must already be stored, or the file would get
 * a hole of NUL bytes where the lost partial upload was (silent corruption). Refused with 554 (RFC 3659
 * s5.4's "invalid REST parameter") when the file is missing or shorter; undefined when the offset is fine.
 */
async function restBeyondEnd(storage: Storage, path: string, offset: number): Promise<Reply | undefined> {
  let size = 0;
  try {
    const info = await storage.stat(path);
    if (info.type !== 'file') return undefined; // openWrite answers for a folder
    size = info.size;
  } catch (err) {
    if (!(err instanceof FtpStorageError && err.failure === 'not-found')) throw err;
  }
  return offset <= size ? undefined : beyondEndReply(path, offset, size);
}

/** RFC 3659 s5.4: a restart point past the end of the file is an invalid REST parameter (554). */
function beyondEndReply(path: string, offset: number, size: number): Reply {
  return reply(ReplyCode.InvalidRestParameter, `Restart offset ${offset} is beyond the end of ${path} (${size} bytes)`);
}

/**
 * RETR's file, open, with its size: in one step where the storage can (openReadWithInfo, storage/types.ts:
 * the local storage's open + fstat), else stat() then openRead() (an object store's HEAD, then its GET).
 * A folder answers 550, a restart point past the end 554 (RFC 3659 s5.4: an invalid REST parameter, not
 * an empty 226); other failures are thrown (storage-replies.ts).
 */
async function openForRetr(storage: Storage, path: string, offset: number): Promise<OpenedRead | Reply> {
  const notAFile = (): Reply => reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
  if (!canOpenReadWithInfo(storage)) {
    const info = await storage.stat(path);
    if (info.type !== 'file') return notAFile();
    if (offset > info.size) return beyondEndReply(path, offset, info.size);
    return { source: await storage.openRead(path, { start: offset || undefined }), size: info.size };
  }
  let opened: OpenedRead;
  try {
    opened = await storage.openReadWithInfo(path, { start: offset || undefined });
  } catch (err) {
    if (err instanceof FtpStorageError && err.failure === 'is-a-directory') return notAFile();
    throw err;
  }
  if (offset <= opened.size) return opened;
  opened.source.destroy();
  return beyondEndReply(path, offset, opened.size);
}

/** Describe an upload whose storage stream is open. `offset` is where writing starts (REST), else 0. */
function upload(
  ctx: CommandContext, path: string, offset: number, sink: Writable, limit: UploadLimit | undefined,
  openingText?: string, completeText?: string,
): TransferRequest {
  return {
    kind: 'transfer', direction: 'upload', path, offset, sink, ascii: ctx.state.type === 'A', limit,
    openingText: openingText ?? `Opening ${modeName(ctx)} mode data connection for ${path}`,
    completeText: completeText ?? 'Transfer complete',
  };
}

/** The logged-in user's upload mode, else the server's (options.uploads.mode). */
function uploadMode(ctx: CommandContext): UploadMode {
  return ctx.user?.uploadMode ?? ctx.options.uploads.mode;
}

/**
 * A plain STOR's write options. atomic: a temporary file renamed over the name once complete. resumable:
 * in place, the old content truncated when the first byte arrives (a STOR whose data connection never
 * delivers leaves the file as it was), a partial upload kept for REST + STOR. direct: truncated at once.
 */
function storeOptions(ctx: CommandContext, mode: UploadMode): WriteOptions {
  return mode === 'atomic' ? atomicOptions(ctx) : mode === 'resumable' ? { truncateOnData: true } : {};
}

/** Atomic writes, durable (fsync'ed) only when options.uploads.fsync asks for it. */
function atomicOptions(ctx: CommandContext): WriteOptions {
  return { atomic: true, durable: ctx.options.uploads.fsync };
}

/** FEAT's REST STREAM (RFC 3659 s5): offered unless the logged-in user's storage cannot resume uploads. */
function restFeature(ctx: CommandContext): string[] {
  return !ctx.user || canWriteAtOffset(ctx.user.storage) ? ['REST STREAM'] : [];
}

export const transferCommands: CommandModule = {
  name: 'transfers',
  commands: [
    command({
      verb: 'RETR', argument: 'required', syntax: pathArgument, permission: 'read', transfer: true, help: 'RETR <sp> pathname',
      async handler(ctx, path) {
        const offset = ctx.state.restOffset;
        const opened = await openForRetr(ctx.storage, path, offset);
        if ('code' in opened) return opened;
        const { source, size } = opened;
        return {
          kind: 'transfer', direction: 'download', path, offset, source, ascii: ctx.state.type === 'A', size,
          openingText: `Opening ${modeName(ctx)} mode data connection for ${path} (${size} bytes)`,
        };
      },
    }),
    command({
      verb: 'STOR', argument: 'required', syntax: pathArgument, permission: 'write', transfer: true, help: 'STOR <sp> pathname',
      async handler(ctx, path) {
        const offset = ctx.state.restOffset;
        const permissions = permissionsAt(ctx.user!, path);
        const mode = uploadMode(ctx);
        // Resuming an upload (REST + STOR) modifies an existing file: it needs the append permission too.
        if (offset !== 0 && !permissions.append) return reply(ReplyCode.FileUnavailable, 'Permission denied');
        const veto = await vetoed(ctx, 'beforeUpload', { verb: 'STOR', path, offset });
        if (veto) return veto;
        if (offset === 0) {
          const checked = await guardUpload(ctx, path, 'replace');
          if ('refusal' in checked) return checked.refusal;
          const { guard } = checked;
          // Replacing a file destroys it as DELE would: without the delete permission STOR only creates new
          // files (vsftpd's anon_other_write_enable=NO drop box: an upload cannot overwrite another one).
          const options = { ...storeOptions(ctx, mode), ...(permissions.delete ? {} : { exclusive: true }) };
          try {
            const open = ctx.storage.openWrite(path, options);
            return upload(ctx, path, 0, await (guard ? guard.opened(open) : open), guard);
          } catch (err) {
            if (permissions.delete || !(err instanceof FtpStorageError && err.failure === 'exists')) throw err;
            return reply(ReplyCode.FileUnavailable, `${path}: File exists; replacing it needs the delete permission`);
          }
        }
        const storage = ctx.storage;
        // RFC 3659 s5.4: 554 when the file "cannot be repositioned as specified in the REST".
        if (!canWriteAtOffset(storage)) {
          return reply(ReplyCode.InvalidRestParameter, `Restart offset ${offset} refused: this storage cannot resume an upload; send STOR without REST`);
        }
        const refusal = await restBeyondEnd(storage, path, offset);
        if (refusal) return refusal;
        const checked = await guardUpload(ctx, path, 'resume', offset);
        if ('refusal' in checked) return checked.refusal;
        const { guard } = checked;
        // Atomic: the kept bytes are copied into the new version (copy-on-write, as SFTPGo's atomic-resume): the
        // file is untouched until the resumed upload completes. Otherwise in place (REST's usual meaning).
        const open = storage.openWriteAt(path, offset, mode === 'atomic' ? atomicOptions(ctx) : {});
        return upload(ctx, path, offset, await (guard ? guard.opened(open) : open), guard);
      },
    }),
    command({
      // Not implemented (502, RFC 959 s4.2) on a storage that cannot append.
      verb: 'APPE', argument: 'required', syntax: pathArgument, permission: 'append', transfer: true, help: 'APPE <sp> pathname',
      async handler(ctx, path) {
        const storage = ctx.storage;
        if (!canAppend(storage)) return reply(ReplyCode.CommandNotImplemented, 'APPE not supported by this storage');
        const veto = await vetoed(ctx, 'beforeUpload', { verb: 'APPE', path, offset: 0 });
        if (veto) return veto;
        const checked = await guardUpload(ctx, path, 'append');
        if ('refusal' in checked) return checked.refusal;
        const { guard } = checked;
        // Atomic: appended in place (a copy of the whole file per APPE would cost its size each time), and a
        // failed append is cut back to the old size, so the bytes that were there are never lost.
        const open = storage.openAppend(path, uploadMode(ctx) === 'atomic' ? atomicOptions(ctx) : {});
        return upload(ctx, path, 0, await (guard ? guard.opened(open) : open), guard);
      },
    }),
    command({
      // RFC 959 s4.1.3 STOU; RFC 1123 s4.1.2.9: the 150 reply names the file as "FILE: name".
      verb: 'STOU', argument: 'optional', syntax: optionalPathArgument, permission: 'write', transfer: true, help: 'STOU (store with a unique name)',
      async handler(ctx, stemPath) {
        const stem = stemPath !== undefined ? baseName(stemPath) || 'ftpkit' : 'ftpkit';
        const checked = await guardUpload(ctx, ctx.state.cwd, 'unique');
        if ('refusal' in checked) return checked.refusal;
        const { guard } = checked;
        for (let i = 0; i < 10; i++) {
          const name = `${stem}.${randomBytes(4).toString('hex')}`;
          const path = joinPath(ctx.state.cwd, name);
          try {
            const veto = await vetoed(ctx, 'beforeUpload', { verb: 'STOU', path, offset: 0 });
            if (veto) {
              guard?.release();
              return veto;
            }
            // A new unique file has no earlier part to resume: a REST offset does not apply to it.
            const sink = await ctx.storage.openWrite(path, { ...storeOptions(ctx, uploadMode(ctx)), exclusive: true });
            if (guard) guard.path = path;
            return upload(ctx, path, 0, sink, guard, `FILE: ${name}`, `Transfer complete (unique file name: ${name})`);
          } catch (err) {
            // The name is the one chosen here, not the argument: name it in the reply.
            if (err instanceof FtpStorageError && err.failure === 'exists') continue;
            guard?.release();
            return storageErrorReply(err, path);
          }
        }
        guard?.release();
        return reply(ReplyCode.FileNameNotAllowed, 'Could not find a unique file name');
      },
    }),
    command({
      // RFC 3659 s5: REST STREAM, the byte offset for the next RETR/STOR; a transfer command clears it.
      verb: 'REST', argument: 'required', syntax: offsetArgument, help: 'REST <sp> byte-offset', feat: restFeature,
      handler(ctx, offset) {
        ctx.state.restOffset = offset;
        return reply(ReplyCode.PendingFurtherInformation, `Restarting at ${offset}. Send STOR or RETR`);
      },
    }),
    command({
      // RFC 959 s4.1.3: nothing to reserve here, but the size is remembered: the next upload that cannot
      // fit the quota or the upload size limit is refused with 552 before its 150.
      verb: 'ALLO', argument: 'optional', syntax: allocationArgument, help: 'ALLO <sp> decimal-integer',
      handler(ctx, bytes) {
        ctx.state.allocation = bytes;
        return reply(ReplyCode.NotImplementedSuperfluous, 'No storage allocation necessary');
      },
    }),
    command({
      // RFC 959 s4.1.3: a running transfer answers 426, then ABOR answers 226; with none, 225.
      verb: 'ABOR', argument: 'none', duringTransfer: true, help: 'ABOR (abort the running transfer)',
      async handler(ctx) {
        const t = ctx.transfer;
        if (t) {
          await t.abort('aborted');
          return reply(ReplyCode.ClosingData, 'ABOR successful');
        }
        ctx.dataChannel.install(undefined);
        return reply(ReplyCode.DataConnectionOpen, 'No transfer to abort');
      },
    }),
    command({
      verb: 'TYPE', argument: 'required', syntax: typeArgument, help: 'TYPE <sp> A | I | L 8',
      handler(ctx, type) {
        ctx.state.type = type;
        return reply(ReplyCode.Ok, type === 'A' ? 'Switching to ASCII mode' : 'Switching to Binary mode');
      },
    }),
    command({
      verb: 'MODE', argument: 'required', syntax: modeArgument, help: 'MODE <sp> S | B | Z',
      feat: ctx => (ctx.options.modeZ ? ['MODE Z'] : []), opts: (ctx, value) => modeOptions(ctx.state, value),
      handler(ctx, mode) {
        if (mode === 'Z' && !ctx.options.modeZ) return reply(ReplyCode.ParameterNotImplemented, 'MODE Z is not enabled on this server');
        ctx.state.mode = mode;
        return reply(ReplyCode.Ok, `Mode set to ${mode}`);
      },
    }),
    command({
      verb: 'STRU', argument: 'required', syntax: structureArgument, help: 'STRU <sp> F',
      handler(ctx, structure) {
        ctx.state.structure = structure;
        return reply(ReplyCode.Ok, `Structure set to ${structure}`);
      },
    }),
  ],
};
