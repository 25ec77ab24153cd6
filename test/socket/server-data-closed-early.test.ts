/**
 * A passive data connection the client opened and closed before its transfer command (RFC 959 s3.2: the
 * data connection belongs to the transfer command that follows): the command must get its final reply at
 * once: 425, the connection is gone. Found by the fuzz run (bench/fuzz-run.ts): the server handed the
 * already ended socket to a TYPE I upload, whose 'end' had come and gone, so STOR/APPE/STOU waited for the
 * data idle timeout (300 s).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalStorage, MemoryStorage } from '../../src/server/index.js';
import type { Storage } from '../../src/server/index.js';
import { RawControl, finalReplyWithin, openPassive, startServer } from '../support/server-harness.js';
import { tempDir } from '../support/temp-dir.js';

for (const kind of ['memory', 'local'] as const) {
  test(`${kind} storage: a passive data connection closed before the transfer command gets its final reply at once`, { timeout: 60_000 }, async (t) => {
    let storage: Storage;
    if (kind === 'memory') {
      const m = new MemoryStorage();
      m.writeFile('/f.txt', 'data\n');
      storage = m;
    } else {
      const dir = await tempDir(t);
      await writeFile(path.join(dir, 'f.txt'), 'data\n');
      storage = new LocalStorage(dir);
    }
    const h = await startServer({ storage });
    t.after(() => h.close());
    const c = await RawControl.login(h);
    t.after(() => c.close());
    const cases = [['EPSV', 'STOR g.txt'], ['PASV', 'APPE g.txt'], ['EPSV', 'STOU'], ['EPSV', 'RETR f.txt'], ['PASV', 'LIST']] as const;
    for (const [type, [verb, command]] of (['I', 'A'] as const).flatMap(type => cases.map(c => [type, c] as const))) {
      assert.equal((await c.send(`TYPE ${type}`)).code, 200);
      const data = await openPassive(c, verb);
      data.end();
      await once(data, 'close');
      // Let the server see the close before the command comes (the fuzz client's timing).
      await delay(100);
      c.write(`${command}\r\n`);
      const { final: outcome, codes } = await finalReplyWithin(c, 10_000);
      assert.ok(outcome, `TYPE ${type} ${command}: no final reply within 10 s (replies so far: ${codes.join(' ')})`);
      assert.equal(outcome.code, 425, `TYPE ${type} ${command}: ${outcome.code} ${outcome.text}`);
    }
    assert.equal((await c.send('NOOP')).code, 200, 'the session goes on');
  });
}
