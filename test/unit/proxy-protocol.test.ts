/**
 * The PROXY protocol parser (src/net/proxy-protocol.ts; HAProxy's proxy-protocol.txt): v2 TCP4/TCP6,
 * LOCAL, UNSPEC, TLVs skipped, truncated/oversized/bad headers, v1 lines, chunked arrival, a little fuzz.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeProxyV2, parseProxyHeader, PROXY_V2_SIGNATURE } from '../../src/net/proxy-protocol.js';
import { FtpProtocolError } from '../../src/errors.js';

const tcp4 = { command: 'proxy' as const, source: { address: '203.0.113.7', port: 51234 }, destination: { address: '127.0.0.10', port: 2121 } };

test('v2 TCP4: addresses and ports, the bytes after the header left alone', () => {
  const header = encodeProxyV2(tcp4);
  assert.equal(header.length, 28);
  const r = parseProxyHeader(Buffer.concat([header, Buffer.from('USER x\r\n')]));
  assert.deepEqual(r, { state: 'complete', length: 28, header: { version: 2, family: 'tcp4', ...tcp4 } });
});

test('v2 TCP6: addresses in RFC 5952 form', () => {
  const h = { command: 'proxy' as const, source: { address: '2001:db8::1', port: 1 }, destination: { address: 'fe80::1:0:0:2', port: 65535 } };
  const r = parseProxyHeader(encodeProxyV2(h));
  assert.equal(r.state, 'complete');
  assert.deepEqual(r.state === 'complete' && r.header, { version: 2, family: 'tcp6', ...h });
  assert.equal(r.state === 'complete' && r.length, 52);
});

test('v2 TLVs are skipped whole (the length includes them)', () => {
  const tlvs = Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32, 0x05, 0x00, 0x03, 1, 2, 3]);
  const bytes = encodeProxyV2(tcp4, tlvs);
  const r = parseProxyHeader(Buffer.concat([bytes, Buffer.from([0xaa])]));
  assert.equal(r.state === 'complete' && r.length, 28 + tlvs.length);
});

test('v2 LOCAL (health check) and PROXY over UNSPEC: use the real endpoints', () => {
  const local = parseProxyHeader(encodeProxyV2({ command: 'local' }));
  assert.deepEqual(local, { state: 'complete', length: 16, header: { version: 2, command: 'local', family: 'unspec' } });
  const unspec = Buffer.from(encodeProxyV2({ command: 'local' }));
  unspec[12] = 0x21; // PROXY command, family 0x00
  assert.deepEqual(parseProxyHeader(unspec), { state: 'complete', length: 16, header: { version: 2, command: 'local', family: 'unspec' } });
});

test('v2 errors: version, command, family, too short for the family, oversized', () => {
  const good = encodeProxyV2(tcp4);
  const mutate = (at: number, value: number): Buffer => { const b = Buffer.from(good); b[at] = value; return b; };
  assert.throws(() => parseProxyHeader(mutate(12, 0x11)), FtpProtocolError, 'version 1 in a v2 header');
  assert.throws(() => parseProxyHeader(mutate(12, 0x25)), FtpProtocolError, 'command 5');
  assert.throws(() => parseProxyHeader(mutate(13, 0x41)), FtpProtocolError, 'family 4');
  const short = Buffer.from(good); short.writeUInt16BE(4, 14);
  assert.throws(() => parseProxyHeader(short.subarray(0, 20)), /too short/);
  const big = Buffer.from(good); big.writeUInt16BE(60000, 14);
  assert.throws(() => parseProxyHeader(big), /over the bound/, 'refused on the length field, before waiting for 60 kB');
  assert.throws(() => parseProxyHeader(encodeProxyV2(tcp4, Buffer.alloc(200)), 100), /over the bound of 100/);
});

test('truncated headers are incomplete at every cut; a bad signature is no header', () => {
  for (const bytes of [encodeProxyV2(tcp4), Buffer.from('PROXY TCP4 192.0.2.1 127.0.0.1 5000 21\r\n')]) {
    for (let n = 1; n < bytes.length; n++) assert.deepEqual(parseProxyHeader(bytes.subarray(0, n)), { state: 'incomplete' }, `${n} bytes`);
    assert.equal(parseProxyHeader(bytes).state, 'complete');
  }
  const bad = Buffer.from(PROXY_V2_SIGNATURE); bad[11] = 0x0b;
  assert.deepEqual(parseProxyHeader(Buffer.concat([bad, Buffer.alloc(8)])), { state: 'absent' });
  assert.deepEqual(parseProxyHeader(Buffer.from('USER anonymous\r\n')), { state: 'absent' });
  assert.deepEqual(parseProxyHeader(Buffer.from('\r\n\r\nx')), { state: 'absent' });
});

test('v1: TCP4, TCP6, UNKNOWN; malformed lines and the 107-byte bound', () => {
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY TCP4 192.0.2.1 127.0.0.1 5000 21\r\nrest')), { state: 'complete', length: 40, header: {
    version: 1, command: 'proxy', family: 'tcp4', source: { address: '192.0.2.1', port: 5000 }, destination: { address: '127.0.0.1', port: 21 } } });
  const v6 = parseProxyHeader(Buffer.from('PROXY TCP6 2001:DB8::1 ::1 1 2\r\n'));
  assert.equal(v6.state === 'complete' && v6.header.command === 'proxy' && v6.header.source.address, '2001:db8::1');
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { state: 'complete', length: 15, header: { version: 1, command: 'local', family: 'unspec' } });
  for (const bad of ['PROXY TCP4 192.0.2.1 127.0.0.1 5000\r\n', 'PROXY TCP4 300.0.2.1 127.0.0.1 5000 21\r\n', 'PROXY TCP4 192.0.2.1 127.0.0.1 70000 21\r\n',
    'PROXY UDP4 192.0.2.1 127.0.0.1 5000 21\r\n', 'PROXY TCP4 192.0.2.1  127.0.0.1 5000 21\r\n', 'PROXY TCP6 192.0.2.1 ::1 5000 21\r\n']) {
    assert.throws(() => parseProxyHeader(Buffer.from(bad)), FtpProtocolError, bad);
  }
  assert.throws(() => parseProxyHeader(Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`)), /107 bytes/);
});

test('fuzz: random bytes never throw anything but FtpProtocolError, and never claim more than they have', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (random, signed) => {
    const bytes = signed ? Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from(random)]) : Buffer.from(random);
    try {
      const r = parseProxyHeader(bytes);
      if (r.state === 'complete') assert.ok(r.length <= bytes.length);
    } catch (err) {
      assert.ok(err instanceof FtpProtocolError, String(err));
    }
  }), { numRuns: 3000 });
});

test('fuzz: encoded TCP4/TCP6 headers round-trip, whatever the cut points', () => {
  fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1, max: 40 }), (address, port, cut) => {
    const v6 = address.includes(':');
    const h = { command: 'proxy' as const, source: { address, port }, destination: { address: v6 ? '::1' : '127.0.0.1', port: 21 } };
    const bytes = encodeProxyV2(h);
    if (cut < bytes.length) assert.equal(parseProxyHeader(bytes.subarray(0, cut)).state, 'incomplete');
    const r = parseProxyHeader(bytes);
    assert.equal(r.state, 'complete');
    if (r.state === 'complete' && r.header.command === 'proxy') {
      assert.equal(r.header.source.port, port);
      if (!v6) assert.equal(r.header.source.address, address);
      else assert.deepEqual(encodeProxyV2({ ...h, source: r.header.source }), bytes, 'the same 16 bytes');
    }
  }));
});

/** The answer for `bytes`, comparable: the state, or the error's message. */
function answer(bytes: Buffer): string {
  try {
    return JSON.stringify(parseProxyHeader(bytes));
  } catch (err) {
    assert.ok(err instanceof FtpProtocolError, String(err));
    return `error: ${err.message}`;
  }
}

test('fuzz: the first prefix that decides (header, no header, error) decides as the whole input does (the reader stops there)', () => {
  const valid = [encodeProxyV2(tcp4), encodeProxyV2({ command: 'local' }), encodeProxyV2(tcp4, Buffer.from([1, 0, 2, 0x68, 0x32])),
    Buffer.from('PROXY TCP4 192.0.2.1 127.0.0.1 5000 21\r\n'), Buffer.from('PROXY UNKNOWN\r\n')];
  const mutated = fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), fc.uint8Array({ maxLength: 20 }))
    .map(([base, flips, tail]) => {
      const b = Buffer.concat([base, Buffer.from(tail)]);
      for (const [at, value] of flips) b[at % b.length] = value;
      return b;
    });
  fc.assert(fc.property(mutated, bytes => {
    const whole = answer(bytes);
    let decided: string | undefined;
    for (let n = 1; n <= bytes.length; n++) {
      const a = answer(bytes.subarray(0, n));
      if (decided === undefined && a !== JSON.stringify({ state: 'incomplete' })) decided = a;
    }
    if (decided !== undefined) assert.equal(decided, whole, 'the first decision is the final one');
  }), { numRuns: 2000 });
});
