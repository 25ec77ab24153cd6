/**
 * The doctor's verdict on a finding, in one place: `ftpkit doctor`'s exit code and what `get`/`put
 * --settings` do with a finding that has no recommended settings both follow it. Pure.
 */
import { FtpFindingError } from '../errors.js';
import type { Finding } from './types.js';

export type DoctorVerdict = 'works' | 'login-failed' | 'tls' | 'network';

/**
 * 'works' when some setting got data through (also with the certificate pinned); otherwise what is in the
 * way: the credentials, the server's certificate (nothing works even pinned), or the network path.
 */
export function verdictOf(f: Pick<Finding, 'causes'> & Partial<Pick<Finding, 'recommended'>>): DoctorVerdict {
  if (f.recommended?.probeId) return 'works';
  if (f.causes.some(c => c.code === 'login-failed')) return 'login-failed';
  if (f.causes.some(c => c.code === 'tls-certificate')) return 'tls';
  return 'network';
}

/** The error for a `--settings` file that is a finding without recommended settings, with the doctor's words. */
export function findingWithoutSettings(f: Pick<Finding, 'causes'> & Partial<Pick<Finding, 'recommended'>>, file: string): FtpFindingError {
  const verdict = verdictOf(f);
  const why = f.causes.map(c => c.title).slice(0, 2).join('; ') || 'no combination of settings got a data connection through';
  return new FtpFindingError(verdict === 'works' ? 'network' : verdict,
    `${file} is a doctor finding without recommended settings: ${why}. Fix that first (the doctor's report says how), then run ftpkit doctor again`);
}
