/**
 * File-system style operations built from plain FTP commands, for FtpClient: recursive MKD, recursive
 * RMD/DELE, SIZE/MDTM parsing, and stat() (MLST, RFC 3659 s7, or SIZE/MDTM/CWD on older servers).
 * They take the client session and run inside FtpClient's queue, never on their own.
 *
 * Bad input: a listing must not make rmdir -r act outside the tree ("..", "/", NUL in names are skipped).
 */
import { FtpProtocolError, FtpReplyError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { parseMlsxLine, parseMlsxTime } from '../protocol/listing-parse.js';
import type { FileEntry } from '../protocol/listing-types.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import { listEntries, stripFacts, type FolderHint } from './listings.js';
import { remoteChildPath, safeEntryName } from './remote-paths.js';
import type { ClientSession } from './session.js';

/** Deepest tree removeTree() descends into: a server listing a directory inside itself must not loop forever. */
const MAX_DEPTH = 64;

/** MKD each level; an existing level answers 550, so the end result is checked with CWD. */
export async function makeDirectories(session: ClientSession, path: string): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  let prefix = path.startsWith('/') ? '' : '.';
  let last: FtpResponse | undefined;
  for (const part of parts) {
    prefix = prefix === '.' ? part : `${prefix}/${part}`;
    last = await session.command(`MKD ${prefix}`);
  }
  if (last && (last.code === ReplyCode.PathCreated || last.code === ReplyCode.FileActionOk)) return;
  const here = await session.pwd();
  const r = await session.command(`CWD ${path}`);
  if (r.code !== ReplyCode.FileActionOk && r.code !== ReplyCode.Ok) {
    throw new FtpReplyError(last?.code ?? r.code, last?.message ?? r.message, `MKD ${path}`);
  }
  await session.expect(`CWD ${here}`, ReplyCode.FileActionOk, ReplyCode.Ok);
}

/**
 * Delete a directory and everything under it. The whole tree is listed first, then deleted depth first:
 * a listing that cannot be trusted (FtpEmptyListingError) stops it before anything is deleted, instead of
 * half-way.
 */
export async function removeTree(session: ClientSession, path: string): Promise<void> {
  const steps: string[] = [];
  await planRemoval(session, path, { mustExist: true }, 0, steps);
  for (const step of steps) await session.expect(step, ReplyCode.FileActionOk, ReplyCode.Ok);
}

/** Append the DELE/RMD commands that remove `path`, its content first. */
async function planRemoval(session: ClientSession, path: string, folder: FolderHint, depth: number, steps: string[]): Promise<void> {
  if (depth > MAX_DEPTH) throw new FtpProtocolError(`directory tree deeper than ${MAX_DEPTH} levels at ${path}`);
  for (const entry of await listEntries(session, path, folder)) {
    const name = safeEntryName(entry.name);
    if (name === undefined) {
      session.status(`skipping the listing entry ${JSON.stringify(entry.name)} in ${path}: not a plain name`);
      continue;
    }
    const child = remoteChildPath(path, name);
    if (entry.type === 'dir') await planRemoval(session, child, { links: entry.links }, depth + 1, steps);
    else steps.push(`DELE ${child}`);
  }
  steps.push(`RMD ${path}`);
}

function sizeFrom(r: FtpResponse): number {
  const n = Number(r.message.trim());
  if (!/^\s*\d+\s*$/.test(r.message) || !Number.isSafeInteger(n)) throw new FtpProtocolError(`unusable SIZE reply: ${r.message}`);
  return n;
}

/** SIZE (RFC 3659 s4) in TYPE I, where it is the exact byte count. */
export async function readSize(session: ClientSession, path: string): Promise<number> {
  await session.ensureType('I');
  return sizeFrom(await session.expect(`SIZE ${path}`, ReplyCode.FileStatus));
}

/** MDTM (RFC 3659 s3): UTC time-val. */
export async function readModifiedAt(session: ClientSession, path: string): Promise<Date> {
  const r = await session.expect(`MDTM ${path}`, ReplyCode.FileStatus);
  const d = parseMlsxTime(r.message.trim());
  if (!d) throw new FtpProtocolError(`unusable MDTM reply: ${r.message}`);
  return d;
}

export async function statPath(session: ClientSession, path: string): Promise<FileEntry> {
  const name = path.split('/').filter(Boolean).pop() ?? path;
  if (session.features.has('MLST')) {
    const r = await session.expect(`MLST ${path}`, ReplyCode.FileActionOk);
    // RFC 3659 s7.2: the entry is the second line, starting with a space.
    const line = r.lines.length > 1 ? r.lines[1] : r.lines[0];
    const entry = parseMlsxLine(line);
    if (!entry) throw new FtpProtocolError(`unusable MLST reply: ${JSON.stringify(line)}`);
    return { ...stripFacts(entry), name };
  }
  await session.ensureType('I');
  const sizeReply = await session.command(`SIZE ${path}`);
  if (sizeReply.code === ReplyCode.FileStatus) {
    const entry: FileEntry = { name, type: 'file', size: sizeFrom(sizeReply) };
    const m = await session.command(`MDTM ${path}`);
    const d = m.code === ReplyCode.FileStatus ? parseMlsxTime(m.message.trim()) : undefined;
    if (d) entry.modifiedAt = d;
    return entry;
  }
  // No SIZE for it: a directory if we can enter it (then return to where we were).
  const here = await session.pwd();
  const cwd = await session.command(`CWD ${path}`);
  if (cwd.code === ReplyCode.FileActionOk || cwd.code === ReplyCode.Ok) {
    await session.expect(`CWD ${here}`, ReplyCode.FileActionOk, ReplyCode.Ok);
    return { name, type: 'dir' };
  }
  throw new FtpReplyError(sizeReply.code, sizeReply.message, `SIZE ${path}`);
}
