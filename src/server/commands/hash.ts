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
import type { CommandModule } from '../command-table.js';
import type { Session } from '../session.js';
import { storageErrorReply } from '../storage-replies.js';

/** Algorithm names as the draft spells them, mapped to node:crypto names. */
const ALGORITHMS: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512', MD5: 'md5' };
const DEFAULT_ALGORITHM = 'SHA-256';
const EXT_KEY = 'hash.algorithm';

function selected(s: Session): string {
  return (s.ext.get(EXT_KEY) as string | undefined) ?? DEFAULT_ALGORITHM;
}

export const hashCommands: CommandModule = {
  name: 'hash',
  commands: [
    {
      verb: 'HASH', argument: 'required', permission: 'read', help: 'HASH <sp> pathname',
      // draft s3.3: the FEAT line lists the algorithms, the selected one marked with "*".
      feat: s => ['HASH ' + Object.keys(ALGORITHMS).map(a => (a === selected(s) ? `${a}*` : a)).join(';')],
      opts(s, value) {
        const want = value.trim().toUpperCase();
        if (!want) return reply(ReplyCode.Ok, selected(s));
        if (!Object.hasOwn(ALGORITHMS, want)) return reply(ReplyCode.SyntaxErrorInParameters, `Unknown algorithm, use one of ${Object.keys(ALGORITHMS).join(', ')}`);
        s.ext.set(EXT_KEY, want);
        return reply(ReplyCode.Ok, want);
      },
      async handler(s, arg) {
        const path = s.resolve(arg);
        const algorithm = selected(s);
        try {
          const info = await s.storage.stat(path);
          if (info.type !== 'file') return reply(ReplyCode.FileUnavailable, `${path}: not a regular file`);
          const hash = createHash(ALGORITHMS[algorithm]);
          let size = 0;
          for await (const chunk of await s.storage.openRead(path)) {
            hash.update(chunk as Buffer);
            size += (chunk as Buffer).length;
          }
          // draft s3.1: "213 <algorithm> <start>-<end> <hash> <pathname>", end = last byte included.
          return reply(ReplyCode.FileStatus, `${algorithm} 0-${Math.max(0, size - 1)} ${hash.digest('hex')} ${path}`);
        } catch (err) {
          return storageErrorReply(err, path);
        }
      },
    },
  ],
};
