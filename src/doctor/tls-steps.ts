/**
 * The doctor's TLS steps between the first logins and the matrix: trusting the certificate by its pin when
 * no CA vouches for it (certificate-probe.ts, certificate-finding.ts), and asking once whether the server
 * allows CCC (RFC 4217 s6) so that "TLS then CCC" cells are planned only where they can work (a server that
 * refuses CCC, as vsftpd does with "500 Unknown command", has no such cells: docs/doctor.md). The sessions
 * these steps log in stay open for the matrix's pool (session-pool.ts).
 */
import type { TlsSettings } from '../client/options.js';
import { probeCertificateChain } from './certificate-probe.js';
import { certificateSummary, pinnedTls } from './certificate-finding.js';
import { endSession, openSession, type OpenedSession, type SessionTarget } from './session-probe.js';
import { isSessionLimit } from './infer-shared.js';
import type { CertificateFinding, Outcome, StepResult } from './types.js';

export interface TrustByPin {
  certificate: CertificateFinding;
  /** The 'certificate' step of the report. */
  step: StepResult;
  /** The TLS login again, with the leaf pinned (or the first one when the chain could not be read). */
  login: OpenedSession;
  /** The TLS settings for the matrix (pinned when that login got past TLS). */
  tls: TlsSettings;
  /** Whether the server accepted CCC with those settings. */
  ccc: CccAnswer;
}

/**
 * The answer to "does the server allow CCC?": `accepted` undefined when the server's session limit left
 * the question open (the matrix then plans the CCC cells and drops them if CCC is refused there).
 */
export interface CccAnswer {
  accepted: boolean | undefined;
  /** The session in which CCC was accepted (kept for the matrix). */
  client?: OpenedSession['client'];
  outcome: OpenedSession['outcome'];
}

const isCertificateFailure = (o: Outcome): boolean => o.kind === 'tls' && o.tlsFailure === 'certificate';

/**
 * When the TLS login failed because the certificate is not trusted (and the user did not pin it already):
 * read the chain, and log in again with its leaf pinned. Undefined when the certificate was not the problem.
 */
export async function trustByPin(session: SessionTarget, tlsLogin: OpenedSession,
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
  let ccc: CccAnswer = { accepted: false, outcome: { kind: 'skipped', ms: 0 } };
  if (leaf) {
    const candidate = pinnedTls(o.tls, leaf.fingerprint);
    // Two sessions at once, as the first logins were: the pinned login and the CCC question.
    const [again, cccAnswer] = await Promise.all([openSession(session, { secure: o.secure, tls: candidate }), askCcc(session, { secure: o.secure, tls: candidate })]);
    pinned = again.outcome.kind !== 'tls';
    if (pinned) { login = again; tls = candidate; ccc = cccAnswer; } else {
      for (const c of [again.client, cccAnswer.client]) if (c) await endSession(session, c);
    }
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

/**
 * Whether the server accepts CCC after a TLS login (one session; RFC 4217 s6 does not require FEAT to list
 * it). The session stays open when it does (the first "TLS then CCC" session of the matrix).
 */
export async function askCcc(session: SessionTarget, o: { secure: 'explicit' | 'implicit'; tls: TlsSettings }): Promise<CccAnswer> {
  const r = await openSession(session, { secure: o.secure, tls: { ...o.tls, protectData: true, clearCommandChannel: true } });
  return { accepted: r.outcome.kind === 'ok' ? true : isSessionLimit(r.outcome) ? undefined : false, outcome: r.outcome, ...(r.client ? { client: r.client } : {}) };
}
