/**
 * Fuzz of the server over real sockets (issue 12, Tests): random and mutated command lines (verbs of the
 * command table with random arguments, bytes 0-255, NUL, bare CR/LF, Telnet IAC IP / DM / IAC IAC, over-long
 * lines) cut at random chunk boundaries, before and after login and under TLS (AUTH TLS, then fuzz).
 * The generator and the strict reply checks are bench/lib/fuzz-lines.ts and bench/lib/fuzz-session.ts
 * (shared with the 10^6-line `npm run bench:fuzz`). Properties, per session:
 * - the server never crashes and never hangs (every batch answered within 10 s);
 * - every complete line gets exactly one final reply, and the replies are well formed (RFC 959 s4.2);
 * - the only early end is a documented 421 close;
 * and after all sessions our FtpClient still logs in and downloads.
 *
 * The defender would ban 127.0.0.1 for the garbage (that is its job): the fuzz server allow-lists loopback,
 * so the scores are still kept but never ban. Failed logins are not limited per session (maxLoginFailures is
 * raised) so that sessions run to their end; the data-connect timeout is short so that a PASV nobody connects
 * to costs 300 ms, not 30 s.
 * Seeded (test/fuzz/fuzz-seed.ts): the failing session's seed is in the report; FTPKIT_FUZZ_SEED varies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { FtpServer, MemoryStorage, READ_WRITE } from '../../src/server/index.js';
import { FtpClient } from '../../src/client/index.js';
import { TestAuthenticator } from '../support/server-harness.js';
import { makeTestPki } from '../support/tls-certs.js';
import { runFuzzSession, startDataSink, type FuzzSessionResult } from '../../bench/lib/fuzz-session.js';
import { seededRandom } from '../../bench/lib/fuzz-lines.js';
import { fuzzParams, FUZZ_SEED } from './fuzz-seed.js';

const MAX_LINE = 512;
const PROBE_TEXT = 'still here\n'.repeat(100);

test('server fuzz: random command lines over real sockets, plain and under TLS', async (t) => {
  const pki = await makeTestPki();
  t.after(() => pki.cleanup());
  const sink = await startDataSink();
  t.after(() => sink.close());
  const fuzzStorage = new MemoryStorage();
  fuzzStorage.writeFile('/hello.txt', 'hello\n');
  fuzzStorage.mkdirp('/dir/sub');
  fuzzStorage.writeFile('/dir/a b.txt', 'x'.repeat(70_000));
  // The probe user has its own storage: the fuzz may delete or overwrite anything in the test user's.
  const probeStorage = new MemoryStorage();
  probeStorage.writeFile('/probe.txt', PROBE_TEXT);
  const server = new FtpServer({
    host: '127.0.0.1',
    port: 0,
    authenticator: new TestAuthenticator({
      test: { password: 'test', permissions: { ...READ_WRITE } },
      probe: { password: 'probe', storage: probeStorage },
    }, fuzzStorage, { ...READ_WRITE }),
    passive: { portRange: { min: 1024, max: 65535 } },
    limits: { maxLineLength: MAX_LINE, loginFailureDelayMs: 5, maxLoginFailures: 1_000_000, maxSessionsPerAddress: 0 },
    timeouts: { dataConnectMs: 300, passiveReclaimMs: 300 },
    defender: { allow: ['127.0.0.0/8', '::1'] },
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, handshakeTimeoutMs: 5000 },
  });
  // A handler that throws is answered 451 and reported as 'session-error': for the fuzz that is a bug.
  const crashes: string[] = [];
  server.on('session-error', (e) => crashes.push(`${e.error.stack ?? e.error.message}`));
  server.on('ban', (e) => crashes.push(`ban of ${e.kind} ${e.remoteAddress ?? ''}: loopback is allow-listed`));
  await server.listen();
  t.after(() => server.close({ timeoutMs: 1000 }));
  const port = server.address()!.port;

  const totals = { sessions: 0, lines: 0, bytes: 0, replies: 0, closes421: 0, passive: 0 };
  const check = (res: FuzzSessionResult, seed: number): void => {
    totals.sessions++;
    totals.lines += res.linesSent;
    totals.bytes += res.bytesSent;
    totals.replies += res.finals;
    totals.passive += res.dataConnections;
    if (res.closedWith421) totals.closes421++;
    const what = `session seed ${seed} (run seed ${FUZZ_SEED}): ${res.failure ?? ''}\nviolations: ${res.violations.join('; ')}\n`
      + `codes: ${res.codes.join(' ')}\nlast bytes sent: ${JSON.stringify(res.tail.slice(-1500))}`;
    assert.equal(res.failure, undefined, what);
    assert.equal(res.hang, false, what);
    assert.deepEqual(res.violations, [], what);
    assert.deepEqual(crashes, [], 'no session-error or ban event');
  };

  const plan = [
    { name: 'before login', runs: 40, login: false, tls: false },
    { name: 'after login', runs: 40, login: true, tls: false },
    { name: 'under TLS, after login', runs: 15, login: true, tls: true },
  ];
  for (const p of plan) {
    await t.test(p.name, async () => {
      await fc.assert(fc.asyncProperty(fc.integer(), async (seed) => {
        const res = await runFuzzSession({ host: '127.0.0.1', port, tls: p.tls }, seededRandom(seed), {
          lines: 40, maxLineLength: MAX_LINE, sinkPort: sink.port,
          login: p.login ? { user: 'test', password: 'test' } : undefined,
        });
        check(res, seed);
      }), { ...fuzzParams(p.runs), endOnFailure: true });
    });
  }
  t.diagnostic(`fuzz: ${totals.sessions} sessions, ${totals.lines} lines, ${totals.bytes} bytes, ${totals.replies} final replies, `
    + `${totals.closes421} closed with 421, ${totals.passive} passive and ${sink.accepted()} active data connections`);

  // After the fuzz a normal client still logs in and downloads.
  const client = await FtpClient.connect({ host: '127.0.0.1', port, user: 'probe', password: 'probe' });
  t.after(() => client.destroy());
  const chunks: Buffer[] = [];
  await client.download('/probe.txt', new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } }));
  assert.equal(Buffer.concat(chunks).toString(), PROBE_TEXT);
  await client.close();
  assert.deepEqual(crashes, []);
});
