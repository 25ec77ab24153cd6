import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { TypeADecoder, TypeAEncoder } from '../../src/protocol/codecs/type-a.js';
import { TaskQueue } from '../../src/client/task-queue.js';
import { ProgressTracker } from '../../src/client/progress.js';
import { parseFeatures } from '../../src/client/features.js';
import { safeEntryName, remoteChildPath, collectListing } from '../../src/client/remote-paths.js';
import { assertSafeCommand } from '../../src/client/control-connection.js';
import { maskOutgoingCommand } from '../../src/protocol/masking.js';
import { ReplyParser } from '../../src/protocol/reply-parser.js';
import { FtpUsageError } from '../../src/errors.js';
import type { ProgressEvent } from '../../src/client/events.js';

async function through(chunks: string[], t: TypeADecoder | TypeAEncoder): Promise<string> {
  return (await buffer(Readable.from(chunks.map(c => Buffer.from(c, 'latin1'))).pipe(t))).toString('latin1');
}

test('TYPE A download: CRLF -> LF across chunk boundaries; a lone CR stays', async () => {
  assert.equal(await through(['a\r', '\nb\r\n'], new TypeADecoder()), 'a\nb\n');
  assert.equal(await through(['a\r', 'b\r'], new TypeADecoder()), 'a\rb\r');
  assert.equal(await through(['\r', '\r', '\n'], new TypeADecoder()), '\r\n');
});

test('TYPE A upload: LF -> CRLF, an existing CRLF is not doubled, across chunks', async () => {
  assert.equal(await through(['a\nb\r', '\nc\n'], new TypeAEncoder()), 'a\r\nb\r\nc\r\n');
  assert.equal(await through(['\n', '\n'], new TypeAEncoder()), '\r\n\r\n');
});

test('property: LF text survives upload conversion then download conversion, whatever the chunking', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.constantFrom('a', 'b', '\n', ' ', 'é'), { maxLength: 60 }).map(a => a.join('')),
    fc.integer({ min: 1, max: 7 }),
    async (text, size) => {
      const split = (s: string) => { const out = []; for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size)); return out; };
      const wire = await through(split(text), new TypeAEncoder());
      assert.ok(!/[^\r]\n/.test(wire) && !wire.startsWith('\n'));
      assert.equal(await through(split(wire), new TypeADecoder()), text);
    }));
});

test('TaskQueue runs tasks one at a time in call order, whatever each outcome', async () => {
  const q = new TaskQueue();
  const log: string[] = [];
  let running = 0;
  const task = (name: string, fail = false) => async () => {
    running++;
    assert.equal(running, 1);
    log.push(`start ${name}`);
    await new Promise(resolve => setImmediate(resolve));
    log.push(`end ${name}`);
    running--;
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([q.run(task('a')), q.run(task('b', true)), q.run(task('c'))]);
  assert.deepEqual(results.map(r => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.equal(q.idle, true);
});

test('ProgressTracker: throttled events, one final event with rate and total', () => {
  const events: ProgressEvent[] = [];
  const p = new ProgressTracker(e => events.push(e), { direction: 'download', path: '/f', startOffset: 10, total: 1010 }, 1_000_000);
  for (let i = 0; i < 1000; i++) p.add(1);
  assert.equal(events.length, 0, 'no event before the interval');
  p.finish();
  p.finish();
  assert.equal(events.length, 1);
  assert.deepEqual([events[0].bytes, events[0].total, events[0].done, events[0].etaSeconds], [1000, 1010, true, 0]);
  assert.ok(events[0].bytesPerSecond > 0);
  const fast: ProgressEvent[] = [];
  const q = new ProgressTracker(e => fast.push(e), { direction: 'upload', path: '/g', startOffset: 0 }, 0);
  q.add(5); q.add(5);
  assert.equal(fast.length, 2);
  assert.equal(fast[1].etaSeconds, undefined, 'no ETA without a total');
});

test('FEAT parsing (RFC 2389 s3.2)', () => {
  const [r] = new ReplyParser().push('211-Features:\r\n MLST type*;size*;modify*;\r\n UTF8\r\n REST STREAM\r\n211 End\r\n');
  const f = parseFeatures(r);
  assert.deepEqual([...f.entries()], [['MLST', 'type*;size*;modify*;'], ['UTF8', ''], ['REST', 'STREAM']]);
  const [no] = new ReplyParser().push('500 FEAT not understood\r\n');
  assert.equal(parseFeatures(no).size, 0);
});

test('listing names that are not plain names are refused; paths joined with /', () => {
  for (const bad of ['', '.', '..', 'a/b', '../x', 'a\\b', 'a\0b', 'a\nb']) assert.equal(safeEntryName(bad), undefined, JSON.stringify(bad));
  for (const ok of ['a', '.hidden', 'a b', '..x', 'ü']) assert.equal(safeEntryName(ok), ok);
  assert.equal(remoteChildPath('/a', 'b'), '/a/b');
  assert.equal(remoteChildPath('/a/', 'b'), '/a/b');
  assert.equal(remoteChildPath('.', 'b'), 'b');
});

test('listing collector is bounded', async () => {
  const c = collectListing(10);
  await assert.rejects(new Promise((resolve, reject) => {
    c.sink.on('error', reject);
    c.sink.write(Buffer.alloc(6));
    c.sink.write(Buffer.alloc(6), e => (e ? reject(e) : resolve(undefined)));
  }), /larger than 10 bytes/);
});

test('commands: PASS/ACCT masked, CR/LF/NUL refused', () => {
  assert.equal(maskOutgoingCommand('PASS hunter2'), 'PASS ****');
  assert.equal(maskOutgoingCommand('pass hunter2'), 'PASS ****');
  assert.equal(maskOutgoingCommand('USER bob'), 'USER bob');
  assert.throws(() => assertSafeCommand('RETR a\r\nDELE b'), FtpUsageError);
  assert.throws(() => assertSafeCommand('PASS se\ncret'), (e: Error) => e instanceof FtpUsageError && !e.message.includes('cret'));
  assert.doesNotThrow(() => assertSafeCommand('RETR a b'));
});
