/**
 * Listing commands: LIST NLST (RFC 959 s4.1.3), MLSD MLST (RFC 3659 s7), and STAT with a path.
 *
 * Owns: reading directory entries from storage and shaping them with protocol/listing-format.ts; the perm
 * fact computed from the user's permissions (RFC 3659 s7.5.5).
 */
import type { Readable } from 'node:stream';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { Reply } from '../../protocol/reply.js';
import {
  formatFactLine, formatListLine, formatMlstFeature, formatMlstOptsReply, formatNameLine, parseMlstOpts,
} from '../../protocol/listing-format.js';
import { baseName, joinPath, parentPath, resolvePath } from '../../protocol/paths.js';
import { compileWildcard, MAX_WILDCARD_LENGTH } from '../../protocol/wildcard.js';
import type { Permissions } from '../auth/types.js';
import { permissionsAt } from '../auth/path-permissions.js';
import { byName, chunksOf, sortedListChunks } from '../storage/listing-chunks.js';
import { canListChunks, type FileInfo, type ListingChunks } from '../storage/types.js';
import { storageErrorReply } from '../storage-replies.js';
import type { TransferRequest } from '../transfer.js';
import { listedDirectoryArgument, listingArgument, pathArgument, stripListFlags } from './arguments.js';
import { command } from './contract.js';
import { allEntries, listingSource } from './listing-source.js';
import type { CommandContext, CommandModule } from './contract.js';

/** RFC 3659 s7.5.5 perm fact for an entry, from what the user may do. */
export function permFact(info: Pick<FileInfo, 'type'>, p: Permissions): string {
  if (info.type === 'dir') {
    return 'e' + (p.list ? 'l' : '') + (p.write ? 'c' : '') + (p.mkdir ? 'm' : '') + (p.rmdir ? 'd' : '') + (p.rename ? 'f' : '');
  }
  return (p.append ? 'a' : '') + (p.delete ? 'd' : '') + (p.rename ? 'f' : '') + (p.read ? 'r' : '') + (p.write ? 'w' : '');
}

/** A directory's entries sorted by name, a chunk at a time where the storage can (issue 10). */
async function directoryChunks(ctx: CommandContext, path: string): Promise<ListingChunks> {
  const { storage } = ctx;
  return canListChunks(storage) ? storage.listChunks(path) : sortedListChunks(storage, path);
}

interface Entries { dir: boolean; glob: boolean; chunks: ListingChunks }

/**
 * Entries for LIST/NLST/STAT: the directory's children, or the file itself. When nothing has the given
 * name and its last segment holds "*" or "?", the parent directory's entries matching the pattern
 * (protocol/wildcard.ts: linear, never a regular expression). A pattern over the bound is answered 501.
 */
async function entriesOf(ctx: CommandContext, path: string): Promise<Entries | Reply> {
  let info: FileInfo;
  try {
    info = await ctx.storage.stat(path);
  } catch (err) {
    const pattern = compileWildcard(baseName(path));
    if (pattern.kind === 'literal') throw err;
    if (pattern.kind === 'too-long') {
      return reply(ReplyCode.SyntaxErrorInParameters,
        `Wildcard pattern too long: ${pattern.length} characters, at most ${MAX_WILDCARD_LENGTH}`);
    }
    const { wildcard } = pattern;
    const entries = (await ctx.storage.list(parentPath(path))).filter(e => wildcard.matches(e.name)).sort(byName);
    if (!entries.length) throw err;
    return { dir: false, glob: true, chunks: chunksOf(entries) };
  }
  if (info.type === 'dir') return { dir: true, glob: false, chunks: await directoryChunks(ctx, path) };
  return { dir: false, glob: false, chunks: chunksOf([info]) };
}

function isReply(x: Entries | Reply): x is Reply {
  return !('chunks' in x);
}

function listTransfer(path: string, source: Readable, what: string): TransferRequest {
  return {
    kind: 'transfer', direction: 'list', path, offset: 0, source, ascii: false,
    openingText: `Here comes the ${what}`, completeText: 'Directory send OK',
  };
}

/**
 * STAT <path> (RFC 959 s4.1.3): the LIST lines over the control connection, 212 for a directory, 213 a file.
 * Needs the list permission at the path (STAT is not behind the permission gate: without a path it is not
 * a listing).
 */
