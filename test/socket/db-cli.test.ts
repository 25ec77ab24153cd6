/**
 * PostgreSQL for several nodes, through the real CLI and real clients (issue 13, docs/server.md#users-bans-and-quotas-in-postgresql):
 * `ftpkit db migrate` (twice is a no-op, two at once are safe), `ftpkit db status`, `ftpkit user
 * add|passwd|del|list` with their exit codes, and `ftpkit serve --config` with a `database:` section: curl
 * logs in as a database user, a wrong password gets 530. A real PostgreSQL 15 (test/support/services/postgres.ts).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { useService } from '../support/services/use-service.js';
import { createTestDatabase, postgresService, type PostgresDetails } from '../support/services/postgres.js';
import { describeCli, runFtpkit } from '../support/ftpkit-cli.js';
import { describeRun, lftpOpen, runCurl, runLftp } from '../support/peers-clients.js';
import { requirePeer } from '../support/peers-common.js';
import { startServeProcess } from '../support/serve-process.js';
import { tempDir } from '../support/temp-dir.js';
import { until } from '../support/until.js';

async function database(t: TestContext): Promise<string | undefined> {
  const pg = await useService<PostgresDetails>(t, postgresService);
  if (!pg) return undefined;
  return createTestDatabase(pg, fn => t.after(fn));
}

test('db migrate applies the schema once: a second run is a no-op, status shows it applied', async t => {
  const url = await database(t);
  if (!url) return;
  const before = await runFtpkit(['db', 'status', '--url', url]);
  assert.equal(before.code, 1, `pending migrations: exit 1\n${describeCli(before)}`);
  assert.match(before.stdout, /^pending {2}1 /m);
  const first = await runFtpkit(['db', 'migrate', '--url', url]);
  assert.equal(first.code, 0, describeCli(first));
  assert.match(first.stdout, /^applied 1 /m);
  const second = await runFtpkit(['db', 'migrate', '--url', url]);
  assert.equal(second.code, 0, describeCli(second));
  assert.match(second.stdout, /schema up to date/);
  const status = await runFtpkit(['db', 'status', '--url', url]);
  assert.equal(status.code, 0, describeCli(status));
  assert.match(status.stdout, /^applied {2}1 /m);
  assert.doesNotMatch(status.stdout, /pending/);
});

test('two db migrate at once: one applies, the other waits for its lock and finds nothing to do', async t => {
  const url = await database(t);
  if (!url) return;
  const runs = await Promise.all([runFtpkit(['db', 'migrate', '--url', url]), runFtpkit(['db', 'migrate', '--url', url]), runFtpkit(['db', 'migrate', '--url', url])]);
  for (const r of runs) assert.equal(r.code, 0, describeCli(r));
  assert.equal(runs.filter(r => /^applied 1 /m.test(r.stdout)).length, 1, runs.map(describeCli).join('\n---\n'));
  const status = await runFtpkit(['db', 'status', '--url', url]);
  assert.equal(status.code, 0, describeCli(status));
  assert.equal(status.stdout.match(/^applied/gm)?.length, 1);
});

test('user add, list, passwd, del through the CLI, with their exit codes', async t => {
  const url = await database(t);
  if (!url) return;
  assert.equal((await runFtpkit(['db', 'migrate', '--url', url])).code, 0);
  const add = await runFtpkit(['user', 'add', 'alice', '--root', '/srv/alice', '--quota-bytes', '10MiB', '--permissions', 'list,read,write', '--url', url], { input: 'first-pw\n' });
  assert.equal(add.code, 0, describeCli(add));
  const again = await runFtpkit(['user', 'add', 'alice', '--root', '/srv/alice', '--url', url], { input: 'x\n' });
  assert.equal(again.code, 7, `the user exists: exit 7\n${describeCli(again)}`);
  assert.match(again.stderr, /already exists/);
  const list = await runFtpkit(['user', 'list', '--url', url]);
  assert.equal(list.code, 0, describeCli(list));
  assert.match(list.stdout, /^alice\t\/srv\/alice\t\/\tlist,read,write\tquota 10 MiB$/m);
  assert.doesNotMatch(list.stdout, /scrypt/, 'never the hash');
  const json = await runFtpkit(['user', 'list', '--json', '--url', url]);
  assert.deepEqual(JSON.parse(json.stdout.trim()).quotaBytes, 10 * 1024 * 1024);
  const passwd = await runFtpkit(['user', 'passwd', 'alice', '--url', url], { input: 'second-pw\n' });
  assert.equal(passwd.code, 0, describeCli(passwd));
  const nobody = await runFtpkit(['user', 'passwd', 'bob', '--url', url], { input: 'x\n' });
  assert.equal(nobody.code, 8, `no such user: exit 8\n${describeCli(nobody)}`);
  const del = await runFtpkit(['user', 'del', 'alice', '--url', url]);
  assert.equal(del.code, 0, describeCli(del));
  const delAgain = await runFtpkit(['user', 'del', 'alice', '--url', url]);
  assert.equal(delAgain.code, 8, describeCli(delAgain));
  const empty = await runFtpkit(['user', 'list', '--url', url]);
  assert.equal(empty.stdout, '');
});

test('a database that cannot be reached: exit 5; no database named: exit 2', async t => {
  const pg = await useService<PostgresDetails>(t, postgresService);
  if (!pg) return;
  // A port nothing listens on (the service's port + 1 is not ours; a closed one from the OS is safer).
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>(r => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>(r => srv.close(() => r()));
  const r = await runFtpkit(['user', 'list', '--url', `postgres://u:p@127.0.0.1:${port}/x`]);
  assert.equal(r.code, 5, describeCli(r));
  const none = await runFtpkit(['user', 'list']);
  assert.equal(none.code, 2, describeCli(none));
});

test('serve with a database section: curl logs in as a database user; a wrong password gets 530', async t => {
  if (!requirePeer(t, 'curl')) return;
  const url = await database(t);
  if (!url) return;
  const dir = await tempDir(t);
  const root = path.join(dir, 'carol');
  await mkdir(root);
  await writeFile(path.join(root, 'hello.txt'), 'hello from the database user\n');
  assert.equal((await runFtpkit(['db', 'migrate', '--url', url])).code, 0);
  const add = await runFtpkit(['user', 'add', 'carol', '--root', root, '--url', url], { input: 's3cret\n' });
  assert.equal(add.code, 0, describeCli(add));
  const config = path.join(dir, 'ftpkit.yaml');
  await writeFile(config, `database:\n  url: ${JSON.stringify(url)}\n`);
  const serve = await startServeProcess(t, ['--config', config, '--host', '127.0.0.1']);
  assert.match(serve.stdout(), /PostgreSQL/);
  const ok = await runCurl(['-u', 'carol:s3cret', `ftp://127.0.0.1:${serve.port}/hello.txt`]);
  assert.equal(ok.code, 0, describeRun(ok));
  assert.equal(ok.stdout, 'hello from the database user\n');
  const wrong = await runCurl(['-v', '-u', 'carol:wrong', `ftp://127.0.0.1:${serve.port}/hello.txt`]);
  assert.equal(wrong.code, 67, `curl: login denied\n${describeRun(wrong)}`);
  assert.match(wrong.stderr, /< 530/);
  if (requirePeer(t, 'lftp')) {
    const lftp = await runLftp([lftpOpen({ url: `ftp://127.0.0.1:${serve.port}`, user: 'carol', password: 's3cret' }), 'cls -1'], { timeoutMs: 60_000 });
    assert.equal(lftp.code, 0, describeRun(lftp));
    assert.match(lftp.stdout, /^hello\.txt$/m);
  }
  const anonymous = await runCurl(['-v', `ftp://127.0.0.1:${serve.port}/`]);
  assert.notEqual(anonymous.code, 0, 'with a database and no anonymous section, anonymous access is off');
});

test('serve refuses to start on a database it cannot reach (exit 5) or that is not migrated (exit 1, says what to run)', async t => {
  const url = await database(t);
  if (!url) return;
  const dir = await tempDir(t);
  const config = path.join(dir, 'ftpkit.yaml');
  await writeFile(config, `database:\n  url: ${JSON.stringify(url)}\n`);
  const unmigrated = await runFtpkit(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1']);
  assert.equal(unmigrated.code, 1, describeCli(unmigrated));
  assert.match(unmigrated.stderr, /ftpkit db migrate/);
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>(r => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>(r => srv.close(() => r()));
  await writeFile(config, `database:\n  url: postgres://u:p@127.0.0.1:${port}/x\n  connectTimeout: 2s\n`);
  const unreachable = await runFtpkit(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1']);
  assert.equal(unreachable.code, 5, describeCli(unreachable));
  assert.match(unreachable.stderr, /ECONNREFUSED/);
});

test('serve: a name both in users: and in the database belongs to the file; SIGHUP keeps the database users', async t => {
  if (!requirePeer(t, 'curl')) return;
  const url = await database(t);
  if (!url) return;
  const { hashPassword } = await import('../../src/server/auth/password-hash.js');
  const dir = await tempDir(t);
  const root = path.join(dir, 'files');
  await mkdir(root);
  await writeFile(path.join(root, 'f.txt'), 'x');
  assert.equal((await runFtpkit(['db', 'migrate', '--url', url])).code, 0);
  for (const [name, pw] of [['carol', 'db-pw'], ['dan', 'dan-pw']]) {
    const r = await runFtpkit(['user', 'add', name!, '--root', root, '--url', url], { input: `${pw}\n` });
    assert.equal(r.code, 0, describeCli(r));
  }
  const fast = { ln: 10, r: 8, p: 1 };
  const user = async (name: string, pw: string) => `  - { name: ${name}, password: "${await hashPassword(pw, fast)}", root: ${JSON.stringify(root)} }\n`;
  const config = path.join(dir, 'ftpkit.yaml');
  await writeFile(config, `database:\n  url: ${JSON.stringify(url)}\nusers:\n${await user('carol', 'config-pw')}`);
  const serve = await startServeProcess(t, ['--config', config, '--host', '127.0.0.1']);
  const get = (cred: string) => runCurl(['-u', cred, `ftp://127.0.0.1:${serve.port}/f.txt`]);
  assert.equal((await get('carol:config-pw')).code, 0, 'the file\'s carol');
  assert.equal((await get('carol:db-pw')).code, 67, 'the database\'s password for a name the file owns is refused');
  assert.equal((await get('dan:dan-pw')).code, 0, 'a database-only user');
  await writeFile(config, `database:\n  url: ${JSON.stringify(url)}\nusers:\n${await user('carol', 'config-pw')}${await user('erin', 'erin-pw')}`);
  serve.child.kill('SIGHUP');
  const until = Date.now() + 20_000;
  while (Date.now() < until && !/configuration reload/.test(serve.stderr())) await new Promise(r => setTimeout(r, 100));
  assert.match(serve.stderr(), /configuration reloaded/);
  assert.equal((await get('erin:erin-pw')).code, 0, 'a user added to the file');
  assert.equal((await get('dan:dan-pw')).code, 0, 'the database users are still there after the reload');
  assert.equal((await get('carol:db-pw')).code, 67, 'and the file still owns carol');
});

test('serve sweeps the temporary uploads a crash left in the database users\' folders, not in a read-only user\'s', async t => {
  const url = await database(t);
  if (!url) return;
  const dir = await tempDir(t);
  const stale = '.ftpkit-upload.0.0123456789abcdef.part'; // pid 0: no writer alive (storage/upload-temp.ts)
  const writer = path.join(dir, 'writer');
  const reader = path.join(dir, 'reader');
  for (const root of [writer, reader]) {
    await mkdir(root);
    await writeFile(path.join(root, stale), 'cut by a crash');
  }
  assert.equal((await runFtpkit(['db', 'migrate', '--url', url])).code, 0);
  assert.equal((await runFtpkit(['user', 'add', 'wendy', '--root', writer, '--url', url], { input: 'pw\n' })).code, 0);
  const ro = await runFtpkit(['user', 'add', 'rita', '--root', reader, '--permissions', 'list,read', '--url', url], { input: 'pw\n' });
  assert.equal(ro.code, 0, describeCli(ro));
  const config = path.join(dir, 'ftpkit.yaml');
  await writeFile(config, `database:\n  url: ${JSON.stringify(url)}\n`);
  const serve = await startServeProcess(t, ['--config', config, '--host', '127.0.0.1']);
  // listen() sweeps before the banner: the writer's folder is clean, the read-only user's is not walked.
  assert.deepEqual(await readdir(writer), []);
  assert.deepEqual(await readdir(reader), [stale]);
  const swept = await until('the uploads-swept log line', async () => serve.stderr().split('\n').filter(Boolean)
    .map(l => JSON.parse(l) as Record<string, unknown>).find(r => r.event === 'uploads-swept'));
  assert.deepEqual({ root: swept.root, removed: swept.removed }, { root: writer, removed: 1 });
});
