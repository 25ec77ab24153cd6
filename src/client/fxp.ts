/**
 * FXP, server-to-server copy (docs/client.md#fxp-server-to-server-copy): the client asks one server to
 * listen (PASV, or EPSV on IPv6: RFC 959 s4.1.2, RFC 2428), gives that address to the other with PORT or
 * EPRT, then sends the transfer commands (STOR/RETR) to both; the data connection runs between the two
 * servers and never through the client. The copy is done when both final replies are positive.
 *
 * Most servers refuse this by default, because the data connection involves an address other than their
 * client's (the FTP bounce attack, RFC 2577 s3): the active server refuses PORT to a foreign address, the
 * passive one drops a connection from one. Both refusals become FtpFxpRefusedError naming the settings
 * that allow it (FXP_SETTINGS). The commands are written on the two sessions' control connections
 * directly: one session is not allowed two readers, and the two halves must run at the same time.
 */
import { FtpFxpRefusedError, FtpReplyError, FtpUsageError } from '../errors.js';
import { formatEprtArgument, formatPortArgument, parseEpsvReply, parsePasvReply, type HostPort } from '../protocol/hostport.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { isPositive, isPreliminary, type FtpResponse } from '../protocol/reply-parser.js';
import { networkError } from '../net/connect.js';
import type { ClientSession } from './session.js';

/** How long after ABOR the other server's replies may take (RFC 959 s4.1.3: normally at once). */
const ABOR_REPLIES_MS = 5000;

/** The setting of each server that allows each half of FXP (docs/client.md#fxp-server-to-server-copy). */
export const FXP_SETTINGS = {
  active: 'vsftpd port_promiscuous=YES, pure-ftpd -W (--allowuserfxp), proftpd "AllowForeignAddress on", '
    + 'ftpkit active.requireSameAddress: false',
  passive: 'vsftpd pasv_promiscuous=YES, pure-ftpd -W (--allowuserfxp), proftpd "AllowForeignAddress on", '
    + 'ftpkit passive.allowForeignAddress: true',
} as const;

export interface FxpOptions {
  /** Which server listens: 'target' (default: it PASVs and receives the connection) or 'source'. */
  passive?: 'source' | 'target';
}

export interface FxpResult {
  /** The final replies of both servers (226/250). */
  sourceReply: FtpResponse;
  targetReply: FtpResponse;
  /** Which server listened. */
  passive: 'source' | 'target';
  /** The address the active server connected to. */
  dataAddress: HostPort;
}

interface Half { session: ClientSession; role: 'source' | 'target'; command: string }

/** Ask `session` to listen: PASV when it can carry the address (IPv4), else EPSV on the control's address. */
async function listen(session: ClientSession): Promise<HostPort> {
  const control = session.control;
  if (!control.remoteAddress.includes(':')) {
    const r = await session.command('PASV');
    if (r.code === ReplyCode.EnteringPassive) {
      const hp = parsePasvReply(r.message);
      // "0,0,0,0" (vsftpd on some set-ups) means "the address you reached me at".
      return hp.host === '0.0.0.0' ? { host: control.remoteAddress, port: hp.port } : hp;
    }
    if (r.code < 500) throw new FtpReplyError(r.code, r.message, 'PASV');
  }
  const r = await session.expect('EPSV', ReplyCode.EnteringExtendedPassive);
  return { host: control.remoteAddress, port: parseEpsvReply(r.message) };
}

/** PORT for an IPv4 address, EPRT otherwise (RFC 2428 s2); a refusal names the setting that allows it. */
async function pointAt(half: Half, address: HostPort): Promise<void> {
  const ipv4 = !address.host.includes(':');
  const line = ipv4 ? `PORT ${formatPortArgument(address)}` : `EPRT ${formatEprtArgument(address)}`;
  const r = await half.session.command(line);
  if (r.code === ReplyCode.Ok) return;
  throw new FtpFxpRefusedError({ side: 'active', server: half.role, replyCode: r.code, replyText: r.message, command: line,
    hint: `the ${half.role} server refused to connect to ${address.host}, the other server, which is not this client's address: `
      + `most servers forbid it (FTP bounce protection, RFC 2577). FXP needs it allowed there: ${FXP_SETTINGS.active}; `
      + `or let the ${half.role} server listen instead (passive: '${half.role}', --passive-side ${half.role})` });
}

/** Send the transfer command and read its replies up to the final one; 1xx resolves `started`. */
async function transferReplies(half: Half, started: () => void): Promise<FtpResponse> {
  const { session, command } = half;
  const control = session.control;
  control.write(command);
  const verb = command.split(' ')[0];
  // The first reply comes once the data connection is there (vsftpd sends 150 only then): command + data time.
  let r = await control.nextReply(session.timeouts.commandMs + session.timeouts.dataMs, 'command', verb, command);
  while (isPreliminary(r.code)) {
    started();
    // While the servers move the data there is no bound here; finish() bounds the wait for the second final reply.
    r = await control.nextReply(0, 'transfer', verb);
  }
  return r;
}

