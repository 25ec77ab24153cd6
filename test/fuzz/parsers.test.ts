/**
 * Fuzz of the pure parsers (issue 12, Tests): whatever bytes a hostile peer sends, each parser answers with a
 * value or its typed error, gives the same answer however the input is chunked, and keeps its invariants.
 * Seeded (test/fuzz/fuzz-seed.ts): FTPKIT_FUZZ_SEED replays or varies a run, FTPKIT_FUZZ_SCALE runs more.
 * The hand-picked cases and the linear-time budgets of these parsers are in test/unit/*; this file throws
 * random and mutated input at them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FtpProtocolError } from '../../src/errors.js';
import { ReplyParser, type FtpResponse } from '../../src/protocol/reply-parser.js';
import { formatReply } from '../../src/protocol/reply.js';
import { CommandLineFramer, parseCommandLine, type FramerEvent } from '../../src/protocol/commands.js';
import { parseListingDetailed, parseMlsd, parseMlsxLine } from '../../src/protocol/listing-parse.js';
import { InvalidPathError, normalizePath, resolvePath } from '../../src/protocol/paths.js';
import {
  formatEprtArgument, formatEpsvReplyText, formatPasvReplyText, formatPortArgument, parseEprtArgument,
  parseEpsvArgument, parseEpsvReply, parsePasvReply, parsePortArgument, sameAddress,
} from '../../src/protocol/hostport.js';
import { compileWildcard, type Wildcard } from '../../src/protocol/wildcard.js';
import { decodeTypeA, encodeTypeA, finishTypeADecode, newDecodeState, newEncodeState } from '../../src/protocol/codecs/type-a.js';
import { fuzzParams } from './fuzz-seed.js';
import { referenceWildcardMatch } from '../support/wildcard-reference.js';

const NOW = new Date(Date.UTC(2026, 10, 21, 12, 0));

/** Split `buf` at the given (sorted, deduplicated) cut points. */
function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map(c => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) { out.push(buf.subarray(from, p)); from = p; }
  out.push(buf.subarray(from));
  return out;
}
const cutsArb = fc.array(fc.nat({ max: 100_000 }), { maxLength: 12 });

/** Bytes that matter to line-oriented parsers, plus any byte. */
const interestingByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0x0d, 0x0a, 0x00, 0xff, 0xf4, 0xf2, 0xfa, 0xf0, 0xfb, 0x20, 0x2d, 0x31, 0x32, 0x35) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
/** Text fragments of FTP replies and listings, mutated by random bytes between them. */
const replyFragment = fc.oneof(
  fc.constantFrom('220', '211', '211-', '211 ', '226 ', '150-', '999 ', '099 ', '2', '21', '\r\n', '\n', '\r', '\r\r\n',
    ' 211 x', 'End', 'é', '\u{1f600}'),
  fc.uint8Array({ maxLength: 6 }).map(b => Buffer.from(b).toString('latin1')),
);
const bytesFrom = (frags: fc.Arbitrary<string>, max: number): fc.Arbitrary<Buffer> =>
  fc.array(fc.oneof(frags.map(s => Buffer.from(s, 'utf8')), fc.array(interestingByte, { maxLength: 4 }).map(a => Buffer.from(a))),
    { maxLength: max }).map(parts => Buffer.concat(parts));

type ParseOutcome = { replies: FtpResponse[]; error?: string; pending: boolean };

function parseAll(chunks: Buffer[], maxLineBytes: number): ParseOutcome {
  const p = new ReplyParser({ maxLineBytes, maxReplyBytes: 4 * maxLineBytes, maxReplyLines: 8 });
  const replies: FtpResponse[] = [];
  try {
    for (const c of chunks) replies.push(...p.push(c));
  } catch (err) {
    // Typed errors only: anything else is a bug in the parser.
    assert.ok(err instanceof FtpProtocolError, `untyped error: ${String(err)}`);
    // The parser is unusable after its error (the connection is closed), so what it holds then is moot.
    return { replies, error: 'protocol', pending: true };
  }
  return { replies, pending: p.pending };
}

/** Short, nearly valid replies: line lengths close to a small bound, stray CRs, '-' continuations. */
const nearReplies = fc.array(fc.tuple(fc.constantFrom('220', '211', '5', ''), fc.constantFrom('', ' ', '-', ' x', '-ab'),
  fc.constantFrom('\r\n', '\n', '\r\r\n', '\r', '')).map(p => p.join('')), { maxLength: 8 }).map(l => Buffer.from(l.join('')));

