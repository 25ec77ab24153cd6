import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReply, quotePath, unquotePath, reply } from '../../src/protocol/reply.js';

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
