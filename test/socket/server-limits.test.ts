/**
 * Defaults that keep one client address from taking the server (DESIGN.md principle 12): the per-address
 * session limit, the passive range against the session limit, unclaimed passive listeners reclaimed
 * under pressure, and the deadline for a command line that never ends.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { connect as tcpConnect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { FtpServer } from '../../src/server/index.js';
import { MemoryStorage, RawControl, openPassive, readAll, startServer } from '../support/server-harness.js';
import type { Harness, HarnessOptions } from '../support/server-harness.js';
import { parseEpsvReply } from '../../src/protocol/hostport.js';
import type { PortRange } from '../../src/server/index.js';

async function setup(t: TestContext, opts: HarnessOptions = {}): Promise<Harness> {
  const h = await startServer(opts);
  t.after(() => h.close());
  return h;
}

async function connect(t: TestContext, h: Harness): Promise<RawControl> {
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  return c;
}

/** Resolves with what came first: the promise's value, or 'deadline' after ms (a bound, not a sleep). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'deadline'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'deadline'>(resolve => { timer = setTimeout(() => resolve('deadline'), ms); })])
    .finally(() => clearTimeout(timer));
}

/** `count` consecutive ports on 127.0.0.1 that are free right now (a random base, checked by binding). */
async function freePortRange(count: number): Promise<PortRange> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const min = 20000 + Math.floor(Math.random() * 20000);
    const servers = [];
    let ok = true;
    for (let port = min; port < min + count && ok; port++) {
      const s = createServer();
      ok = await new Promise<boolean>(resolve => {
        s.once('error', () => resolve(false));
        s.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(true));
      });
      servers.push(s);
    }
    await Promise.all(servers.map(s => new Promise(resolve => s.close(resolve))));
    if (ok) return { min, max: min + count - 1 };
  }
  throw new Error(`no ${count} free consecutive ports found`);
}

test('by default one address gets 20 sessions; the 21st is answered 421 saying why', async t => {
  const h = await setup(t);
  const warnings: string[] = [];
  h.server.on('warning', w => warnings.push(w.message));
  const greetings: number[] = [];
  for (let i = 0; i < 20; i++) greetings.push((await connect(t, h)).greeting.code);
  assert.deepEqual(greetings, Array(20).fill(220));
  const extra = await connect(t, h);
  assert.equal(extra.greeting.code, 421);
  assert.match(extra.greeting.text, /Too many connections from your address \(127\.0\.0\.1\): at most 20 at a time/);
  await extra.waitClosed();
  assert.match(warnings.join('\n'), /too many sessions from 127\.0\.0\.1 \(limits\.maxSessionsPerAddress 20\)/);
});

test('maxSessionsPerAddress 0 lifts the per-address limit', async t => {
  const h = await setup(t, { options: { limits: { maxSessionsPerAddress: 0 } } });
  const greetings: number[] = [];
  for (let i = 0; i < 25; i++) greetings.push((await connect(t, h)).greeting.code);
  assert.deepEqual(greetings, Array(25).fill(220));
});

test('a passive range smaller than the session limit is a warning at start, naming both numbers and the fix', async t => {
  const auth = { authenticate: async () => null };
  const warningsOf = async (options: ConstructorParameters<typeof FtpServer>[0]): Promise<string[]> => {
    const server = new FtpServer({ host: '127.0.0.1', port: 0, ...options });
    const warnings: string[] = [];
    server.on('warning', w => { if (w.code === 'passive-range-too-small') warnings.push(w.message); });
    await server.listen();
    t.after(() => server.close({ timeoutMs: 100 }));
    return warnings;
  };
  const small = await warningsOf({ authenticator: auth, passive: { portRange: { min: 50000, max: 50100 } } });
  assert.equal(small.length, 1);
  assert.match(small[0], /50000-50100 has 101 ports for up to 1000 sessions/);
  assert.match(small[0], /Widen passive\.ports \(--pasv-ports\) to at least 1000 ports, or lower limits\.maxSessions \(--max-sessions\) to 101/);
  assert.deepEqual(await warningsOf({ authenticator: auth }), [], 'the default range fits the default session limit');
  assert.deepEqual(await warningsOf({ authenticator: auth, passive: { portRange: { min: 50000, max: 50100 } }, limits: { maxSessions: 100 } }), []);
});

