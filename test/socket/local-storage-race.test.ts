/**
 * Confinement under concurrent renames (issue 8 item 2): while a local process atomically exchanges the
 * folder `d` inside the root with a symlink to a folder outside the root (renameat2 RENAME_EXCHANGE, in a
 * loop, test/support/folder_swapper.py), LocalStorage, directly and through the server's commands,
 * hammers d/... with every operation that creates, removes, truncates, renames or changes something.
 * Afterwards the outside folder must be byte-for-byte unchanged and nothing may have been read from it.
 *
 * The swapper runs for a bounded time (SWAP_SECONDS) and is stopped by PID in t.after; the operations run
 * until it ends, so the figures (operations raced, swaps) scale with the machine's speed, never the pass/fail.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalStorage } from '../../src/server/storage/local.js';
import { FtpStorageError } from '../../src/errors.js';
import { PYTHON, SUPPORT_DIR, peerSkip, spawnManaged, type ManagedProcess } from '../support/peers-common.js';
import { RawControl, openPassive, readAll, startServer, writeAll } from '../support/server-harness.js';
import { tempDir } from '../support/temp-dir.js';
import { snapshotTree, treeChanges } from '../support/tree-snapshot.js';

const SWAP_SECONDS = 5;
const MARKER = 'OUTSIDE-SENTINEL-51c9';
const FILES = 6;
const EMPTY_DIRS = 4;
const linuxOnly = process.platform !== 'linux' ? { skip: 'renameat2(RENAME_EXCHANGE) is Linux-only' } : peerSkip('python3');

interface World { base: string; root: string; outside: string }

/**
 * root/d and outside/ hold the same names (files s0..s5 and victim, empty folders e0..e3), so that every
 * operation on d/<name> is meaningful on both sides of the swap; root/d-link -> ../outside is what the
 * swapper exchanges with root/d.
 */
async function buildWorld(t: TestContext): Promise<World> {
  const base = await tempDir(t, 'ftpkit-race-');
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  for (const [dir, content] of [[join(root, 'd'), 'inside'], [outside, MARKER]] as const) {
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < FILES; i++) await writeFile(join(dir, `s${i}`), `${content} s${i}`);
    await writeFile(join(dir, 'victim'), `${content} victim, to be truncated`);
    for (let i = 0; i < EMPTY_DIRS; i++) await mkdir(join(dir, `e${i}`));
  }
  await symlink('../outside', join(root, 'd-link'));
  return { base, root, outside };
}

/** Start the swapper and resolve once its first exchange happened. */
async function startSwapper(t: TestContext, world: World): Promise<ManagedProcess & { swaps(): number }> {
  const swapper = spawnManaged(PYTHON, [join(SUPPORT_DIR, 'folder_swapper.py'), join(world.root, 'd'), join(world.root, 'd-link'), String(SWAP_SECONDS)]);
  t.after(() => swapper.stop(1000));
  let ready = false;
  while (!ready) {
    const exited = swapper.exited.then(() => 'exited' as const);
    const data = once(swapper.child.stdout!, 'data').then(() => 'data' as const);
    if ((await Promise.race([exited, data])) === 'exited') assert.fail(`swapper ended early: ${swapper.output()}`);
    ready = swapper.output().includes('ready');
  }
  return Object.assign(swapper, { swaps: () => Number(/swaps (\d+)/.exec(swapper.output())?.[1] ?? NaN) });
}

/** Fail with the damage listed: outside unchanged, and nothing new next to the root and outside. */
async function assertOutsideUntouched(world: World, before: Map<string, string>, raced: string): Promise<void> {
  const after = await snapshotTree(world.outside);
  const { removed, added, changed } = treeChanges(before, after);
  const sample = (names: string[]) => names.slice(0, 5).join(', ');
  assert.ok(removed.length + added.length + changed.length === 0,
    `${raced}: outside removed ${removed.length} (${sample(removed)}), created ${added.length} (${sample(added)}), ` +
    `changed ${changed.length} (${sample(changed)})`);
  assert.deepEqual((await readdir(world.base)).sort(), ['outside', 'root'], 'nothing created next to the root');
}

