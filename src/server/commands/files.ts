/**
 * File and directory management commands: MKD RMD DELE RNFR RNTO (RFC 959 s4.1.3), SIZE MDTM (RFC 3659
 * s4, s3), MFMT (draft-somers-ftp-mfxx), AVBL (draft-peterson-streamlined-ftp-command-extensions), with the
 * X-aliases XMKD XRMD (RFC 775). Their storage failures are answered by the dispatcher, naming the path.
 * DELE and RNTO over a file give back quota (server/quota/); RMD removes only empty folders, which the
 * quota does not count, so it changes nothing there.
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { quotePath, reply } from '../../protocol/reply.js';
import { formatTimeVal } from '../../protocol/listing-format.js';
import { canReportSpace, canSetModifiedTime } from '../storage/types.js';
import { crlfSize } from '../../protocol/codecs/type-a.js';
import { freedBy, quotaBytesLeft } from '../quota/report.js';
import { modifyTimeArgument, pathArgument } from './arguments.js';
import { command } from './contract.js';
import type { CommandModule } from './contract.js';
import { vetoed } from './veto.js';

/** Largest file whose TYPE A size SIZE counts (a full read): 16 MiB, a fraction of a second. */
const ASCII_SIZE_LIMIT = 16 * 1024 * 1024;

