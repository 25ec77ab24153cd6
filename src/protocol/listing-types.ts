/** A directory entry as the client understands it, whatever listing format the server sent. */
export interface FileEntry {
  name: string;
  type: 'file' | 'dir' | 'link' | 'other';
  /** Bytes, when the listing says. */
  size?: number;
  modifiedAt?: Date;
  /** POSIX permission bits when known (LIST rwx column, MLSx unix.mode). */
  mode?: number;
  /** MLSx perm fact (RFC 3659 s7.5.5), e.g. "adfrw". */
  perm?: string;
  /** MLSx unique fact. */
  unique?: string;
  linkTarget?: string;
  /** The listing line this entry came from. */
  raw?: string;
}
