/**
 * FtpClient against the scripted fake server: odd replies and failures end in a clear typed error within
 * the timeouts, never a hang; the control connection stays in step after a failed transfer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { startFakeServer, closedPort, type FakeServerOptions, type FakeFtpServer } from '../support/fake-server.js';
import { FtpClient } from '../../src/client/index.js';
import {
  FtpNetworkError, FtpProtocolError, FtpReplyError, FtpUsageError, FtpAbortedError, FtpClosedError,
} from '../../src/errors.js';
import type { FtpClientOptions, TranscriptEvent } from '../../src/client/index.js';
import type { TestContext } from 'node:test';

const FAST = { connectMs: 3000, greetingMs: 2000, commandMs: 2000, dataMs: 800 };

async function setup(t: TestContext, fakeOpts: FakeServerOptions, clientOpts: Partial<FtpClientOptions> = {}, connect = true) {
  const fake = await startFakeServer(fakeOpts);
  const client = new FtpClient({ host: fake.host, port: fake.port, timeouts: FAST, ...clientOpts });
  const transcript: TranscriptEvent[] = [];
  client.on('transcript', e => transcript.push(e));
  t.after(async () => { client.destroy(); await fake.close(); });
  if (connect) await client.connect();
  return { fake, client, transcript, statusText: () => transcript.filter(e => e.kind === 'status').map(e => e.text).join('\n') };
}

async function elapsed<T>(p: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  try { await p; return { ms: performance.now() - start, error: undefined }; } catch (error) { return { ms: performance.now() - start, error }; }
}

function sink(): PassThrough { const s = new PassThrough(); s.resume(); return s; }

/**
 * A port whose connects hang like a firewall DROP: a listener with a full accept queue (backlog 0, filled),
 * so Linux drops further SYNs. Held by a python3 child that never accepts.
 */
