// The library example at the top of docs/client.md promises a transcript with the login ("PASS ****"):
// that only holds when the listeners are attached before connect(). Checks the example's order, and that
// the pattern it shows really yields the greeting and the masked PASS against our server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FtpClient } from '../../src/client/index.js';
import type { TranscriptEvent } from '../../src/client/index.js';
import { startServer } from '../support/server-harness.js';
import { REPO_ROOT } from '../support/ftpkit-cli.js';

test('docs/client.md: the first example attaches the transcript listener before connecting', async () => {
  const doc = await readFile(path.join(REPO_ROOT, 'docs/client.md'), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const listener = example.indexOf(`client.on('transcript'`);
  const connect = example.search(/(FtpClient\.connect|client\.connect)\(/);
  assert.ok(listener >= 0 && connect >= 0, example);
  assert.ok(listener < connect, 'the transcript listener must come before connect(), or it misses the login');
});

test('listeners attached before connect() see the greeting and PASS masked', async t => {
  const h = await startServer({ users: { alice: { password: 'wonderland' } } });
  t.after(() => h.close());
  const client = new FtpClient({ host: '127.0.0.1', port: h.port, user: 'alice', password: 'wonderland' });
  const lines: string[] = [];
  client.on('transcript', (e: TranscriptEvent) => lines.push(`${e.kind}: ${e.text}`));
  await client.connect();
  await client.close();
  assert.ok(lines.some(l => /^response: 220 /.test(l)), lines.join('\n'));
  assert.ok(lines.includes('command: PASS ****'), lines.join('\n'));
  assert.ok(!lines.some(l => l.includes('wonderland')), 'the password never appears');
});
