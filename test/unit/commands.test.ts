import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandLineFramer, decodeLine, isPlausibleVerb, parseCommandLine } from '../../src/protocol/commands.js';
import { maskArgument, maskCommand, maskVerb } from '../../src/protocol/masking.js';
import type { FramerEvent } from '../../src/protocol/commands.js';

function lines(events: FramerEvent[]): string[] {
  return events.map(e => (e.kind === 'line' ? e.text : '<too-long>'));
}

function frame(input: Array<string | number[]>, max = 4096): string[] {
  const f = new CommandLineFramer(max);
  const out: FramerEvent[] = [];
  for (const part of input) out.push(...f.push(typeof part === 'string' ? Buffer.from(part, 'latin1') : Uint8Array.from(part)));
  return lines(out);
}

test('CRLF ends a line (RFC 959 s4.1.3)', () => {
  assert.deepEqual(frame(['USER a\r\nPASS b\r\n']), ['USER a', 'PASS b']);
});

test('LF alone ends a line too', () => {
  assert.deepEqual(frame(['NOOP\nSYST\n']), ['NOOP', 'SYST']);
});

test('a line split across chunks, including between CR and LF', () => {
  assert.deepEqual(frame(['RE', 'TR fi', 'le.txt\r', '\nNO', 'OP\r\n']), ['RETR file.txt', 'NOOP']);
});

test('stray CRs before the line end are dropped; bare CR inside is kept; CR NUL is a CR (RFC 854)', () => {
  assert.deepEqual(frame(['NOOP\r\r\n']), ['NOOP']);
  assert.deepEqual(frame(['STOR a\rb\r\n']), ['STOR a\rb']);
  assert.deepEqual(frame([[0x41, 0x0d, 0x00, 0x42, 0x0d, 0x0a]]), ['A\rB']);
});

test('a line without a line end is not emitted yet', () => {
  assert.deepEqual(frame(['NOOP']), []);
});

test('Telnet IAC IP and IAC DM before ABOR are stripped (RFC 959 s4.1.3)', () => {
  assert.deepEqual(frame([[0xff, 0xf4, 0xff, 0xf2], 'ABOR\r\n']), ['ABOR']);
});

test('BSD ftp abort: the urgent IAC is missing from the stream, the bare DM before ABOR is dropped', () => {
  // Sent: IAC IP IAC (MSG_OOB, last byte urgent) then DM "ABOR" CRLF; received inline: IAC IP DM ABOR CRLF.
  assert.deepEqual(frame([[0xff, 0xf4], [0xf2], 'ABOR\r\n']), ['ABOR']);
});

test('ftplib abort: "ABOR CRLF" sent as urgent data loses its LF; a chunk ending in "ABOR CR" is complete', () => {
  const f = new CommandLineFramer();
  assert.deepEqual(lines(f.push(Buffer.from('ABOR\r'))), ['ABOR']);
  // If the LF arrives after all, it ends an empty line (which parseCommandLine ignores).
  assert.deepEqual(lines(f.push(Buffer.from('\nNOOP\r\n'))), ['', 'NOOP']);
  // Other lines split after their CR still wait for the LF.
  const g = new CommandLineFramer();
  assert.deepEqual(lines(g.push(Buffer.from('NOOP\r'))), []);
  assert.deepEqual(lines(g.push(Buffer.from('\n'))), ['NOOP']);
});

test('IAC sequences split over chunks are stripped', () => {
  assert.deepEqual(frame([[0xff], [0xf4, 0xff], [0xf2, 0x41, 0x42, 0x4f, 0x52, 0x0d, 0x0a]]), ['ABOR']);
});

test('IAC IAC is a literal 0xFF byte (decoded as Latin-1 since it is not UTF-8)', () => {
  assert.deepEqual(frame([[0x52, 0x45, 0x54, 0x52, 0x20, 0xff, 0xff, 0x0d, 0x0a]]), ['RETR \u00ff']);
});

test('Telnet option negotiation and sub-negotiation are removed', () => {
  // IAC WILL 1, IAC DO 3, IAC SB 24 ... IAC SE
  assert.deepEqual(frame([[0xff, 0xfb, 0x01, 0xff, 0xfd, 0x03, 0xff, 0xfa, 0x18, 0x01, 0x02, 0xff, 0xf0], 'NOOP\r\n']), ['NOOP']);
});

test('an over-long line is refused once and its rest discarded up to the next line end', () => {
  const f = new CommandLineFramer(64);
  const ev: FramerEvent[] = [];
  ev.push(...f.push(Buffer.from('STOR ' + 'x'.repeat(100))));
  assert.deepEqual(lines(ev), ['<too-long>']);
  ev.push(...f.push(Buffer.from('y'.repeat(10_000))));
  ev.push(...f.push(Buffer.from('zzz\r\nNOOP\r\n')));
  assert.deepEqual(lines(ev), ['<too-long>', 'NOOP']);
});

