/**
 * The 'dataTls' event (docs/client.md, "Events"): each protected data connection says whether it resumed the
 * control connection's TLS session, against our FtpServer (which requires resumption) over loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { FtpClient, clientChannels, type ClientChannelMessage, type DataTlsEvent } from '../../src/client/index.js';
import { startServer } from '../support/server-harness.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

for (const mode of ['passive', 'active'] as const) {
  test(`explicit TLS, ${mode}: every data connection reports a resumed session`, { timeout: 30_000 }, async t => {
    const h = await startServer({ options: { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, handshakeTimeoutMs: 3000 } } });
    t.after(() => h.close());
    const onChannel: DataTlsEvent[] = [];
    const c = new FtpClient({ host: '127.0.0.1', port: h.port, user: 'test', password: 'test', secure: 'explicit',
      tls: { ca: pki.ca.cert }, data: { mode }, timeouts: { connectMs: 3000, greetingMs: 3000, commandMs: 5000, dataMs: 5000 } });
    const subscriber = (m: unknown): void => {
      const { client, event } = m as ClientChannelMessage<DataTlsEvent>;
      if (client === c) onChannel.push(event);
    };
    diagnosticsChannel.subscribe(clientChannels.dataTls, subscriber);
    t.after(() => { diagnosticsChannel.unsubscribe(clientChannels.dataTls, subscriber); c.destroy(); });
    const events: DataTlsEvent[] = [];
    c.on('dataTls', e => events.push(e));
    await c.connect();
    await c.upload(Readable.from([Buffer.from('hello')]), '/hello.txt');
    await c.nameList('/');
    assert.deepEqual(events.map(e => [e.direction, e.mode, e.resumed, e.sessionOffered]),
      [['upload', mode, true, true], ['list', mode, true, true]]);
    assert.ok(events.every(e => /^TLSv1\.[23]$/.test(e.protocol)), events.map(e => e.protocol).join());
    assert.deepEqual(onChannel, events, 'the channel carries the same events');
    await c.close();
  });
}
