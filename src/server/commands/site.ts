/**
 * SITE subcommands (RFC 959 s4.1.3): CHMOD, QUOTA (the user's quota and its use, as proftpd's
 * mod_quotatab answers it) and HELP.
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import { canChmod } from '../storage/types.js';
import { permissionsAt } from '../auth/path-permissions.js';
import { quotaStatusLines } from '../quota/report.js';
import { siteArgument } from './arguments.js';
import { command } from './contract.js';
import type { CommandModule } from './contract.js';

export const siteCommands: CommandModule = {
  name: 'site',
  commands: [
    command({
      verb: 'SITE', argument: 'required', syntax: siteArgument, help: 'SITE <sp> CHMOD <sp> mode <sp> pathname | QUOTA | HELP',
      async handler(ctx, site) {
        if (site.kind === 'help') return reply(ReplyCode.HelpMessage, 'SITE commands: CHMOD QUOTA HELP');
        if (site.kind === 'quota') {
          // Measured first (the first scan may still run), so the figures are the current ones.
          await ctx.services.quotas.measured(ctx.user);
          const lines = quotaStatusLines(ctx);
          return lines.length ? reply(ReplyCode.Ok, ...lines) : reply(ReplyCode.Ok, 'No quota for this user');
        }
        if (site.kind === 'unknown') return reply(ReplyCode.SyntaxError, `Unknown SITE command ${site.name}`.trim());
        if (!permissionsAt(ctx.user!, site.target?.path ?? ctx.state.cwd).chmod) return reply(ReplyCode.FileUnavailable, 'Permission denied');
        if (!site.target) return reply(ReplyCode.SyntaxErrorInParameters, 'Usage: SITE CHMOD <octal mode> <path>');
        const storage = ctx.storage;
        if (!canChmod(storage)) return reply(ReplyCode.CommandNotImplemented, 'Not supported by this storage');
        await storage.chmod(site.target.path, site.target.mode);
        return reply(ReplyCode.Ok, 'SITE CHMOD command ok');
      },
    }),
  ],
};
