/**
 * Opening data connections for the client: passive (EPSV RFC 2428 s3 / PASV RFC 959 s4.1.2) and active
 * (EPRT RFC 2428 s2 / PORT RFC 959 s4.1.2), with every DataConnectionSettings option. Each decision (which
 * command, which address, by which rule, which fallback) is published as a structured event
 * ('dataChannel', 'fallback'); the transcript says it in words (transcript.ts).
 *
 * Both modes return a PreparedData: `socket()` gives the connected (passive) or accepted (active) TCP socket.
 * The transfer (transfer.ts) decides when to send the transfer command and how to move bytes.
 */
import net from 'node:net';
import { FtpReplyError, FtpUsageError, FtpNetworkError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { parsePasvReply, parseEpsvReply, unmapIPv4 } from '../protocol/hostport.js';
import { choosePasvTarget, classifyAddress, DEFAULT_PASV_ADDRESS_POLICY } from '../protocol/address-policy.js';
import { formatEndpoint, type ConnectTarget } from '../net/connect.js';
import { PortRangeListener } from '../net/port-range-listener.js';
import type { ClientSession } from './session.js';
import { isTransferCommand } from '../protocol/transfer-verbs.js';
import { EXTENDED_REFUSED, offerActive } from './active-offer.js';

export type DataMode = 'passive' | 'active';

export interface PreparedData {
  readonly mode: DataMode;
  /** Where the data connection goes / comes from, for messages. */
  readonly description: string;
  /**
   * The TCP socket: already connected for passive; for active, waits for the server to connect
   * (bounded by the data timeout from the call).
   */
  socket(): Promise<net.Socket>;
  /** Release the listener / socket if unused. */
  close(): void;
}


/**
 * Open a data connection; `signal` stops a passive connect in progress (abort() during preparation).
 * `readInto`: a passive socket reads into these buffers (net/wire-blocks.ts); an accepted one cannot.
 */
export function prepareData(session: ClientSession, mode: DataMode, signal?: AbortSignal,
  readInto?: ConnectTarget['readInto']): Promise<PreparedData> {
  return mode === 'active' ? prepareActive(session) : preparePassive(session, signal, readInto);
}

/**
 * Whether a transfer failed because its data connection could not be established, so the other mode may
 * work (data.fallback): our connect, listen or accept failed, or the server answered the transfer command
 * with 425 "can't open data connection" (RFC 959 s4.2, the server's connect-back in active mode).
 */
export function isDataConnectionFailure(err: unknown): boolean {
  if (err instanceof FtpReplyError) {
    return err.replyCode === ReplyCode.CantOpenDataConnection && isTransferCommand(err.command ?? '');
  }
  return err instanceof FtpNetworkError && err.connection === 'data'
    && (err.phase === 'connect' || err.phase === 'accept' || err.phase === 'listen');
}

// ---------------------------------------------------------------- passive

async function preparePassive(session: ClientSession, signal: AbortSignal | undefined,
  readInto: ConnectTarget['readInto']): Promise<PreparedData> {
  const { events, memory } = session;
  const settings = session.options.data ?? {};
  const setting = settings.passive?.command ?? 'auto';
  // Through a proxy the socket's peer is the proxy: the server is the host the tunnel leads to.
  const control = session.tunnel?.host ?? session.control.remoteAddress;
  let target: { host: string; port: number; context: string };
  const useEpsvFirst = setting === 'epsv' || (setting === 'auto' && memory.passive !== 'PASV');
  let epsvTarget: { host: string; port: number; context: string } | undefined;
  if (useEpsvFirst) {
    events.dataChannel({ step: 'command', mode: 'passive', command: 'EPSV',
      why: setting === 'epsv' ? 'setting' : memory.passive === 'EPSV' ? 'worked-before' : 'first' });
    const r = await session.command('EPSV');
    if (r.code === ReplyCode.EnteringExtendedPassive) {
      try {
        const port = parseEpsvReply(r.message);
        // RFC 2428 s3: the data connection goes to the same host as the control connection.
        epsvTarget = { host: control, port, context: 'EPSV port on the control host' };
      } catch (e) {
        if (setting === 'epsv') throw e;
        events.fallback({ from: 'EPSV', to: 'PASV', reason: 'unusable-reply', error: e as Error });
      }
    } else if (setting === 'epsv' || !EXTENDED_REFUSED.has(r.code)) {
      throw new FtpReplyError(r.code, r.message, 'EPSV');
    } else {
      events.fallback({ from: 'EPSV', to: 'PASV', reason: 'refused', replyCode: r.code });
    }
  }
  if (epsvTarget) {
    if (setting === 'auto') memory.passive = 'EPSV';
    target = epsvTarget;
    events.dataChannel({ step: 'target', mode: 'passive', command: 'EPSV', advertised: { port: target.port },
      target: { host: target.host, port: target.port }, rule: 'epsv', source: 'control host', replaced: false,
      reason: 'EPSV carries only a port: the data connection goes to the control host (RFC 2428 s3)' });
  } else {
    if (!useEpsvFirst) {
      events.dataChannel({ step: 'command', mode: 'passive', command: 'PASV', why: setting === 'pasv' ? 'setting' : 'failed-before' });
    }
    if (net.isIPv6(control) && !net.isIPv4(unmapIPv4(control))) {
      session.status(`the control connection is IPv6: PASV can only describe an IPv4 address (RFC 2428 s1)`);
    }
    const r = await session.command('PASV');
    if (r.code !== ReplyCode.EnteringPassive) throw new FtpReplyError(r.code, r.message, 'PASV');
    const hp = parsePasvReply(r.message);
    if (setting === 'auto') memory.passive = 'PASV';
    const policy = settings.passive?.addressPolicy ?? DEFAULT_PASV_ADDRESS_POLICY;
    const decision = choosePasvTarget(policy, hp.host, control);
    target = { host: decision.host, port: hp.port, context: decision.source };
    events.dataChannel({ step: 'target', mode: 'passive', command: 'PASV', advertised: { host: hp.host, port: hp.port },
      target: { host: target.host, port: target.port }, rule: policy, source: decision.source, replaced: decision.replaced,
      reason: decision.reason });
  }
  const socket = await session.connect({
    host: target.host, port: target.port, timeoutMs: session.timeouts.dataMs, connection: 'data', context: target.context,
    signal, readInto,
  });
  events.dataChannel({ step: 'connected', mode: 'passive', remote: { host: target.host, port: target.port } });
  const description = `${formatEndpoint(target.host, target.port)} (${target.context})`;
  return {
    mode: 'passive',
    description,
    socket: () => Promise.resolve(socket),
    close: () => { if (!socket.destroyed) socket.destroy(); },
  };
}

// ---------------------------------------------------------------- active

async function prepareActive(session: ClientSession): Promise<PreparedData> {
  const { events } = session;
  // Through a SOCKS5 proxy the proxy listens for us (BIND); an HTTP CONNECT proxy cannot (active-socks.ts).
  if (session.tunnel) return (await import('./active-socks.js')).prepareActiveThroughProxy(session);
  const a = session.options.data?.active ?? {};
  const localControl = session.control.localAddress;
  const bindHost = a.bindAddress ?? localControl;
  // Default: the control connection's local address — or the bind address when that names one specific
  // interface, since that is where we listen. An explicit advertiseAddress ('local' or an IP) always wins.
  const bindIsSpecific = a.bindAddress !== undefined && net.isIP(a.bindAddress) !== 0
    && classifyAddress(a.bindAddress) !== 'unspecified';
  const advertiseSource = a.advertiseAddress !== undefined && a.advertiseAddress !== 'local' ? 'advertiseAddress'
    : a.advertiseAddress === undefined && bindIsSpecific ? 'bindAddress' : 'control-local-address';
  const advertise = advertiseSource === 'advertiseAddress' ? a.advertiseAddress!
    : advertiseSource === 'bindAddress' ? a.bindAddress! : localControl;
  if (!net.isIP(unmapIPv4(advertise))) throw new FtpUsageError(`active advertiseAddress must be an IP address, got ${advertise}`);
  const serverIp = session.control.remoteAddress;
  // Listening starts before PORT/EPRT is sent: some servers (pyftpdlib) connect while handling the
  // command, before their 200 reply; the listener holds that connection until socket() asks for it.
  const listener = await PortRangeListener.open({
    host: bindHost,
    portRange: a.portRange,
    rangeName: 'active port range',
    // SECURITY: only the server we talk to may deliver or take our data (RFC 2577 s3, port theft).
    allowedPeer: serverIp,
    onRefused: peer => events.dataChannel({ step: 'refused-peer', mode: 'active', peer, allowed: serverIp }),
    onAccepted: sock => events.dataChannel({ step: 'connected', mode: 'active',
      remote: { host: unmapIPv4(sock.remoteAddress ?? ''), port: sock.remotePort ?? 0 } }),
  });
  const port = listener.port;
  const hp = { host: unmapIPv4(advertise), port };
  events.dataChannel({ step: 'listen', mode: 'active', listening: { host: bindHost, port },
    ...(a.portRange ? { portRange: { min: a.portRange.min, max: a.portRange.max } } : {}), advertised: hp, rule: advertiseSource });
  const description = `${formatEndpoint(hp.host, port)} (active, advertised)`;
  const close = (): void => {
    listener.close();
    listener.accepted?.destroy();
  };
  try {
    await offerActive(session, hp);
  } catch (e) {
    close();
    throw e;
  }
  return {
    mode: 'active',
    description,
    // Its failures have phase 'accept': isDataConnectionFailure() counts them as data-connection failures.
    socket: () => listener.accept({ timeoutMs: session.timeouts.dataMs, endpoint: formatEndpoint(hp.host, port),
      context: 'active mode: the server never connected back' }),
    close,
  };
}
