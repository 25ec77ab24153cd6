/**
 * The client's structured events (docs/client.md, "Events") against the scripted fake server: data-channel
 * decisions with the advertised address, the target and the rule; fallbacks; replies with the command they
 * answer; the node:diagnostics_channel copies; the typed command on a control timeout. And the transfer's
 * life: abort() before the transfer command is sent sends no ABOR and leaves the session usable.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { PassThrough } from 'node:stream';
import { startFakeServer, type FakeServerOptions } from '../support/fake-server.js';
import {
  FtpClient, FtpAbortedError, FtpNetworkError, FtpReplyError, clientChannels,
  type ClientChannelMessage, type DataChannelEvent, type FallbackEvent, type FtpClientOptions, type ReplyEvent,
  type CommandEvent, type TranscriptEvent,
} from '../../src/client/index.js';

const FAST = { connectMs: 3000, greetingMs: 2000, commandMs: 2000, dataMs: 1500 };

async function setup(t: TestContext, fakeOpts: FakeServerOptions, clientOpts: Partial<FtpClientOptions> = {}) {
  const fake = await startFakeServer(fakeOpts);
  const client = new FtpClient({ host: fake.host, port: fake.port, timeouts: FAST, ...clientOpts });
  const seen = {
    dataChannel: [] as DataChannelEvent[], fallback: [] as FallbackEvent[], reply: [] as ReplyEvent[],
    command: [] as CommandEvent[], transcript: [] as TranscriptEvent[],
  };
  client.on('dataChannel', e => seen.dataChannel.push(e));
  client.on('fallback', e => seen.fallback.push(e));
  client.on('reply', e => seen.reply.push(e));
  client.on('command', e => seen.command.push(e));
  client.on('transcript', e => seen.transcript.push(e));
  t.after(async () => { client.destroy(); await fake.close(); });
  await client.connect();
  return { fake, client, seen };
}

function sink(): PassThrough { const s = new PassThrough(); s.resume(); return s; }

test('passive: EPSV refused, PASV with a foreign address: fallback, target by the control policy, replies tagged', async t => {
  const { client, seen } = await setup(t, { commands: { EPSV: '500 EPSV not understood.' }, pasv: { host: '10.0.0.5' }, listing: 'x\r\n' },
    { user: 'bob', password: 's3cret' });
  await client.nameList();
  assert.deepEqual(seen.fallback.map(({ from, to, reason, replyCode }) => ({ from, to, reason, replyCode })),
    [{ from: 'EPSV', to: 'PASV', reason: 'refused', replyCode: 500 }]);
  const steps = seen.dataChannel.map(e => e.step);
  assert.deepEqual(steps, ['command', 'target', 'connected']);
  const target = seen.dataChannel.find(e => e.step === 'target');
  assert.ok(target?.step === 'target');
  assert.equal(target.command, 'PASV');
  assert.equal(target.advertised.host, '10.0.0.5', 'the address as the reply advertised it');
  assert.equal(target.target.host, '127.0.0.1', 'the control host is where the client connects');
  assert.equal(target.target.port, target.advertised.port);
  assert.deepEqual({ rule: target.rule, source: target.source, replaced: target.replaced },
    { rule: 'control', source: 'control host', replaced: true });
  // Replies name the command they answer; the greeting answers none; PASS stays masked.
  assert.equal(seen.reply[0]!.code, 220);
  assert.equal(seen.reply[0]!.command, undefined);
  assert.equal(seen.reply.find(r => r.code === 230)?.command, 'PASS ****');
  assert.equal(seen.reply.find(r => r.code === 500)?.command, 'EPSV');
  assert.equal(seen.reply.find(r => r.code === 227)?.command, 'PASV');
  assert.deepEqual(seen.reply.filter(r => r.command === 'NLST').map(r => r.code), [150, 226]);
  assert.ok(seen.command.some(c => c.command === 'PASS ****') && !seen.command.some(c => c.command.includes('s3cret')));
  // The transcript is made from the same events.
  assert.ok(seen.transcript.some(e => e.kind === 'status' && e.text === 'EPSV refused with 500: falling back to PASV'));
  assert.ok(seen.transcript.some(e => e.kind === 'response' && /^227 /.test(e.text)));
});

test('the events are published on node:diagnostics_channel with the client that made them', async t => {
  const messages: ClientChannelMessage<DataChannelEvent>[] = [];
  const onMessage = (m: unknown): void => { messages.push(m as ClientChannelMessage<DataChannelEvent>); };
  diagnosticsChannel.subscribe(clientChannels.dataChannel, onMessage);
  t.after(() => diagnosticsChannel.unsubscribe(clientChannels.dataChannel, onMessage));
  const { client } = await setup(t, { listing: 'x\r\n' });
  await client.nameList();
  const mine = messages.filter(m => m.client === client);
  assert.deepEqual(mine.map(m => m.event.step), ['command', 'target', 'connected']);
  const target = mine[1]!.event;
  assert.ok(target.step === 'target' && target.command === 'EPSV' && target.rule === 'epsv' && target.advertised.host === undefined);
});

test('active: the listening socket, the advertised address and its rule, EPRT refused then PORT', async t => {
  const { client, seen, fake } = await setup(t, { commands: { EPRT: '502 EPRT not implemented.' }, listing: 'x\r\n' },
    { data: { mode: 'active' } });
  await client.nameList();
  const byStep = (s: string) => seen.dataChannel.filter(e => e.step === s);
  const listen = byStep('listen')[0];
  assert.ok(listen?.step === 'listen');
  assert.equal(listen.rule, 'control-local-address');
  assert.equal(listen.advertised.host, '127.0.0.1');
  assert.equal(listen.advertised.port, listen.listening.port);
  const offers = byStep('offer');
  assert.deepEqual(offers.map(e => e.step === 'offer' && e.command), ['EPRT', 'PORT']);
  const port = offers[1]!;
  assert.ok(port.step === 'offer');
  const p = listen.listening.port;
  assert.equal(port.argument, `127,0,0,1,${p >> 8},${p & 255}`);
  assert.ok(fake.received.some(c => c.verb === 'PORT' && c.arg === port.argument), 'the argument is what went on the wire');
  assert.deepEqual(seen.fallback.map(({ from, to, replyCode }) => ({ from, to, replyCode })), [{ from: 'EPRT', to: 'PORT', replyCode: 502 }]);
  assert.equal(byStep('connected').length, 1);
});

test('a transfer retried in the other mode is a fallback event naming the failure', async t => {
  const { client, seen } = await setup(t, { pasv: { port: 'closed' }, commands: { EPSV: '500 no.' }, listing: 'x\r\n' },
    { data: { fallback: true } });
  await client.nameList();
  const retry = seen.fallback.find(e => e.reason === 'connection-failed');
  assert.ok(retry, JSON.stringify(seen.fallback));
  assert.equal(retry.from, 'passive');
  assert.equal(retry.to, 'active');
  assert.ok(retry.error instanceof FtpNetworkError && retry.error.failure === 'refused');
});

test('a 425 to PASV is the server refusing the command, not a failed data connection: no fallback', async t => {
  const { client, seen, fake } = await setup(t, { commands: { EPSV: '500 no.', PASV: '425 Use EPSV instead.' } },
    { data: { fallback: true } });
  await assert.rejects(client.nameList(), (e: unknown) => e instanceof FtpReplyError && e.replyCode === 425 && e.command === 'PASV');
  assert.deepEqual(seen.fallback.map(e => e.reason), ['refused'], 'only EPSV -> PASV');
  assert.ok(!fake.verbs().includes('EPRT') && !fake.verbs().includes('PORT'));
});

test('MLSD refused although FEAT lists MLST: a fallback event, then LIST', async t => {
  const { client, seen } = await setup(t, {
    commands: { FEAT: '211-Features:\r\n MLST type*;size*;\r\n EPSV\r\n211 End', MLSD: '500 MLSD not understood.' },
    listing: '-rw-r--r-- 1 u g 3 Jan 01 2024 a.txt\r\n',
  });
  const entries = await client.list();
  assert.deepEqual(entries.map(e => e.name), ['a.txt']);
  assert.deepEqual(seen.fallback.map(({ from, to, replyCode }) => ({ from, to, replyCode })), [{ from: 'MLSD', to: 'LIST', replyCode: 500 }]);
});

test('a command left unanswered: the timeout error names the command it waited for', async t => {
  const { client } = await setup(t, { commands: { EPSV: { never: true } } });
  await assert.rejects(client.nameList(), (e: unknown) => e instanceof FtpNetworkError && e.connection === 'control'
    && e.phase === 'command' && e.failure === 'timeout' && e.command === 'EPSV' && /no reply to EPSV/.test(e.message));
});

test('abort() while REST is pending (before the transfer command): no ABOR is sent, the session goes on', async t => {
  const { client, fake } = await setup(t, { commands: { REST: [{ delayMs: 300 }, '350 Pending.'] }, files: { 'f.bin': 'abcdef' } });
  const download = client.download('f.bin', sink(), { startAt: 2 });
  await fake.waitFor('REST');
  await client.abort();
  await assert.rejects(download, FtpAbortedError);
  assert.ok(!fake.verbs().includes('ABOR'), `nothing to abort on the server: ${fake.verbs().join(' ')}`);
  assert.ok(!fake.verbs().includes('RETR'), 'the transfer command was never sent');
  // The control connection is in step: the next command gets its own reply, also after the command timeout.
  await new Promise(resolve => setTimeout(resolve, FAST.commandMs + 300));
  assert.equal(await client.pwd(), '/');
});
