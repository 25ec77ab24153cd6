/**
 * Owns SHA-256-crypt (`$5$`) and SHA-512-crypt (`$6$`), the hashes of /etc/shadow and of vsftpd, pure-ftpd
 * and proftpd password files, so users can be migrated with the hashes they have. Verification only: new
 * passwords are hashed with scrypt (`ftpkit hash-password`).
 *
 * Written from Ulrich Drepper's specification "Unix crypt using SHA-256 and SHA-512" (the step numbers
 * below are its steps), because the npm package for it that we checked gives wrong hashes for passwords
 * whose length is a multiple of the digest size. The tests check the specification's vectors and hashes
 * made by openssl, glibc (python3's crypt) and mkpasswd.
 *
 * Stored form: `$5$[rounds=N$]<salt, up to 16 characters>$<43 characters>` and `$6$...$<86 characters>`.
 * The password is used as its UTF-8 bytes, unnormalised, as the system that made the hash did.
 * Rounds: default 5000, fewer than 1000 count as 1000 (as the specification says); more than
 * MAX_SHA_CRYPT_ROUNDS are refused at configuration time, because a login must not cost minutes of CPU.
 * The rounds loop yields to the event loop every few thousand rounds, so other sessions keep moving.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

export type ShaCryptAlgorithm = 'sha256' | 'sha512';

export interface ShaCryptHash {
  algorithm: ShaCryptAlgorithm;
  rounds: number;
  /** Whether the stored string names its rounds (then the computed string does too). */
  roundsGiven: boolean;
  salt: string;
  /** The encoded digest (43 or 86 characters). */
  digest: string;
}

export const SHA_CRYPT_DEFAULT_ROUNDS = 5000;
const MIN_ROUNDS = 1000;
/** About a second of CPU per login here; the specification allows 999,999,999 (hours). */
export const MAX_SHA_CRYPT_ROUNDS = 1_000_000;
const ROUNDS_PER_SLICE = 4096;

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Step 22: which digest bytes make each group of base-64 characters, (B2, B1, B0), as the specification lists them. */
const SHA512_GROUPS: readonly (readonly [number, number, number])[] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7],
  [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35],
  [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];
const SHA256_GROUPS: readonly (readonly [number, number, number])[] = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17],
  [18, 28, 8], [9, 19, 29],
];

const DIGEST_BYTES = { sha256: 32, sha512: 64 } as const;
const ENCODED_LENGTH = { sha256: 43, sha512: 86 } as const;
const PATTERN = /^\$([56])\$(?:rounds=(\d{1,9})\$)?([^$:\n]{0,16})\$([./0-9A-Za-z]+)$/;

/** Parse a stored `$5$`/`$6$` hash; a string says why it is not usable. */
export function parseShaCrypt(encoded: string): ShaCryptHash | string {
  const m = PATTERN.exec(encoded);
  if (!m) return 'not a SHA-crypt hash of the form $6$[rounds=N$]<salt>$<hash> (salt of at most 16 characters)';
  const algorithm: ShaCryptAlgorithm = m[1] === '5' ? 'sha256' : 'sha512';
  const digest = m[4]!;
  if (digest.length !== ENCODED_LENGTH[algorithm]) {
    return `a $${m[1]}$ hash has ${ENCODED_LENGTH[algorithm]} characters after the salt, this one ${digest.length}`;
  }
  const roundsGiven = m[2] !== undefined;
  const rounds = roundsGiven ? Math.max(MIN_ROUNDS, Number(m[2])) : SHA_CRYPT_DEFAULT_ROUNDS;
  if (rounds > MAX_SHA_CRYPT_ROUNDS) {
    return `rounds=${rounds} would cost minutes per login; at most ${MAX_SHA_CRYPT_ROUNDS} are accepted`;
  }
  return { algorithm, rounds, roundsGiven, salt: m[3]!, digest };
}

/** `bytes` repeated to `length` bytes (steps 16 and 20: the sequences P and S). */
function repeatTo(bytes: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += bytes.length) bytes.copy(out, offset, 0, Math.min(bytes.length, length - offset));
  return out;
}

function encode(digest: Buffer, algorithm: ShaCryptAlgorithm): string {
  let out = '';
  const put = (b2: number, b1: number, b0: number, chars: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let i = 0; i < chars; i++, w >>= 6) out += ITOA64[w & 0x3f];
  };
  for (const [a, b, c] of algorithm === 'sha512' ? SHA512_GROUPS : SHA256_GROUPS) put(digest[a]!, digest[b]!, digest[c]!, 4);
  if (algorithm === 'sha512') put(0, 0, digest[63]!, 2);
  else put(0, digest[31]!, digest[30]!, 3);
  return out;
}

/** The encoded digest of `password` with the hash's algorithm, salt and rounds. */
export async function shaCryptDigest(password: string, hash: Omit<ShaCryptHash, 'digest' | 'roundsGiven'>): Promise<string> {
  const { algorithm, rounds } = hash;
  const size = DIGEST_BYTES[algorithm];
  const key = Buffer.from(password, 'utf8');
  const salt = Buffer.from(hash.salt, 'utf8');
  const h = () => createHash(algorithm);

  // Steps 4-8: digest B = H(password, salt, password).
  const b = h().update(key).update(salt).update(key).digest();
  // Steps 1-3, 9-12: digest A.
  const a = h().update(key).update(salt);
  let left = key.length;
  for (; left > size; left -= size) a.update(b);
  a.update(b.subarray(0, left));
  for (let n = key.length; n > 0; n >>= 1) a.update((n & 1) !== 0 ? b : key);
  let c = a.digest();
  // Steps 13-16: the sequence P from digest DP = H(password repeated as many times as it has bytes).
  const dp = h();
  for (let i = 0; i < key.length; i++) dp.update(key);
  const p = repeatTo(dp.digest(), key.length);
  // Steps 17-20: the sequence S from digest DS = H(salt repeated 16 + A[0] times).
  const ds = h();
  for (let i = 0; i < 16 + c[0]!; i++) ds.update(salt);
  const s = repeatTo(ds.digest(), salt.length);
  // Step 21: the rounds, in slices so the event loop is not held.
  for (let round = 0; round < rounds; round++) {
    if (round > 0 && round % ROUNDS_PER_SLICE === 0) await yieldToEventLoop();
    const odd = (round & 1) !== 0;
    const r = h().update(odd ? p : c);
    if (round % 3 !== 0) r.update(s);
    if (round % 7 !== 0) r.update(p);
    r.update(odd ? c : p);
    c = r.digest();
  }
  // Step 22.
  return encode(c, algorithm);
}

/** The full stored string `password` gives with this hash's salt and rounds (for tests and tools). */
export async function shaCrypt(password: string, hash: Omit<ShaCryptHash, 'digest'>): Promise<string> {
  const id = hash.algorithm === 'sha256' ? '5' : '6';
  const rounds = hash.roundsGiven ? `rounds=${hash.rounds}$` : '';
  return `$${id}$${rounds}${hash.salt}$${await shaCryptDigest(password, hash)}`;
}

/** Constant-time check of a password against a parsed SHA-crypt hash. */
export async function verifyShaCrypt(password: string, stored: ShaCryptHash): Promise<boolean> {
  const computed = Buffer.from(await shaCryptDigest(password, stored), 'latin1');
  return timingSafeEqual(computed, Buffer.from(stored.digest, 'latin1'));
}
