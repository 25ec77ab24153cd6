/**
 * The CCC machinery of src/net/tls-ccc.ts on a real TCP pair: during a CCC only whole TLS records go to the
 * TLS layer; cleartext that arrives right behind the last record (even in the same segment, or split
 * across segments) is handed back in front of the released socket; TLS teardown neither ends nor destroys
 * the TCP connection; after a refusal (cancel) everything flows to TLS again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { DetachableStream } from '../../src/net/tls-ccc.js';

async function pair(t: { after(fn: () => void): void }): Promise<{ ours: net.Socket; peer: net.Socket }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection') as Promise<[net.Socket]>;
  const ours = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  await once(ours, 'connect');
  const [peer] = await accepted;
  t.after(() => { ours.destroy(); peer.destroy(); srv.close(); });
  return { ours, peer };
}

/** A fake TLS record: content type, version 3.3, length, body. */
function record(type: number, body: Buffer): Buffer {
  const h = Buffer.from([type, 3, 3, 0, 0]);
  h.writeUInt16BE(body.length, 3);
  return Buffer.concat([h, body]);
}

function collect(s: NodeJS.ReadableStream): Buffer[] {
  const got: Buffer[] = [];
  s.on('data', (d: Buffer) => got.push(d));
  return got;
}

test('while clearing: whole records to TLS, trailing cleartext handed back first on the released socket', { timeout: 10_000 }, async (t) => {
  const { ours, peer } = await pair(t);
  const stream = new DetachableStream(ours);
  const toTls = collect(stream);
  stream.prepareRelease();
  const alert = record(0x17, Buffer.alloc(19, 7)); // an encrypted close_notify looks like application data
  // Record split across two segments, cleartext command glued to its end.
  const arrived = once(ours, 'data'); // observe the raw socket: the partial record reached us
  peer.write(alert.subarray(0, 3));
  await arrived;
  peer.write(Buffer.concat([alert.subarray(3), Buffer.from('NOOP\r\n')]));
  // Wait until the record was forwarded (the test's own event, no sleep).
  while (Buffer.concat(toTls).length < alert.length) await once(stream, 'data');
  assert.deepEqual(Buffer.concat(toTls), alert);

  // TLS teardown must not touch the TCP connection.
  stream.end();
  stream.destroy();
  const raw = stream.release();
  assert.equal(raw, ours);
  assert.equal(raw.destroyed, false);
  const plain = collect(raw);
  raw.resume();
  peer.write('PWD\r\n');
  while (!Buffer.concat(plain).toString().includes('PWD')) await once(raw, 'data');
  assert.equal(Buffer.concat(plain).toString(), 'NOOP\r\nPWD\r\n');
  // And we can still talk cleartext the other way.
  raw.write('200 ok\r\n');
  const [reply] = await once(peer, 'data') as [Buffer];
  assert.equal(reply.toString(), '200 ok\r\n');
});

test('cancel (CCC refused): buffered bytes and later ones flow to TLS again; normal teardown ends TCP', { timeout: 10_000 }, async (t) => {
  const { ours, peer } = await pair(t);
  const stream = new DetachableStream(ours);
  const toTls = collect(stream);
  stream.prepareRelease();
  const part = record(0x17, Buffer.alloc(10, 1));
  const arrived = once(ours, 'data');
  peer.write(part.subarray(0, 4)); // an incomplete record stays pending
  await arrived;
  assert.equal(toTls.length, 0);
  stream.cancelRelease();
  peer.write(part.subarray(4));
  while (Buffer.concat(toTls).length < part.length) await once(stream, 'data');
  assert.deepEqual(Buffer.concat(toTls), part);
  stream.destroy();
  await once(peer, 'close');
});
