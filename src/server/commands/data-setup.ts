/**
 * Data-connection setup: PASV (RFC 959 s4.1.2), EPSV incl. EPSV ALL (RFC 2428 s3, s4), PORT (RFC 959
 * s4.1.2), EPRT (RFC 2428 s2).
 *
 * Owns: the checks on the client's requests (RFC 2577 bounce protection) and creating the passive or active
 * DataChannel for the session's single data-channel slot. What PASV advertises comes from the server's
 * PassiveAddressResolver (src/server/data/passive-address-resolver.ts), the seam for NAT handling; the rule
 * it applied goes into the command's 'command' event. EPSV ALL's refusals are a gate (epsvAllGate).
 * Also the bound on set-ups without a transfer (limits.maxDataSetupsWithoutTransfer, see churned()).
 */
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { Reply } from '../../protocol/reply.js';
import { formatEpsvReplyText, formatPasvReplyText, sameAddress } from '../../protocol/hostport.js';
import type { HostPort } from '../../protocol/hostport.js';
import { ActiveDataChannel } from '../data/active.js';
import { PassiveDataChannel } from '../data/passive.js';
import { resolveEpsvPort } from '../data/passive-address-resolver.js';
import { activeConnectOptions } from '../nat/active-source.js';
import { dataSocketProtection } from '../tls/data-protection.js';
import { eprtArgument, epsvArgument, portArgument } from './arguments.js';
import { command } from './contract.js';
import type { CommandContext, CommandModule, Outcome } from './contract.js';

/**
 * SECURITY: a session that sets up data connections again and again without ever transferring churns the
 * shared passive range (each PASV/EPSV takes a port until the next one) or has us connect out (PORT/EPRT)
 * for nothing. Past limits.maxDataSetupsWithoutTransfer in a row: 421 and close (RFC 959 s4.2), a
 * 'data-setup-churn' warning, which the defender scores (security/defender-events.ts). Closing rather than
 * 425: a client that gets 425 may simply try again, which is the churn.
 */
