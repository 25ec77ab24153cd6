/**
 * Replies that follow the RFCs to the letter: SIZE counts what RETR would send in the current TYPE (RFC 3659
 * s4), HELP takes a command with its subcommand, FEAT before login offers AVBL like MFMT.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalStorage } from '../../src/server/storage/local.js';
import { RawControl, openPassive, readAll, startServer, type Harness } from '../support/server-harness.js';
import { tempDir } from '../support/temp-dir.js';

async function setup(t: TestContext): Promise<{ h: Harness; root: string }> {
  const root = await tempDir(t, 'ftpkit-replies-');
  const h = await startServer({ storage: new LocalStorage(root) });
  t.after(() => h.close());
  return { h, root };
}

test('SIZE in TYPE A is the octet count RETR sends (LF -> CRLF); in TYPE I the stored size', async t => {
  const { h, root } = await setup(t);
  await writeFile(join(root, 'lines.txt'), 'one\ntwo\r\nthree\n');
  const c = await RawControl.login(h);
  t.after(() => c.close());
  assert.equal((await c.send('TYPE A')).code, 200);
  const size = await c.send('SIZE lines.txt');
  assert.equal(size.code, 213);
  const data = await openPassive(c);
  const retr = c.send('RETR lines.txt');
  const wire = await readAll(data);
  assert.equal((await retr).code, 150);
  assert.equal((await c.read()).code, 226);
  assert.equal(Number(size.text), wire.length, 'SIZE matches the bytes the TYPE A transfer sent');
  assert.equal(wire.length, 17);
  assert.equal((await c.send('TYPE I')).code, 200);
  assert.equal((await c.send('SIZE lines.txt')).text, '15');
});

test('SIZE in TYPE A of a file over 16 MiB is refused with 550 naming TYPE I', async t => {
  const { h, root } = await setup(t);
  await writeFile(join(root, 'big.txt'), Buffer.alloc(16 * 1024 * 1024 + 1, 0x61));
  const c = await RawControl.login(h);
  t.after(() => c.close());
  const r = await c.send('SIZE big.txt'); // TYPE A is the default (RFC 959 s3.1.1)
  assert.equal(r.code, 550);
  assert.match(r.text, /TYPE I/);
  assert.equal((await c.send('TYPE I')).code, 200);
  assert.equal((await c.send('SIZE big.txt')).text, String(16 * 1024 * 1024 + 1));
});

test('HELP SITE CHMOD answers with the SITE syntax; FEAT before login offers AVBL', async t => {
  const { h } = await setup(t);
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  const feat = await c.send('FEAT');
  assert.match(feat.text, /^ AVBL$/m);
  const help = await c.send('HELP SITE CHMOD');
  assert.equal(help.code, 214);
  assert.match(help.text, /SITE <sp> CHMOD/);
  assert.equal((await c.send('HELP NOPE')).code, 502);
});
