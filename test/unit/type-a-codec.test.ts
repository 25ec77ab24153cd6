import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import {
  TypeADecoder, TypeAEncoder, crlfSize, decodeTypeA, encodeTypeA, encodedTypeALength, finishTypeADecode,
  newDecodeState, newEncodeState,
} from '../../src/protocol/codecs/type-a.js';
import type { Transform } from 'node:stream';

async function run(t: Transform, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(t)) out.push(c as Buffer);
  return Buffer.concat(out);
}

test('TypeAEncoder: LF becomes CRLF, existing CRLF is kept', async () => {
  assert.equal((await run(new TypeAEncoder(), [Buffer.from('a\nb\r\nc\n')])).toString(), 'a\r\nb\r\nc\r\n');
});

test('TypeAEncoder: CR at the end of a chunk followed by LF in the next is not doubled', async () => {
  assert.equal((await run(new TypeAEncoder(), [Buffer.from('a\r'), Buffer.from('\nb\n'), Buffer.from('\n')])).toString(), 'a\r\nb\r\n\r\n');
});

test('TypeADecoder: CRLF becomes LF, a lone CR is kept, including at chunk ends and the very end', async () => {
  assert.equal((await run(new TypeADecoder(), [Buffer.from('a\r\nb\rc\r'), Buffer.from('\nd\r')])).toString(), 'a\nb\rc\nd\r');
  assert.equal((await run(new TypeADecoder(), [Buffer.from('x\r'), Buffer.from('y')])).toString(), 'x\ry');
});

const textArb = fc.array(fc.constantFrom('a', 'b', '\n', '\r', 'é'), { maxLength: 200 }).map(a => a.join(''));
const cutsArb = fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 8 });

function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map(c => Math.min(c, buf.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of points) { parts.push(buf.subarray(prev, p)); prev = p; }
  parts.push(buf.subarray(prev));
  return parts;
}

test('property: chunking never changes the result of either direction', async () => {
  await fc.assert(fc.asyncProperty(textArb, cutsArb, async (text, cuts) => {
    const buf = Buffer.from(text);
    assert.deepEqual(await run(new TypeAEncoder(), split(buf, cuts)), await run(new TypeAEncoder(), [buf]));
    assert.deepEqual(await run(new TypeADecoder(), split(buf, cuts)), await run(new TypeADecoder(), [buf]));
  }), { numRuns: 300 });
});

test('property: for text without CR, wire round trip restores the stored bytes', async () => {
  await fc.assert(fc.asyncProperty(textArb.map(t => t.replace(/\r/g, '')), cutsArb, async (text, cuts) => {
    const wire = await run(new TypeAEncoder(), split(Buffer.from(text), cuts));
    assert.ok(!/[^\r]\n|^\n/.test(wire.toString()), 'every LF on the wire follows a CR');
    assert.equal((await run(new TypeADecoder(), split(wire, cuts))).toString(), text);
  }), { numRuns: 300 });
});

// ------------------------------------------------------------------ the shared codec, at its chunk functions

/** The rules of RFC 959 s3.1.1.1 on the whole text at once: what any chunking must give. */
const referenceEncode = (s: string): string => s.replace(/(?<!\r)\n/g, '\r\n');
const referenceDecode = (s: string): string => s.replace(/\r\n/g, '\n');

function encodeChunks(parts: Buffer[]): Buffer {
  const state = newEncodeState();
  return Buffer.concat(parts.map(p => encodeTypeA(p, state)));
}

