// Every parser of server text runs in time linear in its input (issue 8 item 7): a hostile server must not
// be able to burn the client's CPU with one crafted line. Random and adversarial lines up to each parser's
// input bound must parse within a fixed budget, generous for a busy machine; the quadratic DOS regex took
// ~1 s for a 30,000-space line and ~50 s for 300,000.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseListingLine, parseListingDetailed, parseDosLine, parseUnixLine, parseEplfLine, parseMlsxLine, parseMlsd,
} from '../../src/protocol/listing-parse.js';
import { MAX_LISTING_LINE_CHARS } from '../../src/protocol/listing-types.js';
import { ReplyParser } from '../../src/protocol/reply-parser.js';
import { parsePasvReply, parseEpsvReply } from '../../src/protocol/hostport.js';
import { unquotePath } from '../../src/protocol/reply.js';
import { parseFeatures } from '../../src/client/features.js';

/** Per line up to the bound: a linear parse takes a few ms; a quadratic one seconds. */
const BUDGET_MS = 500;
const NOW = new Date(Date.UTC(2026, 10, 21, 12, 0));

function timed(fn: () => unknown): number {
  const t = performance.now();
  try { fn(); } catch { /* a typed parse error is an answer too */ }
  return performance.now() - t;
}

/** Starts of real lines of every format, so the long runs land where a parser looks hardest. */
const HEADS = [
  '', '01-15-24  10:30', '01-15-24  10:30AM', '01-15-2024  22:30  1,234', '01-15-24  10:30PM  <DIR>', '  01-15-24',
  '-rw-r--r--', '-rw-r--r-- 1 ftp ftp 5 Jan', '-rw-r--r-- 1 ftp ftp 5 15 Jan', 'drwxr-xr-x+ 2 0 0 4096 2024-01-15 10:30',
  'crw-rw-rw- 1 0 0 1,', 'type=file;size=3;', ' type=dir;', '+i8388621.48594,m825718503,r,s280,', '227 Entering (',
  '229 (|||', '211-Features:', '257 "',
  // listing-parse-legacy.ts: OpenVMS, IBM i, z/OS data sets and members, NetWare, the frame lines.
  'LOGIN.COM;2 1/4 14-NOV-1995 10:20:35 [', 'A.TXT;1', 'QSYS 18432 04/09/96 20:41:17 *DIR ', 'QPGMR *MEM ',
  'WYOSPT 3420 2003/05/21 1 200 FB 80 8000 PS ', 'MEMBER1 01.01 2002/09/18 2002/09/18 14:27', 'IEFBR14 000060 000018',
  'd [R----F--] x 512 Jan 16 18:53', 'Directory X:[', 'Total of ', 'Pseudo Directory ',
];
/** Fragments whose long runs are the classic traps: spaces, digits, separators, AM/PM, tags, fact syntax. */
const FRAGMENTS = [' ', '\t', '\u00a0', '1', '12', '2024', ',', '-', '/', '.', ':', 'AM', 'pm', '<DIR>', '<JUNCTION>',
  'Jan', 'rw-', '=', ';', 'a=b;', '|', '(', ')', '"', '""', ' -> ', '1,', '1 ', 'x', 'é', '+', 'up644'];

/** A line: a head, random fragments, one fragment repeated to a long run, and a random tail. */
function adversarialLine(maxChars: number): fc.Arbitrary<string> {
  return fc.record({
    head: fc.constantFrom(...HEADS),
    mid: fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 8 }),
    run: fc.constantFrom(...FRAGMENTS),
    share: fc.double({ min: 0.5, max: 1, noNaN: true }),
    tail: fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 4 }),
  }).map(({ head, mid, run, share, tail }) => {
    const fixed = head + mid.join('') + tail.join('');
    const count = Math.max(0, Math.floor(((maxChars - fixed.length) * share) / run.length));
    return (head + mid.join('') + run.repeat(count) + tail.join('')).slice(0, maxChars);
  });
}

function parseAllListingFormats(line: string): void {
  parseListingLine(line, { now: NOW });
  parseUnixLine(line, NOW);
  parseDosLine(line);
  parseEplfLine(line);
  parseMlsxLine(line);
  parseListingDetailed(line, { now: NOW });
  parseMlsd(line);
}

test('listing parsers: every line head followed by a long run of every fragment, at the line bound, within the budget', () => {
  for (const head of HEADS) {
    for (const run of FRAGMENTS) {
      const line = (head + run.repeat(Math.ceil(MAX_LISTING_LINE_CHARS / run.length))).slice(0, MAX_LISTING_LINE_CHARS - 1) + 'x';
      const ms = timed(() => parseAllListingFormats(line));
      assert.ok(ms < BUDGET_MS, `${ms.toFixed(0)} ms for ${JSON.stringify(head)} + ${JSON.stringify(run)} repeated (${line.length} chars)`);
    }
  }
});

