/**
 * Client-side globbing (`ftpkit get 'ftp://h/dir/*.csv'`, FtpClient.glob()): the folder is listed (MLSD or
 * LIST, listings.ts) and its names matched here with the linear matcher of protocol/wildcard.ts, "*", "?"
 * and "[...]". Not sent to the server as LIST's argument: what a server does with one is its own (RFC 959
 * s4.1.3), and names with white space break servers that hand it to /bin/ls.
 *
 * Decisions (docs/client.md#wildcards): wildcards only in the last path segment (the folder part is taken
 * as written; a wildcard there is a usage error); like the shell, a leading "." is matched only by a
 * pattern that starts with "."; files and links match, folders only when asked (`folders`).
 */
import { FtpUsageError } from '../errors.js';
import type { FileEntry } from '../protocol/listing-types.js';
import { compileWildcard, hasWildcard, MAX_WILDCARD_LENGTH } from '../protocol/wildcard.js';

const GLOB = { classes: true } as const;

export interface GlobOptions {
  /** Folders whose names match are returned too (default: files and links only). */
  folders?: boolean;
}

export interface GlobMatch {
  /** The remote path of the match: the pattern's folder joined with the name. */
  path: string;
  entry: FileEntry;
}

/**
 * Whether a remote path holds a wildcard ("*", "?" or a closed "[...]") in any segment: a pattern (one in a
 * folder segment is then refused by splitRemotePattern, rather than sent as a name that does not exist).
 */
export function isRemotePattern(remotePath: string): boolean {
  return remotePath.split('/').some(part => hasWildcard(part, GLOB));
}

/** `dir/sub/*.csv` -> folder `dir/sub`, pattern `*.csv`; a wildcard in the folder part is refused. */
export function splitRemotePattern(remotePath: string): { folder: string; pattern: string } {
  const { folder, name } = lastSegment(remotePath);
  if (folder.split('/').some(part => hasWildcard(part, GLOB))) {
    throw new FtpUsageError(`wildcards are matched in the last path segment only, not in the folder ${folder}`);
  }
  return { folder, pattern: name };
}

function lastSegment(remotePath: string): { folder: string; name: string } {
  const slash = remotePath.lastIndexOf('/');
  if (slash < 0) return { folder: '', name: remotePath };
  return { folder: slash === 0 ? '/' : remotePath.slice(0, slash), name: remotePath.slice(slash + 1) };
}

/** The entries of a listing of `folder` whose names match `pattern`, in the listing's order. */
export function selectMatches(entries: readonly FileEntry[], folder: string, pattern: string, options: GlobOptions = {}): GlobMatch[] {
  const compiled = compileWildcard(pattern, GLOB);
  if (compiled.kind === 'too-long') {
    throw new FtpUsageError(`the wildcard ${pattern.slice(0, 40)}... is longer than ${MAX_WILDCARD_LENGTH} characters`);
  }
  const matches = compiled.kind === 'literal' ? (name: string) => name === pattern : compiled.wildcard.matches;
  const dotOk = pattern.startsWith('.');
  const out: GlobMatch[] = [];
  for (const entry of entries) {
    if (entry.type === 'dir' ? !options.folders : entry.type === 'other') continue;
    if (entry.name.startsWith('.') && !dotOk) continue;
    if (!matches(entry.name)) continue;
    out.push({ path: joinRemote(folder, entry.name), entry });
  }
  return out;
}

function joinRemote(folder: string, name: string): string {
  if (!folder) return name;
  return folder.endsWith('/') ? `${folder}${name}` : `${folder}/${name}`;
}
