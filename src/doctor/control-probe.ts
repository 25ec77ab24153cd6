/**
 * The doctor's first steps, below the FTP client: name resolution, the TCP connect to the control port
 * (refused vs dropped vs reset, with the time it took), and the greeting, in cleartext or as implicit TLS.
 *
 * This is deliberately raw: "connected but no greeting" and "TLS handshake on connect works" are exactly the
 * observations that tell an implicit-FTPS port (RFC 4217 s1 mentions the 990 convention) from a firewall,
 * and a client library hides them behind one timeout.
 */
import { lookup } from 'node:dns/promises';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import { connectTcp, formatEndpoint } from '../net/connect.js';
import { FtpNetworkError, FtpProtocolError, FtpTlsError, classifySocketError } from '../errors.js';
import { outcomeKindOf, type EvidenceLine, type Outcome } from './types.js';

export interface ResolveResult {
  outcome: Outcome;
  addresses: string[];
  evidence: EvidenceLine[];
}

/** Name -> addresses (default: the system resolver, every family, in its order). */
export type Resolver = (host: string) => Promise<string[]>;
const systemResolver: Resolver = async host => (await lookup(host, { all: true })).map(r => r.address);

export async function probeResolve(host: string, timeoutMs: number, resolver: Resolver = systemResolver): Promise<ResolveResult> {
  const t0 = performance.now();
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) {
    return { outcome: { kind: 'ok', ms: 0 }, addresses: [bare], evidence: [{ atMs: 0, text: `${bare} is an IP address: nothing to resolve` }] };
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FtpNetworkError({ connection: 'control', phase: 'resolve', failure: 'timeout',
      elapsedMs: performance.now() - t0, message: 'DNS timeout' })), timeoutMs);
  });
  try {
    const addresses = await Promise.race([resolver(bare), deadline]);
    const ms = performance.now() - t0;
    return { outcome: { kind: 'ok', ms }, addresses, evidence: [{ atMs: ms, text: `${bare} resolves to ${addresses.join(', ')}` }] };
  } catch (err) {
    const ms = performance.now() - t0;
    // Our own deadline, or the resolver's error (ENOTFOUND, EAI_AGAIN... from node:dns).
    const timedOut = err instanceof FtpNetworkError && err.failure === 'timeout';
    const code = timedOut ? 'ETIMEDOUT' : (err as NodeJS.ErrnoException).code;
    return {
      outcome: { kind: timedOut ? 'timeout' : 'not-found', ms, message: `${code ?? ''} ${(err as Error).message}`.trim() },
      addresses: [], evidence: [{ atMs: ms, text: `lookup ${bare} failed: ${code ?? (err as Error).message}` }],
    };
  } finally { clearTimeout(timer); }
}

export interface GreetingProbe {
  tcp: Outcome;
  greeting: Outcome;
  /** The greeting reply's text lines (e.g. "220 (vsFTPd 3.0.3)"). */
  greetingLines: string[];
  localAddress?: string;
  remoteAddress?: string;
  /** Implicit TLS only: negotiated protocol. */
  tlsProtocol?: string;
  evidence: EvidenceLine[];
}

export interface GreetingProbeOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  greetingTimeoutMs: number;
  /** Do a TLS handshake right after connecting (implicit FTPS). */
  implicitTls?: boolean;
  servername?: string;
  signal?: AbortSignal;
}

function outcomeOfError(err: unknown, ms: number, connection: 'control' | 'data', phase: string, endpoint: string): Outcome {
  if (err instanceof FtpNetworkError) {
    return { kind: outcomeKindOf(err.failure), ms: err.elapsedMs ?? ms,
      connection, phase, endpoint: err.endpoint ?? endpoint, message: err.message };
  }
  const f = classifySocketError(err);
  return { kind: outcomeKindOf(f), ms, connection, phase, endpoint, message: (err as Error)?.message };
}

/** A failed greeting: FtpNetworkError (timeout, closed, reset...) or FtpProtocolError (too long). */
type GreetingFailure = FtpNetworkError | FtpProtocolError;

/** Read one complete FTP reply (RFC 959 s4.2: multi-line ends with "NNN "), bounded in size and time. */
export function readReply(socket: Socket | tls.TLSSocket, timeoutMs: number): Promise<{ lines: string[] } | { error: GreetingFailure }> {
  return new Promise(resolve => {
    let buf = '';
    const lines: string[] = [];
    let code: string | undefined;
    const fail = (failure: FtpNetworkError['failure'], message: string, cause?: unknown) =>
      done({ error: new FtpNetworkError({ connection: 'control', phase: 'greeting', failure, message, cause }) });
    const done = (r: { lines: string[] } | { error: GreetingFailure }) => {
      clearTimeout(timer);
      socket.off('data', onData); socket.off('error', onError); socket.off('end', onEnd); socket.off('close', onEnd);
      resolve(r);
    };
    const onData = (d: Buffer | string) => {
      buf += d.toString('latin1');
      if (buf.length > 16384) { done({ error: new FtpProtocolError('greeting longer than 16 KiB') }); return; }
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        lines.push(line);
        if (code === undefined) {
          const m = /^(\d{3})([ -])/.exec(line);
          if (!m) continue;
          code = m[1];
          if (m[2] === ' ') { done({ lines }); return; }
        } else if (line.startsWith(`${code} `)) { done({ lines }); return; }
      }
    };
    const onError = (e: Error) => fail(classifySocketError(e), e.message, e);
    const onEnd = () => fail('closed', 'connection closed before a greeting');
    const timer = setTimeout(() => fail('timeout', 'no greeting'), timeoutMs);
    socket.on('data', onData); socket.once('error', onError); socket.once('end', onEnd); socket.once('close', onEnd);
  });
}

