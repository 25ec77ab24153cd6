/**
 * Per-path permissions in the command table's permission gate (command-table.ts), without sockets: the
 * gate checks the command's resolved path (relative names, "..", LIST flags), RNFR and RNTO each at their
 * own path, STOU in the working folder, MLSD/MLST perm facts per entry, STAT and SITE CHMOD per path,
 * STOR without delete permission cannot replace a file; and permissionsAt() picks the longest prefix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeContext } from '../support/fake-command-context.js';
import { MemoryStorage } from '../../src/server/storage/memory.js';
import { permissionsAt } from '../../src/server/auth/path-permissions.js';
import { resolvePermissions } from '../../src/server/auth/permissions.js';
import { READ_ONLY, READ_WRITE, type PathPermission } from '../../src/server/auth/types.js';
import type { HandlerResult } from '../../src/server/commands/contract.js';

const codeOf = (r: HandlerResult): number => ('code' in r ? r.code : r.kind === 'outcome' ? r.replies.at(-1)!.code : 150);
const textOf = (r: HandlerResult): string => ('code' in r ? r.lines.join('\n') : '');

function setup(rules: PathPermission[]) {
  const storage = new MemoryStorage();
  storage.writeFile('/pub/a.txt', 'a');
  storage.writeFile('/home/h.txt', 'h');
  storage.writeFile('/drop/old.txt', 'old');
  const f = fakeContext({ storage });
  f.ctx.state.user!.pathPermissions = rules;
  return { f, storage };
}

const RULES: PathPermission[] = [
  { path: '/pub', permissions: READ_ONLY },
  { path: '/drop', permissions: resolvePermissions(['write'], READ_ONLY) },
];

test('permissionsAt: longest prefix, whole segments, the user\'s set elsewhere', () => {
  const user = { permissions: READ_WRITE, pathPermissions: [...RULES, { path: '/pub/up', permissions: READ_WRITE }] };
  assert.equal(permissionsAt(user, '/pub/a').write, false);
  assert.equal(permissionsAt(user, '/pub').write, false);
  assert.equal(permissionsAt(user, '/pub/up/x').write, true);
  assert.equal(permissionsAt(user, '/public').write, true);
  assert.equal(permissionsAt({ permissions: READ_ONLY }, '/x'), READ_ONLY);
});

test('the gate checks the resolved path of each command', async () => {
  const { f } = setup(RULES);
  f.ctx.state.cwd = '/home';
  const dele = await f.run('DELE ../pub/a.txt');
  assert.equal(codeOf(dele), 550);
  assert.match(textOf(dele), /^\/pub\/a\.txt: Permission denied/);
  assert.equal(codeOf(await f.run('DELE h.txt')), 250);
  assert.equal(codeOf(await f.run('MKD /pub/d')), 550);
  assert.equal(codeOf(await f.run('MKD /home/d')), 257);
  // RNFR and RNTO: rename at both paths.
  assert.equal(codeOf(await f.run('RNFR /pub/a.txt')), 550);
  f.ctx.state.cwd = '/';
  assert.equal(codeOf(await f.run('RNFR home/d')), 350);
  assert.equal(codeOf(await f.run('RNTO pub/d')), 550);
  // Transfer rows: LIST with flags, RETR, STOU in the working folder.
  f.prepareDataChannel();
  assert.equal(codeOf(await f.run('LIST -la /drop')), 550);
  f.prepareDataChannel();
  assert.equal(codeOf(await f.run('RETR /drop/old.txt')), 550);
  f.ctx.state.cwd = '/pub';
  f.prepareDataChannel();
  assert.equal(codeOf(await f.run('STOU')), 550);
  assert.equal(codeOf(await f.run('STAT /drop')), 550);
  assert.equal(codeOf(await f.run('SITE CHMOD 600 /pub/a.txt')), 550);
  assert.equal(codeOf(await f.run('SITE CHMOD 700 /home/d')), 200);
  assert.equal(codeOf(await f.run('SIZE /drop/old.txt')), 550);
});

test('STOR without the delete permission creates but never replaces', async () => {
  const { f, storage } = setup(RULES);
  f.prepareDataChannel();
  const over = await f.run('STOR /drop/old.txt');
  assert.equal(codeOf(over), 550);
  assert.match(textOf(over), /File exists; replacing it needs the delete permission/);
  assert.equal(storage.readFile('/drop/old.txt').toString(), 'old');
  f.prepareDataChannel();
  const fresh = await f.run('STOR /drop/new.txt');
  assert.equal(codeOf(fresh), 150, 'a new name is accepted');
  if ('kind' in fresh && fresh.kind === 'transfer') fresh.sink?.destroy();
});

test('MLSD and MLST perm facts follow the rules of each entry', async () => {
  const { f } = setup(RULES);
  const mlst = await f.run('MLST /pub/a.txt');
  assert.match(textOf(mlst), /perm=r;/);
  const home = await f.run('MLST /home/h.txt');
  assert.match(textOf(home), /perm=adfrw;/);
});
