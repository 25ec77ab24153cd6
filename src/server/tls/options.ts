/**
 * FTPS options of FtpServer (`options.tls`): certificates, protocol settings, explicit/implicit TLS and the
 * TLS policies (per server, per user, anonymous separately). The config file's `tls` section and
 * `ftpkit serve --tls ...` map onto this.
 */
import type { CertificateSource, TlsProtocolOptions } from './certificates.js';

/**
 * What a user must protect:
 * - 'none': TLS is offered (AUTH TLS, PROT P) but not required;
 * - 'login': the control connection must be protected before USER/PASS (no cleartext password);
 * - 'data': 'login', and every data connection must be protected too (PROT P).
 */
export type TlsRequirement = 'none' | 'login' | 'data';

export interface FtpServerTlsOptions extends CertificateSource, TlsProtocolOptions {
  /** Offer explicit FTPS (AUTH TLS, RFC 4217) on the main control port. Default true. */
  explicit?: boolean;
  /**
   * Also accept implicit FTPS (TLS from the first byte, the "990" convention) on this port; 0 picks a free
   * one (see FtpServer.address('implicit')). Default: no implicit port.
   */
  implicitPort?: number;
  /** Address for the implicit port. Default: the main `host`. */
  implicitHost?: string;
  /** Requirement for named users. Default 'none'. */
  require?: TlsRequirement;
  /** Requirement for anonymous logins (USER anonymous/ftp, RFC 1635). Default: same as `require`. */
  requireAnonymous?: TlsRequirement;
  /** Per-user requirements, by login name; they override `require`. */
  users?: Record<string, TlsRequirement>;
  /**
   * SECURITY: a protected data connection must resume the control connection's TLS session
   * (vsftpd require_ssl_reuse). Default true.
   */
  requireSessionReuse?: boolean;
  /**
   * Accept CCC (RFC 4217 s6): return the control connection to cleartext after login, so a NAT/firewall
   * FTP helper can read PORT/PASV again; data connections stay protected. Default false (534), because
   * every later command, including a new USER/PASS after REIN, then travels unprotected.
   */
  allowCcc?: boolean;
  /** Bound on every TLS handshake (control and data). Default 10 s. */
  handshakeTimeoutMs?: number;
}
