/**
 * The xferlog transfer log (src/server/log/xferlog.ts): the xferlog(5) line vsftpd writes with
 * xferlog_std_format=YES, built from the server's transfer events; one transfer is always one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { ctimeLocal, formatXferlogLine, XferLogger } from '../../src/server/log/xferlog.js';
import type { FtpServerEvents, TransferEvent } from '../../src/server/events.js';

// Local time, as ctime(3): built from local fields so the test holds in any TZ.
const WHEN = new Date(2026, 11, 6, 1, 2, 3);
const base: TransferEvent = {
  sessionId: 's-1', remoteAddress: '127.0.0.1', user: 'anonymous', anonymous: true, path: '/pub/file.bin',
  bytes: 1048576, durationMs: 120, offset: 0, dataMode: 'passive', type: 'binary',
};

test('ctime format in local time, day of month padded with a space', () => {
  assert.equal(ctimeLocal(WHEN), 'Sun Dec  6 01:02:03 2026');
  assert.equal(ctimeLocal(new Date(2027, 0, 15, 23, 59, 9)), 'Fri Jan 15 23:59:09 2027');
});

test('anonymous download: the documented example line, transfer time at least 1 s', () => {
  assert.equal(formatXferlogLine({ event: base, direction: 'download', completed: true }, WHEN),
    'Sun Dec  6 01:02:03 2026 1 127.0.0.1 1048576 /pub/file.bin b _ o a anonymous ftp 0 * c');
});

test('named user upload in ASCII: direction i, access mode r, seconds rounded', () => {
  const e: TransferEvent = { ...base, user: 'alice', anonymous: undefined, path: '/in/notes.txt', bytes: 42, durationMs: 2600, type: 'ascii' };
  assert.equal(formatXferlogLine({ event: e, direction: 'upload', completed: true }, WHEN),
    'Sun Dec  6 01:02:03 2026 3 127.0.0.1 42 /in/notes.txt a _ i r alice ftp 0 * c');
});

test('failed transfer: status i with the bytes moved so far; an event without type is binary', () => {
  const { type: _type, ...untyped } = base;
  const e: TransferEvent = { ...untyped, user: 'bob', anonymous: false, remoteAddress: '2001:db8::7', bytes: 99 };
  assert.equal(formatXferlogLine({ event: e, direction: 'upload', completed: false }, WHEN),
    'Sun Dec  6 01:02:03 2026 1 2001:db8::7 99 /pub/file.bin b _ i r bob ftp 0 * i');
});

test('spaces, a newline and control characters in a name never break the line', () => {
  const e: TransferEvent = { ...base, path: '/a b/evil\nSun Dec  6 01:02:03 2026 1 6.6.6.6 1 /x b _ o a x ftp 0 * c\u0007\u202e.txt', user: 'j doe', anonymous: false };
  const line = formatXferlogLine({ event: e, direction: 'download', completed: true }, WHEN);
  assert.ok(!/[\x00-\x1f\x7f\u2028\u2029\u202e]/.test(line), JSON.stringify(line));
  const fields = line.split(' ');
  // ctime has 5 space-separated parts plus the padding space of a one-digit day: 6 tokens, then 13 fields.
  assert.equal(fields.length, 6 + 13, line);
  assert.equal(fields[9], '/a_b/evil_Sun_Dec__6_01:02:03_2026_1_6.6.6.6_1_/x_b___o_a_x_ftp_0_*_c??.txt');
  assert.equal(fields[14], 'j_doe');
});

test('attached to a server: uploads, downloads and failed file transfers, listings left out', () => {
  const server = new EventEmitter<FtpServerEvents>();
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => { text += c.toString(); });
  const logger = new XferLogger({ stream: out, now: () => WHEN });
  const detach = logger.attach(server);
  server.emit('download', base);
  server.emit('upload', { ...base, path: '/up.bin', bytes: 5 });
  server.emit('transfer-failed', { ...base, direction: 'list', reason: 'aborted' });
  server.emit('transfer-failed', { ...base, path: '/big.iso', bytes: 7, direction: 'download', reason: 'aborted' });
  detach();
  server.emit('download', base);
  assert.deepEqual(text.split('\n'), [
    'Sun Dec  6 01:02:03 2026 1 127.0.0.1 1048576 /pub/file.bin b _ o a anonymous ftp 0 * c',
    'Sun Dec  6 01:02:03 2026 1 127.0.0.1 5 /up.bin b _ i a anonymous ftp 0 * c',
    'Sun Dec  6 01:02:03 2026 1 127.0.0.1 7 /big.iso b _ o a anonymous ftp 0 * i',
    '',
  ]);
});
