/**
 * Owns who may use the admin listener: `Authorization: Bearer TOKEN` (compared in constant time) or
 * `Authorization: Basic` with an operator's name and password (verified like FTP users' stored hashes).
 *
 * Credentials travel only in the Authorization header, never in a cookie or a URL: the page's script sets
 * the header itself, so another site cannot make the browser send them (no ambient credentials: that is the
 * CSRF protection of the actions), and no URL that reaches a log carries the token. 401 answers carry no
 * `WWW-Authenticate: Basic` challenge, so browsers do not cache a password for the origin either.
 * A listener without a token or users (loopback only, options.ts) lets everyone in as "local".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { dummyLike, verifyStoredHash } from '../auth/stored-hash.js';
import type { ResolvedAdminOptions } from './options.js';

/** Who made a request: "token", an operator's name, or "local" when the listener has no authentication. */
export type AdminIdentity = string;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export class AdminAuth {
  private readonly tokenDigest: Buffer | undefined;

  constructor(private readonly options: ResolvedAdminOptions) {
    this.tokenDigest = options.token === undefined ? undefined : digest(options.token);
  }

  get required(): boolean { return this.tokenDigest !== undefined || this.options.users.size > 0; }

  /** The identity behind an Authorization header, or undefined when it is missing or wrong. */
  async identify(header: string | undefined): Promise<AdminIdentity | undefined> {
    if (!this.required) return 'local';
    if (!header) return undefined;
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (bearer && this.tokenDigest) {
      // Digests of equal length: the comparison time says nothing about the token's length or prefix.
      return timingSafeEqual(digest(bearer[1]!), this.tokenDigest) ? 'token' : undefined;
    }
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (basic && this.options.users.size > 0) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      const name = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      const stored = this.options.users.get(name);
      // An unknown name costs a verification too, so timing does not tell which names exist.
      const first = this.options.users.values().next().value!;
      const ok = await verifyStoredHash(password, stored ?? dummyLike(first));
      return ok && stored ? `user:${name}` : undefined;
    }
    return undefined;
  }
}