test('reply parser: any bytes, any chunking, any bound: the same replies or the same typed error', () => {
  fc.assert(fc.property(fc.oneof(bytesFrom(replyFragment, 40), nearReplies), cutsArb, fc.oneof(fc.integer({ min: 3, max: 5 }), fc.integer({ min: 3, max: 40 })), (bytes, cuts, maxLine) => {
    const whole = parseAll([bytes], maxLine);
    const split = parseAll(chunked(bytes, cuts), maxLine);
    // On an error, replies completed by earlier chunks were already returned; the error itself must come
    // for the same input whatever its chunking.
    assert.equal(split.error, whole.error, `error ${split.error} vs ${whole.error}`);
    if (whole.error) assert.deepEqual(split.replies.slice(0, whole.replies.length), whole.replies);
    else assert.deepEqual(split, whole);
    for (const r of whole.replies) {
      assert.ok(r.code >= 100 && r.code <= 599, `code ${r.code}`);
      assert.ok(r.lines.length >= 1);
    }
  }), fuzzParams(3000));
});

test('reply parser: whatever reply the server formats (any text lines), the client reads back exactly it', () => {
  const lineText = fc.oneof(
    fc.constantFrom('', ' ', '211', '211 ', '211-', '226', '226 x', ' 211 end', '2110', 'x'),
    fc.string({ unit: 'binary', maxLength: 12 }),
  );
  fc.assert(fc.property(fc.integer({ min: 100, max: 599 }), fc.array(lineText, { minLength: 1, maxLength: 5 }), cutsArb,
    (code, lines, cuts) => {
      const wire = Buffer.from(formatReply({ code, lines }), 'utf8');
      const out = parseAll(chunked(wire, cuts), 1 << 20);
      assert.equal(out.error, undefined);
      assert.equal(out.replies.length, 1, `one reply for ${JSON.stringify(wire.toString())}`);
      assert.equal(out.replies[0]!.code, code);
      assert.equal(out.pending, false);
    }), fuzzParams(3000));
});

/** The framer's events for a chunked input, without the documented "ABOR\r" chunk-end rule (see below). */
function frame(chunks: Buffer[], max: number): FramerEvent[] {
  const f = new CommandLineFramer(max);
  const out: FramerEvent[] = [];
  for (const c of chunks) out.push(...f.push(c));
  return out;
}
const commandFragment = fc.oneof(
  fc.constantFrom('USER ', 'PASS ', 'RETR ', 'CWD ..', 'ABOR', 'abor', 'NOOP', 'SITE ', ' ', '\r\n', '\n', '\r', '\r\0',
    '\xff\xf4\xff\xf2', '\xff\xff', '\xff\xfb\x01', '\xff\xfa\x18\x01\xff\xf0', '\xf2', 'é', '\u{1f600}'),
  fc.uint8Array({ maxLength: 6 }).map(b => Buffer.from(b).toString('latin1')),
);
const commandBytes = fc.array(fc.oneof(
  commandFragment.map(s => Buffer.from(s, /[\x80-\xff]/.test(s) && !/[^\x00-\xff]/.test(s) ? 'latin1' : 'utf8')),
  fc.array(interestingByte, { maxLength: 4 }).map(a => Buffer.from(a)),
), { maxLength: 40 }).map(parts => Buffer.concat(parts));

test('command framer (server): any bytes, any chunking: the same lines, each within the bound, no exception', () => {
  fc.assert(fc.property(commandBytes, cutsArb, fc.integer({ min: 8, max: 48 }), (bytes, cuts, max) => {
    const whole = frame([bytes], max);
    // A chunk that ends in "ABOR\r" is taken as a complete ABOR on purpose (ftplib sends the LF as urgent
    // data; src/protocol/commands.ts): the only documented place where chunking changes the framing.
    // Inputs with a line that starts with ABOR are left out, judged without a bound (a line that will be too
    // long is still cut short there) and with a line end appended (for a last, unended line).
    const unbounded = frame([bytes, Buffer.from([0xff, 0xf0, 0xff, 0xf0, 0x0d, 0x0a])], 1 << 20);
    fc.pre(!unbounded.some(e => e.kind === 'line' && /^ *abor/i.test(e.text)));
    const split = frame(chunked(bytes, cuts), max);
    assert.deepEqual(split, whole);
    for (const ev of whole) {
      if (ev.kind !== 'line') continue;
      assert.ok(Buffer.byteLength(ev.text, 'utf8') <= 2 * (max - 2), 'a line never exceeds its bound');
      assert.ok(!ev.text.includes('\n'), 'no line end inside a line');
      const cmd = parseCommandLine(ev.text);
      if (cmd) assert.equal(cmd.verb, cmd.verb.toUpperCase());
    }
  }), fuzzParams(3000));
});

