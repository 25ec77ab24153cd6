// Self-tests of the scripted fake FTP server (test/support/fake-server.ts) with raw sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { startFakeServer, type FakeFtpServer } from '../support/fake-server.js';

/** A raw control connection that reads whole lines. */
class Raw {
  readonly socket: Socket;
  private buf = '';
  private waiters: (() => void)[] = [];
  ended = false;
  error: NodeJS.ErrnoException | undefined;
  constructor(port: number) {
    this.socket = createConnection({ host: '127.0.0.1', port });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => { this.buf += d; this.wake(); });
    this.socket.on('end', () => { this.ended = true; this.wake(); });
    this.socket.on('error', e => { this.error = e; this.wake(); });
    this.socket.on('close', () => { this.ended = true; this.wake(); });
  }
  private wake() { for (const w of this.waiters.splice(0)) w(); }
  async line(): Promise<string | undefined> {
    for (;;) {
      const nl = this.buf.indexOf('\r\n');
      if (nl >= 0) { const l = this.buf.slice(0, nl); this.buf = this.buf.slice(nl + 2); return l; }
      if (this.ended || this.error) return undefined;
      await new Promise<void>(r => this.waiters.push(r));
    }
  }
  async closed(): Promise<void> {
    while (!this.ended && !this.error) await new Promise<void>(r => this.waiters.push(r));
  }
  send(line: string) { this.socket.write(`${line}\r\n`); }
  async cmd(line: string) { this.send(line); return this.line(); }
  get pending() { return this.buf; }
}

async function withFake(t: { after: (fn: () => unknown) => void }, opts: Parameters<typeof startFakeServer>[0]): Promise<FakeFtpServer> {
  const fake = await startFakeServer(opts);
  t.after(() => fake.close());
  return fake;
}

function rawClient(t: { after: (fn: () => unknown) => void }, port: number): Raw {
  const r = new Raw(port);
  t.after(() => r.socket.destroy());
  return r;
}

