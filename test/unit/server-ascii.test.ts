import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { FromCrlf, ToCrlf } from '../../src/server/data/ascii.js';
import type { Transform } from 'node:stream';

async function run(t: Transform, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(t)) out.push(c as Buffer);
  return Buffer.concat(out);
}

test('ToCrlf: LF becomes CRLF, existing CRLF is kept', async () => {
  assert.equal((await run(new ToCrlf(), [Buffer.from('a\nb\r\nc\n')])).toString(), 'a\r\nb\r\nc\r\n');
});

test('ToCrlf: CR at the end of a chunk followed by LF in the next is not doubled', async () => {
  assert.equal((await run(new ToCrlf(), [Buffer.from('a\r'), Buffer.from('\nb\n'), Buffer.from('\n')])).toString(), 'a\r\nb\r\n\r\n');
});

test('FromCrlf: CRLF becomes LF, a lone CR is kept, including at chunk ends and the very end', async () => {
  assert.equal((await run(new FromCrlf(), [Buffer.from('a\r\nb\rc\r'), Buffer.from('\nd\r')])).toString(), 'a\nb\rc\nd\r');
  assert.equal((await run(new FromCrlf(), [Buffer.from('x\r'), Buffer.from('y')])).toString(), 'x\ry');
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
    assert.deepEqual(await run(new ToCrlf(), split(buf, cuts)), await run(new ToCrlf(), [buf]));
    assert.deepEqual(await run(new FromCrlf(), split(buf, cuts)), await run(new FromCrlf(), [buf]));
  }), { numRuns: 300 });
});

test('property: for text without CR, wire round trip restores the stored bytes', async () => {
  await fc.assert(fc.asyncProperty(textArb.map(t => t.replace(/\r/g, '')), cutsArb, async (text, cuts) => {
    const wire = await run(new ToCrlf(), split(Buffer.from(text), cuts));
    assert.ok(!/[^\r]\n|^\n/.test(wire.toString()), 'every LF on the wire follows a CR');
    assert.equal((await run(new FromCrlf(), split(wire, cuts))).toString(), text);
  }), { numRuns: 300 });
});
