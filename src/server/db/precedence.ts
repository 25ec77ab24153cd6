/**
 * Owns which store answers for a name that is both a configured user (`users:`) and a database user:
 * the first store "owns" every name it knows, so a wrong password there is final and the other store is
 * never asked (otherwise the name would have two passwords). Default order: configuration first (a
 * name in the file wins; `database.precedence: database` turns it around).
 */
import type { AuthenticatedUser, Authenticator, LoginContext } from '../auth/types.js';

export class PrecedenceAuthenticator implements Authenticator {
  /**
   * `firstIsExact`: the first store's knowsUser() is always current (the configuration's users): a name it
   * does not know goes straight to the second, without the dummy hash the first would spend on it.
   */
  constructor(private readonly first: Authenticator, private readonly second: Authenticator, private readonly firstIsExact = false) {}

  knowsUser(username: string): boolean | undefined {
    const a = this.first.knowsUser?.(username);
    if (a) return true;
    const b = this.second.knowsUser?.(username);
    if (b) return true;
    return a === false && b === false ? false : undefined;
  }

  async authenticate(username: string, password: string, context: LoginContext): Promise<AuthenticatedUser | null> {
    if (this.firstIsExact && this.first.knowsUser?.(username) === false) return this.second.authenticate(username, password, context);
    const user = await this.first.authenticate(username, password, context);
    if (user) return user;
    // The first store knows the name (it just answered for it): its "wrong password" stands.
    if (this.first.knowsUser?.(username)) return null;
    return this.second.authenticate(username, password, context);
  }
}