test('sessions holding PASV without connecting do not lock out a real client: the oldest unclaimed ports are reclaimed', { timeout: 60_000 }, async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/file.txt', 'hello passive');
  const portRange = await freePortRange(10);
  const h = await setup(t, {
    storage,
    options: {
      passive: { portRange },
      // The holders and the real client share 127.0.0.1; a short grace so the test needs no waiting.
      limits: { maxSessionsPerAddress: 100 },
      timeouts: { dataConnectMs: 10_000, passiveReclaimMs: 0 },
    },
  });
  // 12 sessions on a 10-port range send EPSV and never connect nor transfer.
  const holders: RawControl[] = [];
  for (let i = 0; i < 12; i++) {
    const c = await RawControl.login(h);
    t.after(() => c.close());
    await c.send('EPSV');
    holders.push(c);
  }
  // A real client: 20 downloads, each EPSV + RETR at once.
  const real = await RawControl.login(h);
  t.after(() => real.close());
  let ok = 0;
  const failures: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await real.send('EPSV');
    if (r.code !== 229) { failures.push(`EPSV ${r.code} ${r.text}`); continue; }
    const data = tcpConnect({ host: '127.0.0.1', port: parseEpsvReply(r.text) });
    data.on('error', () => {});
    await once(data, 'connect');
    const body = readAll(data);
    const pre = await real.send('RETR file.txt');
    if (pre.code !== 150) { failures.push(`RETR ${pre.code} ${pre.text}`); data.destroy(); continue; }
    const [bytes, fin] = await Promise.all([body, real.read()]);
    if (fin.code === 226 && bytes.toString() === 'hello passive') ok++;
    else failures.push(`RETR final ${fin.code} ${fin.text}`);
  }
  assert.deepEqual({ ok, failures }, { ok: 20, failures: [] });
  // The first holder's port was reclaimed: its transfer command hears 425 and why.
  const r = await holders[0].send('RETR file.txt');
  assert.equal(r.code, 425);
  assert.match(r.text, /ran short of passive ports and reclaimed yours.*send PASV or EPSV again/);
  // ... and it can start over.
  const again = await openPassive(holders[0]);
  const body = readAll(again);
  assert.equal((await holders[0].send('RETR file.txt')).code, 150);
  assert.equal((await holders[0].read()).code, 226);
  assert.equal((await body).toString(), 'hello passive');
});

test('a command line trickled without an end is cut after timeouts.commandLineMs with 421', async t => {
  const h = await setup(t, { options: { timeouts: { commandLineMs: 300 } } });
  const closes: string[] = [];
  h.server.on('session-close', e => closes.push(e.reason));
  const c = await connect(t, h);
  // One byte every 50 ms, never a line end: before, only the 300 s idle timeout ended this.
  c.write('N');
  const trickle = setInterval(() => { if (!c.closed) c.write('O'); }, 50);
  t.after(() => clearInterval(trickle));
  const r = await within(c.read(), 10_000);
  clearInterval(trickle);
  assert.notEqual(r, 'deadline', 'the server must not wait for the idle timeout');
  if (r === 'deadline') return;
  assert.equal(r.code, 421);
  assert.match(r.text, /Command line not completed within 0\.3 s/);
  await c.waitClosed();
  assert.deepEqual(closes, ['command line not completed in time']);
});

test('the command line deadline counts from the first byte of each line, not of the session', async t => {
  const h = await setup(t, { options: { timeouts: { commandLineMs: 1500 } } });
  const c = await connect(t, h);
  // Line 1 starts at 0 and ends at ~800 ms, together with the start of line 2, which ends at ~1600 ms:
  // past the deadline counted from line 1, well within it counted from line 2.
  c.write('NO');
  await delay(800);
  const first = c.read();
  c.write('OP\r\nNO');
  assert.equal((await first).code, 200);
  await delay(800);
  assert.equal((await c.send('OP')).code, 200);
  assert.equal(c.closed, false);
});