function churned(ctx: CommandContext): Outcome | undefined {
  const max = ctx.options.limits.maxDataSetupsWithoutTransfer;
  if (++ctx.state.dataSetupsWithoutTransfer <= max) return undefined;
  ctx.dataChannel.install(undefined);
  ctx.events.warn('data-setup-churn',
    `${ctx.state.dataSetupsWithoutTransfer} PASV/EPSV/PORT/EPRT without a transfer (limits.maxDataSetupsWithoutTransfer ${max}): closing the session`);
  return {
    kind: 'outcome', close: true, closeReason: 'data connection churn',
    replies: [reply(ReplyCode.ServiceNotAvailable, 'Too many data connection set-ups without a transfer, closing control connection')],
  };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** Control connection's family as RFC 2428 numbers it. */
function controlFamily(ctx: CommandContext): 1 | 2 {
  return ctx.connection.isIPv6 ? 2 : 1;
}

async function openPassive(ctx: CommandContext): Promise<PassiveDataChannel | Reply> {
  const { connection, options, dataChannel } = ctx;
  dataChannel.install(undefined); // free the previous listener (and its port) first
  const unclaimedMs = Math.max(options.timeouts.dataConnectMs, 1000);
  try {
    const channel: PassiveDataChannel = await PassiveDataChannel.open({
      bindAddress: connection.localAddress,
      portRange: options.passive.portRange,
      expectedRemote: connection.remoteAddress,
      // FXP: the other server connects, from its own address (passive.allowForeignAddress, off by default).
      allowForeignAddress: options.passive.allowForeignAddress,
      wrapSocket: dataSocketProtection(ctx.state),
      // Clients send the transfer command right after PASV/EPSV; one that does not, gives the port back.
      unclaimedMs,
      onUnclaimed: () => dataChannel.drop(channel,
        `the passive port was closed after ${seconds(unclaimedMs)} without a transfer command; send PASV or EPSV again`),
      // Under pressure the server's pool takes the port back sooner (src/server/data/passive-pool.ts).
      pool: ctx.services.passivePool,
      // Behind a load balancer the data connection comes from it: the PROXY header names the real client.
      identifyPeer: ctx.services.proxyGate?.applies('passive') ? ctx.services.proxyGate.dataPeer : undefined,
      onReclaimed: () => dataChannel.drop(channel,
        'the server ran short of passive ports and reclaimed yours, unused; send PASV or EPSV again, then the transfer command at once'),
      onForeignConnection: addr => ctx.events.warn('foreign-data-connection',
        `dropped a passive data connection from ${addr}; the control connection comes from ${connection.remoteAddress}`),
    });
    if (ctx.isClosed) { channel.discard(); return reply(ReplyCode.CantOpenDataConnection, 'Session closed'); }
    return channel;
  } catch {
    const { min, max } = options.passive.portRange;
    ctx.events.warn('passive-ports-exhausted', `no free passive port in ${min}-${max}`);
    return reply(ReplyCode.CantOpenDataConnection, "Can't open passive connection: no free port");
  }
}

/** Checks shared by PORT and EPRT, then installs the active channel. */
function activeChannel(ctx: CommandContext, requested: HostPort, verb: string): Reply | Outcome {
  const churn = churned(ctx);
  if (churn) return churn;
  const { connection, options } = ctx;
  // lftp sends "EPRT |2|::|port|" (its socket's unspecified local address) on IPv6: an unspecified address
  // can only mean "the address I am calling from", so it is replaced by the control peer's. This widens
  // nothing: the connection still goes to the client and nowhere else.
  const unspecified = requested.host === '::' || requested.host === '0.0.0.0' || /^[0:]+$/.test(requested.host);
  const target = unspecified ? { host: connection.remoteAddress, port: requested.port } : requested;
  // SECURITY: RFC 2577 s3 (FTP bounce attack): connect only back to the client that sent the command,
  // never to a third host the client names. Both refusals below answer 504 ("command not implemented for
  // that parameter"), the code RFC 2577 s3 proposes for a refused port: the syntax was fine, the target is
  // not allowed, and a client that reads 500 as "EPRT unknown" must not fall back to PORT with it.
  if (options.active.requireSameAddress && !sameAddress(target.host, connection.remoteAddress)) {
    return reply(ReplyCode.ParameterNotImplemented, `${verb} refused: I won't open a connection to ${target.host} (only to ${connection.remoteAddress})`);
  }
  // SECURITY: refuse privileged ports, where a bounced connection could reach a well-known service (SMTP,
  // ...) speaking with the server's address.
  if (options.active.refusePrivilegedPorts && target.port < 1024) {
    return reply(ReplyCode.ParameterNotImplemented, `${verb} refused: port ${target.port} is below 1024`);
  }
  ctx.dataChannel.install(new ActiveDataChannel({
    connect: activeConnectOptions(options.active, { ...target, controlLocalAddress: connection.localAddress }),
    wrapSocket: dataSocketProtection(ctx.state),
  }));
  return reply(ReplyCode.Ok, `${verb} command successful. Consider using EPSV`);
}

/** A reply with what was advertised and why, for the 'command' event. */
function advertised(r: Reply, passive: NonNullable<Outcome['detail']>['passive']): Outcome {
  return { kind: 'outcome', replies: [r], detail: { passive } };
}

export const dataSetupCommands: CommandModule = {
  name: 'data-setup',
  commands: [
    command({
      verb: 'PASV', argument: 'none', refusedAfterEpsvAll: true, help: 'PASV (enter passive mode)',
      async handler(ctx) {
        const { connection } = ctx;
        // A 227 reply can only carry an IPv4 address. vsftpd answers 0,0,0,0 on IPv6; we refuse like
        // pure-ftpd and point to EPSV (RFC 2428), which every IPv6-capable client has.
        if (connection.isIPv6) return reply(ReplyCode.CantOpenDataConnection, "Can't use PASV on an IPv6 connection; use EPSV");
        const churn = churned(ctx);
        if (churn) return churn;
        const channel = await openPassive(ctx);
        if (!(channel instanceof PassiveDataChannel)) return channel;
        try {
          const ad = await ctx.services.passiveAddressResolver.resolve({
            controlLocalAddress: connection.localAddress, clientAddress: connection.remoteAddress, listenPort: channel.port,
          });
          const text = formatPasvReplyText({ host: ad.address, port: ad.port });
          ctx.dataChannel.install(channel);
          return advertised(reply(ReplyCode.EnteringPassive, text),
            { address: ad.address, port: ad.port, listenPort: channel.port, rule: ad.rule ?? 'passive address resolver' });
        } catch (err) {
          channel.discard();
          ctx.events.reportError(err);
          return reply(ReplyCode.CantOpenDataConnection, "Can't open passive connection: no address to advertise");
        }
      },
    }),
    command({
      verb: 'EPSV', argument: 'optional', syntax: epsvArgument, help: 'EPSV [<sp> 1 | 2 | ALL]', feat: ['EPSV'],
      async handler(ctx, requested) {
        const { connection } = ctx;
        if (requested.kind === 'all') {
          ctx.state.epsvAll = true;
          return reply(ReplyCode.Ok, 'EPSV ALL ok');
        }
        const family = controlFamily(ctx);
        // RFC 2428 s3: a protocol we cannot listen on for this client -> 522 with the ones we can.
        if (requested.kind === 'family' && requested.family !== family) {
          return reply(ReplyCode.ProtocolNotSupported, `Network protocol not supported, use (${family})`);
        }
        const churn = churned(ctx);
        if (churn) return churn;
        const channel = await openPassive(ctx);
        if (!(channel instanceof PassiveDataChannel)) return channel;
        const { port, rule } = resolveEpsvPort(ctx.services.passiveAddressResolver,
          { controlLocalAddress: connection.localAddress, clientAddress: connection.remoteAddress, listenPort: channel.port });
        ctx.dataChannel.install(channel);
        return advertised(reply(ReplyCode.EnteringExtendedPassive, formatEpsvReplyText(port)), { port, listenPort: channel.port, rule });
      },
    }),
    command({
      verb: 'PORT', argument: 'required', syntax: portArgument, refusedAfterEpsvAll: true, help: 'PORT <sp> h1,h2,h3,h4,p1,p2',
      handler(ctx, target) {
        if (ctx.connection.isIPv6) return reply(ReplyCode.ProtocolNotSupported, 'PORT needs an IPv4 connection; use EPRT (2)');
        return activeChannel(ctx, target, 'PORT');
      },
    }),
    command({
      verb: 'EPRT', argument: 'required', syntax: eprtArgument, refusedAfterEpsvAll: true, help: 'EPRT <sp> |proto|address|port|', feat: ['EPRT'],
      handler(ctx, target) {
        const family = controlFamily(ctx);
        if (target.family !== family) return reply(ReplyCode.ProtocolNotSupported, `Network protocol not supported, use (${family})`);
        return activeChannel(ctx, target, 'EPRT');
      },
    }),
  ],
};
