/**
 * Opening data connections for the client: passive (EPSV RFC 2428 s3 / PASV RFC 959 s4.1.2) and active
 * (EPRT RFC 2428 s2 / PORT RFC 959 s4.1.2), with every DataConnectionSettings option and a 'status'
 * transcript line for each decision (which command, which address, why).
 *
 * Both modes return a PreparedData: `socket()` gives the connected (passive) or accepted (active) TCP socket.
 * The transfer (transfer.ts) decides when to send the transfer command and how to move bytes.
 */
import net from 'node:net';
import { FtpReplyError, FtpUsageError, FtpNetworkError, type FtpError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { FtpResponse } from '../protocol/reply-parser.js';
import {
  parsePasvReply, parseEpsvReply, formatPortArgument, formatEprtArgument, unmapIPv4,
} from '../protocol/hostport.js';
import { choosePasvTarget, classifyAddress, DEFAULT_PASV_ADDRESS_POLICY } from '../protocol/address-policy.js';
import { formatEndpoint, networkError } from '../net/connect.js';
import type { DataConnectionSettings } from './options.js';
import type { ControlConnection } from './control-connection.js';
import type { Connector } from './transport.js';

export type DataMode = 'passive' | 'active';

/** What a session remembers between data connections; cleared on every new connect. */
export interface SessionMemory {
  passive?: 'EPSV' | 'PASV';
  active?: 'EPRT' | 'PORT';
  /** The PASV reply's address was ignored and the transcript said so (said once per session). */
  pasvAddressIgnoredSaid?: boolean;
}

/** What the data layer needs from the client. */
export interface DataContext {
  readonly control: ControlConnection;
  readonly settings: DataConnectionSettings;
  readonly connector: Connector;
  readonly dataTimeoutMs: number;
  /** Stops a data connect in progress (abort() during preparation). */
  readonly signal?: AbortSignal;
  /** Send a command and read its final reply (bounded); never throws on 4xx/5xx. */
  command(line: string): Promise<FtpResponse>;
  status(text: string, connection?: 'control' | 'data'): void;
  /** Per-session memory of what worked ("the winner is remembered"). */
  readonly memory: SessionMemory;
}

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

/** Replies to EPSV/EPRT after which the classic command is tried (RFC 2428 s3: 522 names the protocols). */
const EXTENDED_REFUSED = new Set<number>([
  ReplyCode.SyntaxError, ReplyCode.SyntaxErrorInParameters, ReplyCode.CommandNotImplemented,
  ReplyCode.ProtocolNotSupported,
]);

export function prepareData(ctx: DataContext, mode: DataMode): Promise<PreparedData> {
  return mode === 'active' ? prepareActive(ctx) : preparePassive(ctx);
}

/** Marks an error as a failure of the data connection itself (a fallback to the other mode may help). */
export function markDataFailure<E extends FtpError>(err: E): E {
  (err as E & { dataConnectionFailure?: boolean }).dataConnectionFailure = true;
  return err;
}

export function isDataConnectionFailure(err: unknown): boolean {
  if ((err as { dataConnectionFailure?: boolean } | undefined)?.dataConnectionFailure) return true;
  return err instanceof FtpNetworkError && err.connection === 'data'
    && (err.phase === 'connect' || err.phase === 'accept' || err.phase === 'listen');
}

// ---------------------------------------------------------------- passive

async function preparePassive(ctx: DataContext): Promise<PreparedData> {
  const setting = ctx.settings.passive?.command ?? 'auto';
  const control = ctx.control.remoteAddress;
  let target: { host: string; port: number; context: string };
  const useEpsvFirst = setting === 'epsv' || (setting === 'auto' && ctx.memory.passive !== 'PASV');
  let epsvTarget: { host: string; port: number; context: string } | undefined;
  if (useEpsvFirst) {
    ctx.status(setting === 'auto'
      ? `passive mode: trying EPSV${ctx.memory.passive === 'EPSV' ? ' (worked before in this session)' : ' first (passive command auto)'}`
      : 'passive mode: EPSV (passive command epsv)');
    const r = await ctx.command('EPSV');
    if (r.code === ReplyCode.EnteringExtendedPassive) {
      try {
        const port = parseEpsvReply(r.message);
        // RFC 2428 s3: the data connection goes to the same host as the control connection.
        epsvTarget = { host: control, port, context: 'EPSV port on the control host' };
      } catch (e) {
        if (setting === 'epsv') throw e;
        ctx.status(`EPSV reply is unusable (${(e as Error).message}): falling back to PASV`);
      }
    } else if (setting === 'epsv' || !EXTENDED_REFUSED.has(r.code)) {
      throw new FtpReplyError(r.code, r.message, 'EPSV');
    } else {
      ctx.status(`EPSV refused with ${r.code}: falling back to PASV`);
    }
  }
  if (epsvTarget) {
    if (setting === 'auto') ctx.memory.passive = 'EPSV';
    target = epsvTarget;
    ctx.status(`EPSV: connecting to ${formatEndpoint(target.host, target.port)}`, 'data');
  } else {
    if (!useEpsvFirst) {
      ctx.status(setting === 'pasv' ? 'passive mode: PASV (passive command pasv)'
        : 'passive mode: PASV (EPSV failed earlier in this session)');
    }
    if (net.isIPv6(control) && !net.isIPv4(unmapIPv4(control))) {
      ctx.status(`the control connection is IPv6: PASV can only describe an IPv4 address (RFC 2428 s1)`);
    }
    const r = await ctx.command('PASV');
    if (r.code !== ReplyCode.EnteringPassive) throw new FtpReplyError(r.code, r.message, 'PASV');
    const hp = parsePasvReply(r.message);
    if (setting === 'auto') ctx.memory.passive = 'PASV';
    const policy = ctx.settings.passive?.addressPolicy ?? DEFAULT_PASV_ADDRESS_POLICY;
    const decision = choosePasvTarget(policy, hp.host, control);
    // The default ignoring the reply's address is said once per session, not before every transfer.
    if (policy === 'control' && decision.replaced && ctx.memory.pasvAddressIgnoredSaid) {
      ctx.status(`PASV: connecting to the control host ${decision.host} (addressPolicy control)`, 'data');
    } else {
      ctx.status(decision.reason, 'data');
      if (policy === 'control' && decision.replaced) ctx.memory.pasvAddressIgnoredSaid = true;
    }
    target = { host: decision.host, port: hp.port, context: decision.source };
  }
  const socket = await ctx.connector({
    host: target.host, port: target.port, timeoutMs: ctx.dataTimeoutMs, connection: 'data', context: target.context,
    signal: ctx.signal,
  });
  ctx.status(`data connection established to ${formatEndpoint(target.host, target.port)}`, 'data');
  const description = `${formatEndpoint(target.host, target.port)} (${target.context})`;
  return {
    mode: 'passive',
    description,
    socket: () => Promise.resolve(socket),
    close: () => { if (!socket.destroyed) socket.destroy(); },
  };
}

// ---------------------------------------------------------------- active

async function listenInRange(host: string, range: { min: number; max: number } | undefined): Promise<net.Server> {
  const tryListen = (port: number): Promise<net.Server> => new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true, backlog: 4 }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
  if (!range) {
    try {
      return await tryListen(0);
    } catch (e) {
      throw markDataFailure(networkError({ connection: 'data', phase: 'listen', failure: 'other', endpoint: formatEndpoint(host, 0),
        cause: e, detail: (e as Error).message }));
    }
  }
  const { min, max } = range;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
    throw new FtpUsageError(`invalid active port range ${min}-${max}`);
  }
  const count = max - min + 1;
  // Start at a random port so parallel connections don't all fight for the first one.
  const first = Math.floor(Math.random() * count);
  let lastError: unknown;
  for (let i = 0; i < count; i++) {
    const port = min + ((first + i) % count);
    try {
      return await tryListen(port);
    } catch (e) {
      lastError = e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') break;
    }
  }
  throw networkError({ connection: 'data', phase: 'listen', failure: 'address-in-use',
    endpoint: `${host} ports ${min}-${max}`, cause: lastError,
    detail: `no free port in the active port range ${min}-${max} (${(lastError as Error | undefined)?.message ?? 'none tried'})` });
}

