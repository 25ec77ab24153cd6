/**
 * The FTPS commands of the server (RFC 4217, on RFC 2228): AUTH TLS/SSL, PBSZ, PROT, CCC.
 *
 * Owns: what each command does to the session's TLS state (session/state.ts TlsState) and to the control
 * socket (AUTH TLS puts a TLS socket in its place after the 234, CCC takes it off after the 200). The TLS
 * machinery is tls/server-tls.ts; the policies (what must be protected) are tls/policy.ts.
 */
import type * as net from 'node:net';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import type { Reply } from '../../protocol/reply.js';
import { command } from '../commands/contract.js';
import type { CommandContext, CommandModule, Outcome } from '../commands/contract.js';
import type { ProtectionLevel } from '../session/state.js';
import type { TlsPolicy } from './policy.js';
import type { ServerTls } from './server-tls.js';

/** PROT needs PBSZ (RFC 4217 s8-s9); TLS-P and implicit FTPS set both at once. */
function protect(ctx: CommandContext, level: ProtectionLevel): void {
  ctx.state.tls.pbsz = true;
  ctx.state.tls.prot = level;
}

/**
 * AUTH (RFC 4217 s4): 234, then the TLS handshake on the control connection. Before the reply the plain
 * socket stops being read: bytes after AUTH belong to the handshake (or are an injection attempt).
 */
function auth(ctx: CommandContext, mechanism: string, policy: TlsPolicy, serverTls: ServerTls | undefined): Reply | Outcome {
  const tls = ctx.state.tls;
  if (!policy.explicit) return reply(ReplyCode.CommandNotImplemented, 'AUTH is not offered on this port');
  // RFC 4217 s4 names TLS; "SSL", "TLS-C" and "TLS-P" are from the draft it replaced, still sent by old clients.
  if (!['TLS', 'TLS-C', 'SSL', 'TLS-P'].includes(mechanism)) {
    return reply(ReplyCode.ParameterNotImplemented, `AUTH ${mechanism} not supported; use AUTH TLS`);
  }
  if (tls.secure) return reply(ReplyCode.BadSequence, 'The control connection is already protected by TLS');
  if (!serverTls) return reply(ReplyCode.NeedUnavailableResource, 'TLS is not available right now');
  if (ctx.transfer) return reply(ReplyCode.BadSequence, 'AUTH during a transfer is not possible');
  // RFC 2228 s3 (AUTH): a new security exchange starts a new login; whatever state the session had goes.
  if (ctx.user || ctx.state.phase !== 'new') ctx.reinitialize();
  // After CCC the old TLS state is spent for the control connection: start a fresh one.
  if (tls.control?.clearedByCcc) tls.control = undefined;
  const ctl = tls.control ??= serverTls.forConnection();
  const raw = ctx.control.detach();
  // SECURITY: commands pipelined in cleartext behind AUTH TLS must not run once TLS is up (CVE-2011-0411).
  ctx.control.discardPendingInput();
  // TLS-P (pre-RFC draft) asks for protected data without PROT. AUTH SSL does not imply it here: curl
  // sends AUTH SSL first even with --ftp-ssl-control (cleartext data, no PROT), and every client that
  // wants protected data sends PBSZ/PROT anyway (RFC 4217 s9).
  const impliedProt = mechanism === 'TLS-P';
  return {
    kind: 'outcome',
    replies: [reply(ReplyCode.SecurityExchangeOk, `AUTH ${mechanism} ok, starting TLS handshake`)],
    // RFC 4217 s4: the handshake starts after the 234 has been sent.
    afterSend: async () => {
      try {
        const tlsSocket = await ctl.upgradeControl(raw, { detachable: policy.options.allowCcc === true });
        ctx.control.replace(tlsSocket);
        tls.secure = true;
        if (impliedProt) protect(ctx, 'P');
      } catch (err) {
        // Nothing can be said to a peer that does not speak TLS after 234: close.
        ctx.events.warn('tls-handshake-failed', (err as Error).message);
        ctx.close(`TLS handshake after AUTH failed: ${(err as Error).message}`);
      }
    },
  };
}

/**
 * CCC (RFC 4217 s6, optional): off by default (534 = policy, RFC 2228). When allowed: 200, then both
 * sides exchange close_notify and the session continues in cleartext on the same TCP connection. The
 * data connections keep using TLS and resuming the (kept) control session; PBSZ/PROT can no longer be
 * changed (503) because they need a protected control connection.
 */
