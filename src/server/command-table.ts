/**
 * The declarative command table (DESIGN.md principles 2, 3, 4).
 *
 * Owns: the shape of a command row (verb, aliases, needs-login, argument rule, permission, is-transfer,
 * may-run-during-a-transfer, HELP text, FEAT lines, handler), the results a handler may return, the gates
 * (cross-cutting rules applied before any handler runs) and the composition of per-concern modules
 * (src/server/commands/*.ts) into one table. A new concern (e.g. FTPS: AUTH/PBSZ/PROT/CCC) is one more
 * CommandModule, with its own rows and, if it needs them, its own gates.
 */
import type { Readable, Writable } from 'node:stream';
import type { FtpCommand } from '../protocol/commands.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { reply } from '../protocol/reply.js';
import type { Reply } from '../protocol/reply.js';
import type { Permission } from './auth/types.js';
import type { Session } from './session.js';

/** Argument rule checked by a gate: 'none' refuses an argument, 'required' refuses its absence (501). */
export type ArgumentRule = 'none' | 'required' | 'optional';

/** A handler's answer when it is more than one reply. */
export interface Outcome {
  kind: 'outcome';
  replies: Reply[];
  /** Close the control connection after sending (QUIT, too many login failures). */
  close?: boolean;
  /** Why the session closes (the 'session-close' event's reason). */
  closeReason?: string;
  /** Run after the replies were written (e.g. start a TLS handshake after 234, RFC 4217 s4). */
  afterSend?: () => void | Promise<void>;
}

/** A transfer to run over the session's data channel; the session sends 150, moves the data, then 226. */
export interface TransferRequest {
  kind: 'transfer';
  direction: 'download' | 'upload' | 'list';
  /** Virtual path (file, or listed directory). */
  path: string;
  /** REST offset the transfer starts at. */
  offset: number;
  /** For downloads and listings: what to send. Already open (storage errors became replies before 150). */
  source?: Readable;
  /** For uploads: where to write. Already open. */
  sink?: Writable;
  /** Convert line ends (TYPE A, RFC 959 s3.1.1.1). Listings are produced with CRLF already. */
  ascii: boolean;
  /** Text of the 150 reply. */
  openingText: string;
  /** Text of the 226 reply on success. */
  completeText?: string;
}

export type HandlerResult = Reply | Outcome | TransferRequest;

export type Handler = (session: Session, argument: string, command: FtpCommand) => HandlerResult | Promise<HandlerResult>;

export interface CommandSpec {
  verb: string;
  /** Other verbs that run this row (RFC 775 X-commands: XPWD, XCWD, XCUP, XMKD, XRMD). */
  aliases?: string[];
  /** Default true: answered 530 before login (RFC 959 s4.2). */
  needsLogin?: boolean;
  argument: ArgumentRule;
  /** Permission the user must hold (550 otherwise). */
  permission?: Permission;
  /** Uses the data connection: refused with 425 when no PASV/PORT came before. */
  transfer?: boolean;
  /** May run while a transfer is in progress (ABOR, STAT, NOOP; RFC 959 s4.1.3, s5.4). */
  duringTransfer?: boolean;
  /** HELP text: syntax, e.g. "RETR <sp> pathname". */
  help: string;
  /** FEAT lines (RFC 2389 s3.2), without the leading space; a function when they depend on the session. */
  feat?: string[] | ((session: Session) => string[]);
  /** OPTS <verb> <value> (RFC 2389 s4): the row's own options, e.g. OPTS MLST facts, OPTS HASH algorithm. */
  opts?: (session: Session, value: string) => Reply;
  handler: Handler;
}

/** A cross-cutting rule applied before handlers; returns a refusal or undefined to let the command pass. */
export type Gate = (session: Session, spec: CommandSpec, command: FtpCommand) => Reply | undefined;

export interface CommandModule {
  name: string;
  commands: CommandSpec[];
  /** Gates this module adds (run after the default gates, in module order). */
  gates?: Gate[];
}

export class CommandTable {
  private readonly byVerb = new Map<string, CommandSpec>();
  /** Rows in definition order (HELP and FEAT list them in this order). */
  readonly specs: CommandSpec[] = [];
  readonly gates: Gate[];

  constructor(modules: CommandModule[], baseGates: Gate[] = DEFAULT_GATES) {
    this.gates = [...baseGates];
    for (const m of modules) {
      for (const spec of m.commands) {
        // A later module may replace a row of an earlier one (same verb).
        const old = this.byVerb.get(spec.verb);
        if (old) this.specs.splice(this.specs.indexOf(old), 1);
        this.specs.push(spec);
        for (const v of [spec.verb, ...(spec.aliases ?? [])]) this.byVerb.set(v, spec);
      }
      this.gates.push(...(m.gates ?? []));
    }
  }

  lookup(verb: string): CommandSpec | undefined {
    return this.byVerb.get(verb);
  }

  /** All verbs (with aliases), for HELP. */
  verbs(): string[] {
    return this.specs.flatMap(s => [s.verb, ...(s.aliases ?? [])]);
  }
}

/** RFC 959 s4.2: commands other than USER/PASS/... before login get 530. */
export const loginGate: Gate = (session, spec) =>
  spec.needsLogin !== false && !session.user ? reply(ReplyCode.NotLoggedIn, 'Please login with USER and PASS') : undefined;

/** 501 for a missing or superfluous argument (RFC 959 s4.2: syntax error in parameters). */
export const argumentGate: Gate = (_session, spec, cmd) => {
  const has = cmd.argument.trim() !== '';
  if (spec.argument === 'required' && !has) return reply(ReplyCode.SyntaxErrorInParameters, `${cmd.verb} needs an argument`);
  if (spec.argument === 'none' && has) return reply(ReplyCode.SyntaxErrorInParameters, `${cmd.verb} takes no argument`);
  return undefined;
};

/** 550 when the user lacks the row's permission. */
export const permissionGate: Gate = (session, spec) =>
  spec.permission && session.user && !session.user.permissions[spec.permission]
    ? reply(ReplyCode.FileUnavailable, 'Permission denied')
    : undefined;

/** 425 for a transfer without a prepared data channel (RFC 959 s4.1.2: PASV/PORT come first). */
export const dataChannelGate: Gate = (session, spec) => {
  if (!spec.transfer || session.hasDataChannel()) return undefined;
  const lost = session.lostDataChannelReason;
  return reply(ReplyCode.CantOpenDataConnection, lost ? `No data connection: ${lost}` : 'Use PORT, PASV, EPRT or EPSV first');
};

export const DEFAULT_GATES: Gate[] = [loginGate, argumentGate, permissionGate, dataChannelGate];
