/**
 * Folders on S3 (docs/server.md#s3-compatible-storage): a folder is every key under `folder/`, with or
 * without its marker object `folder/` (MKD makes one; a tool that put `a/b.txt` made the folder `a` without
 * one). LIST/MLSD/NLST page through ListObjectsV2 with the `/` delimiter: S3 returns a folder's own files
 * and its sub-folders (as common prefixes), 1000 a page, never the keys deeper down, so a folder above a
 * million objects costs what its own entries cost.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { FileInfo } from '../types.js';

/** S3 keeps no folder time: folders show the Unix epoch (docs/server.md#s3-compatible-storage). */
export const FOLDER_TIME = new Date(0);

export function folderInfo(name: string): FileInfo {
  return { name, type: 'dir', size: 0, modifiedAt: FOLDER_TIME, mode: 0o755, owner: 'ftp', group: 'ftp', links: 2 };
}

export function fileInfo(name: string, size: number, modifiedAt: Date | undefined, etag: string | undefined): FileInfo {
  return {
    name, type: 'file', size, modifiedAt: modifiedAt ?? FOLDER_TIME, mode: 0o644, owner: 'ftp', group: 'ftp', links: 1,
    ...(etag ? { unique: etag.replace(/"/g, '') } : {}),
  };
}

export interface FolderListing {
  entries: FileInfo[];
  /** True when some key starts with the folder's prefix (its marker or any entry): the folder exists. */
  found: boolean;
}

/** The entries directly under `prefix` (a folder's key prefix, "" or ending with "/"). */
export async function listFolder(client: S3Client, bucket: string, prefix: string): Promise<FolderListing> {
  const entries: FileInfo[] = [];
  let found = false;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
    for (const p of page.CommonPrefixes ?? []) {
      found = true;
      const name = (p.Prefix ?? '').slice(prefix.length, -1);
      // "a//b" makes an empty segment that no virtual path can name: not shown.
      if (name) entries.push(folderInfo(name));
    }
    for (const o of page.Contents ?? []) {
      found = true;
      const name = (o.Key ?? '').slice(prefix.length);
      if (name) entries.push(fileInfo(name, o.Size ?? 0, o.LastModified, o.ETag)); // "" is the folder's own marker
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { entries, found };
}

/** Up to `max` keys under `prefix` (no delimiter): does the folder exist, is it empty. */
export async function someKeys(client: S3Client, bucket: string, prefix: string, max: number): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: max }));
  return (page.Contents ?? []).map((o) => o.Key ?? '');
}

/** Every key under `prefix`, all depths, page by page (a recursive folder copy). */
export async function* keysUnder(client: S3Client, bucket: string, prefix: string): AsyncGenerator<{ key: string; size: number }> {
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) yield { key: o.Key ?? '', size: o.Size ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}
