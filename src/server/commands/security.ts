/**
 * FTPS commands and policies of the server (RFC 4217, on RFC 2228): AUTH TLS/SSL, PBSZ, PROT, CCC, the
 * TLS gates (TLS required before login / for data, per server, per user, anonymous separately), FEAT lines,
 * and implicit-TLS sessions.
 *
 * Owns the per-session FTPS state: the session's ControlTls (kept in a WeakMap, because REIN must not
 * forget that the control connection is protected: it cannot be unwrapped), and PBSZ/PROT (in session.ext,
 * so REIN resets them like any other session state, RFC 959 s4.1.1). The TLS machinery itself is in
 * src/net/tls-server.ts (handshakes, session-reuse enforcement) and src/net/certificates.ts.
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { Reply } from '../../protocol/reply.js';
import { CertificateStore } from '../../net/certificates.js';
import { ServerTls, type ControlTls } from '../../net/tls-server.js';
import { FtpConfigError } from '../../errors.js';
import type { CommandModule, CommandSpec, Gate } from '../command-table.js';
import type { Session } from '../session.js';
import type { FtpServerTlsOptions, TlsRequirement } from '../tls/options.js';

const PBSZ_KEY = 'tls.pbsz';
const PROT_KEY = 'tls.prot';
const LOGIN_NAME_KEY = 'tls.loginName';

/** RFC 1635 anonymous login names. */
const ANONYMOUS_NAMES = new Set(['anonymous', 'ftp']);
const REQUIREMENTS: readonly TlsRequirement[] = ['none', 'login', 'data'];

function rank(r: TlsRequirement): number { return REQUIREMENTS.indexOf(r); }

/**
 * FTPS for one FtpServer: certificates, the ServerTls, the policies, and the command module. The module
 * exists from construction (the command table is built synchronously); `init()` loads or generates the
 * certificate and must complete before the server accepts connections (FtpServer.listen() awaits it).
 */
export class ServerSecurity {
  readonly module: CommandModule;
  private readonly sessions = new WeakMap<Session, ControlTls>();
  private readonly implicitSessions = new WeakSet<Session>();
  private serverTls: ServerTls | undefined;

  /** Validates the policy options (FtpConfigError naming the key); certificates are loaded by init(). */
  constructor(readonly options: Readonly<FtpServerTlsOptions>) {
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
    this.module = this.buildModule();
  }

  /** Load (or generate) the certificate. Idempotent. */
  async init(): Promise<void> {
    if (this.serverTls) return;
    const certificates = await CertificateStore.open(this.options);
    this.serverTls = new ServerTls(certificates, {
      requireSessionReuse: this.options.requireSessionReuse,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
    });
  }

  /** Convenience for embedding and tests: construct and init(). */
  static async create(options: FtpServerTlsOptions): Promise<ServerSecurity> {
    const s = new ServerSecurity(options);
    await s.init();
    return s;
  }

  get tls(): ServerTls {
    if (!this.serverTls) throw new Error('ServerSecurity.init() has not completed');
    return this.serverTls;
  }

  /** The certificates (for the 'reload'/'error' events and the fingerprint in logs). */
  get certificates(): CertificateStore { return this.tls.certificates; }

  /** What the user named `name` must protect (USER argument; anonymous names use requireAnonymous). */
  requirementFor(name: string | undefined): TlsRequirement {
    const o = this.options;
    if (name !== undefined && o.users && Object.hasOwn(o.users, name)) return o.users[name];
    if (name !== undefined && ANONYMOUS_NAMES.has(name.toLowerCase())) return o.requireAnonymous ?? o.require ?? 'none';
    return o.require ?? 'none';
  }

  /** The session's TLS state (created on first use). */
  controlTls(session: Session): ControlTls {
    let c = this.sessions.get(session);
    if (!c) {
      c = this.tls.forConnection();
      this.sessions.set(session, c);
    }
    return c;
  }

