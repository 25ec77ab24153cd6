/**
 * What the doctor reads from the client: typed fields of its errors and its structured events, never the
 * text of an error message or of the transcript.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOf } from '../../src/doctor/session-probe.js';
import { probeResolve } from '../../src/doctor/control-probe.js';
import { infer, type InferenceInput } from '../../src/doctor/infer.js';
import { planMatrix } from '../../src/doctor/plan.js';
import { describeOutcome } from '../../src/doctor/words.js';
import type { DataProbeResult, Outcome, StepResult } from '../../src/doctor/types.js';
import { FtpNetworkError, FtpTlsError } from '../../src/errors.js';

const OK: Outcome = { kind: 'ok', ms: 40 };

function steps(extra: StepResult[] = []): StepResult[] {
  return [...(['resolve', 'tcp', 'greeting', 'features', 'login'] as const)
    .map(id => ({ id, title: id, outcome: OK, summary: '', evidence: [] })), ...extra];
}

function input(matrix: DataProbeResult[], s = steps()): InferenceInput {
  return { host: '198.18.2.2', port: 21, controlAddress: '198.18.2.2', localAddress: '198.18.10.2', steps: s, matrix, secure: 'explicit' };
}

test('a control timeout names its command by a typed field, whatever the message says', () => {
  const err = new FtpNetworkError({ connection: 'control', phase: 'command', failure: 'timeout', elapsedMs: 5000,
    command: 'EPSV', message: 'the server went quiet' });
  const o = outcomeOf(err, 1);
  assert.equal(o.command, 'EPSV');
  assert.equal(o.kind, 'timeout');
  // A transfer command waited on (masked line) gives its verb.
  assert.equal(outcomeOf(new FtpNetworkError({ connection: 'control', phase: 'command', failure: 'timeout', command: 'RETR /a b.txt' }), 1).command, 'RETR');
  // No command: the greeting.
  assert.equal(outcomeOf(new FtpNetworkError({ connection: 'control', phase: 'greeting', failure: 'timeout', message: 'no reply to the greeting' }), 1).command, undefined);
});

test('a TLS failure carries its reason; the certificate cause follows the reason, not the words', () => {
  const err = new FtpTlsError('control', 'the peer said no', { reason: 'certificate' });
  const o = outcomeOf(err, 12);
  assert.equal(o.tlsFailure, 'certificate');
  const auth: StepResult = { id: 'auth-tls', title: 'AUTH TLS + login', outcome: o, summary: '', evidence: [] };
  assert.deepEqual(infer(input([], steps([auth]))).causes.map(c => c.code).filter(c => c === 'tls-certificate'), ['tls-certificate']);
  const handshake: StepResult = { ...auth, outcome: outcomeOf(new FtpTlsError('control', 'certificate verify failed?', { reason: 'handshake' }), 12) };
  assert.ok(!infer(input([], steps([handshake]))).causes.some(c => c.code === 'tls-certificate'));
});

test('a command that went unanswered in one cell but got replies in another is not blamed on the network', () => {
  const specs = planMatrix({ ipv6: false, cleartext: true, tls: false });
  const stalled: Outcome = { kind: 'timeout', ms: 5000, connection: 'control', phase: 'command', command: 'LIST' };
  const cells = (answeredElsewhere: boolean): DataProbeResult[] => specs.map(spec => ({
    spec, evidence: [],
    outcome: spec.id === 'pasv-reply' ? stalled : OK,
    ...(spec.id === 'epsv' && answeredElsewhere ? { answered: ['FEAT', 'USER', 'PASS', 'EPSV', 'LIST'] } : {}),
  }));
  assert.ok(infer(input(cells(false))).causes.some(c => c.code === 'command-unanswered'));
  assert.ok(!infer(input(cells(true))).causes.some(c => c.code === 'command-unanswered'));
});

test('name resolution: our deadline is a timeout, the resolver\'s error is not-found', async () => {
  const never = await probeResolve('ftp.example.com', 30, () => new Promise<string[]>(() => {}));
  assert.equal(never.outcome.kind, 'timeout');
  assert.deepEqual(never.addresses, []);
  const missing = await probeResolve('ftp.example.com', 1000,
    () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND ftp.example.com'), { code: 'ENOTFOUND' })));
  assert.equal(missing.outcome.kind, 'not-found');
  const found = await probeResolve('ftp.example.com', 1000, async () => ['192.0.2.1']);
  assert.deepEqual([found.outcome.kind, found.addresses], ['ok', ['192.0.2.1']]);
});

test('an unanswered command is attributed to the step that waited, never to a dropped control connection', () => {
  const waited = (command: string): Outcome => ({ kind: 'timeout', ms: 6000, connection: 'control', phase: 'command', command });
  assert.equal(describeOutcome(waited('EPSV')), 'no reply to EPSV within 6.0 s (setting up the data connection, EPSV only)');
  assert.match(describeOutcome(waited('PASS')), /^no reply to PASS within 6\.0 s \(during the login\)$/);
  assert.match(describeOutcome(waited('LIST')), /^no reply to LIST within 6\.0 s \(the transfer command/);
  for (const verb of ['EPSV', 'PASS', 'LIST', 'SITE']) assert.doesNotMatch(describeOutcome(waited(verb)), /silently dropped/);
  // A data connection that got no answer is still told as a drop.
  assert.match(describeOutcome({ kind: 'timeout', ms: 4000, connection: 'data', phase: 'connect', endpoint: '10.0.20.2:30001' }), /silently dropped/);
});
