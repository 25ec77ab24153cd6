/**
 * The PROXY protocol on real sockets (src/server/proxy/, docs/server.md#behind-a-load-balancer): headers
 * from addresses outside proxyProtocol.from and missing required headers close the connection with a
 * log line; the real client address reaches events, sessions(), the defender, the per-address limit and
 * the passive-connection theft check; a LOCAL health check is answered without a session.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import tls from 'node:tls';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { MemoryStorage, RawControl, readAll, readUntilClosed, startServer } from '../support/server-harness.js';
import type { Harness, HarnessOptions } from '../support/server-harness.js';
import { encodeProxyV2 } from '../../src/net/proxy-protocol.js';
import { parseEpsvReply } from '../../src/protocol/hostport.js';
import type { FtpServerOptions } from '../../src/server/options.js';
import type { WarningEvent } from '../../src/server/events.js';
import { makeTestPki } from '../support/tls-certs.js';
import { startServeProcess } from '../support/serve-process.js';
import { tempDir } from '../support/temp-dir.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

interface Setup { h: Harness; warnings: WarningEvent[]; opened: string[] }

async function setup(t: TestContext, proxyProtocol: FtpServerOptions['proxyProtocol'], options: HarnessOptions['options'] = {}, storage = new MemoryStorage()): Promise<Setup> {
  const h = await startServer({ storage, options: { proxyProtocol: { headerTimeoutMs: 2000, ...proxyProtocol! }, ...options } });
  t.after(() => h.close());
  const warnings: WarningEvent[] = [];
  const opened: string[] = [];
  h.server.on('warning', w => warnings.push(w));
  h.server.on('session-open', e => opened.push(e.remoteAddress));
  return { h, warnings, opened };
}

/** Bounded poll for something the server reports asynchronously (a warning after a refusal). */
async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** Connect from `from` (a loopback address) to `port`, send `header` (in `pieces` writes), and return the socket. */
async function connectWith(t: TestContext, port: number, header: Buffer | undefined, from = '127.0.0.1', pieces = 1): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from });
  socket.setNoDelay(true);
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  if (header) {
    const step = Math.ceil(header.length / pieces);
    for (let i = 0; i < header.length; i += step) {
      socket.write(header.subarray(i, i + step));
      // Separate TCP segments, so the server sees the header arrive in pieces (not a synchronisation).
      if (pieces > 1) await delay(5);
    }
  }
  return socket;
}

function headerFor(client: string, port: number): Buffer {
  return encodeProxyV2({ command: 'proxy', source: { address: client, port: 40000 }, destination: { address: '127.0.0.10', port } });
}

async function closedWithoutGreeting(socket: Socket): Promise<string> {
  return (await readUntilClosed(socket)).toString('latin1');
}

test('a header from an address outside proxyProtocol.from is refused and logged', async t => {
  const { h, warnings, opened } = await setup(t, { from: ['127.0.0.2'] });
  const socket = await connectWith(t, h.port, headerFor('198.51.100.7', h.port), '127.0.0.1');
  assert.equal(await closedWithoutGreeting(socket), '', 'closed, no greeting');
  await until('the refusal warning', () => warnings.some(w => w.code === 'proxy-protocol-refused'));
  const w = warnings.find(w => w.code === 'proxy-protocol-refused')!;
  assert.equal(w.remoteAddress, '127.0.0.1');
  assert.match(w.message, /127\.0\.0\.1 is not in proxyProtocol\.from/);
  assert.deepEqual(opened, []);
  // The allowed proxy is served, with the client address of its header.
  const c = await RawControl.adopt(await connectWith(t, h.port, headerFor('198.51.100.7', h.port), '127.0.0.2'));
  t.after(() => c.close());
  assert.equal(c.greeting.code, 220);
  assert.deepEqual(opened, ['198.51.100.7']);
});

