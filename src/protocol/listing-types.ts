/** A directory entry as the client understands it, whatever listing format the server sent. */
export interface FileEntry {
  name: string;
  type: 'file' | 'dir' | 'link' | 'other';
  /** Bytes, when the listing says. */
  size?: number;
  modifiedAt?: Date;
  /** POSIX permission bits when known (LIST rwx column, MLSx unix.mode). */
  mode?: number;
  /**
   * The link count of an `ls -l` line, when the line has one. A Unix folder has 2 plus one per
   * subfolder, so above 2 it is known not to be empty (client/listings.ts checks an empty listing by it).
   */
  links?: number;
  /** MLSx perm fact (RFC 3659 s7.5.5), e.g. "adfrw". */
  perm?: string;
  /** MLSx unique fact. */
  unique?: string;
  linkTarget?: string;
  /** The file version of an OpenVMS listing (`LOGIN.COM;2`): the name is without it. */
  version?: number;
  /** The listing line this entry came from. */
  raw?: string;
}

/**
 * Longest listing line the parsers look at, in UTF-16 code units. A real entry is a name (255 bytes on
 * most file systems) plus a symlink target (PATH_MAX 4096) plus columns; a longer line is reported as
 * unparsed instead (docs/architecture.md#bound-every-input). The parsers are linear anyway.
 */
export const MAX_LISTING_LINE_CHARS = 64 * 1024;