test('a line of exactly the bound (including CRLF) is accepted, one byte more is not', () => {
  const max = 64;
  const ok = 'X'.repeat(max - 2);
  assert.deepEqual(frame([ok + '\r\n'], max), [ok]);
  assert.deepEqual(frame([ok + 'Y\r\n'], max), ['<too-long>']);
});

test('the framer does not keep growing memory for an endless line', () => {
  const f = new CommandLineFramer(128);
  let tooLong = 0;
  for (let i = 0; i < 1000; i++) tooLong += f.push(Buffer.alloc(4096, 0x61)).length;
  assert.equal(tooLong, 1);
});

test('UTF-8 is decoded (RFC 2640), invalid UTF-8 falls back to Latin-1', () => {
  assert.deepEqual(frame([Buffer.from('CWD Ünïcødé ✓\r\n', 'utf8').toString('latin1')]), ['CWD Ünïcødé ✓']);
  assert.equal(decodeLine(Uint8Array.from([0x61, 0xe9, 0x62])), 'a\u00e9b');
});

test('verbs are case-insensitive (RFC 959 s5.3) and upper-cased', () => {
  assert.deepEqual(parseCommandLine('retr File.TXT'), { verb: 'RETR', argument: 'File.TXT' });
  assert.deepEqual(parseCommandLine('Pasv'), { verb: 'PASV', argument: '' });
});

test('the argument is verbatim after the one separating space', () => {
  assert.deepEqual(parseCommandLine('STOR  two spaces '), { verb: 'STOR', argument: ' two spaces ' });
  assert.deepEqual(parseCommandLine('MKD a "quoted" name'), { verb: 'MKD', argument: 'a "quoted" name' });
  assert.deepEqual(parseCommandLine('LIST '), { verb: 'LIST', argument: '' });
});

test('blank lines are not commands', () => {
  assert.equal(parseCommandLine(''), undefined);
  assert.equal(parseCommandLine('   '), undefined);
});

test('plausible verbs vs line noise', () => {
  assert.equal(isPlausibleVerb('XYZW'), true);
  assert.equal(isPlausibleVerb('GET'), true);
  assert.equal(isPlausibleVerb('HELLOWORLD'), false);
  assert.equal(isPlausibleVerb('12'), false);
  assert.equal(isPlausibleVerb('\u00ff'), false);
});

test('PASS and ACCT are masked for logs', () => {
  assert.equal(maskCommand({ verb: 'PASS', argument: 'secret' }), 'PASS ****');
  assert.equal(maskCommand({ verb: 'ACCT', argument: 'secret' }), 'ACCT ****');
  assert.equal(maskCommand({ verb: 'USER', argument: 'bob' }), 'USER bob');
  // A tab instead of the space makes one odd verb; the secret inside it is still masked.
  const odd = parseCommandLine('pass\tsecret')!;
  assert.equal(maskCommand(odd), 'PASS ****');
  assert.equal(maskVerb(odd), 'PASS');
  assert.equal(maskArgument(odd), '****');
});

test('framer: hasPartialLine while a line (or a Telnet sequence) has begun and not ended; completedLines counts ends', () => {
  const f = new CommandLineFramer(64);
  assert.equal(f.hasPartialLine, false);
  f.push(Buffer.from('NO'));
  assert.equal(f.hasPartialLine, true);
  f.push(Buffer.from('OP\r'));
  assert.equal(f.hasPartialLine, true, 'CR waits for its LF');
  f.push(Buffer.from('\n'));
  assert.deepEqual([f.hasPartialLine, f.completedLines], [false, 1]);
  f.push(Buffer.from([0xff]));
  assert.equal(f.hasPartialLine, true, 'half a Telnet command');
  f.push(Buffer.from([0xf1]));
  assert.equal(f.hasPartialLine, false);
  f.push(Buffer.from('x'.repeat(100)));
  assert.equal(f.hasPartialLine, true, 'a too-long line being discarded has not ended either');
  f.push(Buffer.from('\r\n'));
  assert.deepEqual([f.hasPartialLine, f.completedLines], [false, 2]);
});

test('the framer holds a buffer only while a line is incomplete (idle sessions stay small, issue 10)', () => {
  const f = new CommandLineFramer(4096);
  assert.equal(f.heldBytes, 0, 'nothing before the first byte');
  f.push(Buffer.from('USER anonymous\r\nPASS x\r\n'));
  assert.equal(f.heldBytes, 0, 'nothing after complete lines');
  f.push(Buffer.from(`RETR ${'a'.repeat(300)}`));
  assert.ok(f.heldBytes > 300 && f.heldBytes < 4096, `a partial line grows the buffer on demand (${f.heldBytes})`);
  assert.deepEqual(f.push(Buffer.from('\r\n')).map(e => e.kind === 'line' && e.text.length), [305]);
  assert.equal(f.heldBytes, 0, 'released when the line ended');
  assert.deepEqual(lines(f.push(Buffer.from(`${'x'.repeat(5000)}\r\nNOOP\r\n`))), ['<too-long>', 'NOOP']);
  assert.equal(f.heldBytes, 0);
});