function decodeChunks(parts: Buffer[]): Buffer {
  const state = newDecodeState();
  const out = parts.map(p => decodeTypeA(p, state));
  const tail = finishTypeADecode(state);
  return Buffer.concat(tail ? [...out, tail] : out);
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const parts = (...s: string[]): Buffer[] => s.map(latin1);

test('chunk boundaries: CR ending a chunk, CRLF split, lone CR, lone LF, empty chunks', () => {
  const cases: Array<[string[], string, string]> = [
    // chunks, encoded, decoded
    [['a\r', '\nb'], 'a\r\nb', 'a\nb'],                 // CRLF split across chunks
    [['a\r', '', '\nb'], 'a\r\nb', 'a\nb'],             // ... with an empty chunk between its halves
    [['a\r', 'b'], 'a\rb', 'a\rb'],                     // a lone CR at the end of a chunk
    [['a\r'], 'a\r', 'a\r'],                            // a lone CR at the very end is kept
    [['\r'], '\r', '\r'],
    [['\n'], '\r\n', '\n'],                             // a lone LF
    [['a\n', '\nb'], 'a\r\n\r\nb', 'a\n\nb'],           // LFs at both sides of a boundary
    [['\r', '\r', '\n'], '\r\r\n', '\r\n'],             // CR, then CRLF split
    [['', '', ''], '', ''],                             // only empty chunks
    [[], '', ''],
    [['a\r\n'], 'a\r\n', 'a\n'],
  ];
  for (const [chunks, encoded, decoded] of cases) {
    assert.equal(encodeChunks(parts(...chunks)).toString('latin1'), encoded, `encode ${JSON.stringify(chunks)}`);
    assert.equal(decodeChunks(parts(...chunks)).toString('latin1'), decoded, `decode ${JSON.stringify(chunks)}`);
  }
});

test('a chunk without a bare LF is passed on as it is, not copied', () => {
  const state = newEncodeState();
  const plain = latin1('no line end here');
  assert.equal(encodeTypeA(plain, state), plain);
  const crlf = latin1('a\r\nb\r\n');
  assert.equal(encodeTypeA(crlf, state), crlf);
});

/** Texts from short-line (dense: the byte loop) to long-line (sparse: indexOf and copy), and mixed. */
const lineArb = (maxLength: number) => fc.tuple(fc.integer({ min: 0, max: maxLength }),
  fc.constantFrom('\n', '\r\n', '\r', '\n\n', '\r\r\n'));
const longTextArb = fc.tuple(
  // Runs of short lines and runs of long lines, so a chunk may turn dense half-way.
  fc.array(fc.oneof(fc.array(lineArb(6), { minLength: 20, maxLength: 60 }), fc.array(lineArb(300), { maxLength: 20 })), { maxLength: 6 }),
  fc.constantFrom('x', 'é'),
).map(([runs, letter]) => runs.flat().map(([n, end]) => letter.repeat(n) + end).join(''));

const longCutsArb = fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 12 });

test('property: dense and sparse texts, any chunking: the result is the whole-text rule', () => {
  fc.assert(fc.property(longTextArb, longCutsArb, (text, cuts) => {
    const buf = latin1(text);
    assert.equal(encodeChunks(split(buf, cuts)).toString('latin1'), referenceEncode(text));
    assert.equal(decodeChunks(split(buf, cuts)).toString('latin1'), referenceDecode(text));
  }), { numRuns: 300 });
});

test('property: chunks that end with a CR (CRLF split, or a lone CR), in dense and sparse texts', () => {
  // Cut after every k-th CR: k = 1 gives chunks with one line end, a larger k chunks dense enough for the byte loop.
  fc.assert(fc.property(longTextArb, fc.constantFrom(1, 3, 20, 40), (text, k) => {
    const buf = latin1(text);
    const crEnds = [...text].flatMap((c, i) => (c === '\r' ? [i + 1] : [])).filter((_, n) => n % k === k - 1);
    assert.equal(encodeChunks(split(buf, crEnds)).toString('latin1'), referenceEncode(text));
    assert.equal(decodeChunks(split(buf, crEnds)).toString('latin1'), referenceDecode(text));
  }), { numRuns: 300 });
});

test('property: round trip local -> wire -> local restores text without CR', () => {
  fc.assert(fc.property(longTextArb.map(t => t.replace(/\r/g, '')), longCutsArb, (text, cuts) => {
    const wire = encodeChunks(split(latin1(text), cuts));
    assert.equal(decodeChunks(split(wire, cuts)).toString('latin1'), text);
  }), { numRuns: 200 });
});

test('property: round trip wire -> local -> wire restores text whose every LF follows a CR and no CR is lone', () => {
  const wireArb = longTextArb.map(t => t.replace(/\r/g, '').replace(/\n/g, '\r\n'));
  fc.assert(fc.property(wireArb, longCutsArb, (wire, cuts) => {
    const local = decodeChunks(split(latin1(wire), cuts));
    assert.equal(encodeChunks(split(local, cuts)).toString('latin1'), wire);
  }), { numRuns: 200 });
});

test('property: crlfSize and encodedTypeALength count exactly what the encoder sends', async () => {
  await fc.assert(fc.asyncProperty(longTextArb, longCutsArb, async (text, cuts) => {
    const chunks = split(latin1(text), cuts);
    const sent = encodeChunks(chunks).length;
    assert.equal(await crlfSize(Readable.from(chunks)), sent);
    const state = newEncodeState();
    assert.equal(chunks.reduce((n, c) => n + encodedTypeALength(c, state), 0), sent);
  }), { numRuns: 200 });
});

test('crlfSize of a stored file in TYPE A counts the CR added before each bare LF', async () => {
  assert.equal(await crlfSize(Readable.from([latin1('a\nb\r\n'), latin1('\n')])), 8);
  assert.equal(await crlfSize(Readable.from([])), 0);
  await assert.rejects(crlfSize(new Readable({ read() { this.destroy(new Error('disk')); } })), /disk/);
});
