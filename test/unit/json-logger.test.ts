/**
 * The JSON-lines logger as a subscriber of the server's events: one line per event, levels, the transcript
 * only at debug, and passwords masked whatever the emitter passes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLogger, maskCommandLine, openLogFile, type LogLevel } from '../../src/server/log/json-logger.js';
import type { FtpServerEvents } from '../../src/server/events.js';
import { FtpServer } from '../../src/server/ftp-server.js';
import { MemoryStorage } from '../../src/server/storage/memory.js';
import { AnonymousAuthenticator } from '../../src/server/auth/anonymous.js';

function setup(level: LogLevel) {
  const server = new EventEmitter<FtpServerEvents>();
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => { text += c.toString(); });
  const logger = new JsonLogger({ level, stream: out, now: () => new Date('2026-01-02T03:04:05.678Z') });
  const detach = logger.attach(server);
  const lines = () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { server, lines, detach, raw: () => text };
}

function session(server: EventEmitter<FtpServerEvents>) {
  const base = { sessionId: 's-1', remoteAddress: '192.0.2.9' };
  server.emit('session-open', { ...base, remotePort: 40000, localAddress: '127.0.0.1', localPort: 2121 });
  server.emit('transcript', { sessionId: 's-1', direction: 'in', line: 'USER alice' });
  server.emit('command', { ...base, verb: 'USER', argument: 'alice', replyCode: 331, durationMs: 0 });
  server.emit('transcript', { sessionId: 's-1', direction: 'in', line: 'PASS hunter2' });
  server.emit('transcript', { sessionId: 's-1', direction: 'in', line: 'pass  hunter2 with spaces' });
  // An emitter that forgot to mask must not leak either.
  server.emit('command', { ...base, verb: 'PASS', argument: 'hunter2', replyCode: 230, durationMs: 412 });
  server.emit('login', { ...base, user: 'alice' });
  server.emit('command', { ...base, user: 'alice', verb: 'RETR', argument: 'a b.txt', replyCode: 226, durationMs: 20 });
  server.emit('download', { ...base, user: 'alice', path: '/a b.txt', bytes: 1234, durationMs: 19, offset: 0, dataMode: 'passive' });
  server.emit('transfer-failed', { ...base, user: 'alice', path: '/up.bin', bytes: 99, durationMs: 5, offset: 0, dataMode: 'active', direction: 'upload', reason: 'data connection lost' });
  server.emit('warning', { ...base, code: 'foreign-data-connection', message: 'dropped a passive connection from 198.51.100.1' });
  server.emit('session-error', { ...base, error: Object.assign(new Error('boom'), { code: 'ERR_X' }) });
  server.emit('session-close', { ...base, user: 'alice', durationMs: 1000, reason: 'quit' });
}

test('info: one JSON line per event, no transcript, password masked', () => {
  const { server, lines, raw } = setup('info');
  session(server);
  const got = lines();
  assert.deepEqual(got.map((l) => l.event), [
    'session-open', 'command', 'command', 'login', 'command', 'download', 'transfer-failed', 'warning', 'session-error', 'session-close',
  ]);
  for (const l of got) assert.equal(l.time, '2026-01-02T03:04:05.678Z');
  const retr = got[4]!;
  assert.deepEqual(retr, {
    time: '2026-01-02T03:04:05.678Z', level: 'info', event: 'command', sessionId: 's-1', user: 'alice',
    remoteAddress: '192.0.2.9', command: 'RETR', argument: 'a b.txt', replyCode: 226, durationMs: 20,
  });
  assert.equal(got[2]!.argument, '****');
  assert.equal(got[5]!.bytes, 1234);
  assert.equal(got[6]!.level, 'warn');
  assert.equal(got[6]!.reason, 'data connection lost');
  assert.deepEqual(got[8]!.error, { name: 'Error', code: 'ERR_X', message: 'boom' });
  assert.ok(!raw().includes('hunter2'));
});

test('debug adds the transcript, masked', () => {
  const { server, lines, raw } = setup('debug');
  session(server);
  const transcript = lines().filter((l) => l.event === 'transcript').map((l) => l.line);
  assert.deepEqual(transcript, ['USER alice', 'PASS ****', 'pass ****']);
  assert.ok(!raw().includes('hunter2'));
});

test('warn keeps only warnings and errors; detach stops logging', () => {
  const { server, lines, detach } = setup('warn');
  session(server);
  assert.deepEqual(lines().map((l) => l.event), ['transfer-failed', 'warning', 'session-error']);
  detach();
  session(server);
  assert.equal(lines().length, 3);
});

test('the time is formatted once per millisecond, not per line', t => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => { text += c.toString(); });
  let ms = Date.parse('2026-01-02T03:04:05.678Z');
  const logger = new JsonLogger({ stream: out, now: () => new Date(ms) });
  const iso = t.mock.method(Date.prototype, 'toISOString');
  for (let i = 0; i < 5; i++) logger.log('info', 'x', { i });
  ms += 1;
  logger.log('info', 'x', { i: 5 });
  assert.equal(iso.mock.callCount(), 2);
  iso.mock.restore();
  const times = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { time: string }).time);
  assert.deepEqual(times, [...Array(5).fill('2026-01-02T03:04:05.678Z'), '2026-01-02T03:04:05.679Z']);
});

test('maskCommandLine', () => {
  assert.equal(maskCommandLine('PASS secret'), 'PASS ****');
  assert.equal(maskCommandLine('ACCT acc pw'), 'ACCT ****');
  assert.equal(maskCommandLine('PASS'), 'PASS');
  assert.equal(maskCommandLine('PASSX y'), 'PASSX y');
  assert.equal(maskCommandLine('RETR PASS'), 'RETR PASS');
});

test('openLogFile appends, creating the folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ftpkit-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'sub', 'ftpkit.log');
  for (const n of [1, 2]) {
    const stream = await openLogFile(file);
    new JsonLogger({ stream }).log('info', 'hello', { n });
    await new Promise<void>((resolve) => stream.end(resolve));
  }
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { n: number });
  assert.deepEqual(lines.map((l) => l.n), [1, 2]);
  await assert.rejects(openLogFile(join(file, 'not-a-dir', 'x.log')));
});

test('attaches to a real FtpServer (typed events) and detaches', () => {
  const server = new FtpServer({ authenticator: new AnonymousAuthenticator({ storage: new MemoryStorage() }) });
  // The server's own defender listens to some events too (security/defender-events.ts).
  const before = server.listenerCount('command');
  const beforeTranscript = server.listenerCount('transcript');
  const detach = new JsonLogger({ stream: new PassThrough() }).attach(server);
  assert.equal(server.listenerCount('command'), before + 1);
  // The transcript is a debug record: at info nobody listens, so sessions do not format it (issue 10).
  assert.equal(server.listenerCount('transcript'), beforeTranscript);
  assert.equal(server.listenerCount('ban'), 1, 'bans are logged');
  detach();
  assert.equal(server.listenerCount('command'), before);
  const detachDebug = new JsonLogger({ stream: new PassThrough(), level: 'debug' }).attach(server);
  assert.equal(server.listenerCount('transcript'), beforeTranscript + 1);
  detachDebug();
  assert.equal(server.listenerCount('transcript'), beforeTranscript);
});

test('a failing log stream stops logging but never throws', () => {
  const server = new EventEmitter<FtpServerEvents>();
  const stream = new PassThrough();
  const errors: Error[] = [];
  new JsonLogger({ stream, onError: (e) => errors.push(e) }).attach(server);
  stream.destroy(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
  return new Promise<void>((resolve) => setImmediate(() => {
    session(server);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /ENOSPC/);
    resolve();
  }));
});

test('replaceStream: later lines go to the new stream, the old one is ended', async () => {
  const server = new EventEmitter<FtpServerEvents>();
  const first = new PassThrough();
  const second = new PassThrough();
  let a = '';
  let b = '';
  first.on('data', (c: Buffer) => { a += c.toString(); });
  second.on('data', (c: Buffer) => { b += c.toString(); });
  const logger = new JsonLogger({ stream: first });
  logger.attach(server);
  server.emit('close');
  await logger.replaceStream(second);
  assert.equal(first.writableEnded, true);
  server.emit('close');
  assert.equal(a.split('\n').filter(Boolean).length, 1);
  assert.equal(b.split('\n').filter(Boolean).length, 1);
});