/**
 * ABOR a half whose partner failed or that waits for nothing, and read what it answers (bounded; a
 * server that does not answer loses its control connection). Returns the transfer's own reply.
 */
async function abortAndRead(half: Half, pending: Promise<FtpResponse>): Promise<FtpResponse | undefined> {
  const control = half.session.control;
  try {
    control.write('ABOR');
  } catch {
    return undefined;
  }
  const timer = setTimeout(() => control.fail(networkError({ connection: 'control', phase: 'transfer', failure: 'timeout',
    elapsedMs: ABOR_REPLIES_MS, detail: `no reply to ABOR (${half.command})` })), ABOR_REPLIES_MS);
  try {
    const r = await pending.catch(() => undefined);
    // The second reply of RFC 959 s4.1.3 (some servers fold the two into one).
    if (!control.closed) await control.maybeNextReply(ABOR_REPLIES_MS).catch(() => undefined);
    return r;
  } finally {
    clearTimeout(timer);
  }
}

/** A failed data connection between the servers: most often the passive server refused a foreign address. */
function dataFailure(failed: Half, r: FtpResponse, passive: Half, active: Half, address: HostPort): FtpFxpRefusedError | FtpReplyError {
  const dataCodes: number[] = [ReplyCode.CantOpenDataConnection, ReplyCode.ConnectionClosedTransferAborted];
  if (!dataCodes.includes(r.code)) return new FtpReplyError(r.code, r.message, failed.command);
  return new FtpFxpRefusedError({ side: 'passive', server: passive.role, replyCode: r.code, replyText: r.message, command: failed.command,
    hint: `the data connection from the ${active.role} server to the ${passive.role} server (${address.host} port ${address.port}) failed: `
      + `the ${passive.role} server most likely refuses a data connection from another address than its client's `
      + `(FXP needs ${FXP_SETTINGS.passive}), or a firewall between the two servers blocks it` });
}

export async function fxpCopy(source: ClientSession, sourcePath: string, target: ClientSession, targetPath: string,
  opts: FxpOptions = {}): Promise<FxpResult> {
  if (source === target) throw new FtpUsageError('FXP copies between two connections: give a second client for the target');
  const src: Half = { session: source, role: 'source', command: `RETR ${sourcePath}` };
  const dst: Half = { session: target, role: 'target', command: `STOR ${targetPath}` };
  const passiveRole = opts.passive ?? 'target';
  const [passive, active] = passiveRole === 'target' ? [dst, src] : [src, dst];
  // The bytes go unchanged from file to file (RFC 959 s3.1.1.3).
  await source.ensureType('I');
  await target.ensureType('I');
  const address = await listen(passive.session);
  passive.session.status(`FXP: the ${passive.role} server listens on ${address.host} port ${address.port}`);
  await pointAt(active, address);
  // The listening side's command first, so it is waiting when the other side connects.
  const halves = [passive, active] as const;
  const replies = halves.map(h => transferReplies(h, () => undefined));
  const settled = replies.map((p, i) => p.then(r => ({ i, r }), (e: unknown) => ({ i, e })));
  const first = await Promise.race(settled);
  const other = 1 - first.i;
  const firstFailed = 'e' in first || !isPositive(first.r.code);
  if (firstFailed) {
    await abortAndRead(halves[other], replies[other]);
    if ('e' in first) throw first.e;
    throw dataFailure(halves[first.i], first.r, passive, active, address);
  }
  // One side is done, so the data connection has ended: the other's final reply is due at once. A passive
  // server still waiting then never got the connection: the active server's bytes went into a connection
  // the passive one accepted and dropped (a foreign address), which on a fast link ends in 226 all the same.
  const bound = Math.min(source.timeouts.commandMs, target.timeouts.commandMs);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>(resolve => { timer = setTimeout(() => resolve(undefined), bound); });
  try {
    const second = await Promise.race([replies[other], late]);
    if (second === undefined) {
      const waiting = halves[other];
      const answer = waiting.session.control.closed ? undefined : await abortAndRead(waiting, replies[other]);
      const r = answer ?? { code: ReplyCode.CantOpenDataConnection, message: 'no data connection arrived', lines: [] };
      if (waiting === passive) throw dataFailure(waiting, { ...r, code: ReplyCode.CantOpenDataConnection }, passive, active, address);
      throw networkError({ connection: 'control', phase: 'transfer', failure: 'timeout', elapsedMs: bound,
        detail: `no final reply to ${waiting.command} although the ${halves[first.i].role} server finished` });
    }
    if (!isPositive(second.code)) throw dataFailure(halves[other], second, passive, active, address);
    const finals = first.i === 0 ? [first.r, second] : [second, first.r];
    const [passiveReply, activeReply] = finals;
    return {
      sourceReply: passive === src ? passiveReply : activeReply,
      targetReply: passive === dst ? passiveReply : activeReply,
      passive: passiveRole, dataAddress: address,
    };
  } finally {
    clearTimeout(timer);
  }
}
