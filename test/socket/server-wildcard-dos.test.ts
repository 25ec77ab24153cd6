/**
 * Issue: one anonymous STAT with a wildcard froze every session (the pattern became a backtracking regular
 * expression on the server's one event loop). The server runs as `ftpkit serve DIR` in its own process, as a
 * user starts it, so a blocked server makes these tests fail on their deadlines instead of hanging them.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RawControl, openPassive, readAll, type RawReply } from '../support/server-harness.js';
import { startServeProcess } from '../support/serve-process.js';
import { tempDir } from '../support/temp-dir.js';

/** Generous for a busy 2-core machine; the old matcher needed ~60 s for 16 stars and forever for 4,000. */
const BUDGET_MS = 10_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${BUDGET_MS} ms`)), BUDGET_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function anonymous(t: TestContext, port: number): Promise<RawControl> {
  const c = await RawControl.connect('127.0.0.1', port);
  t.after(() => c.close());
  assert.equal((await c.send('USER anonymous')).code, 331);
  assert.equal((await c.send('PASS guest@')).code, 230);
  return c;
}

test('wildcards: thousands of stars neither freeze the server nor other sessions', async t => {
  const dir = await tempDir(t, 'ftpkit-wildcard-');
  await writeFile(join(dir, 'a'.repeat(25)), 'x');
  await writeFile(join(dir, 'notes.txt'), 'n');
  const { port } = await startServeProcess(t, [dir]);
  const attacker = await anonymous(t, port);
  const bystander = await anonymous(t, port);

  for (const pattern of ['*'.repeat(16) + 'Z', '*'.repeat(4000) + 'Z', '*a'.repeat(120) + '*Z']) {
    const stat: Promise<RawReply> = attacker.send(`STAT ${pattern}`);
    // Another session is answered while the pattern is matched, and so is a new connection.
    assert.equal((await within(bystander.send('NOOP'), 'NOOP of another session')).code, 200);
    const late = await within(RawControl.connect('127.0.0.1', port), 'greeting of a new connection');
    late.close();
    assert.equal(late.greeting.code, 220);
    // 550 no such file; 553 where the literal name is longer than the file system allows (ENAMETOOLONG).
    const code = (await within(stat, `STAT with ${pattern.length} characters`)).code;
    assert.ok(code === 550 || code === 553, `STAT with ${pattern.length} characters: ${code}`);
  }

  // A matching pattern still lists what it matches, over STAT and over NLST.
  const listed = await within(attacker.send(`STAT ${'*'.repeat(3000)}.txt`), 'STAT *.txt');
  assert.equal(listed.code, 213);
  assert.match(listed.text, /notes\.txt/);
  assert.doesNotMatch(listed.text, /aaaa/);
  const data = await openPassive(attacker);
  const nlst = attacker.send(`NLST ${'?'.repeat(25)}`);
  const names = (await within(readAll(data), 'NLST data')).toString();
  assert.equal((await nlst).code, 150);
  assert.equal((await attacker.read()).code, 226);
  assert.deepEqual(names.split('\r\n').filter(Boolean), ['a'.repeat(25)]);
});

test('wildcards: a pattern longer than a file name can be is refused with 501', async t => {
  const dir = await tempDir(t, 'ftpkit-wildcard-');
  const { port } = await startServeProcess(t, [dir]);
  const c = await anonymous(t, port);
  const r = await within(c.send(`STAT ${'a*'.repeat(200)}`), 'STAT with a long pattern');
  assert.equal(r.code, 501);
  assert.match(r.text, /Wildcard pattern too long: 400 characters, at most 255/);
  const data = await openPassive(c);
  t.after(() => data.destroy());
  assert.equal((await c.send('LIST ' + '?'.repeat(300))).code, 501, 'LIST refuses it without a transfer');
  assert.equal((await c.send('NOOP')).code, 200, 'the session goes on');
});
