import { CommanderError } from 'commander';
import { FtpDatabaseError, FtpError, FtpFindingError, FtpNetworkError, FtpReplyError, FtpTlsError } from '../errors.js';

/**
 * Exit codes of every ftpkit command, stable for scripts (documented in docs/client.md and the README).
 * Distinct codes for what a user must fix differently: the command line, the credentials, the server's
 * refusal, the network path, TLS.
 */
export const ExitCode = {
  Ok: 0,
  /** Anything not covered below. */
  Other: 1,
  /** Bad command line, bad URL, bad --settings file. */
  Usage: 2,
  /** The server refused the login (530 to USER/PASS, RFC 959 s4.2). */
  LoginFailure: 3,
  /** The server refused an operation (4xx/5xx reply). */
  FtpRefusal: 4,
  /** Control or data connection failed: refused, reset, timed out, unreachable, name not found. */
  NetworkFailure: 5,
  /** TLS handshake, certificate or session-reuse failure. */
  TlsFailure: 6,
  /** `ftpkit user add`: the user already exists in the database. */
  UserExists: 7,
  /** `ftpkit user passwd|del`: no such user in the database. */
  NoSuchUser: 8,
  /** --verify (or a segmented download's check): the file does not match the server's, or cannot be checked. */
  VerifyFailure: 9,
} as const;

export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/**
 * The exit code for an error that ended a command, by what the user has to fix. The one mapping for
 * every subcommand (runCli and the client commands).
 * `duringLogin`: the error ended the login, so a 530 means the credentials were refused.
 */
export function exitCodeFor(err: unknown, duringLogin = false): ExitCodeValue {
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  // A doctor finding without settings exits as `ftpkit doctor` did for it (3, 6 or 5), not as a usage error.
  if (err instanceof FtpFindingError) {
    return err.verdict === 'login-failed' ? ExitCode.LoginFailure : err.verdict === 'tls' ? ExitCode.TlsFailure : ExitCode.NetworkFailure;
  }
  if (err instanceof FtpReplyError) {
    // A refused TLS negotiation (a server without FTPS answers AUTH with 500/502/530, PROT P with 534) is
    // about TLS settings, not credentials: none were sent yet.
    if (/^(AUTH|PBSZ|PROT|CCC)\b/i.test(err.command ?? '')) return ExitCode.TlsFailure;
    const loginCommand = /^(login|USER|PASS|ACCT)\b/i.test(err.command ?? '');
    // RFC 959 s4.2: 530 "Not logged in" answers USER/PASS when the credentials are refused;
    // RFC 2228 s5 (430-style "invalid username or password") is used by some servers for the same.
    if ((err.replyCode === 530 || err.replyCode === 430) && (duringLogin || loginCommand)) return ExitCode.LoginFailure;
    return ExitCode.FtpRefusal;
  }
  if (err instanceof FtpTlsError) return ExitCode.TlsFailure;
  if (err instanceof FtpNetworkError) return ExitCode.NetworkFailure;
  if (err instanceof FtpDatabaseError) {
    return err.failure === 'unreachable' ? ExitCode.NetworkFailure : err.failure === 'exists' ? ExitCode.UserExists
      : err.failure === 'not-found' ? ExitCode.NoSuchUser : ExitCode.Other;
  }
  if (err instanceof FtpError) {
    switch (err.code) {
      case 'ERR_FTP_USAGE': case 'ERR_FTP_CONFIG': return ExitCode.Usage;
      case 'ERR_FTP_CLOSED': return ExitCode.NetworkFailure;
      // Nothing on the server matched a wildcard: what a missing file is (550 to RETR).
      case 'ERR_FTP_NO_MATCH': return ExitCode.FtpRefusal;
      case 'ERR_FTP_VERIFY': return ExitCode.VerifyFailure;
      default: return ExitCode.Other;
    }
  }
  const code = (err as { code?: string } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('commander.')) return ExitCode.Usage;
  return ExitCode.Other;
}
