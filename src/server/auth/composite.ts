/**
 * Owns CompositeAuthenticator: asks several authenticators in order and takes the first user returned
 * (e.g. configured users, then anonymous). An error from one of them is not a wrong password: it
 * propagates, so the server can log it and answer 421/530 as it sees fit.
 */
import type { AuthenticatedUser, Authenticator, LoginContext } from './types.js';

export class CompositeAuthenticator implements Authenticator {
  readonly authenticators: readonly Authenticator[];

  constructor(authenticators: readonly Authenticator[]) {
    this.authenticators = [...authenticators];
  }

  /** Known to one of them: true; unknown to all that can tell: false; undefined when one cannot tell. */
  knowsUser(username: string): boolean | undefined {
    let canTell = true;
    for (const auth of this.authenticators) {
      const known = auth.knowsUser?.(username);
      if (known) return true;
      if (known === undefined) canTell = false;
    }
    return canTell ? false : undefined;
  }

  async authenticate(username: string, password: string, context: LoginContext): Promise<AuthenticatedUser | null> {
    for (const auth of this.authenticators) {
      const user = await auth.authenticate(username, password, context);
      if (user) return user;
    }
    return null;
  }
}