const listingFragment = fc.constantFrom('-rw-r--r--', 'drwxr-xr-x+', 'lrwxrwxrwx', ' 1 ', 'ftp', '  ', '\t', '4096', '12',
  'Jan', 'Mär', '15', '10:30', '2024', '2024-01-15', '01-15-24', '10:30AM', '<DIR>', '1,234', ' -> ', 'name',
  '+i8388621.48594,m825718503,r,s280,\tfile', 'type=file;', 'size=3;', 'modify=20240115103000;', 'UNIX.mode=0644;',
  'type=OS.unix=slink:/x;', '__proto__=x;', 'constructor=1;', ';', '=', ' ', '\r', '\n', 'é', 'total 12');
const listingText = fc.array(fc.oneof(listingFragment, fc.string({ unit: 'binary', maxLength: 5 })), { maxLength: 60 })
  .map(parts => parts.join(''));

test('listing parsers: any text parses to entries or "unparsed", never throws, entries are sane', () => {
  fc.assert(fc.property(listingText, (text) => {
    const { entries, unparsed } = parseListingDetailed(text, { now: NOW });
    for (const e of entries) {
      assert.equal(typeof e.name, 'string');
      assert.ok(e.name.length > 0, `empty name from ${JSON.stringify(text)}`);
      if (e.size !== undefined) assert.ok(Number.isFinite(e.size) && e.size >= 0, `size ${e.size}`);
      if (e.modifiedAt !== undefined) assert.ok(!Number.isNaN(e.modifiedAt.getTime()), 'valid date');
    }
    assert.ok(entries.length + unparsed.length <= text.split('\n').length);
    for (const m of parseMlsd(text)) {
      assert.ok(m.name.length > 0);
      if (m.size !== undefined) assert.ok(Number.isFinite(m.size) && m.size >= 0);
      if (m.modifiedAt !== undefined) assert.ok(!Number.isNaN(m.modifiedAt.getTime()));
      assert.equal(typeof m.facts, 'object');
    }
    for (const line of text.split('\n')) parseMlsxLine(line);
  }), fuzzParams(3000));
});

test('listing parsers: long mutated lines are parsed within a generous time (no super-linear regex)', () => {
  // 60,000-char lines: a quadratic pattern takes seconds on such a line; a linear parse a few ms.
  const longLine = fc.tuple(fc.array(listingFragment, { maxLength: 6 }), listingFragment, fc.array(listingFragment, { maxLength: 4 }))
    .map(([head, run, tail]) => head.join('') + run.repeat(Math.ceil(60_000 / Math.max(1, run.length))).slice(0, 60_000) + tail.join(''));
  fc.assert(fc.property(longLine, (line) => {
    const t0 = performance.now();
    parseListingDetailed(line, { now: NOW });
    parseMlsd(line);
    const ms = performance.now() - t0;
    assert.ok(ms < 1500, `${ms.toFixed(0)} ms for a ${line.length}-char line ${JSON.stringify(line.slice(0, 80))}`);
  }), fuzzParams(60));
});

const pathText = fc.array(fc.oneof(
  fc.constantFrom('/', '\\', '//', '.', '..', '...', '..\\', '%2e%2e', '\0', ' ', '~', 'a', 'é', '\u{1f600}', '\uD800'),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
), { maxLength: 16 }).map(p => p.join(''));

test('path resolution: any cwd and argument resolve inside "/", normalized and idempotent, or a typed refusal', () => {
  fc.assert(fc.property(pathText, pathText, (cwdArg, arg) => {
    let cwd: string;
    let result: string;
    try {
      cwd = normalizePath(cwdArg);
      result = resolvePath(cwd, arg);
    } catch (err) {
      assert.ok(err instanceof InvalidPathError, `untyped error ${String(err)}`);
      assert.ok(cwdArg.includes('\0') || arg.includes('\0'), 'only a NUL is refused');
      return;
    }
    assert.ok(result.startsWith('/'));
    assert.ok(result === '/' || !result.endsWith('/'));
    const segs = result.split('/').slice(1);
    if (result !== '/') for (const s of segs) assert.ok(s !== '' && s !== '.' && s !== '..' && !s.includes('\\'), `segment ${JSON.stringify(s)}`);
    assert.equal(normalizePath(result), result, 'idempotent');
    assert.equal(resolvePath(cwd, result), result, 'an absolute result resolves to itself from anywhere');
    assert.equal(resolvePath(result, ''), result);
    assert.equal(resolvePath(result, '.'), result);
  }), fuzzParams(5000));
});

