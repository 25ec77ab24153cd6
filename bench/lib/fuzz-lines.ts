/**
 * The command-line fuzzer shared by test/fuzz/server-socket.test.ts (bounded, in npm test) and
 * bench/fuzz-run.ts (10^6 lines against `ftpkit serve`): random and mutated FTP command lines for a server.
 *
 * Every script is a function of one seeded random source, so a failing session is replayed from its seed.
 * What a line can be (RFC 959 s4.1, s5.3; RFC 854 Telnet; RFC 2428; RFC 4217):
 * - a verb of the command table (any case, aliases) or a made-up one, with an argument shaped for that verb
 *   (paths with "..", wildcards, PORT/EPRT addresses, REST offsets, TYPE/MODE/STRU/OPTS/SITE words) or
 *   random bytes 0-255 (NUL, bare CR, bare LF, invalid UTF-8);
 * - Telnet sequences inside it: IAC IP, IAC DM (what clients send before ABOR), IAC IAC (a literal 0xFF),
 *   option negotiation, sub-negotiation;
 * - mutated: bytes flipped, inserted, deleted; or over the server's line bound;
 * - ended with CRLF, LF or CR CR LF.
 * Never generated: QUIT, and AUTH with a real mechanism or CCC (they end or change the plain stream; the
 * TLS part of the fuzz upgrades on purpose before it starts).
 */
import { CommandLineFramer, parseCommandLine, type FramerEvent } from '../../src/protocol/commands.js';
import { defaultCommandModules } from '../../src/server/commands/index.js';

export type Rand = () => number;

