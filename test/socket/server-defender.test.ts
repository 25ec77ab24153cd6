/**
 * The defender over real sockets (src/server/security/): an address that keeps failing is answered 421 at
 * connect, a denied network too, an allowed one never; a banned user name is refused without asking the
 * authenticator; a session opened before its address was banned gets 421 at its next PASS.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawControl, TestAuthenticator, startServer, MemoryStorage } from '../support/server-harness.js';
import type { BanEvent, WarningEvent } from '../../src/server/index.js';
import { connect as tlsConnect } from 'node:tls';
import { makeTestPki } from '../support/tls-certs.js';
import { dialogue } from '../support/reply-dialogue.js';

/** The greeting code of a connection from `localAddress` (a loopback address of 127/8). */
async function greetingFrom(localAddress: string, port: number): Promise<number> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  let text = '';
  for await (const chunk of socket) {
    text += chunk as string;
    if (text.includes('\r\n')) break;
  }
  socket.destroy();
  return Number(text.slice(0, 3));
}

/** USER/PASS on a connection from `localAddress`: the code answered to PASS (421 or 530 or 230). */
async function passFrom(localAddress: string, port: number, user: string, password: string): Promise<number> {
  let replies = 0;
  const codes = await dialogue({ port, localAddress }, (code) => {
    replies++;
    if (replies === 1) return code === 220 ? `USER ${user}` : undefined;
    if (replies === 2) return `PASS ${password}`;
    return undefined;
  });
  return codes[2] ?? codes.at(-1) ?? 0;
}

test('after enough wrong passwords an address is answered 421 at connect; another address is not', async t => {
  const h = await startServer({ options: { defender: { threshold: 6 }, limits: { maxLoginFailures: 3 } } });
  t.after(() => h.close());
  const bans: BanEvent[] = [];
  const warnings: WarningEvent[] = [];
  h.server.on('ban', e => bans.push(e));
  h.server.on('warning', e => warnings.push(e));
  // Opened before the ban: its next PASS is refused with 421.
  const early = await RawControl.connect(h.host, h.port);
  t.after(() => early.close());
  for (let n = 0; n < 2; n++) {
    const c = await RawControl.connect(h.host, h.port);
    for (let i = 0; i < 3; i++) {
      await c.send('USER test');
      assert.equal((await c.send(`PASS wrong-${n}-${i}`)).code, 530);
    }
    await c.waitClosed();
  }
  assert.equal(bans.length, 1);
  assert.equal(bans[0]!.remoteAddress, '127.0.0.1');
  assert.equal(bans[0]!.kind, 'address');
  assert.ok(bans[0]!.durationMs >= 60_000);

  assert.equal(await greetingFrom('127.0.0.1', h.port), 421, 'the banned address is refused at connect');
  assert.ok(warnings.some(w => w.code === 'connection-banned' && w.remoteAddress === '127.0.0.1'), 'with a log event');
  assert.equal(await greetingFrom('127.0.0.2', h.port), 220, 'another address is not');
  assert.equal(await passFrom('127.0.0.2', h.port, 'test', 'test'), 230);

  assert.equal((await early.send('USER test')).code, 331);
  assert.equal((await early.send('PASS test')).code, 421, 'a session from before the ban cannot log in');
  await early.waitClosed();
});

test('a deny-listed network is answered 421 at connect, also through an IPv4-mapped listener', async t => {
  let h;
  try {
    h = await startServer({ host: '::', options: { defender: { deny: ['127.0.0.0/31', '2001:db8::/32'] } } });
  } catch {
    h = await startServer({ options: { defender: { deny: ['127.0.0.0/31', '2001:db8::/32'] } } });
  }
  t.after(() => h.close());
  const warnings: WarningEvent[] = [];
  h.server.on('warning', e => warnings.push(e));
  assert.equal(await greetingFrom('127.0.0.1', h.port), 421);
  assert.ok(warnings.some(w => w.code === 'connection-denied'));
  assert.equal(await greetingFrom('127.0.0.2', h.port), 220);
});

test('an allow-listed address is never banned', async t => {
  const h = await startServer({
    options: { defender: { threshold: 2, allow: ['127.0.0.1/32'] }, limits: { maxLoginFailures: 10 } },
  });
  t.after(() => h.close());
  let bans = 0;
  h.server.on('ban', () => bans++);
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  for (let i = 0; i < 6; i++) {
    await c.send('USER test');
    assert.equal((await c.send(`PASS wrong-${i}`)).code, 530);
  }
  assert.equal(bans, 0);
  assert.equal(await greetingFrom('127.0.0.1', h.port), 220);
  // The same failures from an address not on the list do ban it.
  assert.equal(await passFrom('127.0.0.3', h.port, 'test', 'x'), 530);
  assert.equal(await passFrom('127.0.0.3', h.port, 'test', 'y'), 530);
  assert.equal(bans, 1);
  assert.equal(await greetingFrom('127.0.0.3', h.port), 421);
});

test('a banned user name is answered 530 without asking the authenticator', async t => {
  const storage = new MemoryStorage();
  const inner = new TestAuthenticator({ alice: { password: 'right' } }, storage, false);
  let calls = 0;
  const counting = {
    authenticate: (u: string, p: string) => { calls++; return inner.authenticate(u, p); },
  };
  const h = await startServer({
    options: { authenticator: counting, defender: { threshold: 1000, userThreshold: 4 } },
  });
  t.after(() => h.close());
  const bans: BanEvent[] = [];
  h.server.on('ban', e => bans.push(e));
  // Spread over addresses, as a distributed guesser would.
  for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
    assert.equal(await passFrom(from, h.port, 'alice', 'guess'), 530);
  }
  assert.deepEqual(bans.map(b => [b.kind, b.user]), [['user', 'alice']]);
  const before = calls;
  assert.equal(await passFrom('127.0.0.6', h.port, 'alice', 'right'), 530, 'even the right password, while the name is banned');
  assert.equal(calls, before, 'no verification ran');
  assert.equal(await passFrom('127.0.0.6', h.port, 'bob', 'x'), 530);
  assert.equal(calls, before + 1, 'other names are verified');
});

test('implicit FTPS: a denied address is closed before any TLS handshake', async t => {
  const pki = await makeTestPki();
  t.after(() => pki.cleanup());
  const h = await startServer({
    options: { defender: { deny: ['127.0.0.1'] }, tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, implicitPort: 0 } },
  });
  t.after(() => h.close());
  const warnings: WarningEvent[] = [];
  h.server.on('warning', e => warnings.push(e));
  const port = h.server.implicitAddress()!.port;
  const attempt = (localAddress: string) => new Promise<string>((resolve) => {
    // tls.connect has no localAddress: the TCP socket is made first, bound to the address.
    const tcp = connect({ host: '127.0.0.1', port, localAddress });
    tcp.on('error', () => {});
    const socket = tlsConnect({ socket: tcp, rejectUnauthorized: false });
    socket.on('secureConnect', () => { socket.destroy(); resolve('handshake'); });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  assert.notEqual(await attempt('127.0.0.1'), 'handshake');
  assert.ok(warnings.some(w => w.code === 'connection-denied'));
  assert.equal(await attempt('127.0.0.2'), 'handshake', 'another address gets its handshake');
});
