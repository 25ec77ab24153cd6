/**
 * What the server knows about a directory entry: produced by every storage backend
 * (src/server/storage/types.ts re-exports it) and rendered by the listing formats (listing-format.ts).
 * It lives in protocol/ because the pure listing code needs it and must not depend on server/.
 */

export type EntryType = 'file' | 'dir' | 'link' | 'other';

export interface FileInfo {
  /** Base name ("" for the root). */
  name: string;
  type: EntryType;
  size: number;
  modifiedAt: Date;
  /** POSIX permission bits (0o755 ...), for LIST and the MLSx unix.mode fact. */
  mode: number;
  /** Owner/group as shown in LIST ("ftp" when unknown). */
  owner?: string;
  group?: string;
  /** Number of hard links, for LIST. */
  links?: number;
  /** Stable identity of the object for the MLSx "unique" fact (RFC 3659 s7.5.2). */
  unique?: string;
  /** Target of a symbolic link, when type === 'link'. */
  linkTarget?: string;
}
