import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { FtpStreamCodecError } from '../../src/errors.js';
import {
  BlockDecoder, BlockEncoder, DESCRIPTOR_EOF, DESCRIPTOR_RESTART, blockHeader,
} from '../../src/protocol/codecs/mode-b.js';
import { InflateDecoder, createDeflateEncoder } from '../../src/protocol/codecs/mode-z.js';

async function run(t: Transform, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), t, async function* (source) { for await (const c of source) out.push(c as Buffer); });
  return Buffer.concat(out);
}

/** Cut a buffer into pieces at the given positions (any chunking must give the same result). */
function cut(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map(c => c % (buf.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, buf.length]) { pieces.push(buf.subarray(prev, c)); prev = c; }
  return pieces.filter(p => p.length > 0);
}

async function rejectsWith(p: Promise<unknown>, codec: string, failure: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof FtpStreamCodecError, `expected FtpStreamCodecError, got ${String(err)}`);
    assert.equal(err.codec, codec);
    assert.equal(err.failure, failure);
    assert.equal(err.code, 'ERR_FTP_PROTOCOL');
    return true;
  });
}

const text = Buffer.from('2026-12-06 05:00:00 GET /index.html 200 1234\n'.repeat(5000));

test('MODE Z: deflate then inflate gives back text and random data, whatever the chunking', async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(text, randomBytes(200_000), Buffer.alloc(0)), fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 1, max: 9 }),
    async (data, cuts, level) => {
      const wire = await run(createDeflateEncoder(level), cut(data, cuts));
      const back = await run(new InflateDecoder(), cut(wire, cuts.map(c => c * 7)));
      assert.ok(back.equals(data));
    }), { numRuns: 15 });
});

test('MODE Z: the compressed text is much smaller than the text (and zlib-framed, RFC 1950)', async () => {
  const wire = await run(createDeflateEncoder(6), [text]);
  assert.ok(wire.length * 10 < text.length, `${wire.length} of ${text.length}`);
  assert.equal(wire[0] & 0x0f, 8); // CM = 8, deflate
});

test('MODE Z: a level outside 1-9 is refused', () => {
  assert.throws(() => createDeflateEncoder(0), RangeError);
  assert.throws(() => createDeflateEncoder(10), RangeError);
});

test('MODE Z: a truncated stream fails typed (truncated), a corrupt one typed (corrupt)', async () => {
  const wire = deflateSync(text);
  await rejectsWith(run(new InflateDecoder(), [wire.subarray(0, wire.length - 10)]), 'deflate', 'truncated');
  const bad = Buffer.from(wire);
  bad.fill(0xff, 2, 40);
  await rejectsWith(run(new InflateDecoder(), [bad]), 'deflate', 'corrupt');
  await rejectsWith(run(new InflateDecoder(), [Buffer.from('this is not zlib data at all')]), 'deflate', 'corrupt');
});

test('MODE Z: a bomb beyond maxRatio fails typed (too-large) without inflating it all', async () => {
  const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  const decoder = new InflateDecoder({ maxRatio: 100 });
  await rejectsWith(run(decoder, [bomb]), 'deflate', 'too-large');
  assert.ok(decoder.outBytes < 16 * 1024 * 1024, `inflated ${decoder.outBytes} bytes before stopping`);
  // Without a ratio bound the same data inflates (a file of zeros is legitimate).
  const back = await run(new InflateDecoder(), [bomb]);
  assert.equal(back.length, 64 * 1024 * 1024);
});

test('MODE B: blocks round-trip text and random data, whatever the chunking, and end with an EOF block', async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(text, randomBytes(150_000), Buffer.alloc(0)), fc.array(fc.nat(), { maxLength: 10 }),
    async (data, cuts) => {
      const wire = await run(new BlockEncoder({ markerEvery: 50_000 }), cut(data, cuts));
      assert.deepEqual([...wire.subarray(wire.length - 3)], [DESCRIPTOR_EOF, 0, 0]);
      const back = await run(new BlockDecoder(), cut(wire, cuts.map(c => c * 3 + 1)));
      assert.ok(back.equals(data));
    }), { numRuns: 25 });
});

test('MODE B: restart markers name the file offset reached, from the REST offset on', async () => {
  const markers: Array<[string, number]> = [];
  const data = randomBytes(300_000);
  const wire = await run(new BlockEncoder({ markerEvery: 100_000, startOffset: 1000 }), cut(data, [100_000, 200_000]));
  const back = await run(new BlockDecoder({ onMarker: (m, before) => markers.push([m, before]) }), [wire]);
  assert.ok(back.equals(data));
  assert.deepEqual(markers, [['101000', 100_000], ['201000', 200_000], ['301000', 300_000]]);
});

test('MODE B: a stream without its EOF block fails typed (truncated); nonsense fails typed (corrupt)', async () => {
  const wire = await run(new BlockEncoder(), [randomBytes(1000)]);
  await rejectsWith(run(new BlockDecoder(), [wire.subarray(0, wire.length - 3)]), 'block', 'truncated');
  await rejectsWith(run(new BlockDecoder(), [wire.subarray(0, 500)]), 'block', 'truncated');
  await rejectsWith(run(new BlockDecoder(), [Buffer.from([0x01, 0, 1, 0x41])]), 'block', 'corrupt');
  await rejectsWith(run(new BlockDecoder(), [Buffer.concat([wire, Buffer.from('x')])]), 'block', 'corrupt');
  await rejectsWith(run(new BlockDecoder(), [blockHeader(DESCRIPTOR_RESTART, 0)]), 'block', 'corrupt');
});
