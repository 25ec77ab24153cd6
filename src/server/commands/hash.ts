/**
 * HASH (draft-bryan-ftpext-hash-02): the digest of a file computed on the server, so a client can verify a
 * transfer without downloading the file again. OPTS HASH selects the algorithm for the session.
 *
 * Owns: streaming a file from storage through node:crypto. Works with any Storage (it only needs openRead);
 * ranges (RANG) are not implemented.
 */
import { createHash } from 'node:crypto';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { HashAlgorithm } from '../session/state.js';
import { pathArgument } from './arguments.js';
import { command } from './contract.js';
import type { CommandModule } from './contract.js';

/** Algorithm names as the draft spells them, mapped to node:crypto names. */
const ALGORITHMS: Record<HashAlgorithm, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512', MD5: 'md5' };

function isAlgorithm(name: string): name is HashAlgorithm {
  return Object.hasOwn(ALGORITHMS, name);
}

export const hashCommands: CommandModule = {
  name: 'hash',
  commands: [
    command({
      verb: 'HASH', argument: 'required', syntax: pathArgument, permission: 'read', help: 'HASH <sp> pathname',
      // draft s3.3: the FEAT line lists the algorithms, the selected one marked with "*".
      feat: ctx => ['HASH ' + Object.keys(ALGORITHMS).map(a => (a === ctx.state.hashAlgorithm ? `${a}*` : a)).join(';')],
      opts(ctx, value) {
        const want = value.trim().toUpperCase();
        if (!want) return reply(ReplyCode.Ok, ctx.state.hashAlgorithm);
        if (!isAlgorithm(want)) return reply(ReplyCode.SyntaxErrorInParameters, `Unknown algorithm, use one of ${Object.keys(ALGORITHMS).join(', ')}`);
        ctx.state.hashAlgorithm = want;
        return reply(ReplyCode.Ok, want);
      },
      async handler(ctx, path) {
        const algorithm = ctx.state.hashAlgorithm;
        const info = await ctx.storage.stat(path);
        if (info.type !== 'file') return reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
        const hash = createHash(ALGORITHMS[algorithm]);
        let size = 0;
        for await (const chunk of await ctx.storage.openRead(path)) {
          hash.update(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
        // draft s3.1: "213 <algorithm> <start>-<end> <hash> <pathname>", end = last byte included.
        return reply(ReplyCode.FileStatus, `${algorithm} 0-${Math.max(0, size - 1)} ${hash.digest('hex')} ${path}`);
      },
    }),
  ],
};