async function readAll(sock: Socket): Promise<string> {
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  await once(sock, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

test('defaults: greeting, login, records every command in order', async t => {
  const fake = await withFake(t, {});
  const c = rawClient(t, fake.port);
  assert.equal(await c.line(), '220 ftpkit fake server');
  assert.equal(await c.cmd('user anonymous'), '331 Password required.');
  assert.equal(await c.cmd('PASS secret'), '230 Logged in.');
  assert.equal(await c.cmd('XYZZY'), '502 XYZZY not implemented.');
  assert.equal(await c.cmd('QUIT'), '221 Goodbye.');
  await c.closed();
  assert.deepEqual(fake.verbs(), ['USER', 'PASS', 'XYZZY', 'QUIT']);
  assert.equal(fake.received[0].arg, 'anonymous');
  assert.equal(fake.received[1].line, 'PASS secret');
});

test('scripted replies: multi-line, functions with call counts, raw bytes', async t => {
  const fake = await withFake(t, {
    greeting: ['220-Welcome', { reply: '220 ready' }],
    commands: {
      PASS: (_cmd, s) => (s.calls.get('PASS') === 1 ? '530 Login incorrect.' : '230 OK'),
      SYST: { raw: '215 no newline yet' },
      FEAT: '211-Features:\r\n MLST type*;size*;\r\n211 End',
    },
  });
  const c = rawClient(t, fake.port);
  assert.equal(await c.line(), '220-Welcome');
  assert.equal(await c.line(), '220 ready');
  assert.equal(await c.cmd('PASS a'), '530 Login incorrect.');
  assert.equal(await c.cmd('PASS b'), '230 OK');
  assert.equal(await c.cmd('FEAT'), '211-Features:');
  assert.equal(await c.line(), ' MLST type*;size*;');
  assert.equal(await c.line(), '211 End');
  c.send('SYST');
  await fake.waitFor('SYST');
  c.send('NOOP'); // answered after the raw bytes: the first "line" is the unterminated one joined with it
  assert.equal(await c.line(), '215 no newline yet200 OK.');
});

test('never answer, delay, close and reset', async t => {
  const fake = await withFake(t, {
    commands: {
      NOOP: { never: true },
      STAT: [{ delayMs: 50 }, '211 late'],
      QUIT: { close: true },
      ABOR: { reset: true },
    },
  });
  const c = rawClient(t, fake.port);
  await c.line();
  c.send('NOOP');
  // the fake answers one command at a time: STAT waits behind the swallowed NOOP forever
  await fake.waitFor('NOOP');
  const started = Date.now();
  const c2 = rawClient(t, fake.port);
  await c2.line();
  assert.equal(await c2.cmd('STAT'), '211 late');
  assert.ok(Date.now() - started >= 45);
  assert.equal(c.pending, '');
  const c3 = rawClient(t, fake.port);
  await c3.line();
  c3.send('QUIT');
  assert.equal(await c3.line(), undefined);
  assert.equal(c3.error, undefined); // FIN, not RST
  const c4 = rawClient(t, fake.port);
  await c4.line();
  c4.send('ABOR');
  await c4.closed();
  assert.equal(c4.error?.code, 'ECONNRESET');
});

test('PASV/EPSV open a real listener; LIST and RETR send data, STOR records an upload', async t => {
  const fake = await withFake(t, { listing: 'line1\r\nline2\r\n', files: { 'a.txt': 'hello' } });
  const c = rawClient(t, fake.port);
  await c.line();
  const pasv = await c.cmd('PASV');
  const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(pasv!)!;
  assert.equal(m.slice(1, 5).join('.'), '127.0.0.1');
  const data = createConnection({ host: '127.0.0.1', port: Number(m[5]) * 256 + Number(m[6]) });
  t.after(() => data.destroy());
  const body = readAll(data);
  assert.equal(await c.cmd('LIST'), '150 Opening data connection.');
  assert.equal(await body, 'line1\r\nline2\r\n');
  assert.equal(await c.line(), '226 Transfer complete.');

  const epsv = await c.cmd('EPSV');
  const port = Number(/\(\|\|\|(\d+)\|\)/.exec(epsv!)![1]);
  const d2 = createConnection({ host: '127.0.0.1', port });
  t.after(() => d2.destroy());
  const body2 = readAll(d2);
  assert.equal(await c.cmd('RETR a.txt'), '150 Opening data connection.');
  assert.equal(await body2, 'hello');
  assert.equal(await c.line(), '226 Transfer complete.');
  assert.equal(await c.cmd('SIZE a.txt'), '213 5');
  assert.equal(await c.cmd('RETR missing'), '550 No such file.');

  const epsv2 = await c.cmd('EPSV');
  const d3 = createConnection({ host: '127.0.0.1', port: Number(/\|(\d+)\|/.exec(epsv2!)![1]) });
  t.after(() => d3.destroy());
  await once(d3, 'connect');
  assert.equal(await c.cmd('STOR up.bin'), '150 Opening data connection.');
  d3.end(Buffer.from([0, 1, 2, 255]));
  assert.equal(await c.line(), '226 Transfer complete.');
  assert.deepEqual(fake.uploads.get('up.bin'), Buffer.from([0, 1, 2, 255]));
  assert.equal(fake.dataConnections, 3);
});

test('PASV can advertise a bogus host and a closed port; no listener means 425', async t => {
  const fake = await withFake(t, { pasv: { host: '10.1.2.3', port: 'closed' }, data: { waitMs: 100 } });
  const c = rawClient(t, fake.port);
  await c.line();
  const pasv = await c.cmd('PASV');
  const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(pasv!)!;
  assert.equal(m.slice(1, 5).join('.'), '10.1.2.3');
  const port = Number(m[5]) * 256 + Number(m[6]);
  const probe = createConnection({ host: '127.0.0.1', port });
  t.after(() => probe.destroy());
  const [err] = await once(probe, 'error');
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.equal(await c.cmd('LIST'), "425 Can't open data connection.");
});

test('data behaviours: reset and hold', async t => {
  const fake = await withFake(t, { files: { f: 'x'.repeat(10) }, data: { onConnect: 'reset' } });
  const c = rawClient(t, fake.port);
  await c.line();
  const port = Number(/\|(\d+)\|/.exec((await c.cmd('EPSV'))!)![1]);
  const d = createConnection({ host: '127.0.0.1', port });
  t.after(() => d.destroy());
  const errored = once(d, 'error');
  assert.equal(await c.cmd('RETR f'), '150 Opening data connection.');
  assert.equal((((await errored)[0]) as NodeJS.ErrnoException).code, 'ECONNRESET');
  assert.equal(await c.line(), '426 Connection closed; transfer aborted.');

  const held = await withFake(t, { files: { f: 'data' }, commands: { RETR: { transfer: { send: 'data', onConnect: 'hold' } } } });
  const h = rawClient(t, held.port);
  await h.line();
  const hp = Number(/\|(\d+)\|/.exec((await h.cmd('EPSV'))!)![1]);
  const hd = createConnection({ host: '127.0.0.1', port: hp });
  t.after(() => hd.destroy());
  let got = 0;
  hd.on('data', (b: Buffer) => { got += b.length; });
  assert.equal(await h.cmd('RETR f'), '150 Opening data connection.');
  assert.equal(await h.cmd('NOOP'), '200 OK.'); // control stays usable
  assert.equal(got, 0);
  assert.equal(hd.destroyed, false);
});

test('active mode: PORT and EPRT make the fake connect back, or not when told', async t => {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  t.after(() => listener.close());
  const lport = (listener.address() as AddressInfo).port;
  const fake = await withFake(t, { files: { f: 'active!' } });
  const c = rawClient(t, fake.port);
  await c.line();
  assert.equal(await c.cmd(`PORT 127,0,0,1,${lport >> 8},${lport & 255}`), '200 PORT command successful.');
  const accepted = once(listener, 'connection');
  c.send('RETR f');
  const [sock] = await accepted as [Socket];
  t.after(() => sock.destroy());
  assert.equal(await readAll(sock), 'active!');
  assert.equal(await c.line(), '150 Opening data connection.');
  assert.equal(await c.line(), '226 Transfer complete.');
  assert.equal(await c.cmd(`EPRT |1|127.0.0.1|${lport}|`), '200 EPRT command successful.');
  const accepted2 = once(listener, 'connection');
  c.send('RETR f');
  const [sock2] = await accepted2 as [Socket];
  t.after(() => sock2.destroy());
  assert.equal(await readAll(sock2), 'active!');

  const silent = await withFake(t, { data: { activeConnect: false, waitMs: 50 } });
  const s = rawClient(t, silent.port);
  await s.line();
  await s.cmd(`EPRT |1|127.0.0.1|${lport}|`);
  let connected = false;
  listener.once('connection', () => { connected = true; });
  assert.equal(await s.cmd('LIST'), "425 Can't open data connection.");
  assert.equal(connected, false);
});
