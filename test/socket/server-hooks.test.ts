/**
 * Veto hooks (src/server/hooks.ts) over real sockets: a denied upload is answered 550 with the hook's
 * reason and writes nothing; an allowed one passes; a denied login 530; a hook's own code (553, 552) is
 * used; a throwing hook refuses with 451 and is reported as a 'session-error'; a hook that never answers
 * refuses with 451 after the timeout and a 'warning' 'hook-timeout'. The hooks see the resolved paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { allow, deny, type FtpServerHooks, type UploadHookContext } from '../../src/server/hooks.js';
import { MemoryStorage, RawControl, openPassive, startServer, writeAll } from '../support/server-harness.js';

async function upload(c: RawControl, line: string, content: string): Promise<{ code: number; text: string }> {
  const data = await openPassive(c);
  const r = await c.send(line);
  if (r.code !== 150) {
    data.destroy();
    return r;
  }
  await writeAll(data, Buffer.from(content));
  return c.read();
}

test('hooks allow, deny with a reason or a code, and refuse with 451 when they throw or hang', async (t) => {
  const storage = new MemoryStorage();
  storage.writeFile('/keep.txt', 'keep');
  storage.writeFile('/rename-me.txt', 'r');
  const uploads: UploadHookContext[] = [];
  const hooks: FtpServerHooks = {
    beforeLogin: (ctx) => (ctx.user === 'blocked' ? deny(`account ${ctx.user} is suspended\r\n230 injected`) : allow()),
    beforeUpload: (ctx) => {
      uploads.push(ctx);
      if (ctx.path.endsWith('.exe')) return deny('executables are not accepted here');
      if (ctx.path.endsWith('.big')) return deny('over quota', 552);
      return undefined; // nothing: allow
    },
    beforeDelete: () => { throw new Error('policy service down'); },
    beforeMkdir: () => new Promise(() => {}), // never answers
    beforeRename: async (ctx) => (ctx.to.startsWith('/archive/') ? deny('the archive is closed', 553) : allow()),
  };
  const h = await startServer({
    storage,
    users: { test: { password: 'test' }, blocked: { password: 'pw' } },
    extensions: { hooks, hookTimeoutMs: 300 },
  });
  t.after(() => h.close());
  const errors: Error[] = [];
  const warnings: string[] = [];
  h.server.on('session-error', (e) => errors.push(e.error));
  h.server.on('warning', (w) => warnings.push(w.code));

  // Login: denied with the reason, on one line (the host's text cannot inject a reply).
  const b = await RawControl.connect(h.host, h.port);
  t.after(() => b.close());
  await b.send('USER blocked');
  const refused = await b.send('PASS pw');
  assert.equal(refused.code, 530);
  assert.equal(refused.lines.length, 1);
  assert.match(refused.text, /account blocked is suspended 230 injected/);
  assert.equal((await b.send('PWD')).code, 530, 'not logged in');

  const c = await RawControl.login(h);
  t.after(() => c.close());
  await c.send('CWD /');
  const denied = await upload(c, 'STOR tool.exe', 'MZ');
  assert.deepEqual([denied.code, denied.text], [550, 'executables are not accepted here']);
  assert.equal(storage.exists('/tool.exe'), false, 'nothing written');
  assert.equal((await upload(c, 'STOR data.big', 'x')).code, 552);
  assert.equal((await upload(c, 'STOR fine.txt', 'fine')).code, 226, 'allowed');
  assert.equal(storage.readFile('/fine.txt').toString(), 'fine');
  assert.equal((await upload(c, 'APPE fine.txt', '+')).code, 226);
  assert.equal((await upload(c, 'STOU', 'u')).code, 226);
  assert.deepEqual(uploads.map((u) => `${u.verb} ${u.user}`), ['STOR test', 'STOR test', 'STOR test', 'APPE test', 'STOU test']);
  assert.match(uploads[4]!.path, /^\/ftpkit\.[0-9a-f]{8}$/, 'STOU: the hook sees the unique name');

  // Throws: 451, reported, nothing deleted.
  const thrown = await c.send('DELE keep.txt');
  assert.equal(thrown.code, 451);
  assert.ok(storage.exists('/keep.txt'));
  assert.ok(errors.some((e) => e.message === 'policy service down'), 'the throw is reported as a session-error');
  assert.equal((await c.send('RMD /nothing')).code, 451);

  // Hangs: 451 after the timeout, a warning, no folder.
  const warned = once(h.server, 'warning');
  const hung = await c.send('MKD newdir');
  assert.equal(hung.code, 451);
  await warned;
  assert.ok(warnings.includes('hook-timeout'));
  assert.equal(storage.exists('/newdir'), false);

  // Rename: the hook's own code; allowed otherwise.
  storage.mkdirp('/archive');
  await c.send('RNFR rename-me.txt');
  assert.equal((await c.send('RNTO /archive/r.txt')).code, 553);
  await c.send('RNFR rename-me.txt');
  assert.equal((await c.send('RNTO renamed.txt')).code, 250);
  assert.equal((await c.send('NOOP')).code, 200, 'the session goes on');
});

test('no hooks registered: the server keeps no runner', async (t) => {
  const h = await startServer({ extensions: { hooks: {} } });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  assert.equal((await c.send('MKD d')).code, 257);
  assert.equal((h.server as unknown as { context: { services: { hooks?: unknown } } }).context.services.hooks, undefined);
});
