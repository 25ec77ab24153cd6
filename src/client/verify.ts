/**
 * Checking a transferred file against the server's copy (docs/client.md#verification): the strongest
 * check the server offers, in this order:
 * - HASH (draft-bryan-ftpext-hash-02), SHA-256 preferred (selected with OPTS HASH, s3.3), then SHA-512,
 *   SHA-1, MD5: FEAT lists "HASH SHA-1;SHA-256*;..." and the reply is "213 <alg> <start>-<end> <hex> <path>";
 * - the older X commands where FEAT lists them: XSHA256, XSHA1, XMD5, XCRC (a "250 <hex>" reply);
 * - SIZE (RFC 3659 s4) in TYPE I against the local size.
 * The local side is read back from disk and hashed, so what is checked is what was written.
 * A difference is an FtpVerifyError (the CLI's exit code 7); the callers decide what happens to the file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { FtpProtocolError, FtpReplyError, FtpVerifyError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { readSize } from './remote-ops.js';
import type { ClientSession } from './session.js';

type Digest = 'sha256' | 'sha512' | 'sha1' | 'md5' | 'crc32';

/** How a file is checked: a hash command and its local digest, or the size. */
export type VerifyMethod =
  | { kind: 'hash'; algorithm: 'SHA-256' | 'SHA-512' | 'SHA-1' | 'MD5'; digest: Digest; selected: boolean }
  | { kind: 'x-command'; command: 'XSHA256' | 'XSHA1' | 'XMD5' | 'XCRC'; digest: Digest }
  | { kind: 'size' };

export interface VerifyOutcome {
  /** 'SHA-256' (HASH), 'XSHA256', 'SIZE'... */
  method: string;
  /** The value both sides agree on (hex digest or byte count). */
  value: string;
}

const HASH_PREFERENCE = [
  ['SHA-256', 'sha256'], ['SHA-512', 'sha512'], ['SHA-1', 'sha1'], ['MD5', 'md5'],
] as const;
const X_PREFERENCE = [['XSHA256', 'sha256'], ['XSHA1', 'sha1'], ['XMD5', 'md5'], ['XCRC', 'crc32']] as const;

/** The strongest check FEAT offers (see the module header). */
export function chooseVerifyMethod(features: ReadonlyMap<string, string>): VerifyMethod {
  const hash = features.get('HASH');
  if (hash !== undefined) {
    // draft s3.3: "HASH SHA-1;SHA-256*;MD5", the selected algorithm marked with "*".
    const offered = hash.split(';').map(a => a.trim().toUpperCase()).filter(Boolean);
    for (const [algorithm, digest] of HASH_PREFERENCE) {
      const entry = offered.find(a => a.replace(/\*$/, '') === algorithm);
      if (entry) return { kind: 'hash', algorithm, digest, selected: entry.endsWith('*') };
    }
  }
  for (const [command, digest] of X_PREFERENCE) if (features.has(command)) return { kind: 'x-command', command, digest };
  return { kind: 'size' };
}

function methodName(m: VerifyMethod): string {
  return m.kind === 'hash' ? m.algorithm : m.kind === 'x-command' ? m.command : 'SIZE';
}

/** The hex digest of a local file. */
export async function localDigest(file: string, digest: Digest): Promise<string> {
  const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
  if (digest === 'crc32') {
    let crc = 0;
    for await (const chunk of stream) crc = crc32(chunk as Buffer, crc);
    return crc.toString(16).padStart(8, '0');
  }
  const h = createHash(digest);
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Hex digits of the expected length for this digest in a reply's text; the last such word wins. */
function hexIn(text: string, digest: Digest): string | undefined {
  const lengths: Record<Digest, number> = { sha256: 64, sha512: 128, sha1: 40, md5: 32, crc32: 8 };
  const words = text.trim().split(/\s+/).filter(w => /^[0-9a-f]+$/i.test(w));
  const exact = words.filter(w => w.length === lengths[digest]);
  // CRC32 is often written without its leading zeros.
  const found = exact.at(-1) ?? (digest === 'crc32' ? words.filter(w => w.length <= 8).at(-1) : undefined);
  return found?.toLowerCase().padStart(lengths[digest], '0');
}

/** The server's digest of the file with this method. */
async function remoteDigest(session: ClientSession, remotePath: string, method: Exclude<VerifyMethod, { kind: 'size' }>): Promise<string> {
  if (method.kind === 'hash') {
    if (!method.selected) await session.expect(`OPTS HASH ${method.algorithm}`, ReplyCode.Ok);
    const r = await session.expect(`HASH ${remotePath}`, ReplyCode.FileStatus);
    // "213 SHA-256 0-49 <hex> path": the third word is the digest (draft s3.1). proftpd says first, in a
    // line of its own, that it is computing: the line that starts with the algorithm is the answer.
    const line = r.message.split('\n').map(l => l.trim().split(/\s+/)).reverse()
      .find(w => w.length >= 3 && w[0].toUpperCase() === method.algorithm && /^[0-9a-f]+$/i.test(w[2]));
    const hex = line?.[2].toLowerCase();
    if (!hex) throw new FtpProtocolError(`unusable HASH reply: ${JSON.stringify(r.message.slice(0, 200))}`);
    return hex;
  }
  const r = await session.expect(`${method.command} ${remotePath}`, ReplyCode.FileStatus, ReplyCode.FileActionOk);
  const hex = hexIn(r.message, method.digest);
  if (!hex) throw new FtpProtocolError(`unusable ${method.command} reply: ${JSON.stringify(r.message.slice(0, 200))}`);
  return hex;
}

/**
 * Check the local file against the remote one; throws FtpVerifyError on a difference, or when the
 * server offers neither a hash nor SIZE.
 */
export async function verifyFile(session: ClientSession, remotePath: string, localFile: string): Promise<VerifyOutcome> {
  let method = chooseVerifyMethod(session.features);
  if (method.kind !== 'size') {
    try {
      const expected = await remoteDigest(session, remotePath, method);
      const actual = await localDigest(localFile, method.digest);
      if (expected !== actual) throw mismatch(remotePath, methodName(method), expected, actual);
      session.status(`verified ${remotePath}: ${methodName(method)} ${actual}`);
      return { method: methodName(method), value: actual };
    } catch (e) {
      // A hash the server announced but refuses for this file (a 5xx): the size is still worth checking.
      if (!(e instanceof FtpReplyError)) throw e;
      session.status(`${methodName(method)} of ${remotePath} refused (${e.replyCode} ${e.replyText}): checking the size instead`);
      method = { kind: 'size' };
    }
  }
  let expected: number;
  try {
    expected = await readSize(session, remotePath);
  } catch (e) {
    if (!(e instanceof FtpReplyError)) throw e;
    throw new FtpVerifyError({ reason: 'unverifiable', path: remotePath, method: 'SIZE',
      message: `cannot verify ${remotePath}: the server offers no hash command (HASH, XSHA256, XMD5, XCRC) and refused SIZE (${e.replyCode} ${e.replyText})` });
  }
  const actual = (await stat(localFile)).size;
  if (expected !== actual) throw mismatch(remotePath, 'SIZE', String(expected), String(actual));
  session.status(`verified ${remotePath}: SIZE ${actual} (the server offers no hash command)`);
  return { method: 'SIZE', value: String(actual) };
}

function mismatch(remotePath: string, method: string, expected: string, actual: string): FtpVerifyError {
  return new FtpVerifyError({ reason: 'mismatch', path: remotePath, method, expected, actual,
    message: `${remotePath} does not match the server's copy: ${method} is ${expected} on the server, ${actual} here` });
}