  /**
   * Implicit FTPS: upgrade a just-accepted socket before any byte of FTP (the greeting goes out over TLS).
   * Returns the TLS socket for the Session, and `adopt(session)` to call once the Session exists.
   * Rejects with FtpTlsError (garbage, stall, hang-up); the caller then drops the connection.
   */
  async acceptImplicit(raw: import('node:stream').Duplex): Promise<{ socket: import('node:tls').TLSSocket; adopt(session: Session): void }> {
    const ctl = this.tls.forConnection();
    const socket = await ctl.upgradeControl(raw);
    return {
      socket,
      adopt: (session: Session) => {
        this.sessions.set(session, ctl);
        this.implicitSessions.add(session);
        session.secure = true;
        this.applyImplicitDefaults(session);
        // REIN resets PBSZ/PROT; an implicit session returns to its defaults, not to PROT C.
        session.resetHooks.push((s) => this.applyImplicitDefaults(s));
      },
    };
  }

  /**
   * Implicit FTPS has no standard (it predates RFC 4217): clients expect data to be protected without
   * PBSZ/PROT, as FileZilla, curl and lftp do. They may still send PBSZ 0 / PROT P (harmless) or PROT C.
   */
  private applyImplicitDefaults(session: Session): void {
    session.ext.set(PBSZ_KEY, true);
    this.setProt(session, 'P');
  }

  private setProt(session: Session, level: 'C' | 'P'): void {
    session.ext.set(PROT_KEY, level);
    if (level === 'P') {
      const ctl = this.controlTls(session);
      session.wrapDataSocket = (socket) => ctl.secureData(socket);
    } else {
      session.wrapDataSocket = undefined;
    }
  }

  private prot(session: Session): 'C' | 'P' {
    return (session.ext.get(PROT_KEY) as 'C' | 'P' | undefined) ?? 'C';
  }

  /** The requirement in force for this session: by the logged-in user, else by the name given to USER. */
  private sessionRequirement(session: Session): TlsRequirement {
    const name = (session.ext.get(LOGIN_NAME_KEY) as string | undefined) ?? session.pendingUser ?? session.user?.name;
    return this.requirementFor(name);
  }

  private buildModule(): CommandModule {
    const explicit = this.options.explicit ?? true;
    const commands: CommandSpec[] = [
      {
        verb: 'AUTH', needsLogin: false, argument: 'required', help: 'AUTH <sp> TLS|SSL (RFC 4217: start TLS on the control connection)',
        feat: explicit ? ['AUTH TLS'] : undefined,
        handler: (s, arg) => this.auth(s, arg, explicit),
      },
      {
        verb: 'PBSZ', needsLogin: false, argument: 'required', help: 'PBSZ <sp> 0 (RFC 4217 s8)',
        feat: ['PBSZ'],
        handler: (s, arg) => {
          // RFC 4217 s8: PBSZ is meaningful only after the TLS handshake; TLS needs no buffer size, so 0.
          if (!s.secure) return reply(ReplyCode.BadSequence, 'PBSZ needs a protected control connection: send AUTH TLS first');
          if (!/^\d+$/.test(arg.trim())) return reply(ReplyCode.SyntaxErrorInParameters, 'PBSZ takes a decimal number (0 for TLS)');
          s.ext.set(PBSZ_KEY, true);
          return reply(ReplyCode.Ok, 'PBSZ=0');
        },
      },
      {
        verb: 'PROT', needsLogin: false, argument: 'required', help: 'PROT <sp> C|P (RFC 4217 s9)',
        feat: ['PROT'],
        handler: (s, arg) => this.protCommand(s, arg),
      },
      {
        verb: 'CCC', needsLogin: true, argument: 'none', help: 'CCC (clear command channel, RFC 4217 s6)',
        handler: (s) => this.ccc(s),
      },
    ];
    return { name: 'security', commands, gates: [this.loginGate, this.dataGate] };
  }

