/**
 * Data-connection setup: PASV (RFC 959 s4.1.2), EPSV incl. EPSV ALL (RFC 2428 s3, s4), PORT (RFC 959
 * s4.1.2), EPRT (RFC 2428 s2).
 *
 * Owns: the checks on the client's requests (RFC 2577 bounce protection) and creating the passive or active
 * DataChannel for the session's single data-channel slot. What PASV advertises comes from the server's
 * PassiveAddressResolver (src/server/data/passive-address.ts), the seam for NAT handling.
 */
import type { Socket } from 'node:net';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { Reply } from '../../protocol/reply.js';
import {
  formatEpsvReplyText, formatPasvReplyText, parseEprtArgument, parseEpsvArgument, parsePortArgument,
} from '../../protocol/hostport.js';
import type { HostPort } from '../../protocol/hostport.js';
import type { CommandModule } from '../command-table.js';
import { ActiveDataChannel } from '../data/active.js';
import { sameAddress } from '../data/data-channel.js';
import { PassiveDataChannel } from '../data/passive.js';
import { activeConnectOptions } from '../nat/active-source.js';
import type { Session } from '../session.js';

const EPSV_ALL_REFUSAL = (): Reply => reply(ReplyCode.BadSequence, 'EPSV ALL in effect: only EPSV may set up data connections');

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The session's data-socket wrapper, looked up when the connection is made (PROT may change in between). */
function wrapper(s: Session) {
  return (socket: Socket) => (s.wrapDataSocket ? s.wrapDataSocket(socket) : Promise.resolve(socket));
}

/** Control connection's family as RFC 2428 numbers it. */
function controlFamily(s: Session): 1 | 2 {
  return s.isIPv6 ? 2 : 1;
}

async function openPassive(s: Session): Promise<PassiveDataChannel | Reply> {
  s.setDataChannel(undefined); // free the previous listener (and its port) first
  const unclaimedMs = Math.max(s.options.timeouts.dataConnectMs, 1000);
  try {
    const channel: PassiveDataChannel = await PassiveDataChannel.open({
      bindAddress: s.localAddress,
      portRange: s.options.passive.portRange,
      expectedRemote: s.remoteAddress,
      wrapSocket: wrapper(s),
      // Clients send the transfer command right after PASV/EPSV; one that does not, gives the port back.
      unclaimedMs,
      onUnclaimed: () => s.dropDataChannel(channel,
        `the passive port was closed after ${seconds(unclaimedMs)} without a transfer command; send PASV or EPSV again`),
      // Under pressure the server's pool takes the port back sooner (src/server/data/passive-pool.ts).
      pool: s.context.passivePool,
      onReclaimed: () => s.dropDataChannel(channel,
        'the server ran short of passive ports and reclaimed yours, unused; send PASV or EPSV again, then the transfer command at once'),
      onForeignConnection: addr => s.warn('foreign-data-connection',
        `dropped a passive data connection from ${addr}; the control connection comes from ${s.remoteAddress}`),
    });
    if (s.isClosed) { channel.discard(); return reply(ReplyCode.CantOpenDataConnection, 'Session closed'); }
    return channel;
  } catch {
    const { min, max } = s.options.passive.portRange;
    s.warn('passive-ports-exhausted', `no free passive port in ${min}-${max}`);
    return reply(ReplyCode.CantOpenDataConnection, "Can't open passive connection: no free port");
  }
}

/** Checks shared by PORT and EPRT, then installs the active channel. */
function activeChannel(s: Session, requested: HostPort, verb: string): Reply {
  // lftp sends "EPRT |2|::|port|" (its socket's unspecified local address) on IPv6: an unspecified address
  // can only mean "the address I am calling from", so it is replaced by the control peer's. This widens
  // nothing: the connection still goes to the client and nowhere else.
  const unspecified = requested.host === '::' || requested.host === '0.0.0.0' || /^[0:]+$/.test(requested.host);
  const target = unspecified ? { host: s.remoteAddress, port: requested.port } : requested;
  // SECURITY: RFC 2577 s3 (FTP bounce attack): connect only back to the client that sent the command,
  // never to a third host the client names. Both refusals below answer 504 ("command not implemented for
  // that parameter"), the code RFC 2577 s3 proposes for a refused port: the syntax was fine, the target is
  // not allowed, and a client that reads 500 as "EPRT unknown" must not fall back to PORT with it.
  if (s.options.active.requireSameAddress && !sameAddress(target.host, s.remoteAddress)) {
    return reply(ReplyCode.ParameterNotImplemented, `${verb} refused: I won't open a connection to ${target.host} (only to ${s.remoteAddress})`);
  }
  // SECURITY: refuse privileged ports, where a bounced connection could reach a well-known service (SMTP,
  // ...) speaking with the server's address.
  if (s.options.active.refusePrivilegedPorts && target.port < 1024) {
    return reply(ReplyCode.ParameterNotImplemented, `${verb} refused: port ${target.port} is below 1024`);
  }
  s.setDataChannel(new ActiveDataChannel({
    connect: activeConnectOptions(s.options.active, { ...target, controlLocalAddress: s.localAddress }),
    wrapSocket: wrapper(s),
  }));
  return reply(ReplyCode.Ok, `${verb} command successful. Consider using EPSV`);
}