async function blackholePort(t: TestContext): Promise<number> {
  const py = spawn('/usr/bin/python3', ['-c', 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { py.kill(); });
  const [line] = await once(py.stdout!, 'data') as [Buffer];
  const port = Number(line.toString().trim());
  const fillers: net.Socket[] = [];
  t.after(() => { for (const s of fillers) s.destroy(); });
  for (let i = 0; i < 3; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  await Promise.race([once(fillers[0], 'connect'), once(fillers[1], 'connect')]);
  return port;
}


test('connection refused is a control connect failure, classified, with elapsed time', async () => {
  const port = await closedPort();
  const client = new FtpClient({ host: '127.0.0.1', port, timeouts: FAST });
  const { error } = await elapsed(client.connect());
  assert.ok(error instanceof FtpNetworkError, String(error));
  assert.equal(error.connection, 'control');
  assert.equal(error.phase, 'connect');
  assert.equal(error.failure, 'refused');
  assert.equal(typeof error.elapsedMs, 'number');
  assert.match(error.message, new RegExp(`control connection to 127.0.0.1:${port} was refused after \\d+ ms`));
});

test('a silent server: greeting timeout', async t => {
  const { client } = await setup(t, { greeting: { never: true } }, {}, false);
  const { ms, error } = await elapsed(client.connect());
  assert.ok(error instanceof FtpNetworkError, String(error));
  assert.equal(error.phase, 'greeting');
  assert.equal(error.failure, 'timeout');
  assert.ok(ms < FAST.greetingMs + 1000, `took ${ms} ms`);
  assert.equal(client.connected, false);
});

test('a multi-line reply that never closes: FtpProtocolError within the command timeout', async t => {
  const { client } = await setup(t, { commands: { FEAT: { raw: '211-Features:\r\n EPSV\r\n' } } }, {}, false);
  const { ms, error } = await elapsed(client.connect());
  assert.ok(error instanceof FtpProtocolError, String(error));
  assert.match(error.message, /multi-line reply 211 .* not closed/);
  assert.ok(ms < FAST.commandMs + 1000, `took ${ms} ms`);
});

test('a non-numeric reply and an over-long reply line are protocol errors', async t => {
  const a = await setup(t, { commands: { PWD: { raw: 'hello, I am not FTP\r\n' } } });
  assert.ok(await a.client.pwd().catch(e => e) instanceof FtpProtocolError);
  assert.equal(a.client.connected, false);
  const b = await setup(t, { commands: { PWD: { raw: '257 "' + 'x'.repeat(20000) } } });
  const err = await b.client.pwd().catch(e => e);
  assert.ok(err instanceof FtpProtocolError, String(err));
  assert.match(err.message, /longer than/);
});

test('a server closing the control connection mid-transfer: typed error, no hang', async t => {
  const { client } = await setup(t, {
    commands: { RETR: [{ transfer: { onConnect: 'hold' } }, { delayMs: 50 }, { close: true }] },
    files: { f: 'x' },
  });
  const { ms, error } = await elapsed(client.download('f', sink()));
  assert.ok(error instanceof FtpNetworkError, String(error));
  assert.equal(error.connection, 'control');
  assert.equal(error.failure, 'closed');
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.equal(client.connected, false);
});

test('a data connection reset mid-transfer: typed error, and the session stays usable', async t => {
  const { client, fake } = await setup(t, { data: { onConnect: 'reset' }, files: { f: 'x'.repeat(1000) },
    commands: { ABOR: '225 No transfer to abort.' } });
  const err = await client.download('f', sink()).catch(e => e);
  assert.ok((err instanceof FtpNetworkError && err.connection === 'data') || (err instanceof FtpReplyError && err.replyCode === 426), String(err));
  const r = await client.send('NOOP');
  assert.equal(r.code, 200);
  assert.equal(fake.verbs().at(-1), 'NOOP');
});

test('a passive data connection that never opens: data connect timeout within the data timeout', async t => {
  const port = await blackholePort(t);
  const { client } = await setup(t, { pasv: { port } }, { data: { passive: { command: 'pasv' } } });
  const { ms, error } = await elapsed(client.list());
  assert.ok(error instanceof FtpNetworkError, String(error));
  assert.equal(error.connection, 'data');
  assert.equal(error.phase, 'connect');
  assert.equal(error.failure, 'timeout');
  assert.match(error.message, new RegExp(`data connection to 127.0.0.1:${port} timed out after \\d+ ms \\(control host\\)`));
  assert.ok(ms >= FAST.dataMs - 50 && ms < FAST.dataMs + 1500, `took ${ms} ms`);
});

test('an active data connection that never comes: accept timeout, then ABOR resynchronises', async t => {
  const { client, fake } = await setup(t, { data: { activeConnect: false, waitMs: 200 }, files: { f: 'abc' } },
    { data: { mode: 'active' } });
  const { error } = await elapsed(client.download('f', sink()));
  // The fake gives up after 200 ms with 425 before our 800 ms accept timeout.
  assert.ok(error instanceof FtpReplyError && error.replyCode === 425, String(error));
  // The fake connects back only after 2 s (to our closed listener, so it answers 425), then answers ABOR.
  const fake2 = await setup(t, { data: { delayMs: 2000 }, files: { f: 'abc' },
    commands: { ABOR: '225 ABOR ok' } }, { data: { mode: 'active' }, timeouts: { ...FAST, commandMs: 4000 } });
  const r2 = await elapsed(fake2.client.download('f', sink()));
  void r2.ms;
  assert.ok(r2.error instanceof FtpNetworkError, String(r2.error));
  assert.equal(r2.error.phase, 'accept');
  assert.equal(r2.error.failure, 'timeout');
  assert.match(r2.error.message, /active mode: the server never connected back/);
  assert.ok(r2.ms < FAST.dataMs + 2500, `took ${r2.ms} ms`);
  assert.ok(fake2.fake.verbs().includes('ABOR'));
  assert.equal((await fake2.client.send('NOOP')).code, 200);
  void fake;
});

test('bogus PASV numbers are a protocol error; EPSV with a bogus port too', async t => {
  const { client } = await setup(t, { commands: { PASV: '227 Entering Passive Mode (300,1,2,3,4,5).' } },
    { data: { passive: { command: 'pasv' } } });
  const err = await client.list().catch(e => e);
  assert.ok(err instanceof FtpProtocolError, String(err));
  assert.match(err.message, /unusable PASV reply/);
  const b = await setup(t, { commands: { EPSV: '229 Entering Extended Passive Mode (|||99999|)' } },
    { data: { passive: { command: 'epsv' } } });
  const err2 = await b.client.list().catch(e => e);
  assert.ok(err2 instanceof FtpProtocolError, String(err2));
});

test('CR, LF and NUL in arguments are refused before anything is sent', async t => {
  const { client, fake } = await setup(t, {});
  const before = fake.received.length;
  for (const bad of ['a\r\nDELE x', 'a\nb', 'a\0b']) {
    await assert.rejects(client.delete(bad), FtpUsageError);
    await assert.rejects(client.send(`NOOP ${bad}`), FtpUsageError);
  }
  assert.equal(fake.received.length, before);
  assert.equal((await client.send('NOOP')).code, 200);
});

test('the password is masked in the transcript; a failed login is an FtpReplyError', async t => {
  const { transcript } = await setup(t, {}, { user: 'bob', password: 's3cret' });
  const text = transcript.map(e => e.text).join('\n');
  assert.match(text, /PASS \*\*\*\*/);
  assert.doesNotMatch(text, /s3cret/);
  const bad = await setup(t, { commands: { PASS: '530 Login incorrect.' } }, { user: 'bob', password: 's3cret' }, false);
  const err = await bad.client.connect().catch(e => e);
  assert.ok(err instanceof FtpReplyError, String(err));
  assert.equal(err.replyCode, 530);
  assert.doesNotMatch(err.message, /s3cret/);
});

test('abort() during a download: ABOR sent, 426+226 consumed, FtpAbortedError, session usable', async t => {
  const { client, fake } = await setup(t, {
    files: { f: 'x' },
    commands: { RETR: { transfer: { onConnect: 'hold' } }, ABOR: ['426 Transfer aborted.', '226 Abort successful.'] },
  }, { timeouts: { ...FAST, dataMs: 10_000 } });
  const p = client.download('f', sink());
  await fake.waitFor('RETR');
  // wait until the transfer is really running (150 seen by the client)
  await new Promise<void>(resolve => client.on('transcript', e => { if (e.text.startsWith('150')) resolve(); }));
  const [res] = await Promise.allSettled([p, client.abort()]);
  assert.equal(res.status, 'rejected');
  assert.ok(res.reason instanceof FtpAbortedError, String(res.reason));
  assert.ok(fake.verbs().includes('ABOR'));
  assert.equal((await client.send('NOOP')).code, 200);
});

test('an AbortSignal aborts a download (226 then 225 order)', async t => {
  const { client, fake } = await setup(t, {
    files: { f: 'x' },
    commands: { RETR: { transfer: { onConnect: 'hold' } }, ABOR: ['226 Closing data connection.', '225 ABOR ok'] },
  }, { timeouts: { ...FAST, dataMs: 10_000 } });
  const ac = new AbortController();
  const p = client.download('f', sink(), { signal: ac.signal });
  await fake.waitFor('RETR');
  await new Promise<void>(resolve => client.on('transcript', e => { if (e.text.startsWith('150')) resolve(); }));
  ac.abort();
  await assert.rejects(p, FtpAbortedError);
  assert.equal((await client.send('NOOP')).code, 200);
});

test('a stalled download (data connection open, no bytes) fails after the data timeout', async t => {
  const { client } = await setup(t, {
    files: { f: 'x' },
    commands: { RETR: { transfer: { onConnect: 'hold' } }, ABOR: ['426 Transfer aborted.', '226 Abort successful.'] },
  });
  const { ms, error } = await elapsed(client.download('f', sink()));
  assert.ok(error instanceof FtpNetworkError, String(error));
  assert.equal(error.connection, 'data');
  assert.equal(error.phase, 'transfer');
  assert.equal(error.failure, 'timeout');
  assert.ok(ms < FAST.dataMs + FAST.commandMs + 500, `took ${ms} ms`);
  assert.equal((await client.send('NOOP')).code, 200);
});

test('a 550 to RETR leaves no partial file and keeps the session', async t => {
  const fs = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftpkit-client-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const { client } = await setup(t, {});
  const err = await client.download('missing', path.join(dir, 'out.bin')).catch(e => e);
  assert.ok(err instanceof FtpReplyError && err.replyCode === 550, String(err));
  assert.equal(err.command, 'RETR missing');
  assert.deepEqual(await fs.readdir(dir), []);
});

void (null as unknown as FakeFtpServer);

test('destroy() during a transfer: FtpClosedError at once; during a data connect too', async t => {
  const { client, fake } = await setup(t, { files: { f: 'x' }, commands: { RETR: { transfer: { onConnect: 'hold' } } } },
    { timeouts: { ...FAST, dataMs: 10_000 } });
  const p = client.download('f', sink());
  await fake.waitFor('RETR');
  client.destroy();
  const { ms, error } = await elapsed(p);
  assert.ok(error instanceof FtpClosedError, String(error));
  assert.ok(ms < 500, `took ${ms} ms`);
  assert.equal(client.connected, false);
  await assert.rejects(client.pwd(), FtpClosedError);
});

test('an unsolicited 421 (server shutting down while idle) closes the session with the reply', async t => {
  const { client, fake } = await setup(t, {});
  fake.sessions[0].reply('421 Service not available, closing control connection.');
  await new Promise<void>(resolve => client.on('transcript', e => { if (e.text.startsWith('421')) resolve(); }));
  const err = await client.send('NOOP').catch(e => e);
  assert.ok(err instanceof FtpReplyError && err.replyCode === 421, String(err));
  assert.equal(client.connected, false);
});

test('a refused USER names the USER command; a refused PASS names PASS without the password', async t => {
  const u = await setup(t, { commands: { USER: '530 This FTP server is anonymous only.' } }, { user: 'bob', password: 'pw1234' }, false);
  const e1 = await u.client.connect().catch(e => e);
  assert.ok(e1 instanceof FtpReplyError, String(e1));
  assert.equal(e1.command, 'USER bob');
  const p = await setup(t, { commands: { PASS: '530 Login incorrect.' } }, { user: 'bob', password: 'pw1234' }, false);
  const e2 = await p.client.connect().catch(e => e);
  assert.equal(e2.command, 'PASS ****');
  assert.doesNotMatch(String(e2.message), /pw1234/);
});

test('a reply line that never ends (no line end): FtpProtocolError within the command timeout', async t => {
  const { client } = await setup(t, { commands: { PWD: { raw: '257 "/half' } } });
  const { ms, error } = await elapsed(client.pwd());
  assert.ok(error instanceof FtpProtocolError, String(error));
  assert.match(error.message, /reply line of 10 bytes without line end after \d+ ms \(waiting for the reply to PWD\)/);
  assert.ok(ms >= FAST.commandMs - 50 && ms < FAST.commandMs + 1000, `took ${ms} ms`);
});

test('a server that answers nothing to a command: control timeout naming the command', async t => {
  const { client } = await setup(t, { commands: { SIZE: { never: true } } });
  const { ms, error } = await elapsed(client.size('f'));
  assert.ok(error instanceof FtpNetworkError, String(error));
  assert.equal(error.connection, 'control');
  assert.equal(error.failure, 'timeout');
  assert.match(error.message, /no reply to SIZE/);
  assert.ok(ms < FAST.commandMs + 1000, `took ${ms} ms`);
  assert.equal(client.connected, false);
});

test('abort() against a server that folds the transfer and ABOR replies into one (pure-ftpd)', async t => {
  const { client, fake, transcript } = await setup(t, {
    files: { f: 'x' },
    commands: { RETR: { transfer: { onConnect: 'hold' } }, ABOR: '226 Since you see this ABOR must have succeeded' },
  }, { timeouts: { ...FAST, commandMs: 5000, dataMs: 10_000 } });
  const p = client.download('f', sink());
  await fake.waitFor('RETR');
  await new Promise<void>(resolve => client.on('transcript', e => { if (e.text.startsWith('150')) resolve(); }));
  const { ms } = await elapsed(client.abort());
  await assert.rejects(p, FtpAbortedError);
  assert.ok(ms < 4000, `took ${ms} ms`);
  assert.ok(transcript.some(e => e.text === 'ABOR: the server sent a single reply for the transfer and ABOR'));
  assert.equal((await client.send('NOOP')).code, 200);
});

test('a server that says 421 and closes while idle: the next call reports the 421', async t => {
  const { client, fake } = await setup(t, {});
  const closed = new Promise<void>(resolve => client.on('transcript', e => { if (e.text.startsWith('421')) resolve(); }));
  fake.sessions[0].reply('421 Timeout (no operation for 300 seconds).');
  fake.sessions[0].socket.end();
  await closed;
  await once(fake.sessions[0].socket, 'close');
  const err = await client.pwd().catch(e => e);
  assert.ok(err instanceof FtpReplyError && err.replyCode === 421, String(err));
  assert.match(err.message, /Timeout \(no operation for 300 seconds\)/);
});

test('abort() while the passive data connection is still connecting: stops at once', async t => {
  const port = await blackholePort(t);
  const { client, transcript } = await setup(t, { pasv: { port } },
    { data: { passive: { command: 'pasv' } }, timeouts: { ...FAST, dataMs: 20_000 } });
  const p = client.list();
  await new Promise<void>(resolve => client.on('transcript', e => { if (e.text.startsWith('227')) resolve(); }));
  const { ms } = await elapsed(client.abort());
  await assert.rejects(p, FtpAbortedError);
  assert.ok(ms < 1000, `took ${ms} ms`);
  assert.ok(!transcript.some(e => e.kind === 'command' && e.text.startsWith('LIST')), 'LIST never sent');
  assert.equal((await client.send('NOOP')).code, 200);
});

test('an upload cut by the server (quota): the 552 reply is the error, the reset its cause', async t => {
  const { client } = await setup(t, {
    commands: {
      STOR: async (_cmd, session) => {
        const sock = await session.dataSocket();
        session.reply('150 Ok to send data.');
        // read a little, then cut the connection like a server that ran out of quota
        await once(sock!, 'data');
        sock!.resetAndDestroy();
        session.closeDataListener();
        return '552 Quota exceeded.';
      },
    },
  });
  const big = Readable.from((function* () { for (let i = 0; i < 200; i++) yield Buffer.alloc(64 * 1024, i); })());
  const err = await client.upload(big, 'f').catch(e => e);
  assert.ok(err instanceof FtpReplyError && err.replyCode === 552, String(err));
  assert.equal(err.command, 'STOR f');
  assert.ok(err.cause === undefined || (err.cause instanceof FtpNetworkError && err.cause.connection === 'data'));
  assert.equal((await client.send('NOOP')).code, 200);
});

test('destroy() while the control connection is still connecting: FtpClosedError at once', async t => {
  const port = await blackholePort(t);
  const client = new FtpClient({ host: '127.0.0.1', port, timeouts: { ...FAST, connectMs: 20_000 } });
  const connecting = new Promise<void>(resolve => client.on('transcript', e => { if (e.text.startsWith('connecting to')) resolve(); }));
  const p = client.connect();
  await connecting;
  const started = performance.now();
  client.destroy();
  const { error } = await elapsed(p);
  assert.ok(error instanceof FtpClosedError, String(error));
  assert.ok(performance.now() - started < 1000);
  // destroy() right after connect(), before the queued connect runs: cancelled too
  const p2 = client.connect();
  client.destroy();
  assert.ok((await p2.catch(e => e)) instanceof FtpClosedError);
});
