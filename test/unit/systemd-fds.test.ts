/** src/cli/systemd-fds.ts: which descriptors are ours (sd_listen_fds(3) rules), and the variables removed once read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemdListeners } from '../../src/cli/systemd-fds.js';

test('LISTEN_FDS for this pid: fd 3 (control), fd 4 (implicit FTPS); the variables are removed', () => {
  const env: NodeJS.ProcessEnv = { LISTEN_FDS: '1', LISTEN_PID: '42', LISTEN_FDNAMES: 'ftp' };
  assert.deepEqual(systemdListeners(env, 42), { control: 3 });
  assert.deepEqual(env, {}, 'a child process must not take them for its own');
  assert.deepEqual(systemdListeners({ LISTEN_FDS: '2', LISTEN_PID: '42' }, 42), { control: 3, implicit: 4 });
});

test('not for us: another pid, no pid, no count; too many sockets is an error', () => {
  const other: NodeJS.ProcessEnv = { LISTEN_FDS: '1', LISTEN_PID: '41' };
  assert.deepEqual(systemdListeners(other, 42), {});
  assert.equal(other.LISTEN_FDS, '1', 'left alone for whoever they are for');
  assert.deepEqual(systemdListeners({ LISTEN_FDS: '1' }, 42), {});
  assert.deepEqual(systemdListeners({ LISTEN_FDS: '0', LISTEN_PID: '42' }, 42), {});
  assert.throws(() => systemdListeners({ LISTEN_FDS: '3', LISTEN_PID: '42' }, 42), /takes 1 .* or 2/);
});
