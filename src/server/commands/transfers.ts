/**
 * File transfer commands and transfer parameters: RETR STOR STOU APPE REST ALLO ABOR (RFC 959 s4.1.3,
 * RFC 3659 s5 for REST STREAM), TYPE MODE STRU (RFC 959 s4.1.2).
 *
 * Owns: opening the storage side of a transfer (so "not found" is a 550 before any 150) and describing the
 * transfer for the session; the data movement itself is src/server/transfer.ts.
 */
import { randomBytes } from 'node:crypto';
import { FtpStorageError } from '../../errors.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import { baseName, joinPath } from '../../protocol/paths.js';
import type { Reply } from '../../protocol/reply.js';
import type { CommandModule, TransferRequest } from '../command-table.js';
import type { Session } from '../session.js';
import { storageErrorReply } from '../storage-replies.js';

function modeName(s: Session): string {
  return s.type === 'A' ? 'ASCII' : 'BINARY';
}

/**
 * REST + STOR resumes an upload: the bytes before the offset must already be stored, or the file would get
 * a hole of NUL bytes where the lost partial upload was (silent corruption). Refused with 554 (RFC 3659
 * s5.4's "invalid REST parameter") when the file is missing or shorter; undefined when the offset is fine.
 */
async function restBeyondEnd(s: Session, path: string, offset: number): Promise<Reply | undefined> {
  let size = 0;
  try {
    const info = await s.storage.stat(path);
    if (info.type !== 'file') return undefined; // openWrite answers for a folder
    size = info.size;
  } catch (err) {
    if (!(err instanceof FtpStorageError && err.failure === 'not-found')) throw err;
  }
  if (offset <= size) return undefined;
  return reply(ReplyCode.InvalidRestParameter, `Restart offset ${offset} is beyond the end of ${path} (${size} bytes)`);
}

/** Open the storage side of an upload. `offset` is where writing starts (REST); STOU and APPE pass 0. */
async function upload(s: Session, path: string, offset: number, opts: { append?: boolean; exclusive?: boolean }, openingText?: string, completeText?: string): Promise<TransferRequest> {
  const sink = await s.storage.openWrite(path, { start: opts.append ? undefined : offset || undefined, append: opts.append, exclusive: opts.exclusive });
  return {
    kind: 'transfer', direction: 'upload', path, offset, sink, ascii: s.type === 'A',
    openingText: openingText ?? `Opening ${modeName(s)} mode data connection for ${path}`,
    completeText: completeText ?? 'Transfer complete',
  };
}

