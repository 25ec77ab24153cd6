/**
 * A server that hands LIST's argument to /bin/ls (inetutils-ftpd does): "LIST /my dir" lists the names "/my"
 * and "dir", finds neither and answers an empty listing with 226. The client must not read that as an empty
 * folder: it enters the folder and lists it without an argument, as curl and lftp do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeServer } from '../support/fake-server.js';
import { FtpClient, FtpEmptyListingError } from '../../src/client/index.js';

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

test('a tree listing that comes back empty is listed again from inside; an empty folder stays empty', async t => {
  // LIST with an argument finds nothing (a server whose ls mishandles the name); from inside it works.
  const cwd = new Map<number, string>();
  const fake = await startFakeServer({
    commands: {
      FEAT: '211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n211 End',
      PWD: (_c, s) => `257 "${cwd.get(s.index) ?? '/'}" is the current directory.`,
      CWD: (c, s) => { cwd.set(s.index, c.arg); return '250 OK.'; },
      LIST: (c, s) => ({ transfer: { send: c.arg === '' && cwd.get(s.index) === '/odd[1]' ? LISTING : '' } }),
    },
  });
  t.after(() => fake.close());
  const c = new FtpClient({ host: '127.0.0.1', port: fake.port, user: 'u', password: 'p' });
  t.after(() => c.destroy());
  await c.connect();
  assert.deepEqual(await c.list('/odd[1]'), [], 'a plain list() trusts the server');
  assert.deepEqual((await c.list('/odd[1]', {})).map(e => e.name), ['a.txt', 'b c.txt']);
  assert.deepEqual(await c.list('/empty', { links: 2 }), [], 'empty both ways, no subfolders: empty');
  await assert.rejects(c.list('/empty', { links: 4 }), (e: Error) => e instanceof FtpEmptyListingError && e.path === '/empty');
  assert.equal(await c.pwd(), '/');
});

test('an empty listing of a folder that cannot be entered: the root of a tree op fails, a listed subfolder stays empty', async t => {
  // vsftpd answers LIST of a missing folder with an empty listing and 226; only CWD says it is not there.
  const fake = await startFakeServer({
    commands: {
      FEAT: '211-Features:\r\n EPSV\r\n PASV\r\n211 End',
      PWD: '257 "/" is the current directory.',
      CWD: c => (c.arg === '/' ? '250 OK.' : '550 Failed to change directory.'),
      LIST: { transfer: { send: '' } },
    },
  });
  t.after(() => fake.close());
  const c = new FtpClient({ host: '127.0.0.1', port: fake.port, user: 'u', password: 'p' });
  t.after(() => c.destroy());
  await c.connect();
  await assert.rejects(c.list('/gone', { mustExist: true }), (e: Error & { replyCode?: number }) => e.replyCode === 550);
  assert.deepEqual(await c.list('/closed', { links: 2 }), []);
  await assert.rejects(c.list('/closed', { links: 3 }), FtpEmptyListingError);
});
