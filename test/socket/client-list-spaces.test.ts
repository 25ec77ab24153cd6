/**
 * A server that hands LIST's argument to /bin/ls (inetutils-ftpd does): "LIST /my dir" lists the names "/my"
 * and "dir", finds neither and answers an empty listing with 226. The client must not read that as an empty
 * folder: it enters the folder and lists it without an argument, as curl and lftp do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeServer } from '../support/fake-server.js';
import { FtpClient } from '../../src/client/index.js';

const LISTING = '-rw-r--r--    1 0        0              3 Jan 15 10:30 a.txt\r\n'
  + '-rw-r--r--    1 0        0              5 Jan 15 10:31 b c.txt\r\n';

async function lsServer() {
  const cwd = new Map<number, string>();
  return startFakeServer({
    commands: {
      FEAT: '211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n211 End',
      PWD: (_c, s) => `257 "${cwd.get(s.index) ?? '/'}" is the current directory.`,
      CWD: (c, s) => {
        if (c.arg !== '/' && c.arg !== '/my dir') return '550 No such directory.';
        cwd.set(s.index, c.arg);
        return '250 OK.';
      },
      // /bin/ls semantics: an argument with a space is two names that do not exist: nothing listed, 226.
      LIST: (c, s) => ({ transfer: { send: /\s/.test(c.arg) ? '' : (c.arg === '' && cwd.get(s.index) === '/my dir') ? LISTING : '' } }),
    },
  });
}

test('LIST of a folder whose name has a space: CWD into it, LIST without argument, CWD back', async t => {
  const fake = await lsServer();
  t.after(() => fake.close());
  const c = new FtpClient({ host: '127.0.0.1', port: fake.port, user: 'u', password: 'p' });
  t.after(() => c.destroy());
  await c.connect();
  const names = (await c.list('/my dir')).map(e => e.name);
  assert.deepEqual(names, ['a.txt', 'b c.txt']);
  const lines = fake.received.map(x => x.line);
  const i = lines.indexOf('CWD /my dir');
  assert.ok(i >= 0, lines.join(' | '));
  assert.ok(lines.slice(i).includes('LIST'), lines.join(' | '));
  assert.equal(lines.filter(l => l.startsWith('CWD ')).at(-1), 'CWD /');   // back where it was
  assert.equal(await c.pwd(), '/');
});

test('a folder with a space that cannot be entered is an error, not an empty listing', async t => {
  const fake = await lsServer();
  t.after(() => fake.close());
  const c = new FtpClient({ host: '127.0.0.1', port: fake.port, user: 'u', password: 'p' });
  t.after(() => c.destroy());
  await c.connect();
  await assert.rejects(c.list('/no such dir'), (e: Error & { replyCode?: number }) => e.replyCode === 550);
});
