// Names and reply text from a server reach the terminal escaped (issue 8 item 8): ESC could rewrite the
// screen or the window title, BEL rings, NUL hides. --json keeps the exact names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startFakeServer } from '../support/fake-server.js';
import { describeCli, type CliResult } from '../support/ftpkit-cli.js';
import { ftpkit, ok } from '../support/cli-server.js';
import { tempDir } from '../support/temp-dir.js';

const TITLE = 'evil\x1b]0;owned\x07.txt';       // sets the terminal's window title, then rings
const CLEAR = '\x1b[2Jx\x9b1m.bin';              // clears the screen; U+009B is a one-character CSI
const LISTING = [TITLE, CLEAR].map(n => `-rw-r--r-- 1 ftp ftp 5 Jan 15 10:30 ${n}\r\n`).join('');

/** Nothing a terminal would act on: no C0 control but the line ends, no DEL, no C1. */
function assertTerminalSafe(r: CliResult, what: string): void {
  for (const [stream, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    const bad = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.exec(text);
    assert.equal(bad, null, `${what}: ${stream} holds ${JSON.stringify(bad?.[0])}\n${describeCli(r)}`);
  }
}

test('ls, get, mirror, errors and the -v transcript escape control characters; --json keeps exact names', async t => {
  const fake = await startFakeServer({
    greeting: '220 hello \x1b[31mred\x1b[0m',
    listing: LISTING,
    // The fake reads commands as latin1: the UTF-8 bytes of U+009B arrive as two characters.
    files: { [TITLE]: 'title', [Buffer.from(CLEAR).toString('latin1')]: 'clear' },
    commands: { DELE: (c) => `550 ${c.arg}: permission denied.` },
  });
  t.after(() => fake.close());
  const url = `ftp://127.0.0.1:${fake.port}`;
  const work = await tempDir(t, 'ftpkit-cli-names-');

  const ls = await ftpkit(['ls', '-v', `${url}/`]);
  ok(ls);
  assertTerminalSafe(ls, 'ls -v');
  assert.deepEqual(ls.stdout.split('\n').filter(Boolean), ['evil\\e]0;owned\\x07.txt', '\\e[2Jx\\x9b1m.bin']);
  assert.match(ls.stderr, /Response:\t220 hello \\e\[31mred\\e\[0m/);

  const long = await ftpkit(['ls', '-l', `${url}/`]);
  ok(long);
  assertTerminalSafe(long, 'ls -l');
  assert.match(long.stdout, / evil\\e\]0;owned\\x07\.txt\n/);

  const json = await ftpkit(['ls', '--json', `${url}/`]);
  ok(json);
  assert.deepEqual(JSON.parse(json.stdout).entries.map((e: { name: string }) => e.name), [TITLE, CLEAR]);

  const get = await ftpkit(['get', `${url}/${encodeURIComponent(CLEAR)}`, path.join(work, 'clear.bin')]);
  ok(get);
  assertTerminalSafe(get, 'get');
  assert.match(get.stdout, /^\\e\[2Jx\\x9b1m\.bin -> .*clear\.bin: 5 B\n$/);

  const rm = await ftpkit(['rm', `${url}/${encodeURIComponent(TITLE)}`]);
  assert.equal(rm.code, 4, describeCli(rm));
  assertTerminalSafe(rm, 'an error quoting the name');
  assert.match(rm.stderr, /evil\\e\]0;owned\\x07\.txt: permission denied/);

  const local = path.join(work, 'mirror');
  const mirror = await ftpkit(['mirror', `${url}/`, local]);
  ok(mirror);
  assertTerminalSafe(mirror, 'mirror');
  assert.match(mirror.stdout, /transfer evil\\e\]0;owned\\x07\.txt\n/);
  // The files themselves keep their exact names.
  assert.deepEqual((await readdir(local)).sort(), [CLEAR, TITLE].sort());
  assert.equal(await readFile(path.join(local, TITLE), 'utf8'), 'title');
});
