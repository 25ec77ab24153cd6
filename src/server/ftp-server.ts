/**
 * FtpServer: the library entry point of `ftpkit/server`.
 *
 * Owns: the listening socket(s), the set of sessions (and their read-only snapshots, sessions()), the
 * session limits, graceful close, and building the per-server context (resolved options, command table,
 * services: authenticator, failed-login record, passive address resolver and port pool; event emitter) that
 * each session receives. Nothing is global: two FtpServer instances in one process share no state.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { FtpUsageError } from '../errors.js';
import { formatReply, reply } from '../protocol/reply.js';
import { unmapIPv4 } from '../protocol/hostport.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { CommandTable } from './command-table.js';
import type { CommandModule } from './commands/contract.js';
import { defaultCommandModules } from './commands/index.js';
import { MemoryFailedLoginRecord } from './auth/failed-logins.js';
import type { FailedLoginRecord } from './auth/failed-logins.js';
import { natPassiveAddressResolver } from './nat/seam.js';
import { checkActiveSourcePrivilege } from './nat/active-source.js';
import type { PassiveAddressResolver } from './data/passive-address-resolver.js';
import type { FtpServerEvents } from './events.js';
import { HookRunner, type FtpServerHooks } from './hooks.js';
import type { FtpServerOptions } from './options.js';
import { resolveOptions } from './resolved-options.js';
import { PassivePortPool } from './data/passive-pool.js';
import { QuotaBook, type QuotaBookOptions } from './quota/usage.js';
import type { SharedScores } from './security/shared-scores.js';
import type { ResolvedServerOptions } from './resolved-options.js';
import { Session } from './session/session.js';
import { DeadlineSweep } from './session/timers.js';
import type { ConnectionInfo, ServerContext, SessionHandle } from './session/session.js';
import type { SessionInfo } from './session/session-info.js';
import type { SessionState } from './session/state.js';
import { ServerSecurity } from './tls/security.js';
import { defendServer } from './security/server-defence.js';
import type { Admission } from './security/admission.js';
import type { Defender } from './security/defender.js';
import type { Storage } from './storage/types.js';
import type { DefendedAuthenticator } from './security/login-guard.js';
import { reconfigureServer, type ReconfigureResult } from './reconfigure.js';
import { listenError, passiveRangeWarning, sweepUploadTemps } from './start-up.js';
import { BandwidthLimiter, type BandwidthOptions } from './limits/bandwidth.js';
import { UserSessionCount } from './limits/user-sessions.js';
import { acceptThroughProxy, ProxyGate, type ClientEndpoints } from './proxy/gate.js';
import { resolveProxyProtocol } from './proxy/options.js';
import { CompressedTransferSlots } from './transfer-modes.js';
import { holdLstatWorker } from './storage/local-lstat-worker.js';

/** Extension points (extra commands, NAT resolver, a shared failed-login record); not configuration for users. */
export interface FtpServerExtensions {
  /** Extra command modules, after the defaults (a row with an existing verb replaces it). */
  commandModules?: CommandModule[];
  /** What PASV advertises (src/server/nat/ supplies a NAT-aware one). Default: the NAT resolver of options.passive. */
  passiveAddressResolver?: PassiveAddressResolver;
  /** Where failed logins of every session are recorded. Default: a MemoryFailedLoginRecord of this server. */
  failedLoginRecord?: FailedLoginRecord;
  /**
   * Veto hooks of the host application (hooks.ts): beforeLogin, beforeUpload, beforeDelete, beforeRename,
   * beforeMkdir, each answering allow() or deny(reason, code?).
   */
  hooks?: FtpServerHooks;
  /** How long a hook may take before the action is refused with 451. Default 5 s. */
  hookTimeoutMs?: number;
  /** Defender scores and bans shared by several nodes (security/shared-scores.ts; PostgreSQL: src/server/db/). */
  sharedScores?: SharedScores;
  /** Makes the quota book (src/server/db/shared-quota.ts shares usage between nodes). Default: in this process. */
  quotaBook?: (options: QuotaBookOptions) => QuotaBook;
}

/**
 * Listening sockets opened by someone else (systemd socket activation, src/cli/systemd-fds.ts), by file
 * descriptor: the server accepts on them instead of binding host/port (and tls.implicitPort).
 */
export interface InheritedListeners {
  /** The control port's listening socket. */
  control?: number;
  /** The implicit FTPS port's listening socket (needs options.tls). */
  implicit?: number;
}