/** Connect to the control port and wait for the greeting (optionally after an implicit TLS handshake). */
export async function probeGreeting(o: GreetingProbeOptions): Promise<GreetingProbe> {
  const endpoint = formatEndpoint(o.host, o.port);
  const evidence: EvidenceLine[] = [];
  const t0 = performance.now();
  const at = () => performance.now() - t0;
  let socket: Socket;
  evidence.push({ atMs: 0, text: `connecting to ${endpoint}${o.implicitTls ? ' (implicit TLS)' : ''}` });
  try {
    socket = await connectTcp({ host: o.host, port: o.port, timeoutMs: o.connectTimeoutMs, connection: 'control', ...(o.signal ? { signal: o.signal } : {}) });
  } catch (err) {
    const tcp = outcomeOfError(err, at(), 'control', 'connect', endpoint);
    evidence.push({ atMs: at(), text: `TCP connect ${tcp.kind === 'timeout' ? 'got no answer' : tcp.kind} after ${Math.round(tcp.ms)} ms` });
    return { tcp, greeting: { kind: 'skipped', ms: 0, message: 'no TCP connection' }, greetingLines: [], evidence };
  }
  const tcpMs = at();
  const tcp: Outcome = { kind: 'ok', ms: tcpMs, endpoint };
  const localAddress = socket.localAddress;
  const remoteAddress = socket.remoteAddress;
  evidence.push({ atMs: tcpMs, text: `TCP connected ${localAddress}:${socket.localPort} -> ${endpoint} in ${Math.round(tcpMs)} ms` });
  let stream: Socket | tls.TLSSocket = socket;
  let tlsProtocol: string | undefined;
  // The diagnosis may end (budget, or a side probe no longer needed) while we wait: stop at once.
  const onAbort = () => { stream.destroy(); socket.destroy(); };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (o.implicitTls) {
      const t1 = performance.now();
      const secure = tls.connect({ socket, servername: o.servername ?? (isIP(o.host) ? undefined : o.host), rejectUnauthorized: false });
      const hs = await new Promise<{ ok: true } | { ok: false; err: unknown; timeout?: boolean }>(resolve => {
        const timer = setTimeout(() => resolve({ ok: false, timeout: true,
          err: new FtpTlsError('control', 'TLS handshake timed out', { reason: 'timeout' }) }), o.greetingTimeoutMs);
        secure.once('secureConnect', () => { clearTimeout(timer); resolve({ ok: true }); });
        secure.once('error', err => { clearTimeout(timer); resolve({ ok: false, err }); });
      });
      const hsMs = performance.now() - t1;
      if (!hs.ok) {
        secure.destroy();
        const msg = (hs.err as Error).message;
        evidence.push({ atMs: at(), text: `TLS handshake on connect failed after ${Math.round(hsMs)} ms: ${msg}` });
        return { tcp, greeting: { kind: hs.timeout ? 'timeout' : 'tls', ms: hsMs, connection: 'control', phase: 'tls-handshake', endpoint, message: msg },
          greetingLines: [], localAddress, remoteAddress, evidence };
      }
      tlsProtocol = secure.getProtocol() ?? undefined;
      evidence.push({ atMs: at(), text: `TLS handshake on connect done (${tlsProtocol}) in ${Math.round(hsMs)} ms` });
      stream = secure;
    }
    const t2 = performance.now();
    const r = await readReply(stream, o.greetingTimeoutMs);
    const gMs = performance.now() - t2;
    if ('lines' in r) {
      for (const l of r.lines) evidence.push({ atMs: at(), text: `Response: ${l}` });
      const code = Number(r.lines[r.lines.length - 1]!.slice(0, 3));
      const greeting: Outcome = code === 220 ? { kind: 'ok', ms: gMs }
        : { kind: 'reply', ms: gMs, phase: 'greeting', replyCode: code, replyText: r.lines[r.lines.length - 1]!.slice(4) };
      return { tcp, greeting, greetingLines: r.lines, localAddress, remoteAddress, ...(tlsProtocol ? { tlsProtocol } : {}), evidence };
    }
    const failure = r.error instanceof FtpNetworkError ? r.error.failure : undefined;
    const kind = failure === 'timeout' || failure === 'closed' || failure === 'reset' ? failure : 'other';
    evidence.push({ atMs: at(), text: failure === 'timeout' ? `no greeting within ${Math.round(gMs)} ms` : `greeting failed after ${Math.round(gMs)} ms: ${r.error.message}` });
    return { tcp, greeting: { kind, ms: gMs, connection: 'control', phase: 'greeting', endpoint, message: r.error.message },
      greetingLines: [], localAddress, remoteAddress, evidence };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    stream.destroy();
    socket.destroy();
  }
}