test('listing parsers: random lines up to the line bound parse within the budget', () => {
  fc.assert(fc.property(fc.oneof(adversarialLine(MAX_LISTING_LINE_CHARS), fc.string({ maxLength: 2000 })), line => {
    const ms = timed(() => parseAllListingFormats(line));
    assert.ok(ms < BUDGET_MS, `${ms.toFixed(0)} ms for a line of ${line.length} chars starting ${JSON.stringify(line.slice(0, 40))}`);
  }), { numRuns: 150 });
});

test('the 300,000-space DOS/IIS line parses in well under a second (was ~50 s)', () => {
  for (const head of ['01-15-24  10:30', '01-15-24  10:30AM', '01-15-2024  22:30  1,234']) {
    const line = `${head}${' '.repeat(300_000)}x`;
    const ms = timed(() => { parseDosLine(line); parseListingLine(line, { now: NOW }); });
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms for ${JSON.stringify(head)} + 300,000 spaces`);
    // Still the right answer: a 24-hour line with a size parses, the others have no size column.
    if (head.includes('1,234')) assert.equal(parseDosLine(line)?.name, 'x');
  }
  // Beyond the line bound, LIST output reports the line instead of parsing it.
  const long = `01-15-24  10:30${' '.repeat(MAX_LISTING_LINE_CHARS)}x`;
  assert.deepEqual(parseListingDetailed(long, { now: NOW }).unparsed, [long]);
});

// The old regex, as a reference for what a DOS line means (only run on short lines: it is quadratic).
const DOS_REFERENCE = /^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})\s+(\d{1,2}):(\d{2})\s*([AaPp][Mm])?\s+(<DIR>|<JUNCTION>|\d[\d,]*)\s+(.+)$/;

test('the linear DOS parser accepts exactly the lines the old regex accepted, with the same name and size', () => {
  const dosish = fc.array(fc.constantFrom('0', '1', '12', '2024', '-', '/', '.', ':', ' ', '  ', '\t', 'AM', 'pm', 'Pm',
    'x', 'a b', '<DIR>', '<JUNCTION>', '<dir>', ',', '\r', '\u00a0'), { maxLength: 24 }).map(p => p.join(''));
  const valid = fc.tuple(fc.constantFrom(' ', ''), fc.constantFrom('01', '1', '12'), fc.constantFrom('-', '/', '.'),
    fc.constantFrom('15', '5'), fc.constantFrom('-', '/', '.'), fc.constantFrom('24', '2024', '202'), fc.constantFrom(' ', '  ', ''),
    fc.constantFrom('10', '0', '12', '13'), fc.constantFrom(':30', ':3', ':305'), fc.constantFrom('', ' ', '   '),
    fc.constantFrom('', 'AM', 'pm', 'Xm'), fc.constantFrom(' ', '   ', ''), fc.constantFrom('<DIR>', '<JUNCTION>', '1,234', '0', 'x'),
    fc.constantFrom(' ', '  ', '', '   '), fc.constantFrom('name', 'a b ', '', ' ', 'x\ry')).map(p => p.join(''));
  fc.assert(fc.property(fc.oneof(valid, dosish), line => {
    const m = DOS_REFERENCE.exec(line);
    const e = parseDosLine(line);
    if (!m) { assert.equal(e, undefined, `accepted ${JSON.stringify(line)}`); return; }
    const ampm = m[6];
    const h = Number(m[4]);
    if (ampm && (h > 12 || h === 0)) { assert.equal(e, undefined); return; }
    assert.ok(e, `refused ${JSON.stringify(line)}`);
    assert.equal(e.name, m[8]);
    assert.equal(e.type, m[7] === '<DIR>' ? 'dir' : m[7] === '<JUNCTION>' ? 'link' : 'file');
    if (!m[7].startsWith('<')) assert.equal(e.size, Number(m[7].replace(/,/g, '')));
  }), { numRuns: 3000 });
});

test('control-reply parsers: lines up to the reply bounds parse within the budget', () => {
  const LINE_BOUND = 16 * 1024; // ReplyParser's default maxLineBytes
  fc.assert(fc.property(adversarialLine(LINE_BOUND - 8).map(l => l.replace(/[\r\n]/g, ' ')), body => {
    const ms = timed(() => {
      const parser = new ReplyParser();
      const replies = parser.push(`211-${body}\r\n ${body}\r\n211 ${body}\r\n227 ${body}\r\n`);
      parseFeatures(replies[0]!);
      parsePasvReply(body);
      parseEpsvReply(body);
      unquotePath(body);
    });
    assert.ok(ms < BUDGET_MS, `${ms.toFixed(0)} ms for ${body.length} chars starting ${JSON.stringify(body.slice(0, 40))}`);
  }), { numRuns: 150 });
  // A whole multi-line reply at its bound (1 MiB): PASV/EPSV scan the joined message.
  const message = `${'1 ,'.repeat(300_000)}`;
  assert.ok(timed(() => { parsePasvReply(message); parseEpsvReply(message); }) < BUDGET_MS * 2);
});
