/**
 * Working-directory commands: CWD CDUP PWD and their RFC 775 X-aliases (XCWD XCUP XPWD).
 *
 * Owns: moving the session's virtual working directory. Paths are resolved by protocol/paths.ts, so a
 * CWD can never leave the user's root ("CWD ../../.." stays at "/").
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { quotePath, reply } from '../../protocol/reply.js';
import { parentPath } from '../../protocol/paths.js';
import { pathArgument } from './arguments.js';
import { command } from './contract.js';
import type { CommandModule } from './contract.js';

export const navigationCommands: CommandModule = {
  name: 'navigation',
  commands: [
    command({
      verb: 'CWD', aliases: ['XCWD'], argument: 'required', syntax: pathArgument, help: 'CWD <sp> pathname',
      async handler(ctx, path) {
        const info = await ctx.storage.stat(path);
        if (info.type !== 'dir') return reply(ReplyCode.FileUnavailable, `${path}: Not a directory`);
        ctx.state.cwd = path;
        return reply(ReplyCode.FileActionOk, `Directory changed to ${path}`);
      },
    }),
    command({
      verb: 'CDUP', aliases: ['XCUP'], argument: 'none', help: 'CDUP (change to parent directory)',
      handler(ctx) {
        ctx.state.cwd = parentPath(ctx.state.cwd);
        // RFC 959 s5.4 lists 200 for CDUP; 250 is what most servers send and every client accepts (2xx).
        return reply(ReplyCode.FileActionOk, `Directory changed to ${ctx.state.cwd}`);
      },
    }),
    command({
      verb: 'PWD', aliases: ['XPWD'], argument: 'none', help: 'PWD (print working directory)',
      handler: ctx => reply(ReplyCode.PathCreated, `${quotePath(ctx.state.cwd)} is the current directory`),
    }),
  ],
};