export const transferCommands: CommandModule = {
  name: 'transfers',
  commands: [
    {
      verb: 'RETR', argument: 'required', permission: 'read', transfer: true, help: 'RETR <sp> pathname',
      async handler(s, arg) {
        const path = s.resolve(arg);
        const offset = s.restOffset;
        try {
          const info = await s.storage.stat(path);
          if (info.type !== 'file') return reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
          // RFC 3659 s5.4: a restart point past the end is an invalid REST parameter, not an empty 226.
          if (offset > info.size) {
            return reply(ReplyCode.InvalidRestParameter, `Restart offset ${offset} is beyond the end of ${path} (${info.size} bytes)`);
          }
          const source = await s.storage.openRead(path, { start: offset || undefined });
          return {
            kind: 'transfer', direction: 'download', path, offset, source, ascii: s.type === 'A',
            openingText: `Opening ${modeName(s)} mode data connection for ${path} (${info.size} bytes)`,
          };
        } catch (err) {
          return storageErrorReply(err, path);
        }
      },
    },
    {
      verb: 'STOR', argument: 'required', permission: 'write', transfer: true, help: 'STOR <sp> pathname',
      async handler(s, arg) {
        const path = s.resolve(arg);
        // Resuming an upload (REST + STOR) modifies an existing file: it needs the append permission too.
        if (s.restOffset > 0 && !s.user!.permissions.append) return reply(ReplyCode.FileUnavailable, 'Permission denied');
        try {
          const offset = s.restOffset;
          if (offset > 0) {
            const refusal = await restBeyondEnd(s, path, offset);
            if (refusal) return refusal;
          }
          return await upload(s, path, offset, {});
        } catch (err) { return storageErrorReply(err, path); }
      },
    },
    {
      verb: 'APPE', argument: 'required', permission: 'append', transfer: true, help: 'APPE <sp> pathname',
      async handler(s, arg) {
        const path = s.resolve(arg);
        try { return await upload(s, path, 0, { append: true }); } catch (err) { return storageErrorReply(err, path); }
      },
    },
    {
      // RFC 959 s4.1.3 STOU; RFC 1123 s4.1.2.9: the 150 reply names the file as "FILE: name".
      verb: 'STOU', argument: 'optional', permission: 'write', transfer: true, help: 'STOU (store with a unique name)',
      async handler(s, arg) {
        const stem = arg.trim() ? baseName(s.resolve(arg)) || 'ftpkit' : 'ftpkit';
        for (let i = 0; i < 10; i++) {
          const name = `${stem}.${randomBytes(4).toString('hex')}`;
          const path = joinPath(s.cwd, name);
          try {
            // A new unique file has no earlier part to resume: a REST offset does not apply to it.
            return await upload(s, path, 0, { exclusive: true }, `FILE: ${name}`, `Transfer complete (unique file name: ${name})`);
          } catch (err) {
            if (err instanceof FtpStorageError && err.failure === 'exists') continue;
            return storageErrorReply(err, path);
          }
        }
        return reply(ReplyCode.FileNameNotAllowed, 'Could not find a unique file name');
      },
    },
    {
      // RFC 3659 s5: REST STREAM, the byte offset for the next RETR/STOR; any other command clears it.
      verb: 'REST', argument: 'required', help: 'REST <sp> byte-offset', feat: ['REST STREAM'],
      handler(s, arg) {
        if (!/^\d{1,15}$/.test(arg.trim())) return reply(ReplyCode.SyntaxErrorInParameters, 'REST needs a byte offset');
        s.restOffset = Number(arg.trim());
        return reply(ReplyCode.PendingFurtherInformation, `Restarting at ${s.restOffset}. Send STOR or RETR`);
      },
    },
    {
      verb: 'ALLO', argument: 'optional', help: 'ALLO <sp> decimal-integer',
      handler: () => reply(ReplyCode.NotImplementedSuperfluous, 'No storage allocation necessary'),
    },
    {
      // RFC 959 s4.1.3: a running transfer answers 426, then ABOR answers 226; with none, 225.
      verb: 'ABOR', argument: 'none', duringTransfer: true, help: 'ABOR (abort the running transfer)',
      async handler(s) {
        const t = s.transfer;
        if (t) {
          await t.abort('aborted');
          return reply(ReplyCode.ClosingData, 'ABOR successful');
        }
        s.setDataChannel(undefined);
        return reply(ReplyCode.DataConnectionOpen, 'No transfer to abort');
      },
    },
    {
      verb: 'TYPE', argument: 'required', help: 'TYPE <sp> A | I | L 8',
      handler(s, arg) {
        const t = arg.trim().toUpperCase().split(/ +/);
        // RFC 959 s3.1.1: A with format N (non-print, the default); I; L 8 is the same as I on 8-bit hosts.
        if ((t[0] === 'A' && (t.length === 1 || (t.length === 2 && t[1] === 'N')))) {
          s.type = 'A';
          return reply(ReplyCode.Ok, 'Switching to ASCII mode');
        }
        if ((t[0] === 'I' && t.length === 1) || (t[0] === 'L' && t.length === 2 && t[1] === '8')) {
          s.type = 'I';
          return reply(ReplyCode.Ok, 'Switching to Binary mode');
        }
        if (['A', 'E', 'L'].includes(t[0])) return reply(ReplyCode.ParameterNotImplemented, `TYPE ${arg.trim()} not implemented`);
        return reply(ReplyCode.SyntaxErrorInParameters, 'Unrecognised TYPE');
      },
    },
    {
      verb: 'MODE', argument: 'required', help: 'MODE <sp> S',
      handler(_s, arg) {
        const m = arg.trim().toUpperCase();
        if (m === 'S') return reply(ReplyCode.Ok, 'Mode set to S');
        if (['B', 'C', 'Z'].includes(m)) return reply(ReplyCode.ParameterNotImplemented, `MODE ${m} not implemented`);
        return reply(ReplyCode.SyntaxErrorInParameters, 'Unrecognised MODE');
      },
    },
    {
      verb: 'STRU', argument: 'required', help: 'STRU <sp> F',
      handler(_s, arg) {
        const m = arg.trim().toUpperCase();
        if (m === 'F') return reply(ReplyCode.Ok, 'Structure set to F');
        if (['R', 'P'].includes(m)) return reply(ReplyCode.ParameterNotImplemented, `STRU ${m} not implemented`);
        return reply(ReplyCode.SyntaxErrorInParameters, 'Unrecognised STRU');
      },
    },
  ],
};
