/**
 * src/cli/privileges.ts with a fake process (no root needed): the order of the drop (groups, gid, uid),
 * the checks after it (ids, supplementary groups, root not regainable), and the decisions before binding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropPrivileges, planPrivilegeDrop, type PosixIds } from '../../src/cli/privileges.js';
import { FtpConfigError } from '../../src/errors.js';

/** A process whose ids change as the calls say; `quirks` make it misbehave. */
function fakeProcess(start = 0, quirks: { ignoreSetgroups?: boolean; rootStaysReachable?: boolean; users?: Record<string, number>; groups?: Record<string, number> } = {}) {
  const calls: string[] = [];
  const users = quirks.users ?? { nobody: 65534, alice: 1000 };
  const groups = quirks.groups ?? { nogroup: 65534, alice: 1000 };
  const s = { uid: start, euid: start, gid: start, egid: start, groups: [start, 4, 27] };
  const num = (table: Record<string, number>, id: number | string) => {
    const n = typeof id === 'number' ? id : table[id];
    if (n === undefined) throw new Error(`${id}: not found`);
    return n;
  };
  const ids: PosixIds = {
    getuid: () => s.uid, geteuid: () => s.euid, getgid: () => s.gid, getegid: () => s.egid, getgroups: () => [...s.groups],
    setgroups: (g) => { calls.push(`setgroups ${g.join(',')}`); if (!quirks.ignoreSetgroups) s.groups = g.map((x) => num(groups, x)); },
    setgid: (g) => { calls.push(`setgid ${g}`); s.gid = s.egid = num(groups, g); },
    setegid: (g) => { s.egid = num(groups, g); },
    setuid: (u) => {
      const n = num(users, u);
      if (s.uid !== 0 && s.euid !== 0 && !(quirks.rootStaysReachable && n === 0)) throw new Error('EPERM');
      calls.push(`setuid ${u}`);
      s.uid = s.euid = n;
    },
    seteuid: (u) => {
      if (s.uid !== 0 && num(users, u) !== s.uid) throw new Error('EPERM');
      s.euid = num(users, u);
    },
  };
  return { ids, calls, state: s, passwd: () => ({ uid: s.euid, gid: s.euid === 65534 ? 65534 : 1000 }) };
}

test('root with run.user: identity resolved before binding, primary group by default', () => {
  const p = fakeProcess();
  const who = planPrivilegeDrop({ user: 'nobody' }, {}, p.ids, p.passwd);
  assert.deepEqual({ uid: who?.uid, gid: who?.gid }, { uid: 65534, gid: 65534 });
  assert.equal(p.state.euid, 0, 'the effective uid is back to root after the lookup');
  const alice = planPrivilegeDrop({ user: 'alice', group: 'nogroup' }, {}, p.ids, p.passwd);
  assert.deepEqual({ uid: alice?.uid, gid: alice?.gid }, { uid: 1000, gid: 65534 });
});

test('drop: setgroups, setgid, setuid in that order, then verified', () => {
  const p = fakeProcess();
  dropPrivileges({ uid: 65534, gid: 65534, label: 'nobody' }, p.ids);
  assert.deepEqual(p.calls, ['setgroups 65534', 'setgid 65534', 'setuid 65534']);
  assert.deepEqual(p.state, { uid: 65534, euid: 65534, gid: 65534, egid: 65534, groups: [65534] });
});

test('drop: supplementary groups left behind, or root still reachable, are fatal', () => {
  const kept = fakeProcess(0, { ignoreSetgroups: true });
  assert.throws(() => dropPrivileges({ uid: 65534, gid: 65534, label: 'nobody' }, kept.ids), (err: unknown) =>
    err instanceof FtpConfigError && /supplementary groups 0,4,27 remain/.test(err.message));
  const leaky = fakeProcess(0, { rootStaysReachable: true, users: { nobody: 65534, root: 0 } });
  assert.throws(() => dropPrivileges({ uid: 65534, gid: 65534, label: 'nobody' }, leaky.ids), /root could be regained/);
});

test('decisions before binding', (t) => {
  // npm test sets FTPKIT_ALLOW_ROOT=1 (CI runs as root); the refusal is what is tested here.
  const saved = process.env.FTPKIT_ALLOW_ROOT;
  delete process.env.FTPKIT_ALLOW_ROOT;
  t.after(() => { if (saved !== undefined) process.env.FTPKIT_ALLOW_ROOT = saved; });
  const root = fakeProcess();
  assert.throws(() => planPrivilegeDrop(undefined, {}, root.ids, root.passwd), (err: unknown) =>
    err instanceof FtpConfigError && err.key === 'run.user' && /refusing to run as root/.test(err.message));
  assert.equal(planPrivilegeDrop({ allowRoot: true }, {}, root.ids, root.passwd), undefined);
  process.env.FTPKIT_ALLOW_ROOT = '1';
  assert.equal(planPrivilegeDrop(undefined, {}, root.ids, root.passwd), undefined, 'FTPKIT_ALLOW_ROOT=1 is allowRoot');
  delete process.env.FTPKIT_ALLOW_ROOT;
  assert.throws(() => planPrivilegeDrop({ user: 'mallory' }, {}, root.ids, root.passwd), /run\.user: no such user "mallory"/);
  assert.throws(() => planPrivilegeDrop({ user: 'nobody', group: 'wheel' }, {}, root.ids, root.passwd), /run\.group: no such group "wheel"/);
  assert.throws(() => planPrivilegeDrop({ user: 'nobody' }, { activeSourcePort: 20 }, root.ids, root.passwd), /active\.sourcePort: port 20/);
  assert.throws(() => planPrivilegeDrop({ user: 'nobody' }, { passiveRange: { min: 900, max: 2000 } }, root.ids, root.passwd), /passive\.ports: ports below 1024/);
  assert.ok(planPrivilegeDrop({ user: 'nobody' }, { activeSourcePort: 2020, passiveRange: { min: 50000, max: 50999 } }, root.ids, root.passwd));
  // Not root: nothing to drop; another user cannot be had.
  const user = fakeProcess(1000);
  assert.equal(planPrivilegeDrop(undefined, { activeSourcePort: 20 }, user.ids, user.passwd), undefined);
  assert.equal(planPrivilegeDrop({ user: '1000' }, {}, user.ids, user.passwd), undefined);
  assert.throws(() => planPrivilegeDrop({ user: '65534' }, {}, user.ids, user.passwd), /needs root/);
});