export async function statPath(ctx: CommandContext, arg: string): Promise<Reply> {
  const path = resolvePath(ctx.state.cwd, stripListFlags(arg));
  const user = ctx.user!;
  if (!permissionsAt(user, path).list) {
    return reply(ReplyCode.FileUnavailable, user.pathPermissions ? `${path}: Permission denied` : 'Permission denied');
  }
  try {
    const found = await entriesOf(ctx, path);
    if (isReply(found)) return found;
    const { dir } = found;
    const entries = await allEntries(found.chunks);
    const now = new Date();
    const code = dir ? ReplyCode.DirectoryStatus : ReplyCode.FileStatus;
    return reply(code, `Status of ${path}:`, ...entries.map(e => formatListLine(e, now)), 'End of status');
  } catch (err) {
    return storageErrorReply(err, path);
  }
}

export const listingCommands: CommandModule = {
  name: 'listing',
  commands: [
    command({
      verb: 'LIST', argument: 'optional', syntax: listingArgument, permission: 'list', transfer: true, help: 'LIST [<sp> pathname]',
      async handler(ctx, { path }) {
        const found = await entriesOf(ctx, path);
        if (isReply(found)) return found;
        const now = new Date();
        return listTransfer(path, listingSource(found.chunks, e => formatListLine(e, now)), 'directory listing');
      },
    }),
    command({
      verb: 'NLST', argument: 'optional', syntax: listingArgument, permission: 'list', transfer: true, help: 'NLST [<sp> pathname]',
      async handler(ctx, { path, given }) {
        const found = await entriesOf(ctx, path);
        if (isReply(found)) return found;
        const { dir, glob, chunks } = found;
        // A directory lists its entries' names; a file argument the name as the client gave it; a pattern
        // the matching names with the directory part the client gave, so they can be passed to RETR.
        const prefix = given.includes('/') ? given.slice(0, given.lastIndexOf('/') + 1) : '';
        const source = dir ? listingSource(chunks, e => formatNameLine(e.name))
          : glob ? listingSource(chunks, e => formatNameLine(prefix + e.name)) : listingSource(chunksOf([]), String, [formatNameLine(given)]);
        return listTransfer(path, source, 'name list');
      },
    }),
    command({
      verb: 'MLSD', argument: 'optional', syntax: listedDirectoryArgument, permission: 'list', transfer: true, help: 'MLSD [<sp> pathname]',
      async handler(ctx, path) {
        const info = await ctx.storage.stat(path);
        // RFC 3659 s7.2.1: MLSD of something that is not a directory is answered 501.
        if (info.type !== 'dir') return reply(ReplyCode.SyntaxErrorInParameters, `${path}: not a directory`);
        const chunks = await directoryChunks(ctx, path);
        const user = ctx.user!;
        const facts = ctx.state.mlstFacts;
        const head = formatFactLine(info, { facts, typeOverride: 'cdir', perm: permFact(info, permissionsAt(user, path)), name: '.' });
        // With per-path rules an entry may sit under another rule than its folder (a mount point): asked per
        // entry. Without, every folder gets the same perm fact and every other entry too: made once.
        const { pathPermissions } = user;
        const dirPerm = permFact({ type: 'dir' }, user.permissions);
        const otherPerm = permFact({ type: 'file' }, user.permissions);
        const permOf = pathPermissions ? (e: FileInfo) => permFact(e, permissionsAt(user, joinPath(path, e.name)))
          : (e: FileInfo) => (e.type === 'dir' ? dirPerm : otherPerm);
        return listTransfer(path, listingSource(chunks, e => formatFactLine(e, { facts, perm: permOf(e), name: e.name }), [head]), 'MLSD listing');
      },
    }),
    command({
      verb: 'MLST', argument: 'optional', syntax: pathArgument, permission: 'list', help: 'MLST [<sp> pathname]',
      feat: ctx => [formatMlstFeature(ctx.state.mlstFacts)],
      // RFC 3659 s7.9: select the facts sent by MLST and MLSD.
      opts(ctx, value) {
        ctx.state.mlstFacts = parseMlstOpts(value);
        return reply(ReplyCode.Ok, formatMlstOptsReply(ctx.state.mlstFacts));
      },
      async handler(ctx, path) {
        const info = await ctx.storage.stat(path);
        // RFC 3659 s7.2: the fact line goes on the control connection, starting with one space.
        const line = formatFactLine(info, { facts: ctx.state.mlstFacts, perm: permFact(info, permissionsAt(ctx.user!, path)), name: path });
        return reply(ReplyCode.FileActionOk, `Listing ${path}`, ` ${line}`, 'End');
      },
    }),
  ],
};
