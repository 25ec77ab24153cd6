/**
 * FTPS for FtpClient (RFC 4217): the session hooks that FtpClient calls for `secure: 'explicit' |
 * 'implicit'` (see transport.ts). Registered on import; FtpClient imports this module.
 *
 * Owns the client's FTPS sequence: implicit TLS right after connect; AUTH TLS (or SSL) before USER so the
 * password never travels in cleartext (a refusal ends the connection attempt, there is no fallback); after
 * login PBSZ 0 + PROT P (or PROT C when data protection is off); and every data connection protected by a
 * TLS handshake that RESUMES the control connection's session (src/net/tls-client.ts keeps the latest
 * TLS 1.3 ticket), which vsftpd, proftpd and FileZilla Server require. CCC on request (tls-ccc.ts).
 */
import type net from 'node:net';
import { Duplex } from 'node:stream';
import { FtpReplyError } from '../errors.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import type { ClientTls, CertificateTrust } from '../net/tls-client.js';
import type { TLSSocket } from 'node:tls';
import type { SocketLike } from './control-connection.js';
import type { FtpClientOptions } from './options.js';
import { registerSecureHooks } from './transport.js';
import type { DataSocketInfo, SessionContext, SessionHooks } from './options.js';

const DEFAULT_HANDSHAKE_MS = 10_000;

const TRUST_WORDS: Record<CertificateTrust, string> = {
  ca: ' verified',
  pin: ' matches the pinned fingerprint (not verified against a CA, host name not checked)',
  none: ' NOT verified (insecure mode)',
};

function describeControl(s: TLSSocket, clientTls: ClientTls): string {
  const cipher = s.getCipher();
  const cert = clientTls.controlCertificate;
  const trust = clientTls.trust;
  const who = cert ? `certificate ${cert.subject.replace(/\n/g, ', ')}${TRUST_WORDS[trust]}` : 'no certificate';
  return `TLS established: ${s.getProtocol()}, ${cipher?.name ?? '?'}, ${who}`;
}

/**
 * CCC (RFC 4217 s6), on request: after login and PROT, return the control connection to cleartext so a
 * NAT/firewall FTP helper can read PORT/PASV; data connections stay protected and keep resuming the
 * session. The credentials were already sent over TLS.
 */
async function clearCommandChannel(session: SessionContext, clientTls: ClientTls): Promise<void> {
  const control = session.control;
  const tlsSocket = clientTls.controlSocket!;
  // The server's close_notify may arrive together with its 200, and the TLS socket then ends at once: the
  // control connection must not take that for the server hanging up. Park it on a stream that relays the
  // TLS socket's data (the 200) but not its end, and let beginClearControl() shield the TCP socket.
  const parked = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) { tlsSocket.write(chunk, cb); },
  });
  const relay = (d: Buffer): void => { parked.push(d); };
  tlsSocket.on('data', relay);
  control.replaceSocket(parked);
  const clearing = clientTls.beginClearControl();
  let r;
  try {
    r = await session.command('CCC');
  } finally {
    tlsSocket.off('data', relay);
  }
  if (r.code !== ReplyCode.Ok) {
    clearing.cancel();
    control.replaceSocket(tlsSocket);
    throw new FtpReplyError(r.code, `${r.message} (the server does not allow returning to a cleartext control connection)`, 'CCC');
  }
  const raw = await clearing.complete();
  control.replaceSocket(raw);
  raw.resume(); // release() hands it over paused, with any early cleartext put back in front
  session.status('CCC: the control connection is in cleartext again (data connections stay protected)', 'control');
}