function clearCommandChannel(ctx: CommandContext, policy: TlsPolicy): Reply | Outcome {
  const tls = ctx.state.tls;
  if (!tls.secure || !tls.control) return reply(ReplyCode.CommandProtectionDenied, 'CCC needs a protected control connection');
  if (!policy.options.allowCcc) return reply(ReplyCode.RequestDeniedPolicy, 'CCC refused by policy: the control connection stays protected');
  // Stop reading the TLS socket as commands now (its end is not the session's end any more); the next
  // commands arrive in cleartext on the TCP socket.
  ctx.control.detach();
  ctx.control.discardPendingInput();
  let clearing: { complete(): Promise<net.Socket> };
  try {
    clearing = tls.control.beginClearControl();
  } catch (err) {
    ctx.control.replace(ctx.control.socket);
    return reply(ReplyCode.LocalError, `CCC not possible: ${(err as Error).message}`);
  }
  return {
    kind: 'outcome',
    replies: [reply(ReplyCode.Ok, 'Control connection returns to cleartext (CCC); data connections stay protected')],
    afterSend: async () => {
      try {
        const raw = await clearing.complete();
        ctx.control.replace(raw);
        raw.resume(); // release() hands it over paused, with any early cleartext put back in front
        tls.secure = false;
      } catch (err) {
        ctx.events.warn('tls-ccc-failed', (err as Error).message);
        ctx.close(`CCC failed: ${(err as Error).message}`);
      }
    },
  };
}

function protCommand(ctx: CommandContext, level: string, policy: TlsPolicy): Reply {
  const tls = ctx.state.tls;
  // RFC 4217 s9 / RFC 2228 s3: PROT needs the security exchange and PBSZ first (503).
  if (!tls.secure) return reply(ReplyCode.BadSequence, 'PROT needs a protected control connection: send AUTH TLS first');
  if (!tls.pbsz) return reply(ReplyCode.BadSequence, 'PROT needs PBSZ first: send PBSZ 0');
  switch (level) {
    case 'P':
      tls.prot = 'P';
      return reply(ReplyCode.Ok, 'Protection level set to Private: data connections use TLS');
    case 'C':
      if (ctx.user && policy.sessionRequirement(ctx.state) === 'data') {
        return reply(ReplyCode.RequestDeniedPolicy, 'PROT C refused by policy: data connections must be protected (PROT P)');
      }
      tls.prot = 'C';
      return reply(ReplyCode.Ok, 'Protection level set to Clear');
    case 'S':
    case 'E':
      // RFC 4217 s9: TLS offers no integrity-only or confidential-only level.
      return reply(ReplyCode.ProtectionLevelNotSupported, `PROT ${level} not supported with TLS; use PROT P or PROT C`);
    default:
      return reply(ReplyCode.ParameterNotImplemented, `Unknown protection level ${level}`);
  }
}

/** The AUTH/PBSZ/PROT/CCC rows and the policy gates; `serverTls()` is undefined until the certificate is loaded. */
export function ftpsCommands(policy: TlsPolicy, serverTls: () => ServerTls | undefined): CommandModule {
  const upperCase = { parse: (text: string) => ({ value: text.trim().toUpperCase() }) };
  return {
    name: 'security',
    gates: policy.gates,
    commands: [
      command({
        verb: 'AUTH', needsLogin: false, argument: 'required', syntax: upperCase,
        help: 'AUTH <sp> TLS|SSL (RFC 4217: start TLS on the control connection)',
        feat: policy.explicit ? ['AUTH TLS'] : undefined,
        handler: (ctx, mechanism) => auth(ctx, mechanism, policy, serverTls()),
      }),
      command({
        verb: 'PBSZ', needsLogin: false, argument: 'required', help: 'PBSZ <sp> 0 (RFC 4217 s8)', feat: ['PBSZ'],
        handler: (ctx, size) => {
          // RFC 4217 s8: PBSZ is meaningful only after the TLS handshake; TLS needs no buffer size, so 0.
          if (!ctx.state.tls.secure) return reply(ReplyCode.BadSequence, 'PBSZ needs a protected control connection: send AUTH TLS first');
          if (!/^\d+$/.test(size.trim())) return reply(ReplyCode.SyntaxErrorInParameters, 'PBSZ takes a decimal number (0 for TLS)');
          ctx.state.tls.pbsz = true;
          return reply(ReplyCode.Ok, 'PBSZ=0');
        },
      }),
      command({
        verb: 'PROT', needsLogin: false, argument: 'required', syntax: upperCase, help: 'PROT <sp> C|P (RFC 4217 s9)', feat: ['PROT'],
        handler: (ctx, level) => protCommand(ctx, level, policy),
      }),
      command({
        verb: 'CCC', needsLogin: true, argument: 'none', help: 'CCC (clear command channel, RFC 4217 s6)',
        handler: ctx => clearCommandChannel(ctx, policy),
      }),
    ],
  };
}

