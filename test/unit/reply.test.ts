import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReply, quotePath, unquotePath, reply } from '../../src/protocol/reply.js';
import { ReplyParser } from '../../src/protocol/reply-parser.js';

test('single and multi-line replies (RFC 959 s4.2)', () => {
  assert.equal(formatReply(reply(200, 'OK')), '200 OK\r\n');
  assert.equal(formatReply(reply(211, 'Features:', ' UTF8', 'End')), '211-Features:\r\n UTF8\r\n211 End\r\n');
  // A middle line that looks like a closing line is indented so clients don't stop early.
  assert.equal(formatReply(reply(214, 'Help', '214 fake', 'End')), '214-Help\r\n 214 fake\r\n214 End\r\n');
  // CR/LF inside text can't inject a line.
  assert.equal(formatReply(reply(550, 'a\r\n226 b')), '550 a  226 b\r\n');
  assert.throws(() => formatReply(reply(99, 'x')));
});

test('PWD/MKD quoting doubles quotes (RFC 959 s7)', () => {
  assert.equal(quotePath('/a "b"'), '"/a ""b"""');
  assert.equal(unquotePath('"/a ""b""" is current directory'), '/a "b"');
  assert.equal(unquotePath('no quotes'), undefined);
  for (const p of ['/', '/x y', '/"', '/ü/"q"']) assert.equal(unquotePath(quotePath(p) + ' created'), p);
});

test('a text line that is only a reply code is indented too, or the client would read it as the closing line', () => {
  // Found by test/fuzz/parsers.test.ts: "226-\r\n226\r\n226 \r\n" was read as two replies by our own parser
  // (which, like many clients, accepts a bare "NNN" as a complete line).
  assert.equal(formatReply(reply(226, 'first', '226', 'last')), '226-first\r\n 226\r\n226 last\r\n');
  const wire = new ReplyParser().push(formatReply(reply(211, '', '211', '500', '')));
  assert.equal(wire.length, 1);
  assert.equal(wire[0]!.code, 211);
});
