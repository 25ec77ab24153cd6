/**
 * `ftpkit serve --admin HOST:PORT` and `ftpkit who` as separate processes (the real CLI): the banner names
 * the admin page; `who` lists the sessions as a table (and --json), exits 3 without or with a wrong token
 * and 5 when nothing listens; the page's actions are logged as 'admin-action' naming who did them, and
 * "reload" runs the SIGHUP reload; an --admin address other than loopback without a token is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RawControl } from '../support/server-harness.js';
import { startServeProcess } from '../support/serve-process.js';
import { describeCli, runFtpkit } from '../support/ftpkit-cli.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/until.js';

const TOKEN = 'cli-who-token-0123456789abcdef';

test('serve --admin and ftpkit who: the table, --json, exit codes; actions logged with who did them; reload', async t => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'pub'));
  await writeFile(path.join(dir, 'pub', 'a.txt'), 'a\n');
  const serve = await startServeProcess(t, [path.join(dir, 'pub'), '--admin', '127.0.0.1:0'], 30_000, { FTPKIT_ADMIN_TOKEN: TOKEN });
  const adminUrl = /admin page, \/metrics and \/health: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(serve.stdout())?.[1];
  assert.ok(adminUrl, serve.stdout());

  const c = await RawControl.connect('127.0.0.1', serve.port);
  t.after(() => c.close());
  assert.equal((await c.send('USER anonymous')).code, 331);
  assert.equal((await c.send('PASS guest@')).code, 230);

  const env = { FTPKIT_ADMIN_TOKEN: TOKEN };
  const r = await runFtpkit(['who', '--admin', adminUrl], { env });
  assert.equal(r.code, 0, describeCli(r));
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID +USER +ADDRESS +CONNECTED +STATE +TLS +COMMAND +TRANSFER$/);
  assert.equal(lines.length, 3, r.stdout);
  assert.match(lines[1]!, /^\S+ +anonymous +127\.0\.0\.1:\d+ +\d+s +idle \d+s +no +PASS$/);
  assert.equal(lines[2], '1 session, 0 transfers running, 0 bans');

  const json = await runFtpkit(['who', '--admin', adminUrl, '--json'], { env });
  assert.equal(json.code, 0, describeCli(json));
  const doc = JSON.parse(json.stdout) as { sessions: Array<{ id: string; user: string }>; health: string };
  assert.equal(doc.health, 'ready');
  assert.deepEqual(doc.sessions.map(s => s.user), ['anonymous']);

  const noToken = await runFtpkit(['who', '--admin', adminUrl]);
  assert.equal(noToken.code, 3, describeCli(noToken));
  assert.match(noToken.stderr, /refused the request without a token/);
  const wrong = await runFtpkit(['who', '--admin', adminUrl, '--token', 'not-the-token-0123456789']);
  assert.equal(wrong.code, 3, describeCli(wrong));
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const freePort = (closed.address() as AddressInfo).port;
  await new Promise(resolve => closed.close(resolve));
  const unreachable = await runFtpkit(['who', '--admin', `http://127.0.0.1:${freePort}/`], { env });
  assert.equal(unreachable.code, 5, describeCli(unreachable));
  assert.match(unreachable.stderr, /cannot reach the admin listener/);
  assert.equal((await runFtpkit(['who', '--admin', 'ftp://127.0.0.1/'], { env })).code, 2);

  // Actions over the API, as the page sends them: logged with who did them.
  const post = (name: string, body: unknown) => fetch(new URL(`api/actions/${name}`, adminUrl), {
    method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const reload = await post('reload', {});
  assert.equal(reload.status, 200);
  assert.match((await reload.json() as { message: string }).message, /^configuration reloaded \(nothing changed\)/);
  const cut = await post('disconnect', { session: doc.sessions[0]!.id });
  assert.equal(cut.status, 200);
  assert.equal((await c.read()).code, 421);
  const logged = await until('the admin-action log lines', () => {
    const records = serve.stderr().split('\n').filter(l => l.includes('"admin-action"')).map(l => JSON.parse(l) as Record<string, unknown>);
    return records.length >= 2 ? records : undefined;
  });
  assert.deepEqual(logged.map(l => [l.action, l.by, l.ok]), [['reload', 'token', true], ['disconnect', 'token', true]]);
  assert.equal(logged[1]!.target, doc.sessions[0]!.id);
  assert.ok(!serve.stderr().includes(TOKEN), 'the token is never logged');
});

test('serve --admin on a non-loopback address without a token is refused at start (exit 2)', async () => {
  const r = await runFtpkit(['serve', '--port', '0', '--admin', '0.0.0.0:0']);
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /admin\.host: 0\.0\.0\.0 is not a loopback address: set admin\.token/);
});
