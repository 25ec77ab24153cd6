/**
 * Secrets out of logs, transcripts and error messages: the one place that knows which commands carry a
 * secret and how a masked command reads. Pure: strings in, strings out.
 *
 * The secret verbs are PASS, and ACCT (RFC 959 s4.1.1: account information, often a password). Three
 * shapes of command text are masked:
 * - a parsed command (the server's FtpCommand): its verb is everything up to the first space, so a
 *   malformed "PASS<TAB>secret" is one odd verb; a verb that begins with a secret verb is masked;
 * - a line the client sends: the transcript, error messages and the CLI show the verb upper-cased and
 *   "****", even for an empty password (the transcript does not tell an empty password from another);
 * - a line in the server's log: masked again whatever the emitter did (defence in depth), keeping the
 *   verb and the separator as written; a bare verb has nothing to hide and is left as it is.
 */
import type { FtpCommand } from './commands.js';

/** What a secret argument is shown as. */
export const MASK = '****';

const SECRET_VERB_PREFIX = /^(PASS|ACCT)/;

/** Whether `verb` (any case) is PASS or ACCT, exactly. */
export function isSecretVerb(verb: string): boolean {
  const upper = verb.toUpperCase();
  return upper === 'PASS' || upper === 'ACCT';
}

/** The verb of a parsed command as it may be logged ("PASS" for a malformed "PASS<TAB>secret"). */
export function maskVerb(cmd: FtpCommand): string {
  const m = SECRET_VERB_PREFIX.exec(cmd.verb);
  return m ? m[1] : cmd.verb;
}

/** The argument of a parsed command as it may be logged: "****" for PASS and ACCT. */
export function maskArgument(cmd: FtpCommand): string {
  return SECRET_VERB_PREFIX.test(cmd.verb) ? MASK : cmd.argument;
}

/** A parsed command as a log or transcript line: "PASS ****"; others verb and argument as received. */
export function maskCommand(cmd: FtpCommand): string {
  if (SECRET_VERB_PREFIX.test(cmd.verb)) return `${maskVerb(cmd)} ${MASK}`;
  return cmd.argument === '' ? cmd.verb : `${cmd.verb} ${cmd.argument}`;
}

/**
 * The verb of a command line when it is a secret verb: its letters (RFC 959 s5.3.1: verbs are alphabetic)
 * after any leading blanks, the one blank after it, and whether more follows.
 */
function secretVerbOf(line: string): { verb: string; separator: string; hasArgument: boolean } | undefined {
  const m = /^\s*([A-Za-z]+)(\s?)/.exec(line);
  if (!m || !isSecretVerb(m[1])) return undefined;
  return { verb: m[1], separator: m[2], hasArgument: line.length > m[0].length };
}

/** A command line the client sends, as its transcript and errors show it: "PASS ****"; others unchanged. */
export function maskOutgoingCommand(line: string): string {
  const secret = secretVerbOf(line);
  return secret ? `${secret.verb.toUpperCase()} ${MASK}` : line;
}

/** A command line in a log: "PASS ****", "pass\t****"; a bare "PASS" and other lines unchanged. */
export function maskCommandLine(line: string): string {
  const secret = secretVerbOf(line);
  if (!secret || !secret.hasArgument) return line;
  return `${secret.verb}${secret.separator || ' '}${MASK}`;
}
