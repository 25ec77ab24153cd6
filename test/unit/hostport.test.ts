import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parsePortArgument, formatPortArgument, parsePasvReply, formatPasvReplyText, parseEprtArgument,
  formatEprtArgument, parseEpsvReply, formatEpsvReplyText, parseEpsvArgument, unmapIPv4,
} from '../../src/protocol/hostport.js';
import { FtpProtocolError } from '../../src/errors.js';

test('PORT argument round trip (RFC 959 s4.1.2)', () => {
  assert.deepEqual(parsePortArgument('127,0,0,1,195,80'), { host: '127.0.0.1', port: 50000 });
  assert.equal(formatPortArgument({ host: '::ffff:10.1.2.3', port: 50000 }), '10,1,2,3,195,80');
  for (const bad of ['', '1,2,3,4,5', '1,2,3,4,5,6,7', '256,0,0,1,1,1', 'a,b,c,d,e,f', '1,2,3,4,0,0', '1,2,3,4,-1,5']) {
    assert.equal(parsePortArgument(bad), undefined, bad);
  }
  fc.assert(fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
    assert.deepEqual(parsePortArgument(formatPortArgument({ host, port })), { host, port });
  }));
});

test('PASV reply: scans for six numbers (RFC 1123 s4.1.2.6)', () => {
  assert.deepEqual(parsePasvReply('Entering Passive Mode (10,0,20,2,117,49).'), { host: '10.0.20.2', port: 30001 });
  assert.deepEqual(parsePasvReply('Entering Passive Mode 10,0,20,2,117,49'), { host: '10.0.20.2', port: 30001 });
  assert.equal(formatPasvReplyText({ host: '198.18.2.2', port: 30001 }), 'Entering Passive Mode (198,18,2,2,117,49).');
  assert.throws(() => parsePasvReply('Entering Passive Mode (300,0,0,1,1,1)'), FtpProtocolError);
  assert.throws(() => parsePasvReply('Entering Passive Mode (1,2,3,4,0,0)'), FtpProtocolError);
  assert.throws(() => parsePasvReply('nothing here'), FtpProtocolError);
});

test('EPRT argument (RFC 2428 s2)', () => {
  assert.deepEqual(parseEprtArgument('|1|132.235.1.2|6275|'), { family: 1, host: '132.235.1.2', port: 6275 });
  assert.deepEqual(parseEprtArgument('|2|1080::8:800:200C:417A|5282|'), { family: 2, host: '1080::8:800:200C:417A', port: 5282 });
  assert.deepEqual(parseEprtArgument('!1!1.2.3.4!21!'), { family: 1, host: '1.2.3.4', port: 21 });
  for (const bad of ['|1|::1|21|', '|2|1.2.3.4|21|', '|3|1.2.3.4|21|', '|1|1.2.3.4|0|', '|1|1.2.3.4|70000|', '1|1.2.3.4|21|', '|1|1.2.3.4|21']) {
    assert.equal(parseEprtArgument(bad), undefined, bad);
  }
  assert.equal(formatEprtArgument({ host: '::1', port: 5000 }), '|2|::1|5000|');
  assert.equal(formatEprtArgument({ host: '::ffff:127.0.0.1', port: 5000 }), '|1|127.0.0.1|5000|');
});

test('EPSV reply and argument (RFC 2428 s3)', () => {
  assert.equal(parseEpsvReply('Entering Extended Passive Mode (|||6446|)'), 6446);
  assert.equal(parseEpsvReply('Entering Extended Passive Mode (!!!6446!)'), 6446);
  assert.equal(parseEpsvReply(formatEpsvReplyText(30001)), 30001);
  assert.throws(() => parseEpsvReply('Entering Extended Passive Mode (|||99999|)'), FtpProtocolError);
  assert.throws(() => parseEpsvReply('Entering Extended Passive Mode (|1|2|3|)'), FtpProtocolError);
  assert.deepEqual(parseEpsvArgument(''), { kind: 'any' });
  assert.deepEqual(parseEpsvArgument('ALL'), { kind: 'all' });
  assert.deepEqual(parseEpsvArgument('2'), { kind: 'family', family: 2 });
  assert.equal(parseEpsvArgument('x'), undefined);
  assert.equal(unmapIPv4('::ffff:127.0.0.1'), '127.0.0.1');
});

test('unmapIPv4: only the dotted IPv4-mapped form is unmapped, in any case; other addresses stay', () => {
  assert.equal(unmapIPv4('::FFFF:10.0.0.1'), '10.0.0.1');
  for (const kept of ['10.0.0.1', '::1', '2001:db8::ffff:1.2.3.4', '::ffff:7f00:1', '::ffff:1.2.3', 'ftp.example.com', '']) {
    assert.equal(unmapIPv4(kept), kept);
  }
});
