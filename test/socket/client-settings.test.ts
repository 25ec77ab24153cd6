/**
 * Each data-connection setting changes what goes on the wire: asserted on the commands the fake server
 * received and on the client's 'status' transcript lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { startFakeServer, type FakeServerOptions } from '../support/fake-server.js';
import { FtpClient } from '../../src/client/index.js';
import { FtpNetworkError, FtpReplyError } from '../../src/errors.js';
import type { FtpClientOptions, TranscriptEvent } from '../../src/client/index.js';
import type { TestContext } from 'node:test';

const FAST = { connectMs: 5000, greetingMs: 5000, commandMs: 5000, dataMs: 5000 };
const LISTING = '-rw-r--r--    1 0        0              3 Jan 15 10:30 a.txt\r\n';

async function setup(t: TestContext, fakeOpts: FakeServerOptions, clientOpts: Partial<FtpClientOptions> = {}) {
  const fake = await startFakeServer({ listing: LISTING, ...fakeOpts });
  const client = new FtpClient({ host: fake.host, port: fake.port, timeouts: FAST, ...clientOpts });
  const transcript: TranscriptEvent[] = [];
  client.on('transcript', e => transcript.push(e));
  t.after(async () => { client.destroy(); await fake.close(); });
  await client.connect();
  const dataVerbs = () => fake.verbs().filter(v => ['EPSV', 'PASV', 'EPRT', 'PORT', 'LIST', 'RETR', 'STOR', 'MLSD'].includes(v));
  return { fake, client, transcript, dataVerbs, status: () => transcript.filter(e => e.kind === 'status').map(e => e.text).join('\n') };
}

test("passive 'auto': EPSV first; on 500 falls back to PASV and remembers it", async t => {
  const { client, dataVerbs, status } = await setup(t, { commands: { EPSV: '500 EPSV not understood' } });
  assert.equal((await client.list())[0].name, 'a.txt');
  assert.equal((await client.list()).length, 1);
  assert.deepEqual(dataVerbs(), ['EPSV', 'PASV', 'LIST', 'PASV', 'LIST']);
  assert.match(status(), /EPSV refused with 500: falling back to PASV/);
  assert.deepEqual(client.dataCommandsUsed, { passive: 'PASV' });
});

test("passive 'auto': an unusable 229 reply falls back to PASV", async t => {
  const { client, dataVerbs, status } = await setup(t, { commands: { EPSV: '229 Entering Extended Passive Mode (|||0|)' } });
  await client.list();
  assert.deepEqual(dataVerbs(), ['EPSV', 'PASV', 'LIST']);
  assert.match(status(), /EPSV reply is unusable/);
});

test("passive 'auto' keeps using EPSV when it works; 'pasv' never sends EPSV; 'epsv' never sends PASV", async t => {
  const a = await setup(t, {});
  await a.client.list(); await a.client.list();
  assert.deepEqual(a.dataVerbs(), ['EPSV', 'LIST', 'EPSV', 'LIST']);
  const b = await setup(t, {}, { data: { passive: { command: 'pasv' } } });
  await b.client.list();
  assert.deepEqual(b.dataVerbs(), ['PASV', 'LIST']);
  const c = await setup(t, { commands: { EPSV: '502 no' } }, { data: { passive: { command: 'epsv' } } });
  const err = await c.client.list().catch(e => e);
  assert.ok(err instanceof FtpReplyError && err.replyCode === 502, String(err));
  assert.deepEqual(c.dataVerbs(), ['EPSV']);
});

test("PASV address policies: 'reply' connects to the advertised address, 'control' and 'auto' (unspecified) to the control host", async t => {
  // 127.0.0.2 is loopback too but nothing listens there: connecting to it is refused.
  const r = await setup(t, { pasv: { host: '127.0.0.2' } }, { data: { passive: { command: 'pasv', addressPolicy: 'reply' } } });
  const err = await r.client.list().catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.equal(err.connection, 'data');
  assert.equal(err.failure, 'refused');
  assert.match(err.message, /data connection to 127\.0\.0\.2:\d+ was refused after \d+ ms \(PASV reply address\)/);

  const c = await setup(t, { pasv: { host: '127.0.0.2' } }, { data: { passive: { command: 'pasv', addressPolicy: 'control' } } });
  assert.equal((await c.client.list()).length, 1);
  assert.match(c.status(), /PASV reply names 127\.0\.0\.2; using the control connection's host 127\.0\.0\.1 \(--pasv-host reply to use it\)/);

  const a = await setup(t, { pasv: { host: '0.0.0.0' } }, { data: { passive: { command: 'pasv', addressPolicy: 'auto' } } });
  assert.equal((await a.client.list()).length, 1);
  assert.match(a.status(), /PASV reply address 0\.0\.0\.0 is unspecified: connecting to the control host 127\.0\.0\.1 \(addressPolicy auto\)/);
});

test('default PASV policy: a hostile 227 naming another host and port gets no connection; the upload goes to the control host', async t => {
  // The trap: a listener of our own on 127.0.0.2 at the port the 227 names (think of it as an SSH server on
  // another host). The fake's real data listener has the same port number on 127.0.0.1, the control host.
  const trapConnections: Buffer[] = [];
  const traps: net.Server[] = [];
  t.after(() => { for (const s of traps) s.close(); });
  const beforeReply = async (advertised: { host: string; port: number }): Promise<void> => {
    const trap = net.createServer(sock => { const got: Buffer[] = []; trapConnections.push(Buffer.alloc(0));
      sock.on('data', c => got.push(c)); sock.on('close', () => { trapConnections.push(Buffer.concat(got)); }); });
    traps.push(trap);
    trap.listen(advertised.port, advertised.host);
    await once(trap, 'listening');
  };
  const { client, fake, status } = await setup(t, { pasv: { host: '127.0.0.2', beforeReply } }, { data: { passive: { command: 'pasv' } } });
  await client.upload(Readable.from([Buffer.from('secret bytes')]), 'up1.txt');
  await client.upload(Readable.from([Buffer.from('more bytes')]), 'up2.txt');
  assert.equal(trapConnections.length, 0, 'nothing may connect to the host named in the 227 reply');
  assert.equal(fake.uploads.get('up1.txt')?.toString(), 'secret bytes');
  assert.equal(fake.uploads.get('up2.txt')?.toString(), 'more bytes');
  const said = status().split('\n').filter(l => l.startsWith('PASV reply names 127.0.0.2'));
  assert.deepEqual(said.map(l => l.replace(/127\.0\.0\.1/, 'CONTROL')),
    ["PASV reply names 127.0.0.2; using the control connection's host CONTROL (--pasv-host reply to use it)"], 'said once per session');
});

test("active 'auto': EPRT first, PORT on 500, remembered; 'port' sends PORT only", async t => {
  const a = await setup(t, { commands: { EPRT: '500 EPRT not understood' }, files: { f: 'abc' } }, { data: { mode: 'active' } });
  const out = new PassThrough(); const chunks: Buffer[] = []; out.on('data', c => chunks.push(c));
  await a.client.download('f', out);
  assert.equal(Buffer.concat(chunks).toString(), 'abc');
  await a.client.list();
  assert.deepEqual(a.dataVerbs(), ['EPRT', 'PORT', 'RETR', 'PORT', 'LIST']);
  assert.match(a.status(), /EPRT refused with 500: falling back to PORT/);

  const p = await setup(t, {}, { data: { mode: 'active', active: { command: 'port' } } });
  await p.client.list();
  assert.deepEqual(p.dataVerbs(), ['PORT', 'LIST']);
  const e = await setup(t, {}, { data: { mode: 'active', active: { command: 'eprt' } } });
  await e.client.list();
  assert.deepEqual(e.dataVerbs(), ['EPRT', 'LIST']);
});

test('active advertiseAddress and portRange change the EPRT/PORT argument', async t => {
  // Find a small free range.
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const base = (probe.address() as net.AddressInfo).port;
  probe.close();
  const range = { min: base, max: base + 2 };
  const a = await setup(t, {}, { data: { mode: 'active', active: { portRange: range, bindAddress: '127.0.0.1' } } });
  await a.client.list();
  const eprt = a.fake.received.find(c => c.verb === 'EPRT')!;
  const port = Number(eprt.arg.split('|')[3]);
  assert.ok(port >= range.min && port <= range.max, `EPRT ${eprt.arg} outside ${range.min}-${range.max}`);
  assert.match(a.status(), new RegExp(`listening on 127\\.0\\.0\\.1:${port} \\(port range ${range.min}-${range.max}\\)`));

  // A fixed advertised address (client behind NAT with a forwarded port): the server is told to connect there.
  const b = await setup(t, { data: { waitMs: 300 } }, { data: { mode: 'active', active: { command: 'port', advertiseAddress: '192.0.2.7' } } });
  const err = await b.client.list().catch(e => e);
  const portCmd = b.fake.received.find(c => c.verb === 'PORT')!;
  assert.match(portCmd.arg, /^192,0,2,7,\d+,\d+$/);
  assert.ok(err instanceof FtpReplyError && err.replyCode === 425, String(err));
});

test('active bindAddress: listen on that interface and advertise it (unless advertiseAddress says otherwise)', async t => {
  const a = await setup(t, {}, { data: { mode: 'active', active: { bindAddress: '127.0.0.3' } } });
  assert.equal((await a.client.list()).length, 1);
  assert.match(a.fake.received.find(c => c.verb === 'EPRT')!.arg, /^\|1\|127\.0\.0\.3\|\d+\|$/);
  assert.match(a.status(), /listening on 127\.0\.0\.3:\d+, advertising 127\.0\.0\.3:\d+ \(bindAddress\)/);
  // Listening on all interfaces, advertising the control connection's local address.
  const b = await setup(t, {}, { data: { mode: 'active', active: { bindAddress: '0.0.0.0', command: 'port' } } });
  assert.equal((await b.client.list()).length, 1);
  assert.match(b.fake.received.find(c => c.verb === 'PORT')!.arg, /^127,0,0,1,\d+,\d+$/);
  assert.match(b.status(), /listening on 0\.0\.0\.0:\d+, advertising 127\.0\.0\.1:\d+ \(local address of the control connection\)/);
});

test('active port range with no free port: a clear listen error', async t => {
  const holders: net.Server[] = [];
  t.after(() => { for (const h of holders) h.close(); });
  const first = net.createServer().listen(0, '127.0.0.1');
  await once(first, 'listening');
  holders.push(first);
  const port = (first.address() as net.AddressInfo).port;
  const { client } = await setup(t, {}, { data: { mode: 'active', active: { portRange: { min: port, max: port } } } });
  const err = await client.list().catch(e => e);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.equal(err.phase, 'listen');
  assert.equal(err.failure, 'address-in-use');
  assert.match(err.message, new RegExp(`no free port in the active port range ${port}-${port}`));
});

test('active mode accepts the data connection only from the server address', async t => {
  const { client, fake, status } = await setup(t, { data: { delayMs: 300 } }, { data: { mode: 'active' } });
  // As soon as the client advertises its port, an intruder from 127.0.0.2 connects first.
  let intruderClosed: Promise<unknown> | undefined;
  fake.on('command', c => {
    if (c.verb !== 'EPRT') return;
    const port = Number(c.arg.split('|')[3]);
    const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    s.on('error', () => {});
    intruderClosed = once(s, 'close');
  });
  assert.equal((await client.list()).length, 1);
  await intruderClosed;
  assert.match(status(), /refused a data connection from 127\.0\.0\.2: only 127\.0\.0\.1 may connect/);
});

test('fallback: a passive data connection that fails is retried once in active mode', async t => {
  const { client, dataVerbs, status } = await setup(t, { pasv: { port: 'closed' } }, { data: { fallback: true } });
  assert.equal((await client.list()).length, 1);
  assert.deepEqual(dataVerbs(), ['EPSV', 'EPRT', 'LIST']);
  assert.match(status(), /the passive data connection failed .* retrying once in active mode \(fallback\)/);
  // Without fallback the same server fails with a data connect error.
  const n = await setup(t, { pasv: { port: 'closed' } });
  const err = await n.client.list().catch(e => e);
  assert.ok(err instanceof FtpNetworkError && err.connection === 'data' && err.phase === 'connect', String(err));
  assert.deepEqual(n.dataVerbs(), ['EPSV']);
});

test('fallback: an active transfer answered 425 is retried in passive mode; a 550 is not retried', async t => {
  const { client, dataVerbs } = await setup(t, { data: { activeConnect: false }, files: { f: 'xyz' } },
    { data: { mode: 'active', fallback: true } });
  const out = new PassThrough(); out.resume();
  await client.download('f', out);
  assert.deepEqual(dataVerbs(), ['EPRT', 'RETR', 'EPSV', 'RETR']);
  await client.download('missing', out).catch(e => assert.ok(e instanceof FtpReplyError && e.replyCode === 550));
  assert.deepEqual(dataVerbs().slice(4), ['EPRT', 'RETR']);
});

test('LIST lines no parser understands (e.g. over the 64 Ki-character bound) are left out and said in the transcript', async t => {
  const long = `01-02-24  10:00AM       ${' '.repeat(70_000)}x\r\n`;
  const { client, status } = await setup(t, { listing: LISTING + long });
  const entries = await client.list();
  assert.deepEqual(entries.map(e => e.name), ['a.txt']);
  assert.match(status(), /LIST: 1 line\(s\) not understood and left out \(longest 70\d{3} characters\)/);
});
