import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { connectTcp, networkError, formatEndpoint } from '../../src/net/connect.js';
import { FtpNetworkError } from '../../src/errors.js';

test('network error messages say which connection, where, what, how long and which setting', () => {
  const e = networkError({ connection: 'data', phase: 'connect', failure: 'timeout', endpoint: '10.0.20.2:30001',
    elapsedMs: 3002.4, context: 'PASV reply address' });
  assert.ok(e instanceof FtpNetworkError);
  assert.equal(e.message, 'data connection to 10.0.20.2:30001 timed out after 3002 ms (PASV reply address)');
  assert.equal(e.elapsedMs, 3002.4);
  assert.equal(networkError({ connection: 'control', phase: 'connect', failure: 'refused', endpoint: 'h:21', elapsedMs: 1 }).message,
    'control connection to h:21 was refused after 1 ms');
  assert.equal(formatEndpoint('::1', 21), '[::1]:21');
  assert.equal(formatEndpoint('127.0.0.1', 21), '127.0.0.1:21');
});

test('connectTcp: success, refused (fast, with elapsed time), aborted', async () => {
  const server = net.createServer(s => s.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const sock = await connectTcp({ host: '127.0.0.1', port, timeoutMs: 2000, connection: 'control' });
  sock.destroy();
  await new Promise<void>(resolve => server.close(() => resolve()));
  const err = await connectTcp({ host: '127.0.0.1', port, timeoutMs: 2000, connection: 'data', context: 'EPSV port' }).catch(e => e);
  assert.ok(err instanceof FtpNetworkError);
  assert.deepEqual([err.connection, err.phase, err.failure], ['data', 'connect', 'refused']);
  assert.ok(err.elapsedMs! < 1000);
  assert.match(err.message, /\(EPSV port\)$/);
  const ac = new AbortController();
  ac.abort();
  const aborted = await connectTcp({ host: '127.0.0.1', port, timeoutMs: 2000, connection: 'data', signal: ac.signal }).catch(e => e);
  assert.ok(aborted instanceof FtpNetworkError);
  assert.match(aborted.message, /aborted/);
});
