/** Which failures are retried (src/client/retry.ts) and the CLI's --retries / --retry-delay (docs/client.md#retries). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryReason } from '../../src/client/retry.js';
import { applyFlags } from '../../src/cli/client-options.js';
import { FtpClosedError, FtpNetworkError, FtpReplyError, FtpUsageError } from '../../src/errors.js';

test('transient failures are retried, permanent ones never', () => {
  const net = (failure: 'reset' | 'timeout' | 'closed' | 'not-found' | 'refused') =>
    new FtpNetworkError({ connection: 'data', phase: 'transfer', failure });
  for (const f of ['reset', 'timeout', 'closed', 'refused'] as const) assert.ok(retryReason(net(f)), f);
  assert.equal(retryReason(net('not-found')), undefined);
  for (const code of [421, 425, 426, 450, 451]) assert.ok(retryReason(new FtpReplyError(code, 'x', 'RETR f')), String(code));
  for (const code of [500, 501, 530, 550, 553]) assert.equal(retryReason(new FtpReplyError(code, 'x', 'RETR f')), undefined, String(code));
  assert.ok(retryReason(new FtpClosedError()));
  assert.equal(retryReason(new FtpUsageError('bad')), undefined);
});

test('--retries and --retry-delay become options.retry; bad values are usage errors', () => {
  assert.deepEqual(applyFlags({}, { retries: '3', retryDelay: '0.5' }).retry, { retries: 3, delayMs: 500 });
  assert.equal(applyFlags({}, {}).retry, undefined);
  assert.throws(() => applyFlags({}, { retries: '-1' }), FtpUsageError);
  assert.throws(() => applyFlags({}, { retries: '2', retryDelay: 'soon' }), FtpUsageError);
});
