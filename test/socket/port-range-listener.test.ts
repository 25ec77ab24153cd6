/**
 * The port-range listener both sides listen with (src/net/port-range-listener.ts): a free port of the
 * range from a random start, ports in use skipped, a typed error when none is free, exactly one
 * connection from the expected peer, and an accept with a deadline.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { FtpNetworkError, FtpUsageError } from '../../src/errors.js';
import { PortRangeListener, type PortRangeListenOptions, type RefusedReason } from '../../src/net/port-range-listener.js';

/** Three consecutive ports that were free a moment ago (no fixed ports). */
async function freeRange(): Promise<{ min: number; max: number }> {
  for (;;) {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const base = (probe.address() as net.AddressInfo).port;
    probe.close();
    if (base + 2 > 65535) continue;
    const held: net.Server[] = [];
    try {
      for (const port of [base, base + 1, base + 2]) {
        const s = net.createServer().listen({ port, host: '127.0.0.1', exclusive: true });
        held.push(s);
        await once(s, 'listening');
      }
      return { min: base, max: base + 2 };
    } catch {
      // One of them is taken: try another base.
    } finally {
      for (const s of held) s.close();
    }
  }
}

async function occupy(t: TestContext, port: number): Promise<void> {
  const s = net.createServer().listen({ port, host: '127.0.0.1', exclusive: true });
  t.after(() => s.close());
  await once(s, 'listening');
}

async function open(t: TestContext, opts: Partial<PortRangeListenOptions> = {}): Promise<PortRangeListener> {
  const l = await PortRangeListener.open({ host: '127.0.0.1', rangeName: 'test port range', ...opts });
  t.after(() => { l.close(); l.accepted?.destroy(); });
  return l;
}

function dial(t: TestContext, port: number, localAddress = '127.0.0.1'): net.Socket {
  const s = net.connect({ host: '127.0.0.1', port, localAddress });
  s.on('error', () => {});
  t.after(() => s.destroy());
  return s;
}

test('listens on a port of the range, from a random start', async t => {
  const range = await freeRange();
  const seen = new Set<number>();
  for (let i = 0; i < 30 && seen.size < 2; i++) {
    const l = await PortRangeListener.open({ host: '127.0.0.1', portRange: range, rangeName: 'test port range' });
    assert.ok(l.port >= range.min && l.port <= range.max, String(l.port));
    assert.ok(l.listening);
    seen.add(l.port);
    l.close();
    assert.equal(l.listening, false);
  }
  assert.ok(seen.size >= 2, `always port ${[...seen]}: the start is not random`);
});

test('ports in use are skipped; with none free, a typed listen error naming the range', async t => {
  const range = await freeRange();
  await occupy(t, range.min);
  await occupy(t, range.max);
  for (let i = 0; i < 5; i++) {
    const l = await PortRangeListener.open({ host: '127.0.0.1', portRange: range, rangeName: 'test port range' });
    assert.equal(l.port, range.min + 1);
    l.close();
  }
  await occupy(t, range.min + 1);
  const err = await PortRangeListener.open({ host: '127.0.0.1', portRange: range, rangeName: 'passive port range' }).catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.deepEqual([err.connection, err.phase, err.failure], ['data', 'listen', 'address-in-use']);
  assert.match(err.message, new RegExp(`no free port in the passive port range ${range.min}-${range.max}`));
  assert.equal((err.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
});

test('an address we cannot listen on fails at once, classified, without walking the range', async () => {
  const err = await PortRangeListener.open({ host: '192.0.2.1', portRange: { min: 40000, max: 40999 }, rangeName: 'r' }).catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.equal(err.phase, 'listen');
  assert.notEqual(err.failure, 'address-in-use');
  assert.match(err.message, /192\.0\.2\.1:4\d{4}/);
});

test('an invalid range is a usage error; no range means a port the system gives', async t => {
  for (const portRange of [{ min: 0, max: 10 }, { min: 10, max: 9 }, { min: 1, max: 70000 }, { min: 1.5, max: 3 }]) {
    await assert.rejects(PortRangeListener.open({ host: '127.0.0.1', portRange, rangeName: 'active port range' }),
      (e: Error) => e instanceof FtpUsageError && /invalid active port range/.test(e.message));
  }
  const l = await open(t);
  assert.ok(l.port > 0);
  assert.equal(l.host, '127.0.0.1');
});

test('a connection that comes before accept() is held; then the port is given back', async t => {
  const accepted: string[] = [];
  const l = await open(t, { host: '::ffff:127.0.0.1', onAccepted: s => accepted.push(s.remoteAddress ?? '') });
  assert.equal(l.host, '127.0.0.1', 'an IPv4-mapped address is listened on as IPv4');
  const c = dial(t, l.port);
  await once(c, 'connect');
  while (!l.accepted) await new Promise(resolve => setImmediate(resolve));
  assert.equal(l.listening, false, 'one connection per listener');
  assert.equal(accepted.length, 1);
  const s = await l.accept({ timeoutMs: 50 });
  assert.equal(s, l.accepted);
  s.write('x');
  const [chunk] = await once(c, 'data');
  assert.equal(chunk.toString(), 'x');
  const late = dial(t, l.port);
  const [err] = await once(late, 'error');
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
});

test('SECURITY: a connection from another address is dropped and reported; the expected peer still gets in', async t => {
  const refused: Array<[string, RefusedReason]> = [];
  const l = await open(t, { allowedPeer: '127.0.0.1', onRefused: (a, why) => refused.push([a, why]) });
  const waiting = l.accept({ timeoutMs: 5000 });
  const intruder = dial(t, l.port, '127.0.0.2');
  const first = await Promise.race([once(intruder, 'close').then(() => 'dropped'), waiting.then(() => 'accepted')]);
  assert.equal(first, 'dropped');
  assert.deepEqual(refused, [['127.0.0.2', 'foreign-address']]);
  assert.equal(l.accepted, undefined);
  assert.ok(l.listening);
  const c = dial(t, l.port);
  const s = await waiting;
  assert.equal(s.remoteAddress, '127.0.0.1');
  await once(c, 'connect');
});

test('accept has a deadline: a typed timeout error, and the listener is closed', async t => {
  const l = await open(t);
  const started = performance.now();
  const err = await l.accept({ timeoutMs: 150, endpoint: '192.0.2.7:4000', context: 'the peer never connected' }).catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.deepEqual([err.connection, err.phase, err.failure, err.endpoint], ['data', 'accept', 'timeout', '192.0.2.7:4000']);
  assert.ok(err.elapsedMs! >= 140 && performance.now() - started < 2000, String(err.elapsedMs));
  assert.match(err.message, /the peer never connected/);
  assert.equal(l.listening, false);
  await assert.rejects(l.accept({ timeoutMs: 1000 }), (e: Error) => e instanceof FtpNetworkError && e.failure === 'closed');
});

test('close() ends a waiting accept with a typed error and frees the port', async t => {
  const l = await open(t);
  const waiting = l.accept({ timeoutMs: 5000 });
  l.close();
  const err = await waiting.catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.deepEqual([err.phase, err.failure], ['accept', 'closed']);
  const again = net.createServer().listen({ port: l.port, host: '127.0.0.1', exclusive: true });
  t.after(() => again.close());
  await once(again, 'listening');
});
