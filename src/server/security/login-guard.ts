/**
 * Owns the defender's word at PASS: the server's authenticator wrapped so that, before any password is
 * checked,
 * - a session whose address was banned (or deny-listed) after it connected is refused
 *   (FtpLoginRefusedError 'address-banned': the PASS handler answers 421 and closes);
 * - a banned user name is answered as a wrong password (530 after the usual delay) without asking the
 *   authenticator, so it costs no hashing; an allow-listed address is never refused for it.
 * Everything else goes to the authenticator unchanged. With bans shared by several nodes (shared-scores.ts)
 * the store is asked first; when it cannot be, the login is refused with 421 ('unavailable').
 */
import { FtpLoginRefusedError } from '../../errors.js';
import type { AuthenticatedUser, Authenticator, LoginContext } from '../auth/types.js';
import type { Defender } from './defender.js';

export class DefendedAuthenticator implements Authenticator {
  /** `inner` is replaced by FtpServer.reconfigure (a reload): the next PASS asks the new one. */
  constructor(public inner: Authenticator, private readonly defender: Defender) {}

  knowsUser(username: string): boolean | undefined {
    return this.inner.knowsUser?.(username);
  }

  async authenticate(username: string, password: string, context: LoginContext): Promise<AuthenticatedUser | null> {
    // Shared bans (several nodes): the store's current word for this address and name, not the cache's.
    try {
      await this.defender.refreshShared(context.remoteAddress, username);
    } catch (err) {
      throw new FtpLoginRefusedError('unavailable', `the shared ban list cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
    const refusal = this.defender.addressRefusal(context.remoteAddress);
    if (refusal) {
      throw new FtpLoginRefusedError('address-banned', `logins from ${context.remoteAddress} are refused (${refusal.reason})`);
    }
    if (this.defender.userBanned(username, context.remoteAddress)) return null;
    return this.inner.authenticate(username, password, context);
  }
}
