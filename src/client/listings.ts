/**
 * Directory listings on a session: MLSD when FEAT offers MLST (RFC 3659 s7), else LIST parsed (Unix, DOS/IIS,
 * EPLF); NLST for names only (RFC 959 s4.1.3). Bodies are collected in memory, bounded.
 */
import { FtpEmptyListingError, FtpReplyError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { parseListingDetailed, parseMlsd } from '../protocol/listing-parse.js';
import type { FileEntry } from '../protocol/listing-types.js';
import { collectListing } from './remote-paths.js';
import { runTransfer } from './run-transfer.js';
import type { ClientSession } from './session.js';

/** Largest listing accepted into memory: a server must not make the client buffer without end. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;

/** Replies to MLSD that mean "not here" although FEAT lists MLST: LIST is used for the rest of the session. */
const MLSD_REFUSED = new Set([500, 502, 504]);

/**
 * What a tree operation knows of a folder it lists. Given, an empty listing is checked: listed once more
 * from inside the folder (CWD, then the listing without an argument), and still empty while the parent's
 * `ls -l` link count shows subfolders it is an FtpEmptyListingError, never an empty folder.
 */
export interface FolderHint {
  /** The link count of the folder's line in its parent's listing (FileEntry.links). */
  links?: number;
  /**
   * The folder must exist (the root of a tree operation): when it cannot be entered, that reply is the
   * error. Some servers (vsftpd) answer LIST of a missing folder with an empty listing and 226. Without
   * it, a folder its parent listed but that cannot be entered (no permission) keeps its empty listing.
   */
  mustExist?: boolean;
}

export async function listEntries(session: ClientSession, path?: string, folder?: FolderHint): Promise<FileEntry[]> {
  const entries = await listOnce(session, path, false);
  if (entries.length > 0 || !folder || path === undefined) return entries;
  let again = entries;
  if (!/\s/.test(path)) { // with white space it was listed from inside already
    session.status(`${path}: empty listing; listing it again from inside (CWD, then the listing without an argument)`);
    try {
      again = await listOnce(session, path, true);
    } catch (e) {
      const notEntered = e instanceof FtpReplyError && e.command?.startsWith('CWD ') && e.replyCode >= 500;
      if (!notEntered || folder.mustExist) throw e;
    }
  }
  const links = folder.links ?? 0;
  if (again.length === 0 && links > 2) {
    throw new FtpEmptyListingError(path, `its line in the parent's listing has ${links} links, so it holds ${links - 2} folder(s)`);
  }
  return again;
}

/** One listing: MLSD when offered, else LIST; `inside`: enter the folder and list without an argument. */
async function listOnce(session: ClientSession, path: string | undefined, inside: boolean): Promise<FileEntry[]> {
  if (session.features.has('MLST') && !session.memory.mlsdRefused) {
    try {
      const text = path && inside ? await listInside(session, path, 'MLSD')
        : await transferText(session, path ? `MLSD ${path}` : 'MLSD', path ?? '.');
      return parseMlsd(text).map(stripFacts);
    } catch (e) {
      if (!(e instanceof FtpReplyError) || !MLSD_REFUSED.has(e.replyCode)) throw e;
      session.memory.mlsdRefused = true;
      session.events.fallback({ from: 'MLSD', to: 'LIST', reason: 'refused', replyCode: e.replyCode });
    }
  }
  const text = path && (inside || /\s/.test(path)) ? await listInside(session, path, 'LIST')
    : await transferText(session, path ? `LIST ${path}` : 'LIST', path ?? '.');
  const { entries, unparsed } = parseListingDetailed(text);
  // Said in the transcript (-v), so a listing that looks short has a visible reason.
  if (unparsed.length) {
    const longest = Math.max(...unparsed.map(l => l.length));
    session.status(`LIST: ${unparsed.length} line(s) not understood and left out (longest ${longest} characters)`);
    session.events.unparsedListing({ path: path ?? '.', lines: unparsed });
  }
  return entries;
}

/**
 * LIST of a folder whose name has white space: servers that hand LIST's argument to /bin/ls (inetutils-ftpd
 * and others) split it into several names and answer an empty listing with 226, which reads as an empty
 * folder: a mirror then misses files or proposes deleting local ones. Enter the folder and list it without
 * an argument (what curl and lftp do), then come back; a folder that cannot be entered is the CWD's error.
 */
async function listInside(session: ClientSession, path: string, verb: 'LIST' | 'MLSD'): Promise<string> {
  const here = await session.pwd();
  await session.expect(`CWD ${path}`, ReplyCode.FileActionOk, ReplyCode.Ok);
  let text: string;
  try {
    text = await transferText(session, verb, path);
  } catch (e) {
    // The listing's error is the one to report; going back is tried all the same.
    await session.expect(`CWD ${here}`, ReplyCode.FileActionOk, ReplyCode.Ok).catch(() => undefined);
    throw e;
  }
  await session.expect(`CWD ${here}`, ReplyCode.FileActionOk, ReplyCode.Ok);
  return text;
}

export async function listNames(session: ClientSession, path?: string): Promise<string[]> {
  const text = await transferText(session, path ? `NLST ${path}` : 'NLST', path ?? '.');
  return text.split('\n').map(l => l.replace(/\r$/, '')).filter(l => l.length > 0);
}

async function transferText(session: ClientSession, command: string, path: string): Promise<string> {
  // Listings go in TYPE A by RFC 959; servers send the same bytes in TYPE I and CRLF is stripped here,
  // so no TYPE switch is needed.
  const chunks = collectListing(MAX_LISTING_BYTES);
  await runTransfer(session, () => ({ command, direction: 'list', sink: chunks.sink }), path);
  return chunks.text();
}

/** MlsxEntry -> FileEntry (drop parser-only fields). */
export function stripFacts(e: FileEntry & { facts?: unknown; mlsxType?: unknown }): FileEntry {
  const { facts: _f, mlsxType: _m, ...rest } = e;
  return rest;
}
