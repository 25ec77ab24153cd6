/**
 * Argument syntaxes of the command rows: each argument is parsed once, before its handler runs, into the
 * value the handler works with (a resolved virtual path, a byte offset, a TYPE...), or refused with the
 * reply its RFC gives. Handlers never look at argument text.
 */
import { InvalidPathError, resolvePath } from '../../protocol/paths.js';
import { ReplyCode } from '../../protocol/reply-codes.js';
import { reply } from '../../protocol/reply.js';
import { parseTimeVal } from '../../protocol/listing-format.js';
import { parseEprtArgument, parseEpsvArgument, parsePortArgument } from '../../protocol/hostport.js';
import type { EpsvArgument, ExtendedHostPort, HostPort } from '../../protocol/hostport.js';
import type { FileStructure, TransferMode, TransferType } from '../session/state.js';
import { storageErrorReply } from '../storage-replies.js';
import type { ArgumentSyntax, CommandContext, Parsed } from './contract.js';

/** The argument resolved against the working directory (protocol/paths.ts); a NUL byte is refused with 553. */
function resolved(ctx: CommandContext, text: string): Parsed<string> {
  try {
    return { value: resolvePath(ctx.state.cwd, text) };
  } catch (err) {
    if (err instanceof InvalidPathError) return { refusal: storageErrorReply(err) };
    throw err;
  }
}

/** A path argument (an empty one is the working directory); storage failures name it. */
export const pathArgument: ArgumentSyntax<string> = {
  parse: (text, ctx) => resolved(ctx, text),
  pathOf: path => path,
};

/** MLSD's directory: like pathArgument, but its storage failures have always been answered without the path. */
export const listedDirectoryArgument: ArgumentSyntax<string> = {
  parse: (text, ctx) => resolved(ctx, text),
  targetOf: path => path,
};

/**
 * LIST/NLST arguments may start with ls-style flags ("-la", "-a dir") that many clients send; they are
 * dropped. A name that really starts with "-" can be listed as "./-name".
 */
export function stripListFlags(arg: string): string {
  return arg.replace(/^(?:-[A-Za-z0-9]+(?: +|$))+/, '');
}

/** What LIST/NLST list: the resolved path, and the text the client gave (NLST echoes it, RFC 959 s4.1.3). */
export interface ListingTarget {
  path: string;
  given: string;
}

/** LIST/NLST: flags dropped; storage failures answered without the path, as they always were. */
export const listingArgument: ArgumentSyntax<ListingTarget> = {
  parse(text, ctx) {
    const given = stripListFlags(text);
    const r = resolved(ctx, given);
    return 'refusal' in r ? r : { value: { path: r.value, given } };
  },
  targetOf: target => target.path,
};

/** STOU's optional name stem (RFC 959 s4.1.3: the server picks the unique name). */
export const optionalPathArgument: ArgumentSyntax<string | undefined> = {
  parse(text, ctx) {
    if (!text.trim()) return { value: undefined };
    return resolved(ctx, text);
  },
};

/** REST (RFC 3659 s5.3): a decimal byte offset. */
export const offsetArgument: ArgumentSyntax<number> = {
  parse(text) {
    if (!/^\d{1,15}$/.test(text.trim())) return { refusal: reply(ReplyCode.SyntaxErrorInParameters, 'REST needs a byte offset') };
    return { value: Number(text.trim()) };
  },
};

/** ALLO (RFC 959 s4.1.3): "ALLO <SP> <decimal-integer> [<SP> R <SP> <decimal-integer>]"; the record size is ignored. */
export const allocationArgument: ArgumentSyntax<number | undefined> = {
  parse(text) {
    if (!text.trim()) return { value: undefined };
    const m = /^(\d{1,15})(?: +R +\d{1,15})?$/i.exec(text.trim());
    if (!m) return { refusal: reply(ReplyCode.SyntaxErrorInParameters, 'ALLO needs a number of bytes') };
    return { value: Number(m[1]) };
  },
};

/** TYPE (RFC 959 s3.1.1): A with format N (non-print, the default), I, and L 8 (the same as I on 8-bit hosts). */
export const typeArgument: ArgumentSyntax<TransferType> = {
  parse(text) {
    const t = text.trim().toUpperCase().split(/ +/);
    if (t[0] === 'A' && (t.length === 1 || (t.length === 2 && t[1] === 'N'))) return { value: 'A' };
    if ((t[0] === 'I' && t.length === 1) || (t[0] === 'L' && t.length === 2 && t[1] === '8')) return { value: 'I' };
    if (['A', 'E', 'L'].includes(t[0])) return { refusal: reply(ReplyCode.ParameterNotImplemented, `TYPE ${text.trim()} not implemented`) };
    return { refusal: reply(ReplyCode.SyntaxErrorInParameters, 'Unrecognised TYPE') };
  },
};