test('a required header that is missing, malformed or late closes the connection', async t => {
  const { h, warnings, opened } = await setup(t, { from: ['127.0.0.1'], headerTimeoutMs: 300 });
  const plain = await connectWith(t, h.port, Buffer.from('USER test\r\n'));
  assert.equal(await closedWithoutGreeting(plain), '');
  const silent = await connectWith(t, h.port, undefined);
  assert.equal(await closedWithoutGreeting(silent), '', 'a silent peer is closed after headerTimeout');
  const bad = Buffer.from(headerFor('198.51.100.7', h.port)); bad[12] = 0x2f;
  assert.equal(await closedWithoutGreeting(await connectWith(t, h.port, bad)), '');
  const truncated = headerFor('198.51.100.7', h.port).subarray(0, 20);
  assert.equal(await closedWithoutGreeting(await connectWith(t, h.port, truncated)), '', 'incomplete after headerTimeout');
  await until('four refusals', () => warnings.filter(w => w.code === 'proxy-protocol-refused').length === 4);
  const messages = warnings.filter(w => w.code === 'proxy-protocol-refused').map(w => w.message).join('\n');
  assert.match(messages, /no PROXY protocol header \(required/);
  assert.match(messages, /no PROXY protocol header within 300 ms/);
  assert.match(messages, /unknown command 15/);
  assert.match(messages, /incomplete after 300 ms/);
  assert.deepEqual(opened, []);
});

test('the real address (header in pieces) is the session\'s: events, sessions(), the theft check on a proxied data port', async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/hello.txt', 'hello through the proxy\n');
  const { h, warnings, opened } = await setup(t, { from: ['127.0.0.1'] }, {}, storage);
  const c = await RawControl.adopt(await connectWith(t, h.port, headerFor('198.51.100.7', h.port), '127.0.0.1', 4));
  t.after(() => c.close());
  assert.equal(c.greeting.code, 220);
  assert.equal((await c.send('USER test')).code, 331);
  assert.equal((await c.send('PASS test')).code, 230);
  assert.equal((await c.send('TYPE I')).code, 200);
  assert.deepEqual(opened, ['198.51.100.7']);
  assert.equal(h.server.sessions()[0].remoteAddress, '198.51.100.7');

  // A data connection whose header names another client is dropped (RFC 2577 s4), and logged with that address.
  const port = parseEpsvReply((await c.send('EPSV')).text);
  const thief = await connectWith(t, port, headerFor('198.51.100.8', port));
  assert.equal((await readUntilClosed(thief)).length, 0);
  await until('the foreign-data-connection warning', () => warnings.some(w => w.code === 'foreign-data-connection'));
  assert.match(warnings.find(w => w.code === 'foreign-data-connection')!.message, /from 198\.51\.100\.8; the control connection comes from 198\.51\.100\.7/);
  // A data connection without a header (straight from the proxy's address) is refused too: required.
  const bare = await connectWith(t, port, Buffer.from('x'));
  assert.equal((await readUntilClosed(bare)).length, 0);
  // The client's own data connection, relayed with its header, is served.
  const data = await connectWith(t, port, headerFor('198.51.100.7', port), '127.0.0.1', 3);
  const received = readAll(data);
  assert.equal((await c.send('RETR hello.txt')).code, 150);
  assert.equal((await received).toString(), 'hello through the proxy\n');
  assert.equal((await c.read()).code, 226);
});

test('a LOCAL header (health check) gets a 220 line and a clean close, and no session', async t => {
  const { h, opened } = await setup(t, { from: ['127.0.0.1'] });
  const check = await connectWith(t, h.port, encodeProxyV2({ command: 'local' }));
  assert.match(await closedWithoutGreeting(check), /^220 .*health check\)\r\n$/);
  assert.deepEqual(opened, []);
  assert.equal(h.server.sessionCount, 0);
});

test('bans and the per-address limit apply to the real address, not the proxy\'s', async t => {
  const { h, opened } = await setup(t, { from: ['127.0.0.1'] }, { defender: { deny: ['198.51.100.66'] }, limits: { maxSessionsPerAddress: 1 } });
  const denied = await connectWith(t, h.port, headerFor('198.51.100.66', h.port));
  assert.match(await closedWithoutGreeting(denied), /^421 Connections from your address are not accepted/);
  const first = await RawControl.adopt(await connectWith(t, h.port, headerFor('198.51.100.7', h.port)));
  t.after(() => first.close());
  const other = await RawControl.adopt(await connectWith(t, h.port, headerFor('198.51.100.9', h.port)));
  t.after(() => other.close());
  assert.equal(first.greeting.code, 220);
  assert.equal(other.greeting.code, 220, 'another client behind the same proxy is not limited by the first');
  const second = await connectWith(t, h.port, headerFor('198.51.100.7', h.port));
  assert.match(await closedWithoutGreeting(second), /^421 Too many connections from your address \(198\.51\.100\.7\)/);
  assert.deepEqual(opened, ['198.51.100.7', '198.51.100.9']);
});

test('optional: a peer outside `from` is served directly; a trusted peer without a header after headerTimeout', async t => {
  const { h, opened } = await setup(t, { from: ['127.0.0.2'], mode: 'optional', headerTimeoutMs: 200 });
  const direct = await RawControl.adopt(await connectWith(t, h.port, undefined, '127.0.0.1'));
  t.after(() => direct.close());
  const trustedSilent = await RawControl.adopt(await connectWith(t, h.port, undefined, '127.0.0.2'));
  t.after(() => trustedSilent.close());
  const proxied = await RawControl.adopt(await connectWith(t, h.port, headerFor('198.51.100.7', h.port), '127.0.0.2'));
  t.after(() => proxied.close());
  assert.deepEqual([direct.greeting.code, trustedSilent.greeting.code, proxied.greeting.code], [220, 220, 220]);
  assert.deepEqual(opened.sort(), ['127.0.0.1', '127.0.0.2', '198.51.100.7']);
});

