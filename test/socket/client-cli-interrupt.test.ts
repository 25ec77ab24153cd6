// Ctrl-C during a CLI transfer: the CLI closes its connections, the download's temporary file is removed
// (no stray .ftpkit-part left behind), and it exits with 130 (128 + SIGINT) saying it was interrupted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { MemoryStorage } from '../../src/server/index.js';
import type { ReadOptions } from '../../src/server/index.js';
import { startServer } from '../support/server-harness.js';
import { REPO_ROOT } from '../support/ftpkit-cli.js';

/** Sends 256 KiB of a download, then stalls until the session ends; `reading` resolves at the first read. */
class StallingStorage extends MemoryStorage {
  private started!: () => void;
  readonly reading = new Promise<void>(resolve => { this.started = resolve; });

  override async openRead(p: string, options?: ReadOptions): Promise<Readable> {
    await super.openRead(p, options);
    let sent = 0;
    this.started();
    return new Readable({
      read() {
        if (sent >= 256 * 1024) return;
        sent += 65536;
        this.push(Buffer.alloc(65536, 7));
      },
    });
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} during a download removes the temporary file and exits ${signal === 'SIGINT' ? 130 : 143}`, async t => {
    const storage = new StallingStorage();
    storage.writeFile('/big.bin', Buffer.alloc(10_000_000));
    const h = await startServer({ storage });
    t.after(() => h.close());
    const work = await mkdtemp(path.join(tmpdir(), 'ftpkit-cli-int-'));
    t.after(() => rm(work, { recursive: true, force: true }));

    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'),
      'get', `${h.url}big.bin`, path.join(work, 'big.bin')], {
      cwd: REPO_ROOT, env: { ...process.env, HOME: work }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdout.resume();
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    // RETR reached the storage: the client has opened its temporary file by now.
    await storage.reading;
    assert.match((await readdir(work)).join(' '), /\.big\.bin\.[0-9a-f]+\.ftpkit-part/);
    child.kill(signal);
    const [code, killedBy] = await exited;
    assert.equal(killedBy, null, `the CLI died from ${killedBy} instead of handling it; stderr: ${stderr}`);
    assert.equal(code, signal === 'SIGINT' ? 130 : 143, stderr);
    assert.match(stderr, new RegExp(`ftpkit: interrupted \\(${signal}\\)`));
    assert.deepEqual(await readdir(work), [], 'nothing left behind in the target folder');
  });
}