test('addresses: PORT/PASV/EPRT/EPSV round trip', () => {
  fc.assert(fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
    assert.deepEqual(parsePortArgument(formatPortArgument({ host, port })), { host: host.split('.').map(Number).join('.'), port });
    assert.deepEqual(parsePasvReply(formatPasvReplyText({ host: `::ffff:${host}`, port })), { host: host.split('.').map(Number).join('.'), port });
    const e = parseEprtArgument(formatEprtArgument({ host, port }));
    assert.ok(e && e.family === 1 && sameAddress(e.host, host) && e.port === port);
    assert.equal(parseEpsvReply(`229 ${formatEpsvReplyText(port)}`), port);
  }), fuzzParams(2000));
  fc.assert(fc.property(fc.ipV6(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
    const e = parseEprtArgument(formatEprtArgument({ host, port }));
    assert.ok(e, `EPRT of ${host}`);
    assert.ok(sameAddress(e.host, host), `${e.host} vs ${host}`);
    assert.equal(e.port, port);
  }), fuzzParams(2000));
});

test('addresses: garbage is refused with undefined (arguments) or FtpProtocolError (replies), nothing else', () => {
  const garbage = fc.array(fc.oneof(
    fc.constantFrom('|', '1', '2', ',', '.', ':', '::', '255', '256', '65535', '65536', '0', '(', ')', ' ', '!', 'ffff', '%eth0', '-1', '1e3'),
    fc.string({ unit: 'binary', maxLength: 3 }),
  ), { maxLength: 20 }).map(p => p.join(''));
  fc.assert(fc.property(garbage, (text) => {
    const port = parsePortArgument(text);
    if (port) assert.ok(port.port >= 1 && port.port <= 65535 && /^\d+\.\d+\.\d+\.\d+$/.test(port.host));
    const eprt = parseEprtArgument(text);
    if (eprt) assert.ok(eprt.port >= 1 && eprt.port <= 65535 && (eprt.family === 1 || eprt.family === 2));
    parseEpsvArgument(text);
    for (const parse of [parsePasvReply, parseEpsvReply] as Array<(t: string) => unknown>) {
      try { parse(text); } catch (err) { assert.ok(err instanceof FtpProtocolError, `untyped error ${String(err)}`); }
    }
  }), fuzzParams(5000));
});

test('wildcard: agrees with the reference on any text (regex characters, surrogates, line ends), linear in the name', () => {
  const unit = fc.constantFrom('a', 'b', '*', '?', '.', '[', ']', '\\', '^', '$', '(', '+', '\n', '\u{1f600}', '\uD800', 'é');
  const pattern = fc.array(unit, { maxLength: 14 }).map(a => a.join(''));
  const name = fc.array(unit.filter(c => c !== '*' && c !== '?'), { maxLength: 16 }).map(a => a.join(''));
  fc.assert(fc.property(pattern, name, (p, n) => {
    const r = compileWildcard(p);
    if (r.kind !== 'pattern') return;
    assert.equal(r.wildcard.matches(n), referenceWildcardMatch(p, n), `${JSON.stringify(p)} vs ${JSON.stringify(n)}`);
  }), fuzzParams(5000));
  // Adversarial: many segments that almost match, against a long name: bounded by name x segment length.
  fc.assert(fc.property(fc.array(fc.constantFrom('a', '?', 'ab', 'a?'), { minLength: 1, maxLength: 60 }), (segs) => {
    const w = (compileWildcard(`*${segs.join('*')}*b`) as { kind: string; wildcard?: Wildcard }).wildcard;
    if (!w) return;
    const t0 = performance.now();
    w.matches('a'.repeat(50_000));
    assert.ok(performance.now() - t0 < 1500);
  }), fuzzParams(20));
});

test('TYPE A codec: any bytes, any chunking: encoding and decoding are chunk-independent; text round-trips', () => {
  fc.assert(fc.property(fc.array(interestingByte, { maxLength: 300 }).map(a => Buffer.from(a)), cutsArb, cutsArb, (data, c1, c2) => {
    const enc = (chunks: Buffer[]) => { const s = newEncodeState(); return Buffer.concat(chunks.map(c => encodeTypeA(c, s))); };
    const dec = (chunks: Buffer[]) => {
      const s = newDecodeState();
      const out = chunks.map(c => decodeTypeA(c, s));
      const tail = finishTypeADecode(s);
      return Buffer.concat(tail ? [...out, tail] : out);
    };
    const wire = enc([data]);
    assert.deepEqual(enc(chunked(data, c1)), wire);
    assert.deepEqual(dec(chunked(data, c2)), dec([data]));
    // Local text without CR goes out with CRLF line ends and comes back unchanged, however the wire is cut.
    const text = Buffer.from(data.filter(b => b !== 0x0d));
    assert.deepEqual(dec(chunked(enc(chunked(text, c1)), c2)), text);
  }), fuzzParams(3000));
});