export interface CloseOptions {
  /** How long running transfers may continue before they are cut. Default 10 s. */
  timeoutMs?: number;
}

export class FtpServer extends EventEmitter<FtpServerEvents> {
  readonly options: ResolvedServerOptions;
  private readonly context: ServerContext;
  private readonly servers: Server[] = [];
  private readonly open = new Set<Session>();
  private readonly tag = randomBytes(3).toString('hex');
  private sessionCounter = 0;
  private closing = false;
  /** Releases this server's hold on the process's lstat worker (storage/local-lstat-worker.ts); set by listen(). */
  private releaseLstatWorker: (() => Promise<void>) | undefined;
  /** FTPS (options.tls): AUTH/PBSZ/PROT commands, policies, certificates, implicit TLS. */
  readonly security: ServerSecurity | undefined;
  /** Failed logins of every session of this server (extensions.failedLoginRecord, or in memory). */
  readonly failedLogins: FailedLoginRecord;
  private implicitServer: Server | undefined;
  private implicitHandshakes = 0;
  /** Implicit-FTPS connections still in their TLS handshake (destroyed by close()), with their client's address. */
  private readonly implicitPending = new Map<Socket, string>();
  /** The PROXY protocol on the listeners (options.proxyProtocol; src/server/proxy/). */
  private readonly proxyGate: ProxyGate;
  /** Scores, bans, allow and deny lists (options.defender; src/server/security/). */
  readonly defender: Defender;
  private readonly admission: Admission;
  private readonly sweepStorages: readonly Storage[];
  /** The options as given (and as last reconfigured), for reconfigure() to compare with. */
  private given: FtpServerOptions;
  private readonly guardedAuthenticator: DefendedAuthenticator;
  private readonly customResolver: boolean;
  /** Bandwidth caps (options.limits.bandwidth; setBandwidth()). */
  readonly bandwidth: BandwidthLimiter;

  constructor(options: FtpServerOptions, extensions: FtpServerExtensions = {}) {
    super();
    if (!options || typeof options.authenticator?.authenticate !== 'function') {
      throw new TypeError('FtpServer needs options.authenticator');
    }
    this.options = resolveOptions(options);
    this.sweepStorages = [...(options.uploads?.sweep ?? [])];
    this.given = { ...options };
    this.customResolver = extensions.passiveAddressResolver !== undefined;
    this.security = options.tls ? new ServerSecurity(options.tls) : undefined;
    this.failedLogins = extensions.failedLoginRecord ?? new MemoryFailedLoginRecord();
    this.bandwidth = new BandwidthLimiter(options.limits?.bandwidth);
    this.proxyGate = new ProxyGate(resolveProxyProtocol(options.proxyProtocol), (code, message, remoteAddress) => this.emit('warning', { code, message, remoteAddress }));
    const defence = defendServer(this, options, extensions.sharedScores);
    this.defender = defence.defender;
    this.admission = defence.admission;
    this.guardedAuthenticator = defence.authenticator;
    const table = new CommandTable([
      ...defaultCommandModules, ...(this.security ? [this.security.module] : []), ...(extensions.commandModules ?? []),
    ]);
    this.context = {
      options: this.options,
      events: this,
      table,
      services: {
        authenticator: defence.authenticator,
        failedLogins: this.failedLogins,
        commands: table,
        hooks: HookRunner.of(extensions.hooks, extensions.hookTimeoutMs),
        userSessions: new UserSessionCount(this.options.limits),
        proxyGate: this.proxyGate,
        compressedTransfers: new CompressedTransferSlots(this.options.limits),
        // The seam for NAT (src/server/data/passive-address-resolver.ts): what 227 advertises. The NAT resolver
        // (src/server/nat/): fixed / hostname / per-network address, port map, and a 'warning' when a private
        // address would be advertised to a public client. Same result as the default when nothing is configured.
        passiveAddressResolver: extensions.passiveAddressResolver ?? this.natResolver(options.passive),
        // One pool per server: under pressure unclaimed passive listeners give their ports back sooner.
        passivePool: new PassivePortPool(this.options.passive.portRange, this.options.timeouts.passiveReclaimMs),
        // One count per user with a quota, shared by all their sessions (src/server/quota/).
        quotas: (extensions.quotaBook ?? (o => new QuotaBook(o)))({ rescanAfterMs: this.options.limits.quotaRescanMs, warn: (code, message) => this.emit('warning', { code, message }) }),
      },
      deadlines: new DeadlineSweep(),
      bandwidth: this.bandwidth,
      onSessionClosed: s => this.open.delete(s),
    };
  }

