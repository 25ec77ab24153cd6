/**
 * The doctor's TLS steps between the first logins and the matrix: trusting the certificate by its pin when
 * no CA vouches for it (certificate-probe.ts, certificate-finding.ts), and asking once whether the server
 * allows CCC (RFC 4217 s6) so that "TLS then CCC" cells are planned only where they can work (a server that
 * refuses CCC, as vsftpd does with "500 Unknown command", has no such cells: docs/doctor.md).
 */
import type { TlsSettings } from '../client/options.js';
import { probeCertificateChain } from './certificate-probe.js';
import { certificateSummary, pinnedTls } from './certificate-finding.js';
import { probeLogin, type LoginProbe, type SessionTarget } from './session-probe.js';
import type { CertificateFinding, Outcome, StepResult } from './types.js';

export interface TrustByPin {
  certificate: CertificateFinding;
  /** The 'certificate' step of the report. */
  step: StepResult;
  /** The TLS login again, with the leaf pinned (or the first one when the chain could not be read). */
  login: LoginProbe;
  /** The TLS settings for the matrix (pinned when that login got past TLS). */
  tls: TlsSettings;
  /** Whether the server accepted CCC with those settings. */
  ccc: boolean;
}

const isCertificateFailure = (o: Outcome): boolean => o.kind === 'tls' && o.tlsFailure === 'certificate';

/**
 * When the TLS login failed because the certificate is not trusted (and the user did not pin it already):
 * read the chain, and log in again with its leaf pinned. Undefined when the certificate was not the problem.
 */
export async function trustByPin(session: SessionTarget, tlsLogin: LoginProbe,
  o: { secure: 'explicit' | 'implicit'; tls: TlsSettings }): Promise<TrustByPin | undefined> {
  if (!isCertificateFailure(tlsLogin.outcome) || o.tls.pin !== undefined) return undefined;
  const t0 = performance.now();
  const read = await probeCertificateChain({
    host: session.host, port: session.port, secure: o.secure, tls: o.tls, timeoutMs: session.connectMs, signal: session.signal,
  });
  const leaf = read.chain[0];
  let login = tlsLogin;
  let tls = o.tls;
  let pinned = false;
  let ccc = false;
  if (leaf) {
    const candidate = pinnedTls(o.tls, leaf.fingerprint);
    // Two sessions at once, as the first logins were: the pinned login and the CCC question.
    const [again, cccOk] = await Promise.all([probeLogin(session, { secure: o.secure, tls: candidate }), cccAccepted(session, { secure: o.secure, tls: candidate })]);
    pinned = again.outcome.kind !== 'tls';
    if (pinned) { login = again; tls = candidate; ccc = cccOk; }
  }
  const certificate: CertificateFinding = {
    error: tlsLogin.outcome.message ?? 'certificate not trusted', chain: read.chain, pinned,
    ...(read.reason ? { reason: read.reason } : {}),
  };
  const outcome: Outcome = { kind: 'tls', tlsFailure: 'certificate', ms: performance.now() - t0, message: certificate.error };
  return {
    certificate, login, tls, ccc,
    step: { id: 'certificate', title: 'server certificate', outcome, summary: certificateSummary(certificate, session.host),
      evidence: [...read.evidence, ...(read.error ? [{ atMs: performance.now() - t0, text: `could not read the chain: ${read.error}` }] : [])] },
  };
}

/** Whether the server accepts CCC after a TLS login (one session; RFC 4217 s6 does not require FEAT to list it). */
export async function cccAccepted(session: SessionTarget, o: { secure: 'explicit' | 'implicit'; tls: TlsSettings }): Promise<boolean> {
  const r = await probeLogin({ ...session, path: '' }, { secure: o.secure, tls: { ...o.tls, clearCommandChannel: true } });
  return r.outcome.kind === 'ok';
}