  private auth(s: Session, arg: string, explicit: boolean): Reply | import('../command-table.js').Outcome {
    const mechanism = arg.trim().toUpperCase();
    if (!explicit) return reply(ReplyCode.CommandNotImplemented, 'AUTH is not offered on this port');
    // RFC 4217 s4 names TLS; "SSL", "TLS-C" and "TLS-P" are from the draft it replaced, still sent by old clients.
    if (!['TLS', 'TLS-C', 'SSL', 'TLS-P'].includes(mechanism)) {
      return reply(ReplyCode.ParameterNotImplemented, `AUTH ${mechanism} not supported; use AUTH TLS`);
    }
    if (s.secure) return reply(ReplyCode.BadSequence, 'The control connection is already protected by TLS');
    if (!this.serverTls) return reply(ReplyCode.NeedUnavailableResource, 'TLS is not available right now');
    if (s.transfer) return reply(ReplyCode.BadSequence, 'AUTH during a transfer is not possible');
    // RFC 2228 s3 (AUTH): a new security exchange starts a new login; whatever state the session had goes.
    if (s.user || s.phase !== 'new') s.reset();
    // After CCC the old TLS state is spent for the control connection: start a fresh one.
    if (this.sessions.get(s)?.clearedByCcc) this.sessions.delete(s);
    const ctl = this.controlTls(s);
    // Stop reading the plain socket *before* replying: bytes after AUTH belong to the TLS handshake (or are
    // an injection attempt) and must never reach the command parser.
    const raw = s.detachControlSocket();
    // SECURITY: commands pipelined in cleartext behind AUTH TLS must not run once TLS is up (the STARTTLS
    // command-injection flaw, CVE-2011-0411).
    s.discardPendingInput();
    // TLS-P (pre-RFC draft) asks for protected data without PROT. AUTH SSL does not imply it here: curl
    // sends AUTH SSL first even with --ftp-ssl-control (cleartext data, no PROT), and every client that
    // wants protected data sends PBSZ/PROT anyway (RFC 4217 s9).
    const impliedProt = mechanism === 'TLS-P';
    return {
      kind: 'outcome',
      replies: [reply(ReplyCode.SecurityExchangeOk, `AUTH ${mechanism} ok, starting TLS handshake`)],
      // RFC 4217 s4: the handshake starts after the 234 has been sent.
      afterSend: async () => {
        try {
          const tlsSocket = await ctl.upgradeControl(raw, { detachable: this.options.allowCcc === true });
          s.replaceControlSocket(tlsSocket);
          s.secure = true;
          if (impliedProt) { s.ext.set(PBSZ_KEY, true); this.setProt(s, 'P'); }
        } catch (err) {
          // Nothing can be said to a peer that does not speak TLS after 234: close.
          s.warn('tls-handshake-failed', (err as Error).message);
          s.close(`TLS handshake after AUTH failed: ${(err as Error).message}`);
        }
      },
    };
  }

  /**
   * CCC (RFC 4217 s6, optional): off by default (534 = policy, RFC 2228). When allowed: 200, then both
   * sides exchange close_notify and the session continues in cleartext on the same TCP connection. The
   * data connections keep using TLS and resuming the (kept) control session; PBSZ/PROT can no longer be
   * changed (503) because they need a protected control connection.
   */
  private ccc(s: Session): Reply | import('../command-table.js').Outcome {
    if (!s.secure) return reply(ReplyCode.CommandProtectionDenied, 'CCC needs a protected control connection');
    if (!this.options.allowCcc) return reply(ReplyCode.RequestDeniedPolicy, 'CCC refused by policy: the control connection stays protected');
    const ctl = this.controlTls(s);
    // Stop reading the TLS socket as commands now (its end is not the session's end any more); the next
    // commands arrive in cleartext on the TCP socket.
    s.detachControlSocket();
    s.discardPendingInput();
    let clearing: { complete(): Promise<import('node:net').Socket> };
    try {
      clearing = ctl.beginClearControl();
    } catch (err) {
      s.replaceControlSocket(s.controlSocket);
      return reply(ReplyCode.LocalError, `CCC not possible: ${(err as Error).message}`);
    }
    return {
      kind: 'outcome',
      replies: [reply(ReplyCode.Ok, 'Control connection returns to cleartext (CCC); data connections stay protected')],
      afterSend: async () => {
        try {
          const raw = await clearing.complete();
          s.replaceControlSocket(raw);
          raw.resume(); // release() hands it over paused, with any early cleartext put back in front
          s.secure = false;
        } catch (err) {
          s.warn('tls-ccc-failed', (err as Error).message);
          s.close(`CCC failed: ${(err as Error).message}`);
        }
      },
    };
  }

