/**
 * The server's FTPS policies: what each user must protect (none / login / data; per server, per user,
 * anonymous separately) and the two gates that enforce it before any handler runs.
 *
 * Owns: validating the policy options, the requirement in force for a session, and the refusals: 530 for
 * USER/PASS on a cleartext control connection when TLS is required for the login (so a compliant client
 * never sends the password in cleartext), 521 for a transfer under PROT C when data must be protected
 * (RFC 4217 s9).
 */
import { FtpConfigError } from '../../errors.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { Gate } from '../commands/contract.js';
import type { SessionState } from '../session/state.js';
import type { FtpServerTlsOptions, TlsRequirement } from './options.js';

/** RFC 1635 anonymous login names. */
const ANONYMOUS_NAMES = new Set(['anonymous', 'ftp']);
const REQUIREMENTS: readonly TlsRequirement[] = ['none', 'login', 'data'];

function rank(r: TlsRequirement): number { return REQUIREMENTS.indexOf(r); }

export class TlsPolicy {
  readonly gates: Gate[];
  private settings: Readonly<FtpServerTlsOptions>;

  /** Validates the policy options (FtpConfigError naming the key). */
  constructor(options: Readonly<FtpServerTlsOptions>) {
    TlsPolicy.validate(options);
    this.settings = options;
    this.gates = [this.loginGate, this.dataGate];
  }

  get options(): Readonly<FtpServerTlsOptions> { return this.settings; }

  /**
   * New requirements (a reload, ServerSecurity.adopt): the next USER, PASS, PROT and transfer of every
   * session are judged by them. `explicit` and `implicitPort` are listeners and FEAT lines: the caller keeps
   * them unchanged (they need a restart).
   */
  update(options: Readonly<FtpServerTlsOptions>): void {
    TlsPolicy.validate(options);
    this.settings = options;
  }

  /** Throws FtpConfigError naming the key. */
  static validate(options: Readonly<FtpServerTlsOptions>): void {
    for (const key of ['require', 'requireAnonymous'] as const) {
      const v = options[key];
      if (v !== undefined && !REQUIREMENTS.includes(v)) throw new FtpConfigError(`tls.${key}`, `must be one of ${REQUIREMENTS.join(', ')}`);
    }
    for (const [name, v] of Object.entries(options.users ?? {})) {
      if (!REQUIREMENTS.includes(v)) throw new FtpConfigError(`tls.users.${name}`, `must be one of ${REQUIREMENTS.join(', ')}`);
    }
    if (options.implicitPort !== undefined && (!Number.isInteger(options.implicitPort) || options.implicitPort < 0 || options.implicitPort > 65535)) {
      throw new FtpConfigError('tls.implicitPort', 'must be a port number (0 picks a free one)');
    }
    if (options.explicit === false && options.implicitPort === undefined) {
      throw new FtpConfigError('tls.explicit', 'with explicit TLS off, set tls.implicitPort (otherwise TLS is never offered)');
    }
  }

  /** AUTH TLS is offered on the main port (explicit FTPS, RFC 4217). */
  get explicit(): boolean { return this.options.explicit ?? true; }

  /** What the user named `name` must protect (USER argument; anonymous names use requireAnonymous). */
  requirementFor(name: string | undefined): TlsRequirement {
    const o = this.options;
    if (name !== undefined && o.users && Object.hasOwn(o.users, name)) return o.users[name];
    if (name !== undefined && ANONYMOUS_NAMES.has(name.toLowerCase())) return o.requireAnonymous ?? o.require ?? 'none';
    return o.require ?? 'none';
  }

  /** The requirement in force for a session: by the name given to USER, else the logged-in user. */
  sessionRequirement(state: SessionState): TlsRequirement {
    return this.requirementFor(state.tls.loginName ?? state.pendingUser ?? state.user?.name);
  }

  /** How to get TLS on this server, for a refusal's text. */
  howToSecure(what: string): string {
    const ways: string[] = [];
    if (this.explicit) ways.push('send AUTH TLS first (explicit FTPS)');
    if (this.options.implicitPort !== undefined) ways.push('connect to the implicit FTPS port');
    return `${what}: ${ways.join(' or ')}`;
  }

  /**
   * TLS required before login: USER (and PASS) on a cleartext control connection get 530 with what to do,
   * so a compliant client never sends the password in cleartext.
   */
  private readonly loginGate: Gate = (ctx, spec, cmd) => {
    const { state } = ctx;
    if (spec.verb === 'USER') state.tls.loginName = cmd.argument.trim();
    if (state.tls.secure) return undefined;
    if (spec.verb === 'USER') {
      const name = cmd.argument.trim();
      if (rank(this.requirementFor(name)) >= rank('login')) {
        return reply(ReplyCode.NotLoggedIn, this.howToSecure(`TLS is required for ${ANONYMOUS_NAMES.has(name.toLowerCase()) ? 'anonymous logins' : 'this login'}`));
      }
    }
    if (spec.verb === 'PASS' && rank(this.requirementFor(state.pendingUser)) >= rank('login')) {
      return reply(ReplyCode.NotLoggedIn, this.howToSecure('TLS is required for this login'));
    }
    return undefined;
  };

  /** TLS required for data: a transfer under PROT C gets 521 (RFC 4217 s9). */
  private readonly dataGate: Gate = (ctx, spec) => {
    if (!spec.transfer || !ctx.user) return undefined;
    if (this.sessionRequirement(ctx.state) === 'data' && ctx.state.tls.prot !== 'P') {
      return reply(ReplyCode.DataProtectionRequired, 'Data connections must be protected: send PBSZ 0 and PROT P first');
    }
    return undefined;
  };
}