export const fileCommands: CommandModule = {
  name: 'files',
  commands: [
    command({
      verb: 'MKD', aliases: ['XMKD'], argument: 'required', syntax: pathArgument, permission: 'mkdir', help: 'MKD <sp> pathname',
      async handler(ctx, path) {
        const veto = await vetoed(ctx, 'beforeMkdir', { path });
        if (veto) return veto;
        await ctx.storage.mkdir(path);
        // RFC 959 s7: 257 with the quoted path, embedded quotes doubled.
        return reply(ReplyCode.PathCreated, `${quotePath(path)} created`);
      },
    }),
    command({
      verb: 'RMD', aliases: ['XRMD'], argument: 'required', syntax: pathArgument, permission: 'rmdir', help: 'RMD <sp> pathname',
      async handler(ctx, path) {
        if (path === '/') return reply(ReplyCode.FileUnavailable, 'Permission denied');
        const veto = await vetoed(ctx, 'beforeDelete', { verb: 'RMD', path });
        if (veto) return veto;
        await ctx.storage.rmdir(path);
        return reply(ReplyCode.FileActionOk, 'Directory removed');
      },
    }),
    command({
      verb: 'DELE', argument: 'required', syntax: pathArgument, permission: 'delete', help: 'DELE <sp> pathname',
      async handler(ctx, path) {
        const veto = await vetoed(ctx, 'beforeDelete', { verb: 'DELE', path });
        if (veto) return veto;
        const freed = await freedBy(ctx, path);
        await ctx.storage.delete(path);
        await freed?.();
        return reply(ReplyCode.FileActionOk, 'File deleted');
      },
    }),
    command({
      verb: 'RNFR', argument: 'required', syntax: pathArgument, permission: 'rename', help: 'RNFR <sp> pathname',
      async handler(ctx, path) {
        if (path === '/') return reply(ReplyCode.FileUnavailable, 'Permission denied');
        await ctx.storage.stat(path);
        // The dispatcher forgets it after any command but RNTO (RFC 959 s4.1.3).
        ctx.state.renameFrom = path;
        return reply(ReplyCode.PendingFurtherInformation, 'Ready for RNTO');
      },
    }),
    command({
      verb: 'RNTO', argument: 'required', syntax: pathArgument, permission: 'rename', help: 'RNTO <sp> pathname',
      async handler(ctx, to) {
        const from = ctx.state.renameFrom;
        if (from === undefined) return reply(ReplyCode.BadSequence, 'RNFR required first');
        if (to === '/') return reply(ReplyCode.FileNameNotAllowed, 'File name not allowed');
        const veto = await vetoed(ctx, 'beforeRename', { from, to });
        if (veto) return veto;
        // A file replaced by the rename is gone from the quota.
        const freed = from !== to ? await freedBy(ctx, to) : undefined;
        await ctx.storage.rename(from, to);
        await freed?.();
        return reply(ReplyCode.FileActionOk, 'Rename successful');
      },
    }),
    command({
      // RFC 3659 s4: the size is the number of octets a RETR in the current TYPE would send. In TYPE A
      // that means reading the file to count line ends: done up to ASCII_SIZE_LIMIT, refused above it (550,
      // as proftpd does) rather than answering a number the transfer would not match.
      verb: 'SIZE', argument: 'required', syntax: pathArgument, permission: 'list', help: 'SIZE <sp> pathname', feat: ['SIZE'],
      async handler(ctx, path) {
        const info = await ctx.storage.stat(path);
        if (info.type !== 'file') return reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
        if (ctx.state.type !== 'A') return reply(ReplyCode.FileStatus, String(info.size));
        if (info.size > ASCII_SIZE_LIMIT) {
          return reply(ReplyCode.FileUnavailable, `${path}: SIZE in ASCII mode is only counted up to ${ASCII_SIZE_LIMIT} bytes; send TYPE I first`);
        }
        return reply(ReplyCode.FileStatus, String(await crlfSize(await ctx.storage.openRead(path))));
      },
    }),
    command({
      verb: 'MDTM', argument: 'required', syntax: pathArgument, permission: 'list', help: 'MDTM <sp> pathname', feat: ['MDTM'],
      async handler(ctx, path) {
        const info = await ctx.storage.stat(path);
        if (info.type !== 'file') return reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
        return reply(ReplyCode.FileStatus, formatTimeVal(info.modifiedAt)); // RFC 3659 s3.2: UTC time-val
      },
    }),
    command({
      verb: 'MFMT', argument: 'required', syntax: modifyTimeArgument, permission: 'chmod', help: 'MFMT <sp> YYYYMMDDHHMMSS <sp> pathname',
      // Offered unless the logged-in user's storage cannot set times (before login we cannot know yet).
      feat: ctx => (!ctx.user || canSetModifiedTime(ctx.user.storage) ? ['MFMT'] : []),
      async handler(ctx, { date, path }) {
        const storage = ctx.storage;
        if (!canSetModifiedTime(storage)) return reply(ReplyCode.CommandNotImplemented, 'Not supported by this storage');
        const info = await storage.stat(path);
        if (info.type !== 'file') return reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
        await storage.setModifiedAt(path, date);
        return reply(ReplyCode.FileStatus, `Modify=${formatTimeVal(date)}; ${path}`);
      },
    }),
    command({
      // draft-peterson-streamlined-ftp-command-extensions s4: AVBL [path] -> 213 bytes that may be stored:
      // what is left of the user's quota, at most the storage's free space when it can tell. Like MFMT, FEAT
      // offers it before login (clients ask FEAT first) and, after login, when there is something to tell.
      verb: 'AVBL', argument: 'optional', syntax: pathArgument, permission: 'list', help: 'AVBL [<sp> pathname]',
      feat: ctx => (!ctx.user || canReportSpace(ctx.user.storage) || ctx.user.quota?.bytes !== undefined ? ['AVBL'] : []),
      async handler(ctx, path) {
        const storage = ctx.storage;
        const quotaLeft = await quotaBytesLeft(ctx) ?? Infinity;
        if (!canReportSpace(storage) && quotaLeft === Infinity) return reply(ReplyCode.CommandNotImplemented, 'Not supported by this storage');
        const info = await storage.stat(path);
        if (info.type !== 'dir') return reply(ReplyCode.FileUnavailable, `${path}: not a directory`);
        const free = canReportSpace(storage) ? Math.min(quotaLeft, await storage.availableBytes(path)) : quotaLeft;
        return reply(ReplyCode.FileStatus, String(free));
      },
    }),
  ],
};