  private protCommand(s: Session, arg: string): Reply {
    const level = arg.trim().toUpperCase();
    // RFC 4217 s9 / RFC 2228 s3: PROT needs the security exchange and PBSZ first (503).
    if (!s.secure) return reply(ReplyCode.BadSequence, 'PROT needs a protected control connection: send AUTH TLS first');
    if (!s.ext.get(PBSZ_KEY)) return reply(ReplyCode.BadSequence, 'PROT needs PBSZ first: send PBSZ 0');
    switch (level) {
      case 'P':
        this.setProt(s, 'P');
        return reply(ReplyCode.Ok, 'Protection level set to Private: data connections use TLS');
      case 'C':
        if (s.user && this.sessionRequirement(s) === 'data') {
          return reply(ReplyCode.RequestDeniedPolicy, 'PROT C refused by policy: data connections must be protected (PROT P)');
        }
        this.setProt(s, 'C');
        return reply(ReplyCode.Ok, 'Protection level set to Clear');
      case 'S':
      case 'E':
        // RFC 4217 s9: TLS offers no integrity-only or confidential-only level.
        return reply(ReplyCode.ProtectionLevelNotSupported, `PROT ${level} not supported with TLS; use PROT P or PROT C`);
      default:
        return reply(ReplyCode.ParameterNotImplemented, `Unknown protection level ${level}`);
    }
  }

  /**
   * TLS required before login: USER (and PASS) on a cleartext control connection get 530 with what to do,
   * so a compliant client never sends the password in cleartext.
   */
  private readonly loginGate: Gate = (s, spec, cmd) => {
    if (spec.verb === 'USER') s.ext.set(LOGIN_NAME_KEY, cmd.argument.trim());
    if (s.secure) return undefined;
    if (spec.verb === 'USER') {
      const name = cmd.argument.trim();
      if (rank(this.requirementFor(name)) >= rank('login')) {
        return reply(ReplyCode.NotLoggedIn, this.howToSecure(`TLS is required for ${ANONYMOUS_NAMES.has(name.toLowerCase()) ? 'anonymous logins' : 'this login'}`));
      }
    }
    if (spec.verb === 'PASS' && rank(this.requirementFor(s.pendingUser)) >= rank('login')) {
      return reply(ReplyCode.NotLoggedIn, this.howToSecure('TLS is required for this login'));
    }
    return undefined;
  };

  /** TLS required for data: a transfer under PROT C gets 521 (RFC 4217 s9). */
  private readonly dataGate: Gate = (s, spec) => {
    if (!spec.transfer || !s.user) return undefined;
    if (this.sessionRequirement(s) === 'data' && this.prot(s) !== 'P') {
      return reply(ReplyCode.DataProtectionRequired, 'Data connections must be protected: send PBSZ 0 and PROT P first');
    }
    return undefined;
  };

  private howToSecure(what: string): string {
    const ways: string[] = [];
    if (this.options.explicit ?? true) ways.push('send AUTH TLS first (explicit FTPS)');
    if (this.options.implicitPort !== undefined) ways.push('connect to the implicit FTPS port');
    return `${what}: ${ways.join(' or ')}`;
  }

  /** How a session is protected, in words (for host applications' logs and status pages). */
  describe(session: Session): string {
    const ctl = this.sessions.get(session);
    const info = ctl?.info;
    if (!info) return 'control connection in cleartext';
    if (ctl?.clearedByCcc) return `control connection in cleartext after CCC; data ${this.prot(session) === 'P' ? 'protected (PROT P)' : 'in cleartext (PROT C)'}`;
    return `control connection protected (${info.protocol}, ${info.cipher}${this.implicitSessions.has(session) ? ', implicit' : ''}); data ${this.prot(session) === 'P' ? 'protected (PROT P)' : 'in cleartext (PROT C)'}`;
  }
}