  private natResolver(passive: FtpServerOptions['passive']): PassiveAddressResolver {
    return natPassiveAddressResolver(passive, w => this.emit('warning', {
      code: w.code, message: w.message, ...(w.remoteAddress ? { remoteAddress: w.remoteAddress } : {}) }));
  }

  /**
   * Change options of the running server without dropping a session (a configuration reload: `ftpkit serve`
   * calls it on SIGHUP). Give only what changes: each top-level key given replaces that option (undefined:
   * back to its default), the others stay. All or nothing: everything is validated first (TLS files read and
   * parsed), a bad value throws FtpConfigError naming the key and nothing changes. Sessions keep running;
   * what reaches them when, and what needs a restart (host, port, TLS listeners), is in src/server/reconfigure.ts.
   */
  async reconfigure(options: Partial<FtpServerOptions>): Promise<ReconfigureResult> {
    const target = {
      given: this.given,
      resolved: this.options,
      services: this.context.services,
      authenticator: this.guardedAuthenticator,
      defender: this.defender,
      bandwidth: this.bandwidth,
      security: this.security,
      passiveResolver: this.customResolver ? undefined : (p: FtpServerOptions['passive']) => this.natResolver(p),
      onCertificates: () => this.watchCertificates(),
    };
    const result = await reconfigureServer(target, options);
    this.given = target.given;
    return result;
  }

  /** A rotated certificate that cannot be used yet (key not matching, half-written file) is worth a warning. */
  private watchCertificates(): void {
    this.security?.certificates.on('error', err => this.emit('warning', { code: 'tls-certificate-reload', message: `certificate files changed but cannot be used yet (the previous certificate stays in use): ${err.message}` }));
  }

  /**
   * Replace the bandwidth caps (the same shape as options.limits.bandwidth, bytes per second; an absent cap
   * is none). Running transfers follow from their next piece (at most about 1/20 s later); nothing is
   * dropped or restarted. A bad value throws FtpConfigError naming it, and the caps in force stay.
   * The configuration reload (SIGHUP) calls this with the new file's caps.
   */
  setBandwidth(bandwidth: BandwidthOptions | undefined): void {
    this.bandwidth.set(bandwidth);
  }

  /** Sessions currently open. */
  get sessionCount(): number { return this.open.size; }

  /** close() has begun: no new sessions, running transfers finishing (a load balancer's "draining"). */
  get isClosing(): boolean { return this.closing; }

  /** Passive data ports listened on now (claimed or waiting for the client's connection). */
  get passivePortsInUse(): number { return this.context.services.passivePool?.held ?? 0; }

  /** An operator's disconnect (the admin page): the transfer aborted, 421 `text`, closed; false for no such session. */
  async disconnect(sessionId: string, reason: string, text = 'Disconnected by the administrator'): Promise<boolean> {
    const session = [...this.open].find(s => s.id === sessionId);
    if (!session || session.isClosed) return false;
    await session.transfer?.abort(reason);
    await session.send(reply(ReplyCode.ServiceNotAvailable, text));
    session.close(reason, true);
    return true;
  }

  /** A read-only snapshot of every open session (addresses, user, TLS, the running transfer with its bytes). */
  sessions(): SessionInfo[] {
    return [...this.open].map(s => s.info());
  }

