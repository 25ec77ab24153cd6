/**
 * Opening a client session: the TCP connect, the TLS hooks (implicit TLS on connect, AUTH TLS before login,
 * PBSZ/PROT after), the greeting (RFC 959 s4.2: 120 then 220), FEAT (RFC 2389), USER/PASS, OPTS UTF8
 * (RFC 2640 s3.1) and the first TYPE. FtpClient.connect() runs it inside its queue.
 */
import { FtpClosedError, FtpReplyError, FtpUsageError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { maskOutgoingCommand } from '../protocol/masking.js';
import { formatEndpoint } from '../net/connect.js';
import { ControlConnection, type SocketLike } from './control-connection.js';
import { parseFeatures } from './features.js';
import { readGreeting } from './greeting.js';
import { secureHooksFor } from './transport.js';
import { maskProxyUrl, tunnelTarget } from './proxy.js';
import type { ClientSession } from './session.js';

export async function openSession(session: ClientSession, lifetime: AbortSignal): Promise<void> {
  if (lifetime.aborted) throw new FtpClosedError('the client was destroyed before connecting');
  if (session.connected) throw new FtpUsageError('already connected');
  session.reset();
  const o = session.options;
  const secure = o.secure ?? 'none';
  session.hooks = o.hooks ?? (secure !== 'none' ? secureHooksFor(o) : undefined);
  if (secure !== 'none' && !session.hooks) {
    throw new FtpUsageError(`secure: '${secure}' needs the FTPS module (no TLS hooks are registered)`);
  }
  const socket = await connectControl(session, lifetime);
  const endpoint = formatEndpoint(o.host, o.port ?? (secure === 'implicit' ? 990 : 21));
  const control = new ControlConnection(socket, session.events, endpoint);
  session.attach(control);
  try {
    await readGreeting(control, session.timeouts.greetingMs, { host: o.host, port: o.port ?? (secure === 'implicit' ? 990 : 21), secure });
    const feat = await session.command('FEAT');
    for (const [k, v] of parseFeatures(feat)) session.features.set(k, v);
    if (session.hooks?.beforeLogin) await session.hooks.beforeLogin(session);
    await login(session);
    if (session.hooks?.afterLogin) await session.hooks.afterLogin(session);
    // RFC 2640 s3.1: UTF-8 path names; harmless when refused.
    if (session.features.has('UTF8')) await session.command('OPTS UTF8 ON');
    await session.ensureType(o.transferType === 'ascii' ? 'A' : 'I');
  } catch (e) {
    control.fail(e as Error);
    throw e;
  }
}

/** The TCP connect and the hook for implicit TLS; returns the socket the control connection reads. */
async function connectControl(session: ClientSession, lifetime: AbortSignal): Promise<SocketLike> {
  const o = session.options;
  const port = o.port ?? (o.secure === 'implicit' ? 990 : 21);
  const connectMs = session.timeouts.connectMs;
  session.status(`connecting to ${formatEndpoint(o.host, port)} (timeout ${connectMs} ms)`, 'control');
  const tcp = await session.connect({ host: o.host, port, timeoutMs: connectMs, connection: 'control' }).catch((e: unknown) => {
    throw lifetime.aborted ? new FtpClosedError('the client was destroyed while connecting', { cause: e }) : e;
  });
  let socket: SocketLike = tcp;
  try {
    tcp.setNoDelay(true);
    // During a long transfer the control connection is silent; NAT routers and firewalls forget idle
    // mappings (often after 5-15 min) and the final 226 never arrives. TCP keepalive probes keep them.
    tcp.setKeepAlive(true, 60_000);
    session.tunnel = tunnelTarget(tcp);
    if (session.tunnel) session.status(`through the proxy ${maskProxyUrl(o.proxy ?? '')} (${formatEndpoint(tcp.remoteAddress ?? '?', tcp.remotePort ?? 0)}): data connections go through it too`, 'control');
    session.status(`connected to ${formatEndpoint(tcp.remoteAddress ?? o.host, tcp.remotePort ?? port)} from ${formatEndpoint(tcp.localAddress ?? '?', tcp.localPort ?? 0)}`, 'control');
    if (session.hooks?.onControlConnected) socket = await session.hooks.onControlConnected(tcp, session);
  } catch (e) {
    tcp.destroy();
    throw e;
  }
  if (lifetime.aborted) {
    socket.destroy();
    throw new FtpClosedError('the client was destroyed while connecting');
  }
  return socket;
}

async function login(session: ClientSession): Promise<void> {
  const user = session.options.user ?? 'anonymous';
  const password = session.options.password ?? (user === 'anonymous' || user === 'ftp' ? 'anonymous@' : '');
  let r = await session.command(`USER ${user}`);
  let command = `USER ${user}`;
  if (r.code === ReplyCode.NeedPassword) {
    const pass = `PASS ${password}`;
    r = await session.command(pass);
    command = maskOutgoingCommand(pass);
  }
  // RFC 959 s5.4: 332 asks for ACCT, which we have no setting for.
  if (r.code !== ReplyCode.LoggedIn && r.code !== ReplyCode.NotImplementedSuperfluous) {
    throw new FtpReplyError(r.code, r.message, command);
  }
}
