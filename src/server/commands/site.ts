/**
 * SITE subcommands (RFC 959 s4.1.3): CHMOD and HELP.
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { CommandModule } from '../command-table.js';
import { canChmod } from '../storage/types.js';
import { storageErrorReply } from '../storage-replies.js';

export const siteCommands: CommandModule = {
  name: 'site',
  commands: [
    {
      verb: 'SITE', argument: 'required', help: 'SITE <sp> CHMOD <sp> mode <sp> pathname | HELP',
      async handler(s, arg) {
        const m = /^(\S+)(?: (.*))?$/.exec(arg.trim());
        const sub = m?.[1]?.toUpperCase();
        if (sub === 'HELP') return reply(ReplyCode.HelpMessage, 'SITE commands: CHMOD HELP');
        if (sub === 'CHMOD') {
          if (!s.user!.permissions.chmod) return reply(ReplyCode.FileUnavailable, 'Permission denied');
          const p = /^([0-7]{1,4}) (.+)$/.exec(m?.[2] ?? '');
          if (!p) return reply(ReplyCode.SyntaxErrorInParameters, 'Usage: SITE CHMOD <octal mode> <path>');
          const storage = s.storage;
          if (!canChmod(storage)) return reply(ReplyCode.CommandNotImplemented, 'Not supported by this storage');
          const path = s.resolve(p[2]);
          try { await storage.chmod(path, parseInt(p[1], 8)); } catch (err) { return storageErrorReply(err, path); }
          return reply(ReplyCode.Ok, 'SITE CHMOD command ok');
        }
        return reply(ReplyCode.SyntaxError, `Unknown SITE command ${sub ?? ''}`.trim());
      },
    },
  ],
};
