/**
 * A LIST line no parser understands is reported, never silently dropped (docs/client.md#listings): the
 * library emits 'unparsedListing', the CLI warns on stderr and puts the lines in its --json result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeServer } from '../support/fake-server.js';
import { ftpkit, ok } from '../support/cli-server.js';
import { FtpClient } from '../../src/client/index.js';
import type { UnparsedListingEvent } from '../../src/client/events.js';

// An OpenVMS listing (HP TCP/IP Services): one entry the server could not read for lack of privilege.
const VMS = 'Directory DISK$USER:[SMITH]\r\n\r\n'
  + 'LOGIN.COM;2             1/4          14-NOV-1995 10:20:35  [GROUP,SMITH]  (RWED,RWED,RE,)\r\n'
  + 'SECRET.DAT;1           no privilege\r\n'
  + 'A_VERY_LONG_FILE_NAME_INDEED.TXT;12\r\n'
  + '                        24/27        12-DEC-2003 09:01:44  [SYSTEM]       (RWED,RWED,RE,)\r\n'
  + '\r\nTotal of 3 files, 25/31 blocks.\r\n';

async function vmsServer() {
  return startFakeServer({
    commands: {
      FEAT: '211-Features:\r\n EPSV\r\n PASV\r\n211 End',
      LIST: { transfer: { send: VMS } },
    },
  });
}

test('library: the entries it understood, and an unparsedListing event with the line it did not', async t => {
  const fake = await vmsServer();
  t.after(() => fake.close());
  const c = new FtpClient({ host: '127.0.0.1', port: fake.port, user: 'u', password: 'p' });
  t.after(() => c.destroy());
  const events: UnparsedListingEvent[] = [];
  c.on('unparsedListing', e => events.push(e));
  await c.connect();
  const entries = await c.list('[SMITH]');
  assert.deepEqual(entries.map(e => [e.name, e.type, e.version]), [['LOGIN.COM', 'file', 2], ['A_VERY_LONG_FILE_NAME_INDEED.TXT', 'file', 12]]);
  assert.equal(events.length, 1);
  assert.equal(events[0].path, '[SMITH]');
  assert.deepEqual(events[0].lines, ['SECRET.DAT;1           no privilege']);
  await c.close();
});

test('CLI: ls warns on stderr and --json carries the unparsed lines', async t => {
  const fake = await vmsServer();
  t.after(() => fake.close());
  const url = `ftp://u:p@127.0.0.1:${fake.port}/`;
  const plain = await ftpkit(['ls', url]);
  ok(plain);
  assert.deepEqual(plain.stdout.trim().split('\n'), ['LOGIN.COM', 'A_VERY_LONG_FILE_NAME_INDEED.TXT']);
  assert.match(plain.stderr, /warning: the listing of \. has 1 line\(s\) no parser understood; they are left out:\n {2}SECRET\.DAT;1 +no privilege/);
  const json = await ftpkit(['ls', '--json', url]);
  ok(json);
  assert.deepEqual(JSON.parse(json.stdout).unparsed, ['SECRET.DAT;1           no privilege']);
});
