/**
 * Small helpers for remote names and listing bodies.
 *
 * Bad input: nothing a server sends in a listing may make the client act outside the directory it
 * listed — names with "/", "\\", NUL, CR/LF, "." or ".." are not plain names and are refused here.
 */
import { Writable } from 'node:stream';
import { FtpProtocolError } from '../errors.js';

/** The name itself when it is a plain single path segment, else undefined. */
export function safeEntryName(name: string): string | undefined {
  if (!name || name === '.' || name === '..') return undefined;
  if (/[/\\\0\r\n]/.test(name)) return undefined;
  return name;
}

/** Join a remote directory and a plain name with "/" (FTP paths are "/"-separated on every server we meet). */
export function remoteChildPath(dir: string, name: string): string {
  if (dir === '' || dir === '.') return name;
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** A Writable that keeps a listing in memory, bounded: a server must not make the client buffer without end. */
export function collectListing(maxBytes: number): { sink: Writable; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > maxBytes) { cb(new FtpProtocolError(`listing larger than ${maxBytes} bytes`)); return; }
      chunks.push(chunk);
      cb();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}
