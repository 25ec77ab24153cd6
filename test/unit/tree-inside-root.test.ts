// insideRealRoot (src/client/tree/safe-name.ts): the mirror's containment check with the root's real path
// resolved once. Targets inside pass; a root swapped for a link to elsewhere after the first check is not
// followed (its targets resolve outside the path resolved first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { insideRealRoot } from '../../src/client/tree/safe-name.js';
import { tempDir } from '../support/temp-dir.js';

test('insideRealRoot: targets inside pass, a link out is refused, a root swapped for a link later is refused', async t => {
  const base = await tempDir(t, 'ftpkit-inside-');
  const root = path.join(base, 'root');
  const elsewhere = path.join(base, 'elsewhere');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await mkdir(elsewhere);
  await writeFile(path.join(elsewhere, 'victim.txt'), 'x');
  await symlink(path.join(elsewhere, 'victim.txt'), path.join(root, 'out.txt'));
  const check = insideRealRoot(root);
  await check(path.join(root, 'sub', 'new.txt'));
  await check(path.join(root, 'new', 'deeper', 'file.txt'));
  await assert.rejects(check(path.join(root, 'out.txt')), /resolves to .*victim\.txt, outside/);
  // The root is replaced by a link to another folder: what it resolves to now is outside the first root.
  await rename(root, path.join(base, 'old-root'));
  await symlink(elsewhere, root);
  await assert.rejects(check(path.join(root, 'victim.txt')), /outside/);
});
