/**
 * Offering an active-mode address to the server: EPRT (RFC 2428 s2) or PORT (RFC 959 s4.1.2), with the
 * data.active.command setting and the EPRT -> PORT fallback remembered per session. Shared by active mode
 * with our own listener (data-channel.ts) and through a SOCKS5 proxy's BIND (active-socks.ts).
 */
import net from 'node:net';
import { FtpReplyError, FtpUsageError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { formatPortArgument, formatEprtArgument } from '../protocol/hostport.js';
import type { ClientSession } from './session.js';

/** Replies to EPSV/EPRT after which the classic command is tried (RFC 2428 s3: 522 names the protocols). */
export const EXTENDED_REFUSED = new Set<number>([
  ReplyCode.SyntaxError, ReplyCode.SyntaxErrorInParameters, ReplyCode.CommandNotImplemented,
  ReplyCode.ProtocolNotSupported,
]);

/** Send EPRT and/or PORT for `hp`; throws the refusal (FtpReplyError) or an unusable setting (FtpUsageError). */
export async function offerActive(session: ClientSession, hp: { host: string; port: number }): Promise<void> {
  const { events, memory } = session;
  const setting = session.options.data?.active?.command ?? 'auto';
  const v4 = net.isIPv4(hp.host);
  let useEprt = setting === 'eprt' || (setting === 'auto' && memory.active !== 'PORT');
  if (setting === 'port' && !v4) throw new FtpUsageError(`PORT cannot advertise the IPv6 address ${hp.host}: use EPRT (RFC 2428)`);
  if (setting === 'auto' && !v4) useEprt = true;
  if (useEprt) {
    const arg = formatEprtArgument(hp);
    events.dataChannel({ step: 'offer', mode: 'active', command: 'EPRT', argument: arg, advertised: hp });
    const r = await session.command(`EPRT ${arg}`);
    if (r.code === ReplyCode.Ok) {
      if (setting === 'auto') memory.active = 'EPRT';
      return;
    }
    if (setting === 'eprt' || !EXTENDED_REFUSED.has(r.code) || !v4) throw new FtpReplyError(r.code, r.message, `EPRT ${arg}`);
    events.fallback({ from: 'EPRT', to: 'PORT', reason: 'refused', replyCode: r.code });
  }
  const arg = formatPortArgument(hp);
  events.dataChannel({ step: 'offer', mode: 'active', command: 'PORT', argument: arg, advertised: hp });
  const r = await session.command(`PORT ${arg}`);
  if (r.code !== ReplyCode.Ok) throw new FtpReplyError(r.code, r.message, `PORT ${arg}`);
  if (setting === 'auto') memory.active = 'PORT';
}
