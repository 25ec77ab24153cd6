/**
 * The defender without sockets (src/server/security/, src/server/auth/address-gate.ts): bans and their
 * expiry with an injected clock, growing ban times with a cap, the observation window, bounded memory,
 * allow and deny lists with IPv4-mapped addresses, user-name bans, and the per-address verification gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { AddressGate, Defender, FtpConfigError, FtpLoginRefusedError, READ_WRITE, ScoreBook } from '../../src/server/index.js';
import type { BanEvent, FtpServerEvents } from '../../src/server/index.js';
import { scoreServerEvents } from '../../src/server/security/defender-events.js';

const MIN = 60_000;

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

test('an address is banned when its points reach the threshold, and the ban expires', () => {
  const c = clock();
  const bans: BanEvent[] = [];
  const d = new Defender({ threshold: 3, banMs: 15 * MIN, now: c.now }, b => bans.push(b));
  d.record('failedLogin', '192.0.2.1', 'alice');
  d.record('failedLogin', '192.0.2.1', 'alice');
  assert.equal(d.addressRefusal('192.0.2.1'), undefined);
  d.record('failedLogin', '192.0.2.1', 'alice');
  assert.deepEqual(d.addressRefusal('192.0.2.1'), { reason: 'banned', until: c.now() + 15 * MIN });
  assert.equal(bans.length, 1);
  assert.equal(bans[0]!.kind, 'address');
  assert.equal(bans[0]!.durationMs, 15 * MIN);
  assert.equal(bans[0]!.count, 1);
  assert.equal(d.addressRefusal('192.0.2.2'), undefined, 'other addresses are not touched');
  c.advance(15 * MIN - 1);
  assert.ok(d.addressRefusal('192.0.2.1'));
  c.advance(1);
  assert.equal(d.addressRefusal('192.0.2.1'), undefined, 'expired');
  assert.equal(d.scoreOf('192.0.2.1'), 0, 'a ban starts from zero points');
});

test('each next ban of an address lasts twice as long, up to the cap; an old history is forgotten', () => {
  const c = clock();
  const durations: number[] = [];
  const d = new Defender({ threshold: 1, banMs: 10 * MIN, maxBanMs: 35 * MIN, now: c.now }, b => durations.push(b.durationMs));
  for (let i = 0; i < 4; i++) {
    d.record('garbage', '2001:db8::1');
    c.advance(durations.at(-1)!);
  }
  assert.deepEqual(durations, [10 * MIN, 20 * MIN, 35 * MIN, 35 * MIN]);
  // Longer than the cap after the last ban ended: back to the first length.
  c.advance(35 * MIN + 1);
  d.record('garbage', '2001:db8::1');
  assert.equal(durations.at(-1), 10 * MIN);
});

test('points count within the window only; scores are weighted by kind, 0 ignores a kind', () => {
  const c = clock();
  const d = new Defender({ threshold: 4, windowMs: 5 * MIN, scores: { refusedCommand: 0 }, now: c.now });
  d.record('unknownUser', '192.0.2.9', 'nobody');
  assert.equal(d.scoreOf('192.0.2.9'), 2);
  c.advance(5 * MIN);
  assert.equal(d.scoreOf('192.0.2.9'), 0, 'left the window');
  d.record('refusedCommand', '192.0.2.9');
  d.record('refusedCommand', '192.0.2.9');
  assert.equal(d.scoreOf('192.0.2.9'), 0);
  d.record('limitExceeded', '192.0.2.9');
  assert.equal(d.scoreOf('192.0.2.9'), 3);
  d.record('failedLogin', '192.0.2.9', 'alice');
  assert.equal(d.addressRefusal('192.0.2.9')?.reason, 'banned');
});

test('allow and deny lists: CIDR, IPv4 and IPv6, IPv4-mapped addresses normalised', () => {
  const d = new Defender({ threshold: 1, allow: ['10.0.0.0/8', '2001:db8:1::/48'], deny: ['198.51.100.0/24', '2001:db8:bad::/48', '10.1.1.1'] });
  assert.equal(d.addressRefusal('198.51.100.7')?.reason, 'denied');
  assert.equal(d.addressRefusal('::ffff:198.51.100.7')?.reason, 'denied', 'mapped');
  assert.equal(d.addressRefusal('2001:db8:bad::1')?.reason, 'denied');
  assert.equal(d.addressRefusal('10.1.1.1'), undefined, 'the allow list wins over the deny list');
  for (const a of ['10.2.3.4', '::ffff:10.2.3.4', '2001:DB8:1::5']) {
    d.record('garbage', a);
    assert.equal(d.addressRefusal(a), undefined, `${a} is never banned`);
  }
  d.record('garbage', '::ffff:192.0.2.1');
  assert.equal(d.addressRefusal('192.0.2.1')?.reason, 'banned', 'a mapped address and its IPv4 form are one key');
  assert.throws(() => new Defender({ deny: ['10.0.0.0/33'] }), (e: unknown) => e instanceof FtpConfigError && e.key === 'defender.deny');
  assert.throws(() => new Defender({ threshold: 0 }), (e: unknown) => e instanceof FtpConfigError && e.key === 'defender.threshold');
});

test('disabled: no scores and no bans, but the deny list still applies', () => {
  const d = new Defender({ enabled: false, threshold: 1, deny: ['192.0.2.0/24'] });
  d.record('garbage', '198.51.100.1');
  assert.equal(d.addressRefusal('198.51.100.1'), undefined);
  assert.equal(d.addressRefusal('192.0.2.3')?.reason, 'denied');
});

test('user names: banned after userThreshold failures from any address, allow-listed addresses exempt, success clears points', () => {
  const c = clock();
  const bans: BanEvent[] = [];
  const d = new Defender({ threshold: 100, userThreshold: 3, allow: ['192.0.2.50'], now: c.now }, b => bans.push(b));
  d.record('failedLogin', '192.0.2.1', 'alice');
  d.record('failedLogin', '192.0.2.2', 'alice');
  d.loginSucceeded('alice');
  d.record('failedLogin', '192.0.2.3', 'alice');
  d.record('failedLogin', '192.0.2.4', 'alice');
  assert.equal(d.userBanned('alice', '192.0.2.9'), false, 'the success cleared the first two');
  d.record('unknownUser', '192.0.2.5', 'alice');
  assert.equal(d.userBanned('alice', '192.0.2.9'), true);
  assert.equal(d.userBanned('alice', '192.0.2.50'), false, 'allow-listed');
  assert.equal(d.userBanned('bob', '192.0.2.9'), false);
  assert.deepEqual(bans.map(b => [b.kind, b.user, b.remoteAddress]), [['user', 'alice', '192.0.2.5']]);
  d.record('garbage', '192.0.2.6', 'carol');
  assert.equal(d.userBanned('carol', '192.0.2.9'), false, 'only login attempts count against a name');
  assert.deepEqual(d.bans().map(b => [b.kind, b.key]), [['user', 'alice']]);
  assert.equal(d.unban('user', 'alice'), true);
  assert.equal(d.userBanned('alice', '192.0.2.9'), false);
  const off = new Defender({ userThreshold: 0, threshold: 100 });
  for (let i = 0; i < 50; i++) off.record('failedLogin', `192.0.2.${i}`, 'alice');
  assert.equal(off.userBanned('alice', '192.0.2.99'), false, 'userThreshold 0: names are never banned');
});

test('memory is bounded: at most maxEntries keys, stale unbanned ones forgotten before bans', () => {
  const c = clock();
  const book = new ScoreBook({ threshold: 2, windowMs: 5 * MIN, banMs: MIN, maxBanMs: 10 * MIN, maxEntries: 100, now: c.now });
  book.add('banned', 2);
  for (let i = 0; i < 10_000; i++) book.add(`198.51.${i >> 8}.${i & 255}`, 1);
  assert.ok(book.size <= 100, `size ${book.size}`);
  assert.notEqual(book.bannedUntil('banned'), undefined, 'the ban survived the flood');
  c.advance(11 * MIN);
  assert.equal(book.score('198.51.39.15'), 0);
});

test('the events the defender scores: failed logins (unknown names higher), 530 and 500 before login, busy logins, limits', () => {
  const events = new EventEmitter<FtpServerEvents>();
  const d = new Defender({ threshold: 1000 });
  scoreServerEvents(d, events, name => (name === 'mallory' ? false : name === 'alice' ? true : undefined));
  const base = { sessionId: 's1', remoteAddress: '192.0.2.1' };
  events.emit('login-failed', { ...base, user: 'alice', failures: 1 });
  assert.equal(d.scoreOf('192.0.2.1'), 1);
  events.emit('login-failed', { ...base, user: 'mallory', failures: 2 });
  assert.equal(d.scoreOf('192.0.2.1'), 3);
  events.emit('command', { ...base, verb: 'LIST', argument: '', replyCode: 530, durationMs: 0 });
  events.emit('command', { ...base, verb: 'PASS', argument: '****', replyCode: 530, durationMs: 0 });
  assert.equal(d.scoreOf('192.0.2.1'), 4, 'LIST before login counts; PASS is counted as a failed login');
  // Garbage comes from the 'command' event's reply code, not from the per-reply 'reply' event (issue 10).
  events.emit('reply', { ...base, code: 500, lines: ['500 Syntax error'] });
  assert.equal(d.scoreOf('192.0.2.1'), 4, "'reply' is not scored");
  events.emit('command', { ...base, verb: '\x01\x02', argument: '', replyCode: 500, durationMs: 0 });
  assert.equal(d.scoreOf('192.0.2.1'), 6);
  events.emit('warning', { ...base, code: 'line-too-long', message: 'x' });
  assert.equal(d.scoreOf('192.0.2.1'), 8, 'an over-long line has its own signal');
  events.emit('warning', { ...base, code: 'login-busy', message: 'x' });
  assert.equal(d.scoreOf('192.0.2.1'), 11);
  events.emit('session-close', { ...base, durationMs: 1, reason: 'command line not completed in time' });
  assert.equal(d.scoreOf('192.0.2.1'), 13);
  // A logged-in session's garbage and refusals are not scored; its abuse of limits is.
  const other = { sessionId: 's2', remoteAddress: '192.0.2.2' };
  events.emit('login', { ...other, user: 'alice' });
  events.emit('command', { ...other, verb: '\x01', argument: '', replyCode: 500, durationMs: 0 });
  events.emit('warning', { ...other, code: 'line-too-long', message: 'x' });
  events.emit('command', { ...other, verb: 'USER', argument: 'bob', replyCode: 530, durationMs: 0 });
  assert.equal(d.scoreOf('192.0.2.2'), 0);
  events.emit('warning', { ...other, code: 'data-setup-churn', message: 'x' });
  events.emit('warning', { ...other, code: 'command-rate-exceeded', message: 'x' });
  assert.equal(d.scoreOf('192.0.2.2'), 6);
});

test("with the defender on and no one listening to 'reply', the server emits no 'reply' event (issue 10)", async () => {
  const { FtpServer, MemoryStorage } = await import('../../src/server/index.js');
  const server = new FtpServer({ authenticator: { authenticate: async () => ({ name: 'u', storage: new MemoryStorage(), permissions: READ_WRITE }) } });
  assert.equal(server.listenerCount('reply'), 0);
  assert.ok(server.listenerCount('command') > 0 && server.listenerCount('warning') > 0, 'the defender listens to command and warning');
});

test('AddressGate: one verification per address in flight or queued; others refused at once; 0 = no bound', async () => {
  const gate = new AddressGate();
  let release!: () => void;
  const running = gate.run('192.0.2.1', () => new Promise<boolean>(r => { release = () => r(true); }));
  await assert.rejects(gate.run('192.0.2.1', async () => true), (e: unknown) => e instanceof FtpLoginRefusedError && e.reason === 'busy');
  assert.equal(await gate.run('192.0.2.2', async () => 'other address'), 'other address');
  release();
  assert.equal(await running, true);
  assert.equal(gate.size, 0, 'nothing left behind');
  assert.equal(await gate.run('192.0.2.1', async () => 'free again'), 'free again');
  await assert.rejects(gate.run('192.0.2.3', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(gate.size, 0, 'a failing verification frees its place');
  const open = new AddressGate(0);
  const both = await Promise.all([open.run('a', async () => 1), open.run('a', async () => 2)]);
  assert.deepEqual(both, [1, 2]);
});

test('ConfigUserStore: one full verification per address; cached and joining logins are not refused', async () => {
  const { ConfigUserStore, MemoryStorage, hashPassword } = await import('../../src/server/index.js');
  const store = new ConfigUserStore([{ name: 'alice', passwordHash: await hashPassword('right', { ln: 10, r: 8, p: 1 }), storage: new MemoryStorage() }]);
  const from = (remoteAddress: string) => ({ remoteAddress, secure: false });
  // Same user, same password, same address, at once: they join one verification (a `mirror --parallel`).
  const burst = await Promise.all(Array.from({ length: 5 }, () => store.authenticate('alice', 'right', from('192.0.2.1'))));
  assert.ok(burst.every(u => u?.name === 'alice'));
  // Different guesses at once from one address: the first is verified, the others refused without a hash.
  const guesses = await Promise.allSettled(['a', 'b', 'c'].map(p => store.authenticate('alice', p, from('192.0.2.7'))));
  assert.deepEqual(guesses.map(g => g.status), ['fulfilled', 'rejected', 'rejected']);
  assert.ok(guesses[1]!.status === 'rejected' && guesses[1]!.reason instanceof FtpLoginRefusedError);
  // A cached password is answered even while the address has a verification running.
  const running = store.authenticate('mallory', 'x', from('192.0.2.7'));
  assert.equal((await store.authenticate('alice', 'right', from('192.0.2.7')))?.name, 'alice');
  assert.equal(await running, null);
  assert.equal(store.knowsUser('alice'), true);
  assert.equal(store.knowsUser('mallory'), false);
});

test('configuration: the defender section maps onto the server options; bad values name their key', async () => {
  const { validateConfig } = await import('../../src/server/config/load.js');
  const { planServe } = await import('../../src/server/config/to-options.js');
  const config = validateConfig({
    defender: {
      threshold: 10, window: '10m', banTime: '30m', maxBanTime: '12h', userThreshold: 0, scores: { unknownUser: 1 },
      allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['203.0.113.9'], verificationsPerAddress: 2,
    },
  });
  const plan = planServe(config, '/tmp');
  assert.deepEqual(plan.options.defender, {
    threshold: 10, windowMs: 600_000, banMs: 1_800_000, maxBanMs: 43_200_000, userThreshold: 0, scores: { unknownUser: 1 },
    allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['203.0.113.9'],
  });
  const bad = (input: unknown, key: RegExp) => assert.throws(() => validateConfig(input), (e: unknown) => e instanceof FtpConfigError && key.test(e.message));
  bad({ defender: { deny: ['10.0.0.0/40'] } }, /defender\.deny\.0/);
  bad({ defender: { banTime: 0 } }, /defender\.banTime/);
  bad({ defender: { treshold: 3 } }, /treshold/);
  assert.equal(planServe(validateConfig({}), '/tmp').options.defender, undefined, 'not given: the server defaults');
});

test('a connection without an address (a Duplex given to handleConnection) is never scored as one key for all', () => {
  const d = new Defender({ threshold: 1 });
  d.record('garbage', '');
  assert.equal(d.addressRefusal(''), undefined);
  assert.deepEqual(d.bans(), []);
});
