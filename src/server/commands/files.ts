/**
 * File and directory management commands: MKD RMD DELE RNFR RNTO (RFC 959 s4.1.3), SIZE MDTM (RFC 3659
 * s4, s3), MFMT (draft-somers-ftp-mfxx), AVBL (draft-peterson-streamlined-ftp-command-extensions), with the
 * X-aliases XMKD XRMD (RFC 775).
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { quotePath, reply } from '../../protocol/reply.js';
import { formatTimeVal, parseTimeVal } from '../../protocol/listing-format.js';
import type { CommandModule } from '../command-table.js';
import { canReportSpace, canSetModifiedTime } from '../storage/types.js';
import { storageErrorReply } from '../storage-replies.js';
import { crlfSize } from '../data/ascii.js';

/** Largest file whose TYPE A size SIZE counts (a full read): 16 MiB, a fraction of a second. */
const ASCII_SIZE_LIMIT = 16 * 1024 * 1024;

export const fileCommands: CommandModule = {
  name: 'files',
  commands: [
    {
      verb: 'MKD', aliases: ['XMKD'], argument: 'required', permission: 'mkdir', help: 'MKD <sp> pathname',
      async handler(s, arg) {
        const path = s.resolve(arg);
        try { await s.storage.mkdir(path); } catch (err) { return storageErrorReply(err, path); }
        // RFC 959 s7: 257 with the quoted path, embedded quotes doubled.
        return reply(ReplyCode.PathCreated, `${quotePath(path)} created`);
      },
    },
    {
      verb: 'RMD', aliases: ['XRMD'], argument: 'required', permission: 'rmdir', help: 'RMD <sp> pathname',
      async handler(s, arg) {
        const path = s.resolve(arg);
        if (path === '/') return reply(ReplyCode.FileUnavailable, 'Permission denied');
        try { await s.storage.rmdir(path); } catch (err) { return storageErrorReply(err, path); }
        return reply(ReplyCode.FileActionOk, 'Directory removed');
      },
    },
    {
      verb: 'DELE', argument: 'required', permission: 'delete', help: 'DELE <sp> pathname',
      async handler(s, arg) {
        const path = s.resolve(arg);
        try { await s.storage.delete(path); } catch (err) { return storageErrorReply(err, path); }
        return reply(ReplyCode.FileActionOk, 'File deleted');
      },
    },
    {
      verb: 'RNFR', argument: 'required', permission: 'rename', help: 'RNFR <sp> pathname',
      async handler(s, arg) {
        const path = s.resolve(arg);
        if (path === '/') return reply(ReplyCode.FileUnavailable, 'Permission denied');
        try { await s.storage.stat(path); } catch (err) { return storageErrorReply(err, path); }
        s.renameFrom = path;
        return reply(ReplyCode.PendingFurtherInformation, 'Ready for RNTO');
      },
    },
    {
      verb: 'RNTO', argument: 'required', permission: 'rename', help: 'RNTO <sp> pathname',
      async handler(s, arg) {
        const from = s.renameFrom;
        if (from === undefined) return reply(ReplyCode.BadSequence, 'RNFR required first');
        const to = s.resolve(arg);
        if (to === '/') return reply(ReplyCode.FileNameNotAllowed, 'File name not allowed');
        try { await s.storage.rename(from, to); } catch (err) { return storageErrorReply(err, to); }
        return reply(ReplyCode.FileActionOk, 'Rename successful');
      },
    },
    {
      // RFC 3659 s4: the size is the number of octets a RETR in the current TYPE would send. In TYPE A
      // that means reading the file to count line ends: done up to ASCII_SIZE_LIMIT, refused above it (550,
      // as proftpd does) rather than answering a number the transfer would not match.
      verb: 'SIZE', argument: 'required', permission: 'list', help: 'SIZE <sp> pathname', feat: ['SIZE'],
      async handler(s, arg) {
        const path = s.resolve(arg);
        try {
          const info = await s.storage.stat(path);
          if (info.type !== 'file') return reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
          if (s.type !== 'A') return reply(ReplyCode.FileStatus, String(info.size));
          if (info.size > ASCII_SIZE_LIMIT) {
            return reply(ReplyCode.FileUnavailable, `${path}: SIZE in ASCII mode is only counted up to ${ASCII_SIZE_LIMIT} bytes; send TYPE I first`);
          }
          return reply(ReplyCode.FileStatus, String(await crlfSize(await s.storage.openRead(path))));
        } catch (err) { return storageErrorReply(err, path); }
      },
    },
    {
      verb: 'MDTM', argument: 'required', permission: 'list', help: 'MDTM <sp> pathname', feat: ['MDTM'],
      async handler(s, arg) {
        const path = s.resolve(arg);
        try {
          const info = await s.storage.stat(path);
          if (info.type !== 'file') return reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
          return reply(ReplyCode.FileStatus, formatTimeVal(info.modifiedAt)); // RFC 3659 s3.2: UTC time-val
        } catch (err) { return storageErrorReply(err, path); }
      },
    },
    {
      verb: 'MFMT', argument: 'required', permission: 'chmod', help: 'MFMT <sp> YYYYMMDDHHMMSS <sp> pathname',
      // Offered unless the logged-in user's storage cannot set times (before login we cannot know yet).
      feat: s => (!s.user || canSetModifiedTime(s.user.storage) ? ['MFMT'] : []),
      async handler(s, arg) {
        const m = /^(\S+) (.+)$/.exec(arg);
        const date = m ? parseTimeVal(m[1]) : undefined;
        if (!m || !date) return reply(ReplyCode.SyntaxErrorInParameters, 'Usage: MFMT YYYYMMDDHHMMSS path');
        const storage = s.storage;
        if (!canSetModifiedTime(storage)) return reply(ReplyCode.CommandNotImplemented, 'Not supported by this storage');
        const path = s.resolve(m[2]);
        try {
          const info = await storage.stat(path);
          if (info.type !== 'file') return reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
          await storage.setModifiedAt(path, date);
        } catch (err) { return storageErrorReply(err, path); }
        return reply(ReplyCode.FileStatus, `Modify=${formatTimeVal(date)}; ${path}`);
      },
    },
    {
      // draft-peterson-streamlined-ftp-command-extensions s4: AVBL [path] -> 213 free bytes. Like MFMT, FEAT
      // offers it before login (clients ask FEAT first) and, after login, when the user's storage can tell.
      verb: 'AVBL', argument: 'optional', permission: 'list', help: 'AVBL [<sp> pathname]',
      feat: s => (!s.user || canReportSpace(s.user.storage) ? ['AVBL'] : []),
      async handler(s, arg) {
        const storage = s.storage;
        if (!canReportSpace(storage)) return reply(ReplyCode.CommandNotImplemented, 'Not supported by this storage');
        const path = s.resolve(arg);
        try {
          const info = await storage.stat(path);
          if (info.type !== 'dir') return reply(ReplyCode.FileUnavailable, `${path}: not a directory`);
          return reply(ReplyCode.FileStatus, String(await storage.availableBytes(path)));
        } catch (err) { return storageErrorReply(err, path); }
      },
    },
  ],
};
