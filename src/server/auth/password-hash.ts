/**
 * Owns ftpkit's own password hash, the one `ftpkit hash-password` makes: scrypt (RFC 7914) from
 * node:crypto, stored in a PHC-like string `$scrypt$ln=17,r=8,p=1$<salt b64>$<hash b64>` (ln = log2 of the
 * cost N). Migrated formats (SHA-crypt, bcrypt) and the choice between formats are in stored-hash.ts.
 *
 * Argon2 is not in Node 20's crypto and ftpkit does not add a native dependency for it: scrypt only.
 * Verification compares in constant time; every verification, including the dummy one run for unknown
 * user names, costs one scrypt with the same parameters, so a name cannot be probed by timing.
 * scrypt with ln=17, r=8 needs 128 MiB per running derivation: a small gate bounds how many run at once,
 * so a burst of logins queues instead of exhausting memory.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

export interface ParsedPasswordHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

/** OWASP's scrypt recommendation (2^17, 8, 1): about 0.4 s and 128 MiB per login on a small server. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ ln: 17, r: 8, p: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Upper bound on memory one verification may use (a hash string is configuration, but bound it anyway). */
const MAX_MEMORY = 1024 * 1024 * 1024;
const HASH_PATTERN = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function memoryOf(params: ScryptParams): number {
  return 128 * 2 ** params.ln * params.r;
}

/** Why the parameters are unusable, or undefined when they are fine. */
export function checkScryptParams(params: ScryptParams): string | undefined {
  if (!Number.isInteger(params.ln) || params.ln < 1 || params.ln > 24) return 'ln must be an integer from 1 to 24';
  if (!Number.isInteger(params.r) || params.r < 1 || params.r > 64) return 'r must be an integer from 1 to 64';
  if (!Number.isInteger(params.p) || params.p < 1 || params.p > 16) return 'p must be an integer from 1 to 16';
  if (memoryOf(params) > MAX_MEMORY) return 'parameters need more than 1 GiB of memory (128 * 2^ln * r)';
  return undefined;
}

/**
 * Parse a stored hash. Returns a reason string when it is not a valid `$scrypt$...` hash (the config
 * loader turns that into an error naming the key).
 */
export function parsePasswordHash(encoded: string): ParsedPasswordHash | string {
  if (encoded.startsWith('$argon2')) return 'argon2 hashes are not supported (Node has no argon2); use `ftpkit hash-password` (scrypt)';
  const m = HASH_PATTERN.exec(encoded);
  if (!m) return 'not a password hash of the form $scrypt$ln=17,r=8,p=1$<salt>$<hash> (see `ftpkit hash-password`)';
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const problem = checkScryptParams(params);
  if (problem) return problem;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8) return 'salt shorter than 8 bytes';
  if (hash.length < 16 || hash.length > 64) return 'hash must be 16 to 64 bytes';
  return { ...params, salt, hash };
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

export function formatPasswordHash(parsed: ParsedPasswordHash): string {
  return `$scrypt$ln=${parsed.ln},r=${parsed.r},p=${parsed.p}$${b64(parsed.salt)}$${b64(parsed.hash)}`;
}

/** At most this many derivations run at once (each may hold 128 MiB); the rest wait in order. */
const MAX_CONCURRENT = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function gated<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function derive(password: string, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** params.ln, r: params.r, p: params.p, maxmem: 2 * memoryOf(params) };
  return gated(() => new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  }));
}

/** Hash a password for the configuration file. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const problem = checkScryptParams(params);
  if (problem) throw new RangeError(problem);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, HASH_BYTES, params);
  return formatPasswordHash({ ...params, salt, hash });
}

/** Constant-time check of a password against a parsed hash. */
export async function verifyPassword(password: string, stored: ParsedPasswordHash): Promise<boolean> {
  const key = await derive(password, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(key, stored.hash);
}

/**
 * A hash nobody's password matches, with the given parameters: verifying an unknown user against it
 * costs what verifying a real user costs.
 */
export function dummyPasswordHash(params: ScryptParams): ParsedPasswordHash {
  return { ...params, salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) };
}
