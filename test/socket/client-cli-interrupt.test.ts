// Ctrl-C during a CLI transfer: the CLI closes its connections, the download's temporary file is removed
// (no stray .ftpkit-part left behind), and it exits with 130 (128 + SIGINT) saying it was interrupted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
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

async function interrupt(t: { after(fn: () => unknown): void }, args: (url: string, work: string) => string[],
  signal: NodeJS.Signals, files: string[]): Promise<{ code: number | null; stderr: string; left: string[] }> {
  const storage = new StallingStorage();
  for (const f of files) storage.writeFile(f, Buffer.alloc(10_000_000));
  const h = await startServer({ storage });
  t.after(() => h.close());
  const work = await mkdtemp(path.join(tmpdir(), 'ftpkit-cli-int-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const target = path.join(work, 'target');
  await mkdir(target);

  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args(h.url, target)], {
    cwd: REPO_ROOT, env: { ...process.env, HOME: work }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdout.resume();
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  // RETR reached the storage: the client has opened its temporary file by now.
  await storage.reading;
  const during = await readdir(target, { recursive: true });
  assert.ok(during.some(n => /\.ftpkit-part$/.test(n)), during.join(' '));
  child.kill(signal);
  const [code, killedBy] = await exited;
  assert.equal(killedBy, null, `the CLI died from ${killedBy} instead of handling it; stderr: ${stderr}`);
  const left = (await readdir(target, { recursive: true })).filter(n => n.endsWith('.ftpkit-part'));
  return { code, stderr, left };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} during a download removes the temporary file and exits ${signal === 'SIGINT' ? 130 : 143}`, async t => {
    const r = await interrupt(t, (url, target) => ['get', `${url}big.bin`, path.join(target, 'big.bin')], signal, ['/big.bin']);
    assert.equal(r.code, signal === 'SIGINT' ? 130 : 143, r.stderr);
    assert.match(r.stderr, new RegExp(`ftpkit: interrupted \\(${signal}\\)`));
    assert.deepEqual(r.left, [], 'no temporary file left behind');
  });
}

test('SIGINT during a mirror: exit 130 (interrupted), not the network-failure code of the aborted actions', async t => {
  const r = await interrupt(t, (url, target) => ['mirror', `${url}site`, target], 'SIGINT', ['/site/a.bin', '/site/b.bin']);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /ftpkit: interrupted \(SIGINT\)/);
  assert.deepEqual(r.left, []);
});
