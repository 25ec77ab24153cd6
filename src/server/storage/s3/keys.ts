/**
 * Virtual paths <-> S3 keys (docs/server.md#s3-compatible-storage). A user's root is `s3://bucket/prefix/`;
 * the virtual file "/a/b.txt" is the key `prefix/a/b.txt`, the folder "/a" is every key under `prefix/a/`
 * (its marker object `prefix/a/` made by MKD, or only the keys of files another tool put there).
 * Pure functions: no client, no I/O.
 */
import { FtpConfigError } from '../../../errors.js';

export interface S3Location {
  bucket: string;
  /** "" (the whole bucket) or a key prefix ending with "/". */
  prefix: string;
}

/** True for a root written as an S3 URL (`s3://bucket/prefix/`) rather than a host folder. */
export function isS3Root(root: string): boolean {
  return /^s3:\/\//i.test(root);
}

/** `s3://bucket/some/prefix/` -> { bucket, prefix: "some/prefix/" }. Throws FtpConfigError under `key`. */
export function parseS3Root(root: string, key: string): S3Location {
  const m = /^s3:\/\/([^/]+)(\/.*)?$/i.exec(root);
  // Bucket names: 3-63 of lower-case letters, digits, dots and hyphens (S3's rules, which radosgw follows).
  if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(m[1]!)) {
    throw new FtpConfigError(key, `${root}: not an S3 root; write s3://BUCKET/ or s3://BUCKET/PREFIX/ (a bucket name of 3-63 lower-case letters, digits, dots, hyphens)`);
  }
  const segments = (m[2] ?? '').split('/').filter(Boolean);
  if (segments.some((s) => s === '.' || s === '..')) throw new FtpConfigError(key, `${root}: the prefix must not contain "." or ".." segments`);
  return { bucket: m[1]!, prefix: segments.length ? segments.join('/') + '/' : '' };
}

/** The key of a file: prefix + the virtual path without its leading "/". */
export function fileKey(loc: S3Location, path: string): string {
  return loc.prefix + path.slice(1);
}

/** The key prefix of a folder's entries (and the name of its marker object): "" + "/" never doubles. */
export function folderPrefix(loc: S3Location, path: string): string {
  return path === '/' ? loc.prefix : loc.prefix + path.slice(1) + '/';
}

/** The parent of a virtual path ("/a/b" -> "/a", "/a" -> "/"). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The virtual path of a key under the root (for a recursive folder copy). */
export function pathOfKey(loc: S3Location, key: string): string {
  return '/' + key.slice(loc.prefix.length);
}