  /**
   * Start listening. Default host "::" accepts both IPv4 (as mapped addresses) and IPv6; where IPv6 is
   * unavailable it falls back to 0.0.0.0. Resolves with the bound address(es). `inherited`: accept on
   * sockets already listening (socket activation) instead of binding.
   */
  async listen(inherited: InheritedListeners = {}): Promise<AddressInfo[]> {
    if (this.servers.length) throw new FtpUsageError('the server is already listening: call close() before listen() again');
    this.releaseLstatWorker ??= holdLstatWorker();
    const { host, port } = this.options;
    // NAT/active: connecting back from port 20 (RFC 959 s3.2) needs the privilege; say so now, not at the first transfer.
    await checkActiveSourcePrivilege(this.options.active);
    // FTPS: the certificate must be loaded (or generated) before the first AUTH TLS.
    if (this.security) {
      await this.security.init();
      this.watchCertificates();
    }
    await sweepUploadTemps(this.sweepStorages, this);
    if (inherited.implicit !== undefined && !this.security) {
      throw new FtpUsageError('an implicit FTPS listening socket was passed, but the server has no TLS options');
    }
    if (inherited.control !== undefined) {
      await this.listenOn(host ?? '::', port, false, undefined, inherited.control);
    } else if (host === undefined) {
      try {
        await this.listenOn('::', port, false);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL' && code !== 'EINVAL') throw listenError(err, '::', port);
        await this.listenOn('0.0.0.0', port, false);
      }
    } else {
      await this.listenOn(host, port, false);
    }
    const implicitPort = this.security?.options.implicitPort;
    if (inherited.implicit !== undefined) {
      await this.listenOn(host ?? '::', implicitPort ?? 0, false, socket => this.acceptImplicit(socket), inherited.implicit);
      this.implicitServer = this.servers[this.servers.length - 1];
    } else if (implicitPort !== undefined) {
      // Implicit FTPS (TLS from the first byte) on its own port; same sessions, same table.
      const implicitHost = this.security!.options.implicitHost ?? host ?? (this.servers[0].address() as AddressInfo).address;
      await this.listenOn(implicitHost, implicitPort, false, socket => this.acceptImplicit(socket));
      this.implicitServer = this.servers[this.servers.length - 1];
    }
    const addresses = this.servers.map(s => s.address() as AddressInfo);
    const rangeWarning = passiveRangeWarning(this.options);
    if (rangeWarning) this.emit('warning', rangeWarning);
    this.emit('listening', { addresses: addresses.map(a => ({ address: a.address, family: a.family, port: a.port })) });
    return addresses;
  }

  /** Bind host:port, or accept on the listening socket `fd` (host and port then only name it in errors). */
  private listenOn(host: string, port: number, ipv6Only: boolean, onSocket = (socket: Socket) => acceptThroughProxy(this.proxyGate, socket, 'control', e => this.onConnection(socket, e)), fd?: number): Promise<void> {
    const server = createServer(onSocket);
    return new Promise<void>((resolve, reject) => {
      server.once('error', err => reject(fd !== undefined
        ? new FtpUsageError(`cannot accept on the inherited socket (file descriptor ${fd}): ${err.message}`, { cause: err })
        : host === '::' ? err : listenError(err, host, port)));
      server.listen(fd !== undefined ? { fd, backlog: 511 } : { host, port, ipv6Only, backlog: 511 }, () => {
        server.removeAllListeners('error');
        server.on('error', err => this.emit('warning', { code: 'listener-error', message: err.message }));
        this.servers.push(server);
        resolve();
      });
    });
  }

  /** The first bound address (host, family, port), or null before listen(). */
  address(): AddressInfo | null {
    return (this.servers[0]?.address() as AddressInfo | null) ?? null;
  }

  /** The implicit FTPS listener's address (options.tls.implicitPort), or null. */
  implicitAddress(): AddressInfo | null {
    return (this.implicitServer?.address() as AddressInfo | null) ?? null;
  }

  /** Implicit FTPS: the PROXY header (when configured) before the TLS handshake. */
  private acceptImplicit(socket: Socket): void {
    acceptThroughProxy(this.proxyGate, socket, 'implicit', e => this.onImplicitConnection(socket, e));
  }

  /** Implicit FTPS: TLS handshake first, then an ordinary session on the TLS socket. */
  private onImplicitConnection(socket: Socket, info: ClientEndpoints): void {
    if (this.admission.turnAway(socket, false, info.remoteAddress)) return;
    socket.setNoDelay(true);
    socket.on('error', () => {});
    // Connections still in their handshake count toward the limit: silent clients must not pile up.
    const refusal = this.admissionRefusal(info.remoteAddress, this.implicitHandshakes);
    if (refusal) {
      this.emit('warning', { code: 'session-limit', remoteAddress: info.remoteAddress, message: `connection refused: ${refusal.log}` });
      socket.destroy();
      return;
    }
    this.implicitHandshakes++;
    this.implicitPending.set(socket, unmapIPv4(info.remoteAddress));
    this.security!.acceptImplicit(socket).finally(() => { this.implicitHandshakes--; this.implicitPending.delete(socket); }).then(({ socket: tlsSocket, adopt }) => {
      if (this.closing) { tlsSocket.destroy(); return; }
      this.startSession(tlsSocket, info, adopt);
    }, (err: Error) => {
      this.emit('warning', { code: 'tls-handshake-failed', remoteAddress: info.remoteAddress, message: `implicit FTPS: ${err.message}` });
    });
  }

