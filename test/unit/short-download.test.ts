/**
 * The short-download check (src/client/short-download.ts): which size a download is held to, and when a
 * transfer that ended with 226 is still a cut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announcedSize, shortDownloadError, shortfall, type DownloadEnd } from '../../src/client/short-download.js';
import { FtpNetworkError } from '../../src/errors.js';

const reply = (message: string) => ({ code: 150, message, lines: [message] });

test('announcedSize reads the "(N bytes)" of vsftpd, proftpd and ftpkit, and nothing else', () => {
  assert.equal(announcedSize(reply('Opening BINARY mode data connection for big.bin (8389385 bytes).')), 8389385);
  assert.equal(announcedSize(reply('Opening BINARY mode data connection for a (1).bin (12 bytes)')), 12);
  assert.equal(announcedSize(reply('Opening BINARY mode data connection for x (5 bytes).bin (12 bytes)')), 12);
  assert.equal(announcedSize(reply('Opening BINARY mode data connection for x (5 bytes).bin')), undefined, 'a name, not a size');
  assert.equal(announcedSize(reply('Opening data connection for x (1 byte)')), 1);
  assert.equal(announcedSize(reply('Accepted data connection')), undefined);
  assert.equal(announcedSize(reply('8192.0 kbytes to download')), undefined);
  assert.equal(announcedSize(reply('for x (99999999999999999 bytes)')), undefined);
  assert.equal(announcedSize(undefined), undefined);
});

const end = (over: Partial<DownloadEnd>): DownloadEnd => ({
  remotePath: 'big.bin', startAt: 0, fileBytes: 100, knownSize: undefined, openingReply: undefined, finalCode: 226, ascii: false, ...over,
});

test('a download that ends before the known size falls short of it, and its error is a data connection closed early', () => {
  const e = end({ knownSize: 300 });
  const short = shortfall(e);
  assert.deepEqual(short, { reached: 100, expected: 300, source: 'its size' });
  const err = shortDownloadError(e, short!);
  assert.ok(err instanceof FtpNetworkError);
  assert.equal(err.connection, 'data');
  assert.equal(err.phase, 'transfer');
  assert.equal(err.failure, 'closed');
  assert.match(err.message, /big\.bin closed at byte 100 of 300 \(its size\), though the server answered 226/);
  assert.match(shortDownloadError(e, short!, 300).message, /of 300 \(its size, and SIZE says 300 now\)/);
  // From REST 150: 150 + 100 = 250 is still short; 200 more reach the end.
  assert.equal(shortfall(end({ startAt: 150, knownSize: 300 }))?.reached, 250);
  assert.equal(shortfall(end({ startAt: 200, knownSize: 300 })), undefined);
});

test('the 150 reply\'s size is used without REST only, a grown file and TYPE A are not short', () => {
  const announced = reply('Opening BINARY mode data connection for big.bin (300 bytes).');
  assert.deepEqual(shortfall(end({ openingReply: announced })), { reached: 100, expected: 300, source: 'the size announced in the 150 reply' });
  // With REST, vsftpd announces the file's size and proftpd what is left: not used.
  assert.equal(shortfall(end({ startAt: 50, openingReply: announced })), undefined);
  // SIZE wins over the 150's number.
  assert.equal(shortfall(end({ knownSize: 100, openingReply: announced })), undefined);
  assert.equal(shortfall(end({ knownSize: 50 })), undefined, 'the file grew meanwhile');
  assert.equal(shortfall(end({ knownSize: 300, ascii: true })), undefined, 'TYPE A changes the byte count');
  assert.equal(shortfall(end({})), undefined, 'nothing known, nothing to hold it to');
});
