/**
 * Working-directory commands: CWD CDUP PWD and their RFC 775 X-aliases (XCWD XCUP XPWD).
 *
 * Owns: moving the session's virtual working directory. Paths are resolved by protocol/paths.ts, so a
 * CWD can never leave the user's root ("CWD ../../.." stays at "/").
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { quotePath, reply } from '../../protocol/reply.js';
import { parentPath } from '../../protocol/paths.js';
import type { CommandModule } from '../command-table.js';
import { storageErrorReply } from '../storage-replies.js';

export const navigationCommands: CommandModule = {
  name: 'navigation',
  commands: [
    {
      verb: 'CWD', aliases: ['XCWD'], argument: 'required', help: 'CWD <sp> pathname',
      async handler(s, arg) {
        const path = s.resolve(arg);
        try {
          const info = await s.storage.stat(path);
          if (info.type !== 'dir') return reply(ReplyCode.FileUnavailable, `${path}: Not a directory`);
        } catch (err) {
          return storageErrorReply(err, path);
        }
        s.cwd = path;
        return reply(ReplyCode.FileActionOk, `Directory changed to ${path}`);
      },
    },
    {
      verb: 'CDUP', aliases: ['XCUP'], argument: 'none', help: 'CDUP (change to parent directory)',
      handler(s) {
        s.cwd = parentPath(s.cwd);
        // RFC 959 s5.4 lists 200 for CDUP; 250 is what most servers send and every client accepts (2xx).
        return reply(ReplyCode.FileActionOk, `Directory changed to ${s.cwd}`);
      },
    },
    {
      verb: 'PWD', aliases: ['XPWD'], argument: 'none', help: 'PWD (print working directory)',
      handler: s => reply(ReplyCode.PathCreated, `${quotePath(s.cwd)} is the current directory`),
    },
  ],
};