/** Build the hooks for one FtpClient connection. */
export function createSecureHooks(options: Readonly<FtpClientOptions>): SessionHooks {
  const secure = options.secure ?? 'none';
  const settings = options.tls ?? {};
  const handshakeTimeoutMs = options.timeouts?.greetingMs ?? DEFAULT_HANDSHAKE_MS;
  let clientTls: ClientTls | undefined;
  let protectData = false;

  const tlsFor = async (host: string): Promise<ClientTls> => {
    // node:tls and the TLS code load when a TLS session starts, not with the client (start-up, issue 10).
    const { ClientTls } = await import('../net/tls-client.js');
    clientTls ??= await ClientTls.create({ host, settings, handshakeTimeoutMs });
    return clientTls;
  };

  return {
    async onControlConnected(socket: net.Socket, session): Promise<SocketLike> {
      protectData = false;
      clientTls?.reset();
      if (secure !== 'implicit') return socket;
      const t = await tlsFor(session.host);
      session.status(`implicit TLS: starting the handshake (timeout ${handshakeTimeoutMs} ms)`, 'control');
      const s = await t.upgradeControl(socket, { detachable: settings.clearCommandChannel === true });
      session.status(describeControl(s, t), 'control');
      return s;
    },

    async beforeLogin(session: SessionContext): Promise<void> {
      if (secure !== 'explicit') return;
      const t = await tlsFor(session.host);
      const verb = `AUTH ${settings.authCommand ?? 'TLS'}`;
      const r = await session.command(verb);
      // RFC 4217 s4: 234 accepts; 334 is what servers of the pre-RFC draft answer to AUTH SSL.
      if (r.code !== ReplyCode.SecurityExchangeOk && r.code !== 334) {
        session.status(`the server refused ${verb}; not logging in without TLS (secure: 'explicit')`, 'control');
        throw new FtpReplyError(r.code, `${r.message} (the server does not offer FTPS here; try implicit TLS (secure: 'implicit', an ftps:// URL) or another port)`, verb);
      }
      const control = session.control;
      const raw = control.socket;
      const s = await t.upgradeControl(raw, {
        onSocket: (tlsSocket) => control.replaceSocket(tlsSocket),
        detachable: settings.clearCommandChannel === true,
      });
      session.status(describeControl(s, t), 'control');
    },

    async afterLogin(session: SessionContext): Promise<void> {
      // RFC 4217 s8, s9: PBSZ 0 then PROT. Implicit servers usually protect data by default, but say it
      // explicitly either way so both sides agree.
      const wantP = settings.protectData ?? true;
      const pbsz = await session.command('PBSZ 0');
      if (pbsz.code !== ReplyCode.Ok) throw new FtpReplyError(pbsz.code, pbsz.message, 'PBSZ 0');
      const prot = await session.command(wantP ? 'PROT P' : 'PROT C');
      if (prot.code !== ReplyCode.Ok) {
        const hint = wantP ? 'the server refuses protected data connections' : 'the server requires protected data connections (leave tls.protectData on)';
        throw new FtpReplyError(prot.code, `${prot.message} (${hint})`, wantP ? 'PROT P' : 'PROT C');
      }
      protectData = wantP;
      session.status(wantP ? 'data connections will use TLS, resuming the control session (PROT P)' : 'data connections in cleartext (PROT C)', 'data');
      if (settings.clearCommandChannel) await clearCommandChannel(session, clientTls!);
    },

    wrapsDataSockets: () => protectData && clientTls !== undefined,
    async wrapDataSocket(socket: net.Socket, info: DataSocketInfo): Promise<SocketLike> {
      if (!protectData || !clientTls) return socket;
      // The handshake starts as soon as the connection is open (the transfer orders it, transfer.ts): some
      // servers (ftp-srv) send 150 only after it, the others read the ClientHello after their 150.
      const sessionOffered = clientTls.session !== undefined;
      const { socket: s, resumed } = await clientTls.secureData(socket);
      // Published as the 'dataTls' event; the transcript says whether the control session was resumed.
      info.reportTls({ protocol: s.getProtocol() ?? 'unknown', resumed, sessionOffered });
      return s;
    },
  };
}

registerSecureHooks(createSecureHooks);
