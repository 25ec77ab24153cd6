/**
 * The declarative command table: rows (src/server/commands/contract.ts) composed from per-concern modules
 * (src/server/commands/*.ts, tls/), the gates every command passes, and how one row runs.
 *
 * Owns: composing modules into one table (a later module's row replaces an earlier one with the same verb),
 * the default gates (cross-cutting rules applied before any handler: login, argument presence, permission,
 * prepared data connection, EPSV ALL), and runCommand(): parse the argument once, call the handler, and map
 * a storage failure to its reply naming the row's path, in one place.
 */
import type { FtpCommand } from '../protocol/commands.js';
import { ReplyCode } from '../protocol/reply-codes.js';
import { reply } from '../protocol/reply.js';
import type { Reply } from '../protocol/reply.js';
import type {
  AnyCommandSpec, CommandContext, CommandDirectory, CommandModule, Gate, HandlerResult,
} from './commands/contract.js';
import { isExpectedStorageError, storageErrorReply } from './storage-replies.js';
import { permissionsAt } from './auth/path-permissions.js';

export class CommandTable implements CommandDirectory {
  private readonly byVerb = new Map<string, AnyCommandSpec>();
  /** Rows in definition order (HELP and FEAT list them in this order). */
  readonly specs: AnyCommandSpec[] = [];
  readonly gates: Gate[];

  constructor(modules: readonly CommandModule[], baseGates: Gate[] = DEFAULT_GATES) {
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

  lookup(verb: string): AnyCommandSpec | undefined {
    return this.byVerb.get(verb);
  }

  /** All verbs (with aliases), for HELP. */
  verbs(): string[] {
    return this.specs.flatMap(s => [s.verb, ...(s.aliases ?? [])]);
  }

  /** The first gate that refuses the command, or undefined when every gate lets it pass. */
  refusal(ctx: CommandContext, spec: AnyCommandSpec, command: FtpCommand): Reply | undefined {
    for (const gate of this.gates) {
      const r = gate(ctx, spec, command);
      if (r) return r;
    }
    return undefined;
  }
}

/**
 * Run one row for a command that passed the gates: parse its argument, call its handler, and turn a thrown
 * storage failure into its reply (RFC 959 s4.2 codes, storage-replies.ts) naming the row's path. An error
 * that is not a storage outcome is also reported as a 'session-error' (it is a bug or a broken backend).
 */
export async function runCommand(spec: AnyCommandSpec, ctx: CommandContext, command: FtpCommand): Promise<HandlerResult> {
  let path: string | undefined;
  try {
    let argument: unknown = command.argument;
    if (spec.syntax) {
      const parsed = spec.syntax.parse(command.argument, ctx);
      if ('refusal' in parsed) return parsed.refusal;
      argument = parsed.value;
      path = spec.syntax.pathOf?.(parsed.value);
    }
    return await spec.handler(ctx, argument, command);
  } catch (err) {
    if (!isExpectedStorageError(err)) ctx.events.reportError(err);
    return storageErrorReply(err, path);
  }
}

/** RFC 959 s4.2: commands other than USER/PASS/... before login get 530. */
export const loginGate: Gate = (ctx, spec) =>
  spec.needsLogin !== false && !ctx.user ? reply(ReplyCode.NotLoggedIn, 'Please login with USER and PASS') : undefined;

/** 501 for a missing or superfluous argument (RFC 959 s4.2: syntax error in parameters). */
export const argumentGate: Gate = (_ctx, spec, cmd) => {
  const has = cmd.argument.trim() !== '';
  if (spec.argument === 'required' && !has) return reply(ReplyCode.SyntaxErrorInParameters, `${cmd.verb} needs an argument`);
  if (spec.argument === 'none' && has) return reply(ReplyCode.SyntaxErrorInParameters, `${cmd.verb} takes no argument`);
  return undefined;
};

/**
 * The virtual path a command acts on, for per-path permissions: its argument parsed by the row's syntax
 * (a pure path resolution; runCommand parses it again for the handler, which costs microseconds and only
 * for users with path rules), else the working directory. Undefined when the syntax refuses the argument:
 * runCommand answers that refusal.
 */
function targetPath(ctx: CommandContext, spec: AnyCommandSpec, command: FtpCommand): string | undefined {
  if (!spec.syntax) return ctx.state.cwd;
  const parsed = spec.syntax.parse(command.argument, ctx);
  if ('refusal' in parsed) return undefined;
  return spec.syntax.targetOf?.(parsed.value) ?? spec.syntax.pathOf?.(parsed.value) ?? ctx.state.cwd;
}

/**
 * 550 when the user lacks the row's permission, at the command's resolved path when the user has per-path
 * rules (RNFR and RNTO each need rename at their own path). The reply names the path.
 */
export const permissionGate: Gate = (ctx, spec, command) => {
  const { user } = ctx;
  if (!spec.permission || !user) return undefined;
  if (!user.pathPermissions) {
    return user.permissions[spec.permission] ? undefined : reply(ReplyCode.FileUnavailable, 'Permission denied');
  }
  const path = targetPath(ctx, spec, command);
  if (path === undefined || permissionsAt(user, path)[spec.permission]) return undefined;
  return reply(ReplyCode.FileUnavailable, `${path}: Permission denied`);
};

/** 425 for a transfer without a prepared data channel (RFC 959 s4.1.2: PASV/PORT come first). */
export const dataChannelGate: Gate = (ctx, spec) => {
  if (!spec.transfer || ctx.dataChannel.prepared) return undefined;
  const lost = ctx.dataChannel.lostReason;
  return reply(ReplyCode.CantOpenDataConnection, lost ? `No data connection: ${lost}` : 'Use PORT, PASV, EPRT or EPSV first');
};

/** 503 for PASV, PORT and EPRT after EPSV ALL (RFC 2428 s4). */
export const epsvAllGate: Gate = (ctx, spec) =>
  spec.refusedAfterEpsvAll && ctx.state.epsvAll
    ? reply(ReplyCode.BadSequence, 'EPSV ALL in effect: only EPSV may set up data connections')
    : undefined;

export const DEFAULT_GATES: Gate[] = [loginGate, argumentGate, permissionGate, dataChannelGate, epsvAllGate];