async function prepareActive(ctx: DataContext): Promise<PreparedData> {
  const a = ctx.settings.active ?? {};
  const setting = a.command ?? 'auto';
  const localControl = ctx.control.localAddress;
  const bindHost = a.bindAddress ?? localControl;
  // Default: the control connection's local address — or the bind address when that names one specific
  // interface, since that is where we listen. An explicit advertiseAddress ('local' or an IP) always wins.
  const bindIsSpecific = a.bindAddress !== undefined && net.isIP(a.bindAddress) !== 0
    && classifyAddress(a.bindAddress) !== 'unspecified';
  const advertiseSource = a.advertiseAddress !== undefined && a.advertiseAddress !== 'local' ? 'advertiseAddress'
    : a.advertiseAddress === undefined && bindIsSpecific ? 'bindAddress' : 'local address of the control connection';
  const advertise = advertiseSource === 'advertiseAddress' ? a.advertiseAddress!
    : advertiseSource === 'bindAddress' ? a.bindAddress! : localControl;
  if (!net.isIP(unmapIPv4(advertise))) throw new FtpUsageError(`active advertiseAddress must be an IP address, got ${advertise}`);
  const server = await listenInRange(bindHost, a.portRange);
  const port = (server.address() as net.AddressInfo).port;
  const hp = { host: unmapIPv4(advertise), port };
  ctx.status(`active mode: listening on ${formatEndpoint(bindHost, port)}${a.portRange ? ` (port range ${a.portRange.min}-${a.portRange.max})` : ''}, `
    + `advertising ${formatEndpoint(hp.host, port)} (${advertiseSource})`, 'data');
  const serverIp = ctx.control.remoteAddress;
  const description = `${formatEndpoint(hp.host, port)} (active, advertised)`;
  let closed = false;
  let accepted: net.Socket | undefined;
  let onAccepted: ((s: net.Socket) => void) | undefined;
  let stopWaiting: (() => void) | undefined;
  const close = (): void => {
    if (closed) return;
    closed = true;
    server.close();
  };
  // Listen for the connection before PORT/EPRT is sent: some servers (pyftpdlib) connect while handling
  // the command, before their 200 reply; a net.Server without a 'connection' listener would drop it.
  server.on('connection', (sock: net.Socket) => {
    const peer = unmapIPv4(sock.remoteAddress ?? '');
    // SECURITY: only the server we talk to may deliver or take our data (RFC 2577 s3, port theft).
    if (peer !== serverIp || accepted) {
      ctx.status(`active mode: refused a data connection from ${peer}: only ${serverIp} may connect, once`, 'data');
      sock.destroy();
      return;
    }
    accepted = sock;
    close();
    ctx.status(`data connection accepted from ${formatEndpoint(peer, sock.remotePort ?? 0)}`, 'data');
    onAccepted?.(sock);
  });
  try {
    const v4 = net.isIPv4(hp.host);
    let useEprt = setting === 'eprt' || (setting === 'auto' && ctx.memory.active !== 'PORT');
    if (setting === 'port' && !v4) throw new FtpUsageError(`PORT cannot advertise the IPv6 address ${hp.host}: use EPRT (RFC 2428)`);
    if (setting === 'auto' && !v4) useEprt = true;
    let done = false;
    if (useEprt) {
      const r = await ctx.command(`EPRT ${formatEprtArgument(hp)}`);
      if (r.code === ReplyCode.Ok) {
        done = true;
        if (setting === 'auto') ctx.memory.active = 'EPRT';
      } else if (setting === 'eprt' || !EXTENDED_REFUSED.has(r.code) || !v4) {
        throw new FtpReplyError(r.code, r.message, `EPRT ${formatEprtArgument(hp)}`);
      } else {
        ctx.status(`EPRT refused with ${r.code}: falling back to PORT`);
      }
    }
    if (!done) {
      const arg = formatPortArgument(hp);
      const r = await ctx.command(`PORT ${arg}`);
      if (r.code !== ReplyCode.Ok) throw new FtpReplyError(r.code, r.message, `PORT ${arg}`);
      if (setting === 'auto') ctx.memory.active = 'PORT';
    }
  } catch (e) {
    close();
    accepted?.destroy();
    throw e;
  }
  return {
    mode: 'active',
    description,
    socket: () => new Promise<net.Socket>((resolve, reject) => {
      if (accepted) { resolve(accepted); return; }
      const started = performance.now();
      const timer = setTimeout(() => {
        onAccepted = undefined;
        close();
        reject(markDataFailure(networkError({ connection: 'data', phase: 'accept', failure: 'timeout',
          endpoint: formatEndpoint(hp.host, port), elapsedMs: performance.now() - started,
          context: 'active mode: the server never connected back' })));
      }, ctx.dataTimeoutMs);
      onAccepted = sock => { clearTimeout(timer); onAccepted = undefined; stopWaiting = undefined; resolve(sock); };
      stopWaiting = () => {
        clearTimeout(timer);
        onAccepted = undefined;
        reject(networkError({ connection: 'data', phase: 'accept', failure: 'closed', endpoint: formatEndpoint(hp.host, port),
          detail: 'stopped waiting for the server to connect' }));
      };
    }),
    close: () => {
      close();
      stopWaiting?.();
      stopWaiting = undefined;
      if (accepted && !accepted.destroyed) accepted.destroy();
    },
  };
}