export const dataChannelCommands: CommandModule = {
  name: 'data-channel',
  commands: [
    {
      verb: 'PASV', argument: 'none', help: 'PASV (enter passive mode)',
      async handler(s) {
        if (s.epsvAll) return EPSV_ALL_REFUSAL();
        // A 227 reply can only carry an IPv4 address. vsftpd answers 0,0,0,0 on IPv6; we refuse like
        // pure-ftpd and point to EPSV (RFC 2428), which every IPv6-capable client has.
        if (s.isIPv6) return reply(ReplyCode.CantOpenDataConnection, "Can't use PASV on an IPv6 connection; use EPSV");
        const channel = await openPassive(s);
        if (!(channel instanceof PassiveDataChannel)) return channel;
        try {
          const ad = await s.context.passiveAddressResolver.resolve({
            controlLocalAddress: s.localAddress, clientAddress: s.remoteAddress, listenPort: channel.port,
          });
          const text = formatPasvReplyText({ host: ad.address, port: ad.port });
          s.setDataChannel(channel);
          return reply(ReplyCode.EnteringPassive, text);
        } catch (err) {
          channel.discard();
          s.reportError(err);
          return reply(ReplyCode.CantOpenDataConnection, "Can't open passive connection: no address to advertise");
        }
      },
    },
    {
      verb: 'EPSV', argument: 'optional', help: 'EPSV [<sp> 1 | 2 | ALL]', feat: ['EPSV'],
      async handler(s, arg) {
        const parsed = parseEpsvArgument(arg);
        if (!parsed) return reply(ReplyCode.SyntaxErrorInParameters, 'Usage: EPSV [1|2|ALL]');
        if (parsed.kind === 'all') {
          s.epsvAll = true;
          return reply(ReplyCode.Ok, 'EPSV ALL ok');
        }
        const family = controlFamily(s);
        // RFC 2428 s3: a protocol we cannot listen on for this client -> 522 with the ones we can.
        if (parsed.kind === 'family' && parsed.family !== family) {
          return reply(ReplyCode.ProtocolNotSupported, `Network protocol not supported, use (${family})`);
        }
        const channel = await openPassive(s);
        if (!(channel instanceof PassiveDataChannel)) return channel;
        const resolver = s.context.passiveAddressResolver;
        const port = resolver.resolvePort
          ? resolver.resolvePort({ controlLocalAddress: s.localAddress, clientAddress: s.remoteAddress, listenPort: channel.port })
          : channel.port;
        s.setDataChannel(channel);
        return reply(ReplyCode.EnteringExtendedPassive, formatEpsvReplyText(port));
      },
    },
    {
      verb: 'PORT', argument: 'required', help: 'PORT <sp> h1,h2,h3,h4,p1,p2',
      handler(s, arg) {
        if (s.epsvAll) return EPSV_ALL_REFUSAL();
        const target = parsePortArgument(arg);
        if (!target) return reply(ReplyCode.SyntaxErrorInParameters, 'Illegal PORT command');
        if (s.isIPv6) return reply(ReplyCode.ProtocolNotSupported, 'PORT needs an IPv4 connection; use EPRT (2)');
        return activeChannel(s, target, 'PORT');
      },
    },
    {
      verb: 'EPRT', argument: 'required', help: 'EPRT <sp> |proto|address|port|', feat: ['EPRT'],
      handler(s, arg) {
        if (s.epsvAll) return EPSV_ALL_REFUSAL();
        const target = parseEprtArgument(arg);
        if (!target) {
          // RFC 2428 s2: an unknown network protocol gets 522 naming the ones we support.
          const proto = /^(.)(\d+)\1/.exec(arg.trim());
          if (proto && proto[2] !== '1' && proto[2] !== '2') return reply(ReplyCode.ProtocolNotSupported, 'Network protocol not supported, use (1,2)');
          return reply(ReplyCode.SyntaxErrorInParameters, 'Illegal EPRT command');
        }
        const family = controlFamily(s);
        if (target.family !== family) return reply(ReplyCode.ProtocolNotSupported, `Network protocol not supported, use (${family})`);
        return activeChannel(s, target, 'EPRT');
      },
    },
  ],
};