test('LocalStorage operations racing a folder/symlink exchange never touch the outside', linuxOnly, async (t) => {
  const world = await buildWorld(t);
  const before = await snapshotTree(world.outside);
  const storage = await LocalStorage.open(world.root);
  const swapper = await startSwapper(t, world);
  let running = true;
  void swapper.exited.then(() => { running = false; });

  const counts = { operations: 0, refused: 0, leaks: 0 };
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const k = i % FILES;
      const e = i % EMPTY_DIRS;
      const step = async (op: () => Promise<unknown>) => {
        counts.operations++;
        try {
          await op();
        } catch (err) {
          if (!(err instanceof FtpStorageError)) throw err;
          counts.refused++;
        }
      };
      await step(() => storage.delete(`/d/s${k}`));
      await step(async () => pipeline(Readable.from([Buffer.from(`rewritten ${w}`)]), await storage.openWrite(`/d/s${k}`)));
      await step(async () => pipeline(Readable.from([Buffer.from('t')]), await storage.openWrite('/d/victim')));
      await step(async () => pipeline(Readable.from([Buffer.from('a')]), await storage.openAppend('/d/victim')));
      await step(() => storage.mkdir(`/d/m${w}-${i}`));
      await step(() => storage.rmdir(`/d/e${e}`));
      await step(() => storage.mkdir(`/d/e${e}`));
      await step(() => storage.rename(`/d/s${k}`, `/moved-in-${w}-${i}`));
      await step(() => storage.rename(`/moved-in-${w}-${i}`, `/d/s${k}`));
      await step(() => storage.chmod(`/d/s${k}`, 0o600));
      await step(() => storage.setModifiedAt(`/d/s${k}`, new Date(0)));
      await step(() => storage.stat(`/d/s${k}`));
      await step(() => storage.list('/d'));
      await step(async () => {
        const chunks: Buffer[] = [];
        for await (const c of await storage.openRead(`/d/s${k}`)) chunks.push(c as Buffer);
        if (Buffer.concat(chunks).toString().includes(MARKER)) counts.leaks++;
      });
    }
  };
  await Promise.all([0, 1, 2, 3, 4, 5].map(worker));
  const end = await swapper.exited;
  assert.equal(end.code, 0, swapper.output());
  const raced = `${counts.operations} operations (${counts.refused} refused) raced ${swapper.swaps()} swaps`;
  t.diagnostic(raced);
  assert.equal(counts.leaks, 0, `${raced}: ${counts.leaks} reads returned outside content`);
  await assertOutsideUntouched(world, before, raced);
});

test('FTP commands racing a folder/symlink exchange never touch the outside', linuxOnly, async (t) => {
  const world = await buildWorld(t);
  const before = await snapshotTree(world.outside);
  const h = await startServer({ storage: await LocalStorage.open(world.root) });
  t.after(() => h.close());
  const swapper = await startSwapper(t, world);
  let running = true;
  void swapper.exited.then(() => { running = false; });

  const counts = { commands: 0, leaks: 0 };
  const session = async (w: number) => {
    const c = await RawControl.login(h);
    t.after(() => c.close());
    const send = async (line: string) => {
      counts.commands++;
      return c.send(line);
    };
    /** STOR/APPE/RETR: 150 then the data, or a refusal before any data flows. */
    const transfer = async (line: string, upload?: Buffer) => {
      const data = await openPassive(c);
      const reply = await send(line);
      if (reply.code !== 150 && reply.code !== 125) { data.destroy(); return; }
      if (upload) await writeAll(data, upload);
      else if ((await readAll(data)).toString().includes(MARKER)) counts.leaks++;
      await c.read();
    };
    for (let i = 0; running; i++) {
      const k = i % FILES;
      const e = i % EMPTY_DIRS;
      await send(`DELE d/s${k}`);
      await transfer(`STOR d/s${k}`, Buffer.from(`stored ${w}`));
      await transfer('STOR d/victim', Buffer.from('t'));
      await transfer(`RETR d/s${k}`);
      await send(`MKD d/m${w}-${i}`);
      await send(`RMD d/e${e}`);
      await send(`MKD d/e${e}`);
      if ((await send(`RNFR d/s${k}`)).code === 350) await send(`RNTO moved-in-${w}-${i}`);
      if ((await send(`RNFR moved-in-${w}-${i}`)).code === 350) await send(`RNTO d/s${k}`);
      await send(`SITE CHMOD 600 d/s${k}`);
      await send(`MFMT 20000101000000 d/s${k}`);
    }
    await c.send('QUIT');
  };
  await Promise.all([0, 1, 2].map(session));
  const end = await swapper.exited;
  assert.equal(end.code, 0, swapper.output());
  const raced = `${counts.commands} commands raced ${swapper.swaps()} swaps`;
  t.diagnostic(raced);
  assert.equal(counts.leaks, 0, `${raced}: ${counts.leaks} RETRs returned outside content`);
  await assertOutsideUntouched(world, before, raced);
});
