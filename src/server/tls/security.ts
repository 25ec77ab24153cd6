/**
 * FTPS for one FtpServer (RFC 4217): the certificates, the ServerTls, the policies and the command module,
 * and implicit-FTPS sessions. All FTPS code of the server lives in this folder: the commands
 * (commands.ts), the policies and their gates (policy.ts), PROT P on data connections (data-protection.ts),
 * the TLS machinery (server-tls.ts), certificates (certificates.ts), options and the config section.
 */
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { CommandModule } from '../commands/contract.js';
import type { SessionState } from '../session/state.js';
import type { SessionInfo, SessionTlsInfo } from '../session/session-info.js';
import { CertificateStore } from './certificates.js';
import { ftpsCommands } from './commands.js';
import type { FtpServerTlsOptions, TlsRequirement } from './options.js';
import { TlsPolicy } from './policy.js';
import { ServerTls } from './server-tls.js';

/** New TLS options with their certificate loaded, not yet in use (ServerSecurity.prepare). */
export interface PreparedTls {
  options: Readonly<FtpServerTlsOptions>;
  certificates: CertificateStore;
}

/**
 * The module exists from construction (the command table is built synchronously); `init()` loads or
 * generates the certificate and must complete before the server accepts connections (FtpServer.listen()
 * awaits it).
 */
export class ServerSecurity {
  readonly module: CommandModule;
  readonly policy: TlsPolicy;
  private serverTls: ServerTls | undefined;
  private settings: Readonly<FtpServerTlsOptions>;

  /** Validates the policy options (FtpConfigError naming the key); certificates are loaded by init(). */
  constructor(options: Readonly<FtpServerTlsOptions>) {
    this.settings = options;
    this.policy = new TlsPolicy(options);
    this.module = ftpsCommands(this.policy, () => this.serverTls);
  }

  get options(): Readonly<FtpServerTlsOptions> { return this.settings; }

  /**
   * First half of a reload (FtpServer.reconfigure): validate new options and load their certificate (files
   * read and parsed, key matched) without changing anything. Throws FtpConfigError naming the key.
   */
  async prepare(options: Readonly<FtpServerTlsOptions>): Promise<PreparedTls> {
    TlsPolicy.validate(options);
    return { options, certificates: await CertificateStore.open(options) };
  }

  /**
   * Second half: new AUTH TLS and implicit handshakes get the new certificate and settings, sessions already
   * protected keep their context (their data connections must resume sessions made with it: server-tls.ts),
   * and the requirements apply to every session's next command. Listener settings (explicit, implicitPort)
   * are the caller's to keep.
   */
  adopt(prepared: PreparedTls): void {
    this.policy.update(prepared.options);
    this.settings = prepared.options;
    this.serverTls = new ServerTls(prepared.certificates, {
      requireSessionReuse: prepared.options.requireSessionReuse,
      handshakeTimeoutMs: prepared.options.handshakeTimeoutMs,
    });
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
    return this.policy.requirementFor(name);
  }

  /**
   * Implicit FTPS: upgrade a just-accepted socket before any byte of FTP (the greeting goes out over TLS).
   * Returns the TLS socket for the session, and `adopt(state)` to call on the new session's state.
   * Rejects with FtpTlsError (garbage, stall, hang-up); the caller then drops the connection.
   */
  async acceptImplicit(raw: Duplex): Promise<{ socket: TLSSocket; adopt(state: SessionState): void }> {
    const ctl = this.tls.forConnection();
    const socket = await ctl.upgradeControl(raw);
    return {
      socket,
      adopt: (state) => {
        state.tls.control = ctl;
        state.tls.secure = true;
        state.tls.implicit = true;
        // Implicit FTPS has no standard (it predates RFC 4217): clients expect data to be protected without
        // PBSZ/PROT, as FileZilla, curl and lftp do. They may still send PBSZ 0 / PROT P (harmless) or PROT C.
        state.tls.pbsz = true;
        state.tls.prot = 'P';
      },
    };
  }

  /** How a session is protected, in words (for host applications' logs and status pages). */
  describe(session: Pick<SessionInfo, 'tls'>): string {
    return describeSessionTls(session.tls);
  }
}

export function describeSessionTls(tls: SessionTlsInfo): string {
  const data = tls.prot === 'P' ? 'protected (PROT P)' : 'in cleartext (PROT C)';
  if (tls.control === 'cleartext') return 'control connection in cleartext';
  if (tls.control === 'cleared-by-ccc') return `control connection in cleartext after CCC; data ${data}`;
  return `control connection protected (${tls.protocol}, ${tls.cipher}${tls.implicit ? ', implicit' : ''}); data ${data}`;
}
