/**
 * The certificate finding in words, and what it changes (pure): the TLS settings with the leaf pinned, the
 * cells marked unverified. The chain itself is read by certificate-probe.ts; why the doctor pins instead of
 * stopping is explained there.
 */
import type { TlsSettings } from '../client/options.js';
import type { CertificateFinding, DataProbeResult } from './types.js';

/**
 * The TLS settings for the rest of the diagnosis and the recommendation: the user's, with the leaf pinned
 * instead of CA verification (a CA that did not verify it is of no use; --insecure never enters here).
 */
export function pinnedTls(user: TlsSettings, pin: string): TlsSettings {
  const { ca: _ca, caFile: _caFile, rejectUnauthorized: _ru, ...rest } = user;
  return { ...rest, pin: [pin] };
}

/** Why a certificate is not trusted, from the verification code (OpenSSL's X509_V_ERR names, Node's own). */
function whyNotTrusted(f: CertificateFinding, host: string): string | undefined {
  switch (f.reason) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT': return 'it is self-signed';
    case 'SELF_SIGNED_CERT_IN_CHAIN': return 'its chain ends in a CA that is not trusted here (a private CA)';
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY': case 'UNABLE_TO_GET_ISSUER_CERT': case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return 'it is issued by a CA that is not trusted here';
    case 'CERT_HAS_EXPIRED': return 'it has expired';
    case 'CERT_NOT_YET_VALID': return 'it is not valid yet (check the clocks)';
    case 'ERR_TLS_CERT_ALTNAME_INVALID': return `it does not name ${host}`;
    case undefined: return undefined;
    default: return f.reason;
  }
}

/** Words for the certificate finding: the leaf, why it is not trusted, and what the probes did about it. */
export function certificateSummary(f: CertificateFinding, host: string): string {
  const leaf = f.chain[0];
  const why = whyNotTrusted(f, host);
  if (!leaf) return `not trusted (${f.error}); its chain could not be read`;
  const dates = `valid ${leaf.validFrom.slice(0, 10)} to ${leaf.validTo.slice(0, 10)}`;
  return `not trusted${why ? ` (${why})` : ''}: ${leaf.subject}, ${leaf.selfSigned ? 'self-signed' : `issued by ${leaf.issuer}`}, ${dates}, ${leaf.fingerprint}`
    + `${f.chain.length > 1 ? ` (+${f.chain.length - 1} more in the chain)` : ''}`
    + (f.pinned ? '; the TLS probes below pin this certificate (unverified: no CA vouches for it)' : '');
}

/** What the user can do, in words: pin (what the recommendation does), or install the CA the chain leads to. */
export function certificateUserFix(f: CertificateFinding, userGaveCa: boolean): string {
  const leaf = f.chain[0];
  const pin = leaf ? `the recommended settings pin this certificate (--pin ${leaf.fingerprint}): they keep working until the server's certificate changes, and then fail with a clear TLS error instead of trusting another one; confirm the fingerprint with the server's admin` : 'ask the server\'s admin for its certificate or CA';
  const root = f.chain.at(-1);
  const ca = userGaveCa
    ? 'the CA file you gave (--ca) does not vouch for this certificate under this name: check that it is the right CA, and connect by a name the certificate lists (or pin it)'
    : leaf && !leaf.selfSigned && root
      ? `or install the CA that issued it (${root.selfSigned ? root.subject : root.issuer}) and pass it with --ca FILE, if it is your organisation's`
      : '';
  return [pin, ca].filter(Boolean).join('; ');
}

/** Mark the TLS cells that ran with the pinned (not CA-verified) certificate. */
export function markUnverified(matrix: DataProbeResult[], certificate: CertificateFinding | undefined): DataProbeResult[] {
  if (!certificate?.pinned) return matrix;
  return matrix.map(r => (r.spec.tls ? { ...r, unverified: true } : r));
}
