/**
 * Informational commands: NOOP SYST HELP STAT (RFC 959 s4.1.3), FEAT (RFC 2389 s3), OPTS (RFC 2389 s4;
 * OPTS UTF8 per RFC 2640 s3.1 practice; OPTS for a command goes to that command's row, e.g. MLST).
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import { command } from './contract.js';
import type { CommandContext, CommandModule } from './contract.js';
import { statPath } from './listing.js';
import { quotaStatusLines } from '../quota/report.js';
import { modeLabel } from '../transfer-modes.js';

/** FEAT lines from every row of the table (so FEAT lists exactly what is implemented), plus protocol-wide ones. */
export function featureLines(ctx: CommandContext): string[] {
  const lines = new Set<string>();
  for (const spec of ctx.services.commands.specs) {
    const f = typeof spec.feat === 'function' ? spec.feat(ctx) : spec.feat;
    for (const l of f ?? []) lines.add(l);
  }
  // Not tied to one command: TVFS (RFC 3659 s6, "/"-separated virtual paths) and UTF8 (RFC 2640 s3.2).
  lines.add('TVFS');
  lines.add('UTF8');
  return [...lines].sort();
}

function transferStatus(ctx: CommandContext): string[] {
  const t = ctx.transfer;
  if (!t) return [];
  const secs = ((Date.now() - t.startedAt) / 1000).toFixed(1);
  return [`${t.direction} of ${t.path} in progress: ${t.bytes} bytes in ${secs} s (${t.dataMode})`];
}

export const infoCommands: CommandModule = {
  name: 'info',
  commands: [
    command({
      verb: 'NOOP', needsLogin: false, argument: 'optional', duringTransfer: true, help: 'NOOP',
      handler: () => reply(ReplyCode.Ok, 'NOOP ok'),
    }),
    command({
      // RFC 959 s4.1.3 / the assigned-numbers system names: "UNIX Type: L8" is what clients expect.
      verb: 'SYST', needsLogin: false, argument: 'none', help: 'SYST (system type)',
      handler: () => reply(ReplyCode.SystemType, 'UNIX Type: L8'),
    }),
    command({
      verb: 'FEAT', needsLogin: false, argument: 'none', help: 'FEAT (list extensions)',
      // RFC 2389 s3.2: each feature line starts with a single space.
      handler: ctx => reply(ReplyCode.SystemStatus, 'Features:', ...featureLines(ctx).map(l => ` ${l}`), 'End'),
    }),
    command({
      verb: 'OPTS', needsLogin: false, argument: 'required', help: 'OPTS <sp> UTF8 ON | MLST facts | HASH algorithm',
      handler(ctx, arg) {
        const m = /^(\S+)(?: (.*))?$/.exec(arg.trim());
        const name = m?.[1]?.toUpperCase();
        const value = m?.[2] ?? '';
        if (name === 'UTF8' || name === 'UTF-8') {
          // RFC 2640: we always speak UTF-8 (with a Latin-1 fallback for invalid bytes), so ON and OFF are fine.
          if (/^(on|off|)$/i.test(value.trim())) return reply(ReplyCode.Ok, 'Always in UTF8 mode');
          return reply(ReplyCode.SyntaxErrorInParameters, 'Usage: OPTS UTF8 ON');
        }
        // RFC 2389 s4: "OPTS command-name options" goes to that command's row.
        const spec = name ? ctx.services.commands.lookup(name) : undefined;
        if (spec?.opts) return spec.opts(ctx, value);
        return reply(ReplyCode.SyntaxErrorInParameters, `Option ${name ?? ''} not understood`);
      },
    }),
    command({
      verb: 'HELP', needsLogin: false, argument: 'optional', help: 'HELP [<sp> command]',
      handler(ctx, arg) {
        // "HELP SITE CHMOD": the first word names the command; its help line covers the subcommands.
        const verb = arg.trim().toUpperCase().split(/\s+/)[0] ?? '';
        const table = ctx.services.commands;
        if (verb) {
          const spec = table.lookup(verb);
          if (!spec) return reply(ReplyCode.CommandNotImplemented, `Unknown command ${arg.trim().toUpperCase()}`);
          return reply(ReplyCode.HelpMessage, `Syntax: ${spec.help}`);
        }
        const verbs = table.verbs().sort();
        const rows: string[] = [];
        for (let i = 0; i < verbs.length; i += 8) rows.push(' ' + verbs.slice(i, i + 8).map(v => v.padEnd(5)).join(' ').trimEnd());
        return reply(ReplyCode.HelpMessage, 'The following commands are recognized:', ...rows, 'Help OK');
      },
    }),
    command({
      // RFC 959 s4.1.3: no argument -> server/transfer status (also during a transfer); a path -> LIST
      // lines over the control connection.
      verb: 'STAT', needsLogin: false, argument: 'optional', duringTransfer: true, help: 'STAT [<sp> pathname]',
      async handler(ctx, arg) {
        const { user } = ctx;
        if (arg.trim()) {
          if (!user) return reply(ReplyCode.NotLoggedIn, 'Please login with USER and PASS');
          return statPath(ctx, arg);
        }
        if (ctx.transfer) return reply(ReplyCode.FileStatus, 'Status:', ...transferStatus(ctx), 'End of status');
        const lines = [
          `Connected from ${ctx.connection.remoteAddress}`,
          user ? `Logged in as ${user.name}` : 'Not logged in',
          `TYPE: ${ctx.state.type === 'A' ? 'ASCII' : 'BINARY'}, STRUcture: File, MODE: ${modeLabel(ctx.state.mode)}`,
          `Data connection: ${ctx.dataChannel.prepared ? 'prepared' : 'none'}`,
          ...quotaStatusLines(ctx),
        ];
        return reply(ReplyCode.SystemStatus, 'ftpkit FTP server status:', ...lines, 'End of status');
      },
    }),
  ],
};