test('implicit FTPS: the header comes before the TLS handshake, the session has the real address', async t => {
  const pki = await makeTestPki();
  t.after(() => pki.cleanup());
  const { h, opened } = await setup(t, { from: ['127.0.0.1'], control: 'off', implicit: 'required' },
    { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, implicitPort: 0, handshakeTimeoutMs: 10_000 } });
  const port = h.server.implicitAddress()!.port;
  const raw = await connectWith(t, port, headerFor('198.51.100.7', port));
  const secure = tls.connect({ socket: raw, ca: pki.ca.cert, servername: 'localhost' });
  secure.on('error', () => {});
  t.after(() => secure.destroy());
  await once(secure, 'secureConnect');
  const c = await RawControl.adopt(secure as unknown as Socket);
  assert.equal(c.greeting.code, 220);
  assert.equal((await c.send('USER test')).code, 331);
  assert.equal((await c.send('PASS test')).code, 230);
  assert.deepEqual(opened, ['198.51.100.7']);
  assert.equal(h.server.sessions()[0].tls.control, 'protected');
  // The control port is 'off' here: a plain client there is served as it always was.
  const plain = await RawControl.connect('127.0.0.1', h.port);
  t.after(() => plain.close());
  assert.equal(plain.greeting.code, 220);
});

test('bytes that arrive with the header belong to the session (one segment: header and USER)', async t => {
  const { h, opened } = await setup(t, { from: ['127.0.0.1'] });
  const socket = await connectWith(t, h.port, Buffer.concat([headerFor('198.51.100.7', h.port), Buffer.from('USER test\r\n')]));
  const c = await RawControl.adopt(socket);
  assert.equal(c.greeting.code, 220);
  assert.equal((await c.read()).code, 331, 'USER, sent in the header\'s segment, was read by the session');
  assert.equal((await c.send('PASS test')).code, 230);
  assert.deepEqual(opened, ['198.51.100.7']);
});

test('ftpkit serve --config with a proxyProtocol section: the JSON log names the real client', async t => {
  const dir = await tempDir(t, 'ftpkit-proxy-serve-');
  await writeFile(join(dir, 'ftpkit.yaml'), [
    'host: 127.0.0.1',
    `anonymous: { enabled: true, root: ${JSON.stringify(dir)} }`,
    'proxyProtocol: { from: [127.0.0.2], headerTimeout: 2s }',
  ].join('\n'));
  const serve = await startServeProcess(t, ['--config', join(dir, 'ftpkit.yaml')]);
  const c = await RawControl.adopt(await connectWith(t, serve.port, headerFor('198.51.100.7', serve.port), '127.0.0.2'));
  t.after(() => c.close());
  assert.equal(c.greeting.code, 220);
  const refused = await connectWith(t, serve.port, headerFor('198.51.100.8', serve.port), '127.0.0.1');
  assert.equal((await readUntilClosed(refused)).length, 0, 'not from the balancer: closed');
  const logged = (): Array<Record<string, unknown>> => serve.stderr().split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>);
  await until('the log lines', () => logged().some(e => e.event === 'session-open') && logged().some(e => e.code === 'proxy-protocol-refused'));
  assert.equal(logged().find(e => e.event === 'session-open')?.remoteAddress, '198.51.100.7');
  assert.equal(logged().find(e => e.code === 'proxy-protocol-refused')?.remoteAddress, '127.0.0.1');
});

test('a ban earned through the balancer bans the client, not the balancer (scores by the real address)', async t => {
  const { h } = await setup(t, { from: ['127.0.0.1'] }, { defender: { threshold: 3 }, limits: { maxLoginFailures: 3 } });
  const bans: string[] = [];
  h.server.on('ban', e => bans.push(e.remoteAddress));
  const attacker = await RawControl.adopt(await connectWith(t, h.port, headerFor('198.51.100.66', h.port)));
  t.after(() => attacker.close());
  for (let i = 0; i < 3; i++) {
    await attacker.send('USER test');
    assert.equal((await attacker.send(`PASS wrong-${i}`)).code, 530);
  }
  await until('the ban', () => bans.length > 0);
  assert.deepEqual(bans, ['198.51.100.66']);
  const again = await connectWith(t, h.port, headerFor('198.51.100.66', h.port));
  assert.match(await closedWithoutGreeting(again), /^421 Your address is blocked/);
  // Every other client comes through the same balancer and is not touched by the ban.
  const other = await RawControl.adopt(await connectWith(t, h.port, headerFor('198.51.100.7', h.port)));
  t.after(() => other.close());
  assert.equal((await other.send('USER test')).code, 331);
  assert.equal((await other.send('PASS test')).code, 230);
});
