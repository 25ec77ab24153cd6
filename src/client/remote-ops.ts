/**
 * File-system style operations built from plain FTP commands, for FtpClient: recursive MKD, recursive
 * RMD/DELE, SIZE/MDTM parsing, and stat() (MLST, RFC 3659 s7, or SIZE/MDTM/CWD on older servers).
 * They run inside the client's queue through RemoteOps, never on their own.
 *
 * Bad input: a listing must not make rmdir -r act outside the tree ("..", "/", NUL in names are skipped).
 */
import { FtpProtocolError, FtpReplyError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { parseMlsxLine, parseMlsxTime } from '../protocol/listing-parse.js';
import type { FileEntry } from '../protocol/listing-types.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import { remoteChildPath, safeEntryName } from './remote-paths.js';

export interface RemoteOps {
  readonly features: Map<string, string>;
  command(line: string): Promise<FtpResponse>;
  expect(line: string, ...codes: number[]): Promise<FtpResponse>;
  pwd(): Promise<string>;
  list(path: string): Promise<FileEntry[]>;
  ensureType(t: 'A' | 'I'): Promise<void>;
  status(text: string): void;
}

/** Deepest tree removeTree() descends into: a server listing a directory inside itself must not loop forever. */
const MAX_DEPTH = 64;

/** MKD each level; an existing level answers 550, so the end result is checked with CWD. */
export async function makeDirectories(ops: RemoteOps, path: string): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  let prefix = path.startsWith('/') ? '' : '.';
  let last: FtpResponse | undefined;
  for (const part of parts) {
    prefix = prefix === '.' ? part : `${prefix}/${part}`;
    last = await ops.command(`MKD ${prefix}`);
  }
  if (last && (last.code === ReplyCode.PathCreated || last.code === ReplyCode.FileActionOk)) return;
  const here = await ops.pwd();
  const r = await ops.command(`CWD ${path}`);
  if (r.code !== ReplyCode.FileActionOk && r.code !== ReplyCode.Ok) {
    throw new FtpReplyError(last?.code ?? r.code, last?.message ?? r.message, `MKD ${path}`);
  }
  await ops.expect(`CWD ${here}`, ReplyCode.FileActionOk, ReplyCode.Ok);
}

/** Delete a directory and everything under it (depth first). */
export async function removeTree(ops: RemoteOps, path: string, depth = 0): Promise<void> {
  if (depth > MAX_DEPTH) throw new FtpProtocolError(`directory tree deeper than ${MAX_DEPTH} levels at ${path}`);
  for (const entry of await ops.list(path)) {
    const name = safeEntryName(entry.name);
    if (name === undefined) {
      ops.status(`skipping the listing entry ${JSON.stringify(entry.name)} in ${path}: not a plain name`);
      continue;
    }
    const child = remoteChildPath(path, name);
    if (entry.type === 'dir') await removeTree(ops, child, depth + 1);
    else await ops.expect(`DELE ${child}`, ReplyCode.FileActionOk, ReplyCode.Ok);
  }
  await ops.expect(`RMD ${path}`, ReplyCode.FileActionOk, ReplyCode.Ok);
}

function sizeFrom(r: FtpResponse): number {
  const n = Number(r.message.trim());
  if (!/^\s*\d+\s*$/.test(r.message) || !Number.isSafeInteger(n)) throw new FtpProtocolError(`unusable SIZE reply: ${r.message}`);
  return n;
}

/** SIZE (RFC 3659 s4) in TYPE I, where it is the exact byte count. */
export async function readSize(ops: RemoteOps, path: string): Promise<number> {
  await ops.ensureType('I');
  return sizeFrom(await ops.expect(`SIZE ${path}`, ReplyCode.FileStatus));
}

/** MDTM (RFC 3659 s3): UTC time-val. */
export async function readModifiedAt(ops: RemoteOps, path: string): Promise<Date> {
  const r = await ops.expect(`MDTM ${path}`, ReplyCode.FileStatus);
  const d = parseMlsxTime(r.message.trim());
  if (!d) throw new FtpProtocolError(`unusable MDTM reply: ${r.message}`);
  return d;
}

export async function statPath(ops: RemoteOps, path: string): Promise<FileEntry> {
  const name = path.split('/').filter(Boolean).pop() ?? path;
  if (ops.features.has('MLST')) {
    const r = await ops.expect(`MLST ${path}`, ReplyCode.FileActionOk);
    // RFC 3659 s7.2: the entry is the second line, starting with a space.
    const line = r.lines.length > 1 ? r.lines[1] : r.lines[0];
    const entry = parseMlsxLine(line);
    if (!entry) throw new FtpProtocolError(`unusable MLST reply: ${JSON.stringify(line)}`);
    return { ...stripFacts(entry), name };
  }
  await ops.ensureType('I');
  const sizeReply = await ops.command(`SIZE ${path}`);
  if (sizeReply.code === ReplyCode.FileStatus) {
    const entry: FileEntry = { name, type: 'file', size: sizeFrom(sizeReply) };
    const m = await ops.command(`MDTM ${path}`);
    const d = m.code === ReplyCode.FileStatus ? parseMlsxTime(m.message.trim()) : undefined;
    if (d) entry.modifiedAt = d;
    return entry;
  }
  // No SIZE for it: a directory if we can enter it (then return to where we were).
  const here = await ops.pwd();
  const cwd = await ops.command(`CWD ${path}`);
  if (cwd.code === ReplyCode.FileActionOk || cwd.code === ReplyCode.Ok) {
    await ops.expect(`CWD ${here}`, ReplyCode.FileActionOk, ReplyCode.Ok);
    return { name, type: 'dir' };
  }
  throw new FtpReplyError(sizeReply.code, sizeReply.message, `SIZE ${path}`);
}

/** MlsxEntry -> FileEntry (drop parser-only fields). */
export function stripFacts(e: FileEntry & { facts?: unknown; mlsxType?: unknown }): FileEntry {
  const { facts: _f, mlsxType: _m, ...rest } = e;
  return rest;
}