/** MODE (RFC 959 s3.4): S, B and Z; C is known but not implemented (504, RFC 959 s4.2). */
export const modeArgument: ArgumentSyntax<TransferMode> = {
  parse(text) {
    const m = text.trim().toUpperCase();
    if (m === 'S' || m === 'B' || m === 'Z') return { value: m };
    if (m === 'C') return { refusal: reply(ReplyCode.ParameterNotImplemented, 'MODE C not implemented (RFC 959 compressed mode is unused in practice); use MODE Z') };
    return { refusal: reply(ReplyCode.SyntaxErrorInParameters, 'Unrecognised MODE') };
  },
};

/** STRU (RFC 959 s3.1.2): F; R and P are known but not implemented (504). */
export const structureArgument: ArgumentSyntax<FileStructure> = {
  parse(text) {
    const m = text.trim().toUpperCase();
    if (m === 'F') return { value: 'F' };
    if (['R', 'P'].includes(m)) return { refusal: reply(ReplyCode.ParameterNotImplemented, `STRU ${m} not implemented`) };
    return { refusal: reply(ReplyCode.SyntaxErrorInParameters, 'Unrecognised STRU') };
  },
};

/** MFMT (draft-somers-ftp-mfxx s3): "YYYYMMDDHHMMSS path". */
export const modifyTimeArgument: ArgumentSyntax<{ date: Date; path: string }> = {
  parse(text, ctx) {
    const m = /^(\S+) (.+)$/.exec(text);
    const date = m ? parseTimeVal(m[1]) : undefined;
    if (!m || !date) return { refusal: reply(ReplyCode.SyntaxErrorInParameters, 'Usage: MFMT YYYYMMDDHHMMSS path') };
    const r = resolved(ctx, m[2]);
    return 'refusal' in r ? r : { value: { date, path: r.value } };
  },
  pathOf: v => v.path,
};

/** EPSV (RFC 2428 s3, s4): nothing, a network protocol number, or ALL. */
export const epsvArgument: ArgumentSyntax<EpsvArgument> = {
  parse(text) {
    const parsed = parseEpsvArgument(text);
    return parsed ? { value: parsed } : { refusal: reply(ReplyCode.SyntaxErrorInParameters, 'Usage: EPSV [1|2|ALL]') };
  },
};

/** PORT (RFC 959 s4.1.2): h1,h2,h3,h4,p1,p2. */
export const portArgument: ArgumentSyntax<HostPort> = {
  parse(text) {
    const target = parsePortArgument(text);
    return target ? { value: target } : { refusal: reply(ReplyCode.SyntaxErrorInParameters, 'Illegal PORT command') };
  },
};

/** EPRT (RFC 2428 s2): |proto|address|port|; an unknown network protocol gets 522 naming the ones we support. */
export const eprtArgument: ArgumentSyntax<ExtendedHostPort> = {
  parse(text) {
    const target = parseEprtArgument(text);
    if (target) return { value: target };
    const proto = /^(.)(\d+)\1/.exec(text.trim());
    if (proto && proto[2] !== '1' && proto[2] !== '2') return { refusal: reply(ReplyCode.ProtocolNotSupported, 'Network protocol not supported, use (1,2)') };
    return { refusal: reply(ReplyCode.SyntaxErrorInParameters, 'Illegal EPRT command') };
  },
};

/** SITE (RFC 959 s4.1.3): the subcommand, and for CHMOD its octal mode and path (absent when malformed). */
export type SiteCommand =
  | { kind: 'help' }
  | { kind: 'quota' }
  | { kind: 'chmod'; target: { mode: number; path: string } | undefined }
  | { kind: 'unknown'; name: string };

export const siteArgument: ArgumentSyntax<SiteCommand> = {
  parse(text, ctx) {
    const m = /^(\S+)(?: (.*))?$/.exec(text.trim());
    const sub = m?.[1]?.toUpperCase();
    if (sub === 'HELP') return { value: { kind: 'help' } };
    if (sub === 'QUOTA') return { value: { kind: 'quota' } };
    if (sub !== 'CHMOD') return { value: { kind: 'unknown', name: sub ?? '' } };
    const p = /^([0-7]{1,4}) (.+)$/.exec(m?.[2] ?? '');
    if (!p) return { value: { kind: 'chmod', target: undefined } };
    const r = resolved(ctx, p[2]);
    return 'refusal' in r ? r : { value: { kind: 'chmod', target: { mode: parseInt(p[1], 8), path: r.value } } };
  },
  pathOf: v => (v.kind === 'chmod' ? v.target?.path : undefined),
};
