/**
 * Waiting for the server's greeting (RFC 959 s4.2: 120 "ready in nnn minutes" may precede the 220), with
 * the hint a silent server usually deserves: an implicit-FTPS port (port 990 by the convention RFC 4217 s1
 * mentions) sends nothing and waits for the client's TLS ClientHello, so a client speaking plain FTP or
 * explicit TLS there sees a connection that never greets. On port 990 the wait is short: a cleartext FTP
 * server greets within milliseconds if at all; elsewhere the timeout message names the likely cause.
 */
import { FtpNetworkError, FtpReplyError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import type { ControlConnection } from './control-connection.js';

/** How long a non-implicit client waits for a greeting on port 990 before calling it implicit TLS. */
export const IMPLICIT_PORT_GREETING_MS = 2000;

export async function readGreeting(control: ControlConnection, greetingMs: number,
  target: { host: string; port: number; secure: 'none' | 'explicit' | 'implicit' }): Promise<FtpResponse> {
  const likelyImplicit = target.secure !== 'implicit' && target.port === 990;
  const firstWaitMs = likelyImplicit && greetingMs > 0 ? Math.min(greetingMs, IMPLICIT_PORT_GREETING_MS) : greetingMs;
  try {
    let greeting = await control.nextReply(firstWaitMs, 'greeting', 'the greeting');
    while (greeting.code === ReplyCode.ServiceReadyInMinutes) greeting = await control.nextReply(greetingMs, 'greeting', 'the greeting');
    if (greeting.code !== ReplyCode.ServiceReady) throw new FtpReplyError(greeting.code, greeting.message, 'greeting');
    return greeting;
  } catch (err) {
    if (target.secure === 'implicit' || !(err instanceof FtpNetworkError) || err.phase !== 'greeting' || err.failure !== 'timeout') throw err;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const hint = `${likelyImplicit ? 'this looks like' : 'if this is'} an implicit-TLS port (it waits for the client's TLS handshake and `
      + `never greets in cleartext): use ftps://${host}:${target.port}/ (secure: 'implicit')`;
    throw new FtpNetworkError({
      connection: err.connection, phase: err.phase, failure: err.failure, cause: err,
      ...(err.endpoint !== undefined ? { endpoint: err.endpoint } : {}), ...(err.elapsedMs !== undefined ? { elapsedMs: err.elapsedMs } : {}),
      message: `${err.message}; ${hint}`,
    });
  }
}
