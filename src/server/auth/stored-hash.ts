/**
 * Owns the password hash formats a configured user may have, and the one place that verifies any of them:
 *
 * - `$scrypt$ln=..,r=..,p=..$salt$hash`: ftpkit's own (password-hash.ts), what `ftpkit hash-password` makes;
 * - `$6$` / `$5$` SHA-512-crypt / SHA-256-crypt, `rounds=` included (sha-crypt.ts): /etc/shadow, vsftpd
 *   (PAM), pure-ftpd (pure-pw, puredb) and proftpd (AuthUserFile) password files;
 * - `$2a$` / `$2b$` / `$2y$` bcrypt (the bcryptjs package): htpasswd -B, PHP and many web panels.
 *
 * Anything else is refused when the configuration is read (with the user's key), never at login time.
 * Each format's cost is bounded there too, so one login cannot cost minutes. Every verification compares
 * in constant time, and `dummyLike()` makes a hash of the same format and cost that no password matches,
 * which unknown names are verified against (so a name cannot be probed by timing).
 */
import { randomBytes, randomInt } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { dummyPasswordHash, parsePasswordHash, verifyPassword, type ParsedPasswordHash } from './password-hash.js';
import { parseShaCrypt, verifyShaCrypt, type ShaCryptHash } from './sha-crypt.js';

export type StoredPasswordHash =
  | { format: 'scrypt'; scrypt: ParsedPasswordHash }
  | { format: 'sha-crypt'; shaCrypt: ShaCryptHash }
  | { format: 'bcrypt'; encoded: string; cost: number };

/** bcrypt cost is log2 of its rounds: 12 is ~0.25 s in native code, several times that in bcryptjs. */
export const MAX_BCRYPT_COST = 14;
const MIN_BCRYPT_COST = 4;
const BCRYPT_PATTERN = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const ACCEPTED = 'accepted: $scrypt$ (ftpkit hash-password), $6$/$5$ SHA-crypt, $2a$/$2b$/$2y$ bcrypt';

/** Parse a stored hash of any accepted format; a string says why it is unusable. */
export function parseStoredHash(encoded: string): StoredPasswordHash | string {
  if (encoded.startsWith('$scrypt$')) {
    const scrypt = parsePasswordHash(encoded);
    return typeof scrypt === 'string' ? scrypt : { format: 'scrypt', scrypt };
  }
  if (encoded.startsWith('$5$') || encoded.startsWith('$6$')) {
    const shaCrypt = parseShaCrypt(encoded);
    return typeof shaCrypt === 'string' ? shaCrypt : { format: 'sha-crypt', shaCrypt };
  }
  if (/^\$2[aby]\$/.test(encoded)) {
    const m = BCRYPT_PATTERN.exec(encoded);
    if (!m) return 'not a bcrypt hash of the form $2b$<cost>$<53 characters>';
    const cost = Number(m[1]);
    if (cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) return `bcrypt cost ${cost}: ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST} are accepted (each step doubles the time of a login)`;
    return { format: 'bcrypt', encoded, cost };
  }
  if (encoded.startsWith('$argon2')) return `argon2 hashes are not supported (Node has no argon2); ${ACCEPTED}`;
  if (encoded.startsWith('$1$')) return `MD5-crypt ($1$) is too weak to accept; ${ACCEPTED}`;
  if (encoded.startsWith('$y$') || encoded.startsWith('$7$')) return `yescrypt is not supported; ${ACCEPTED}`;
  if (/^[./0-9A-Za-z]{13}$/.test(encoded)) return `traditional DES crypt is too weak to accept; ${ACCEPTED}`;
  return `not a password hash ftpkit knows (plain text is refused); ${ACCEPTED}`;
}

/**
 * Constant-time check of a password. scrypt normalises the password to NFC (as `hash-password` did);
 * the migrated formats use its UTF-8 bytes as given, as the systems that made them did.
 */
export async function verifyStoredHash(password: string, stored: StoredPasswordHash): Promise<boolean> {
  switch (stored.format) {
    case 'scrypt': return verifyPassword(password, stored.scrypt);
    case 'sha-crypt': return verifyShaCrypt(password, stored.shaCrypt);
    // bcryptjs compares in constant time and yields to the event loop while it works.
    case 'bcrypt': return bcrypt.compare(password, stored.encoded);
  }
}

/** Two hashes with the same key cost the same to verify. */
export function costKey(stored: StoredPasswordHash): string {
  switch (stored.format) {
    case 'scrypt': return `scrypt ${stored.scrypt.ln},${stored.scrypt.r},${stored.scrypt.p}`;
    case 'sha-crypt': return `${stored.shaCrypt.algorithm} ${stored.shaCrypt.rounds}`;
    case 'bcrypt': return `bcrypt ${stored.cost}`;
  }
}

function randomText(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A hash of the same format and cost that no password matches (random salt and random digest). */
export function dummyLike(stored: StoredPasswordHash): StoredPasswordHash {
  switch (stored.format) {
    case 'scrypt': return { format: 'scrypt', scrypt: dummyPasswordHash(stored.scrypt) };
    case 'sha-crypt': {
      const { algorithm, rounds, roundsGiven } = stored.shaCrypt;
      const digest = randomText(CRYPT_ALPHABET, algorithm === 'sha256' ? 43 : 86);
      return { format: 'sha-crypt', shaCrypt: { algorithm, rounds, roundsGiven, salt: randomBytes(12).toString('base64').replace(/\+/g, '.'), digest } };
    }
    case 'bcrypt': {
      const cost = String(stored.cost).padStart(2, '0');
      return { format: 'bcrypt', cost: stored.cost, encoded: `$2b$${cost}$${randomText(BCRYPT_ALPHABET, 53)}` };
    }
  }
}