  /**
   * Why a new connection from `remoteAddress` is refused (shutdown, session limits), or undefined: `log`
   * for the warning, `client` for the 421 text.
   */
  private admissionRefusal(remoteAddress: string | undefined, pending = 0): { log: string; client: string } | undefined {
    if (this.closing) return { log: 'server closing', client: 'Server shutting down' };
    const { maxSessions, maxSessionsPerAddress } = this.options.limits;
    if (this.open.size + pending >= maxSessions) {
      return { log: `too many sessions (limits.maxSessions ${maxSessions})`, client: 'Too many connections, try again later' };
    }
    if (Number.isFinite(maxSessionsPerAddress)) {
      const addr = unmapIPv4(remoteAddress ?? '');
      let n = 0;
      for (const s of this.open) if (s.remoteAddress === addr) n++;
      // Implicit-FTPS connections still in their handshake count too (they become sessions).
      for (const a of this.implicitPending.values()) if (a === addr) n++;
      if (n >= maxSessionsPerAddress) {
        return {
          log: `too many sessions from ${addr} (limits.maxSessionsPerAddress ${maxSessionsPerAddress})`,
          client: `Too many connections from your address (${addr}): at most ${maxSessionsPerAddress} at a time; close one and try again`,
        };
      }
    }
    return undefined;
  }

  /** `info`: the client's endpoints (behind a proxy: from its PROXY header). */
  private onConnection(socket: Socket, info: ClientEndpoints): void {
    if (this.admission.turnAway(socket, true, info.remoteAddress)) return;
    socket.setNoDelay(true);
    const refusal = this.admissionRefusal(info.remoteAddress);
    if (refusal) {
      this.emit('warning', { code: 'session-limit', remoteAddress: info.remoteAddress, message: `connection refused: ${refusal.log}` });
      socket.on('error', () => {});
      socket.end(formatReply(reply(ReplyCode.ServiceNotAvailable, refusal.client)));
      return;
    }
    this.startSession(socket, info);
  }

  /**
   * Serve one control connection on any Duplex (TCP socket, an in-memory pair in tests, a TLS socket for
   * implicit FTPS). Returns a handle: the connection facts, a snapshot (info()) and closedPromise().
   */
  handleConnection(stream: Duplex, info: ConnectionInfo): SessionHandle {
    return this.startSession(stream, info).handle();
  }

  /** `prepare` sets up the state before the greeting (implicit FTPS: the connection is already protected). */
  private startSession(stream: Duplex, info: ConnectionInfo, prepare?: (state: SessionState) => void): Session {
    const session = new Session(this.context, stream, info, `${this.tag}-${++this.sessionCounter}`);
    this.open.add(session);
    prepare?.(session.state);
    session.start();
    return session;
  }

  /**
   * Graceful close: stop accepting, let running transfers finish (up to timeoutMs), then send 421 to every
   * session and close it.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    this.closing = true;
    // Implicit-FTPS clients still in their handshake have no session yet: nothing to finish for them.
    for (const s of this.implicitPending.keys()) s.destroy();
    this.proxyGate.close();
    const serversClosed = this.servers.splice(0).map(s => new Promise<void>(resolve => s.close(() => resolve())));
    const timeoutMs = options.timeoutMs ?? 10_000;
    const shutDown = async (s: Session): Promise<void> => {
      if (s.isClosed) return;
      await s.send(reply(ReplyCode.ServiceNotAvailable, 'Server shutting down'));
      s.close('server shutdown', true);
    };
    // Idle sessions are told at once; a session with a running transfer right after its 226 (or its 426).
    const sessions = [...this.open];
    await Promise.all(sessions.filter(s => !s.transfer).map(shutDown));
    const running = sessions.filter(s => s.transfer).map(s => s.transfer!.done.then(() => shutDown(s)));
    if (running.length) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(running),
        new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs); }),
      ]);
      clearTimeout(timer);
    }
    // Whatever still runs after the timeout is cut.
    await Promise.all([...this.open].map(shutDown));
    await Promise.all(serversClosed);
    this.context.deadlines.stop();
    // The lstat worker of big listings is the process's (storage/local-lstat-worker.ts): stopped once no
    // listening server of this process holds it.
    const release = this.releaseLstatWorker;
    this.releaseLstatWorker = undefined;
    await release?.();
    this.emit('close');
  }
}