/** mulberry32: a small seeded generator, good enough to pick inputs (not for secrets). */
export function seededRandom(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

/** Verbs of the server's command table (with aliases) and of its FTPS module. */
export const TABLE_VERBS: readonly string[] = Object.freeze([
  ...new Set([
    ...defaultCommandModules.flatMap(m => m.commands.flatMap(c => [c.verb, ...(c.aliases ?? [])])),
    'AUTH', 'PBSZ', 'PROT', 'CCC',
  ]),
].filter(v => v !== 'QUIT'));

/** Verbs that end or switch the plain control stream; never generated as such (see the module comment). */
export function isStreamChanging(verb: string, argument: string): boolean {
  if (verb === 'QUIT' || verb === 'CCC') return true;
  return verb === 'AUTH' && /^\s*(tls|ssl|tls-c|tls-p)\s*$/i.test(argument);
}

const PATHS = ['/', '..', '.', '../..', '/../../etc/passwd', 'hello.txt', 'dir', 'dir/sub', 'nope', '*', '*.txt', '?',
  '-la', '-a dir', '~', 'é.txt', 'a b', '\\..\\..', 'x'.repeat(300), '%s%n%x', '"q"', '.hidden', '*'.repeat(40) + 'a'];
const NUMBERS = ['0', '1', '-1', '100', '4294967296', '9007199254740993', '1e9', '00', ' 5', 'abc', ''];
const TELNET = [
  [0xff, 0xf4], [0xff, 0xf2], [0xff, 0xf4, 0xff, 0xf2], [0xff, 0xff], [0xff, 0xfb, 0x01], [0xff, 0xfd, 0x03],
  [0xff, 0xfa, 0x18, 0x00, 0x41, 0xff, 0xf0], [0xff], [0xf2], [0xff, 0xf1],
];

function portArgument(r: Rand, sinkPort: number | undefined): string {
  const port = sinkPort ?? 1;
  switch (int(r, 6)) {
    case 0: return `127,0,0,1,${port >> 8},${port & 0xff}`;
    case 1: return `10,0,0,1,${int(r, 256)},${int(r, 256)}`; // another host: refused (RFC 2577)
    case 2: return '127,0,0,1,0,21'; // a privileged port: refused
    case 3: return Array.from({ length: int(r, 9) }, () => pick(r, ['1', '256', '-1', '', ' ', 'x', '999'])).join(',');
    default: return `${int(r, 300)},${int(r, 300)},${int(r, 300)},${int(r, 300)},${int(r, 300)},${int(r, 300)}`;
  }
}

function eprtArgument(r: Rand, sinkPort: number | undefined): string {
  const port = sinkPort ?? 1;
  const d = pick(r, ['|', '!', '#', '1', '', ' ']);
  switch (int(r, 4)) {
    case 0: return `${d}1${d}127.0.0.1${d}${port}${d}`;
    case 1: return `${d}2${d}::1${d}${port}${d}`;
    case 2: return `${d}${pick(r, ['1', '2', '3', ''])}${d}${pick(r, ['::ffff:127.0.0.1', '1.2.3', 'fe80::1%lo', 'x'])}${d}${pick(r, NUMBERS)}${d}`;
    default: return `|||${pick(r, NUMBERS)}|`;
  }
}

function argumentFor(r: Rand, verb: string, sinkPort: number | undefined): string {
  switch (verb) {
    case 'PORT': return portArgument(r, sinkPort);
    case 'EPRT': return eprtArgument(r, sinkPort);
    case 'EPSV': return pick(r, ['', 'ALL', 'all', '1', '2', '3', '999', 'x']);
    case 'TYPE': return pick(r, ['A', 'I', 'E', 'L 8', 'L 7', 'A N', 'A T', 'a', 'X', '']);
    case 'MODE': return pick(r, ['S', 'B', 'C', 'Z', 's', '']);
    case 'STRU': return pick(r, ['F', 'R', 'P', '']);
    case 'REST': case 'ALLO': return pick(r, NUMBERS);
    case 'OPTS': return pick(r, ['UTF8 ON', 'UTF8 OFF', 'MLST type;size;modify;', 'MLST', 'HASH SHA-256', 'x', '']);
    case 'SITE': return pick(r, ['HELP', 'CHMOD 777 hello.txt', 'CHMOD 999 x', 'UMASK 022', 'IDLE 10', 'x', '']);
    case 'HASH': return pick(r, ['hello.txt', 'nope', '']);
    case 'MFMT': return `${pick(r, ['20240101000000', '99999999999999', '2024', 'x'])} ${pick(r, PATHS)}`;
    case 'AUTH': return pick(r, ['', 'X', 'KERBEROS', 'TLS TLS', 'SSL3']);
    case 'PBSZ': return pick(r, NUMBERS);
    case 'PROT': return pick(r, ['P', 'C', 'S', 'E', 'x', '']);
    case 'USER': return pick(r, ['test', 'anonymous', 'ftp', 'root', '', 'x'.repeat(200)]);
    case 'PASS': return pick(r, ['test', 'wrong', '', 'x'.repeat(200)]);
    default: return pick(r, PATHS);
  }
}

function randomBytes(r: Rand, max: number): number[] {
  return Array.from({ length: int(r, max + 1) }, () => (r() < 0.3 ? pick(r, [0x00, 0x0d, 0x0a, 0xff, 0x20, 0xc3, 0x80]) : int(r, 256)));
}

function mutate(r: Rand, bytes: number[]): number[] {
  const out = [...bytes];
  for (let n = 1 + int(r, 3); n > 0; n--) {
    const at = int(r, out.length + 1);
    switch (int(r, 4)) {
      case 0: if (out.length) out[Math.min(at, out.length - 1)] = int(r, 256); break;
      case 1: out.splice(at, 0, ...randomBytes(r, 3)); break;
      case 2: out.splice(at, 1 + int(r, 3)); break;
      default: out.splice(at, 0, ...pick(r, TELNET));
    }
  }
  return out;
}

export interface LineOptions {
  /** The server's bound (limits.maxLineLength): some lines go over it. */
  maxLineLength: number;
  /** A port of ours on 127.0.0.1 that PORT/EPRT may point at (accepts and closes data connections). */
  sinkPort?: number;
}

const TRANSFERS = ['RETR hello.txt', 'RETR dir/a b.txt', 'RETR nope', 'LIST', 'LIST -la dir', 'NLST *', 'MLSD dir', 'MLSD',
  'STOR up.bin', 'APPE up.bin', 'STOU', 'LIST *'.padEnd(40, '*')];

/** A data-connection set-up followed by a transfer command, so transfers really run (active ones to the sink). */
function transferPair(r: Rand, o: LineOptions): string {
  const setup = o.sinkPort !== undefined
    ? pick(r, [`PORT 127,0,0,1,${o.sinkPort >> 8},${o.sinkPort & 0xff}`, `EPRT |1|127.0.0.1|${o.sinkPort}|`, 'PASV', 'EPSV'])
    : pick(r, ['PASV', 'EPSV']);
  return `${pick(r, ['', 'TYPE A\r\n', 'REST 3\r\n', 'MODE Z\r\n'])}${setup}\r\n${pick(r, TRANSFERS)}`;
}

/** One command line with its line end, as bytes (sometimes two or three lines: a transfer set-up). */
export function fuzzLine(r: Rand, o: LineOptions): Buffer {
  let content: number[];
  const kind = r();
  if (kind < 0.06) {
    content = Array.from(Buffer.from(transferPair(r, o)));
  } else if (kind < 0.1) {
    content = Array.from(Buffer.from(`${pick(r, TABLE_VERBS)} ${'A'.repeat(o.maxLineLength + int(r, 200))}`));
  } else if (kind < 0.14) {
    content = randomBytes(r, 40);
  } else {
    const known = r() < 0.85;
    let verb = known ? pick(r, TABLE_VERBS) : Array.from({ length: 1 + int(r, 6) }, () => String.fromCharCode(65 + int(r, 26))).join('');
    if (r() < 0.2) verb = verb.toLowerCase();
    const arg = r() < 0.1 ? Buffer.from(randomBytes(r, 20)).toString('latin1') : argumentFor(r, verb.toUpperCase(), o.sinkPort);
    const sep = arg === '' && r() < 0.7 ? '' : pick(r, [' ', ' ', ' ', '  ', '\t']);
    content = Array.from(Buffer.from(`${r() < 0.05 ? ' ' : ''}${verb}${sep}${arg}`, 'utf8'));
    if (r() < 0.1) content.unshift(...pick(r, TELNET));
    if (r() < 0.15) content = mutate(r, content);
  }
  const end = pick(r, [[0x0d, 0x0a], [0x0d, 0x0a], [0x0d, 0x0a], [0x0a], [0x0d, 0x0d, 0x0a]]);
  return Buffer.from([...content, ...end]);
}

/**
 * Lines a script must not hold:
 * - the verbs isStreamChanging names (they end or switch the plain control stream mid-script);
 * - "ABOR" followed by a CR that stays in the line ("ABOR\r\0", "ABOR\rX"): the server treats a chunk
 *   that ends in "ABOR\r" as a complete ABOR (ftplib sends the LF as urgent data; src/protocol/commands.ts),
 *   so such a line frames differently depending on where TCP cuts it, and no count could be expected.
 */
function unusable(events: readonly FramerEvent[], unbounded: readonly FramerEvent[]): boolean {
  for (const e of events) {
    if (e.kind !== 'line') continue;
    const cmd = parseCommandLine(e.text);
    if (cmd && isStreamChanging(cmd.verb, cmd.argument)) return true;
  }
  // Judged without the bound: a line that will be too long is still cut short at "ABOR\r" by the server.
  return unbounded.some(e => e.kind === 'line' && /^ *abor\r/i.test(e.text));
}

/** A copy of a framer's state (shallow: see fuzzLines). */
function probeOf(framer: CommandLineFramer): CommandLineFramer {
  return Object.assign(Object.create(Object.getPrototypeOf(framer) as object) as CommandLineFramer, framer);
}

/** `n` fuzzed lines, none of them unusable (see above); each element one line. */
export function fuzzLines(r: Rand, n: number, o: LineOptions): Buffer[] {
  const out: Buffer[] = [];
  const framer = new CommandLineFramer(o.maxLineLength);
  const wide = new CommandLineFramer(1 << 20);
  while (out.length < n) {
    const line = fuzzLine(r, o);
    // Judge the line in the framer state the earlier lines left (a sub-negotiation can swallow lines). A
    // probe is a shallow copy: it may write into the line buffer it shares with its framer, but only past
    // that framer's own length, where the framer writes the same line's bytes next. The line is judged as
    // if it were ended right after it: a line that never ends (a sub-negotiation swallows its line end)
    // must not leave a half line that a later line would complete into an unusable one.
    const ended = Buffer.concat([line, SENTINEL.subarray(0, 6)]);
    if (unusable(probeOf(framer).push(ended), probeOf(wide).push(ended))) continue;
    framer.push(line);
    wide.push(line);
    out.push(line);
  }
  return out;
}

/**
 * Bytes that bring the framer back to a clean line start whatever state it is in (a Telnet sub-negotiation
 * is closed by IAC SE; a half line is ended by CR LF and answered like any other line), then a NOOP whose
 * 200 must be the last reply: the sentinel that proves no reply was lost or added.
 */
export const SENTINEL = Buffer.from([0xff, 0xf0, 0xff, 0xf0, 0x0d, 0x0a, ...Buffer.from('NOOP\r\n')]);

/** Cut `buf` into 1..maxChunks pieces at random points. */
export function randomChunks(r: Rand, buf: Buffer, maxChunks: number): Buffer[] {
  const cuts = Array.from({ length: int(r, maxChunks) }, () => int(r, buf.length + 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of cuts) { if (c > from) out.push(buf.subarray(from, c)); from = Math.max(from, c); }
  if (from < buf.length) out.push(buf.subarray(from));
  return out;
}
