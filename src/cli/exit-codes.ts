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
} as const;

export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];
