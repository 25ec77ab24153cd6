// Downloads whose local target is not a plain file (issue 17): a character device, a FIFO and a symbolic
// link are written through and never replaced by a renamed temporary file; a dangling link and resuming
// into a device or FIFO are usage errors (exit 2); Ctrl-C and abort() end a wait for a FIFO's reader;
// get -r / mirror follow links only inside their folder and refuse a target that is not a folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FtpClient } from '../../src/client/index.js';
import { ftpkit, server, ok } from '../support/cli-server.js';
import { describeCli, REPO_ROOT } from '../support/ftpkit-cli.js';
import { tempDir } from '../support/temp-dir.js';
import { deviceNumbers, mkfifo, mknodChar, nodeSkip, readFifo, releaseFifoWriters } from '../support/special-files.js';

type T = { after: (fn: () => unknown) => void };

const env = { FTPKIT_PASSWORD: 's3cr=t' };

/** Our server with `files` (path -> content) and an empty local work folder. */
async function setup(t: T, files: Record<string, string | Buffer>) {
  const { root, base, h } = await server(t);
  for (const [p, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await writeFile(path.join(root, p), content);
  }
  const work = await tempDir(t, 'ftpkit-targets-');
  return { root, work, port: h.port, url: (p: string) => `${base.replace('ftp://', 'ftp://test@')}/${p}` };
}

async function assertNullDevice(file: string): Promise<void> {
  const st = await lstat(file);
  assert.ok(st.isCharacterDevice(), `${file} is no longer a character device`);
  assert.deepEqual(deviceNumbers(st.rdev), [1, 3]);
}

test('get into a character device (mknod c 1 3, as /dev/null) writes into it: still the device, exit 0', { skip: nodeSkip() }, async t => {
  const { work, url } = await setup(t, { 'f.txt': 'hello\n' });
  const dev = path.join(work, 'null');
  await mknodChar(dev, 1, 3);
  const r = await ftpkit(['get', '--json', url('f.txt'), dev], env);
  ok(r);
  assert.equal(JSON.parse(r.stdout).bytes, 6);
  await assertNullDevice(dev);
  assert.deepEqual(await readdir(work), ['null'], 'no temporary file left beside it');
});

test('get into a FIFO streams every byte to its reader; the FIFO stays a FIFO', async t => {
  const data = randomBytes(3 * 1024 * 1024 + 17); // far more than a pipe buffer: backpressure
  const { work, url } = await setup(t, { 'big.bin': data });
  const fifo = path.join(work, 'pipe');
  await mkfifo(fifo);
  t.after(() => releaseFifoWriters(fifo));
  const received = readFifo(t, fifo);
  const r = await ftpkit(['get', url('big.bin'), fifo], env);
  ok(r);
  assert.ok((await lstat(fifo)).isFIFO(), 'the FIFO was replaced');
  assert.ok((await received).equals(data), 'the reader got exactly the bytes');
  assert.deepEqual(await readdir(work), ['pipe']);
});

test('get into a symbolic link: the real file gets the content, the link stays a link to the same path', async t => {
  const { work, url } = await setup(t, { 'f.txt': 'new content' });
  const here = path.join(work, 'here');
  const elsewhere = path.join(work, 'elsewhere');
  await mkdir(here);
  await mkdir(elsewhere);
  await writeFile(path.join(elsewhere, 'real.txt'), 'old');
  const link = path.join(here, 'link.txt');
  await symlink('../elsewhere/real.txt', link); // relative: resolved from the link's folder
  ok(await ftpkit(['get', url('f.txt'), link], env));
  assert.ok((await lstat(link)).isSymbolicLink(), 'the link was replaced');
  assert.equal(await readlink(link), '../elsewhere/real.txt');
  assert.equal(await readFile(path.join(elsewhere, 'real.txt'), 'utf8'), 'new content');
  assert.deepEqual(await readdir(here), ['link.txt']);
  assert.deepEqual(await readdir(elsewhere), ['real.txt'], 'no temporary file left beside the real file');
});

test('get into a symbolic link to a FIFO writes through the link into the FIFO', async t => {
  const { work, url } = await setup(t, { 'f.txt': 'through the link' });
  const fifo = path.join(work, 'pipe');
  await mkfifo(fifo);
  t.after(() => releaseFifoWriters(fifo));
  const link = path.join(work, 'link');
  await symlink(fifo, link);
  const received = readFifo(t, fifo);
  ok(await ftpkit(['get', url('f.txt'), link], env));
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.ok((await lstat(fifo)).isFIFO());
  assert.equal((await received).toString(), 'through the link');
});

test('get into a dangling symbolic link is refused (exit 2): the link stays, nothing is created', async t => {
  const { work, url } = await setup(t, { 'f.txt': 'x' });
  const link = path.join(work, 'link.txt');
  await symlink('missing/target.txt', link);
  const r = await ftpkit(['get', url('f.txt'), link], env);
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /link\.txt is a symbolic link to missing\/target\.txt, which does not exist/);
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.deepEqual(await readdir(work), ['link.txt']);
});

test('get --resume into a character device is a usage error (exit 2); the device is untouched', { skip: nodeSkip() }, async t => {
  const { work, url } = await setup(t, { 'f.txt': 'hello\n' });
  const dev = path.join(work, 'null');
  await mknodChar(dev, 1, 3);
  const r = await ftpkit(['get', '--resume', url('f.txt'), dev], env);
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /cannot resume into .*null: it is a character device/);
  assert.doesNotMatch(r.stderr, /RETR/);
  await assertNullDevice(dev);
  assert.deepEqual(await readdir(work), ['null']);
});

test('get --resume into a FIFO is a usage error at once (no wait for a reader); the FIFO stays', async t => {
  const { work, url } = await setup(t, { 'f.txt': 'hello\n' });
  const fifo = path.join(work, 'pipe');
  await mkfifo(fifo);
  t.after(() => releaseFifoWriters(fifo));
  const r = await ftpkit(['get', '--resume', url('f.txt'), fifo], env);
  assert.equal(r.code, 2, describeCli(r));
  assert.match(r.stderr, /cannot resume into .*pipe: it is a FIFO/);
  assert.ok((await lstat(fifo)).isFIFO());
});

test('Ctrl-C while get waits for a FIFO reader: exit 130, the FIFO stays a FIFO', async t => {
  const { work, url } = await setup(t, { 'f.txt': 'hello\n' });
  const fifo = path.join(work, 'pipe');
  await mkfifo(fifo);
  t.after(() => releaseFifoWriters(fifo));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'get', '-v', url('f.txt'), fifo], {
    cwd: REPO_ROOT, env: { ...process.env, ...env, HOME: work }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = '';
  // The CLI says (in its -v transcript) when it starts waiting; bounded so that a CLI that never says
  // so fails here instead of hanging.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "waiting for a reader" status in 30 s; stderr: ${stderr}`)), 30_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/FIFO with no reader yet: waiting/.test(stderr)) { clearTimeout(timer); resolve(); }
    });
    void exited.then(() => { clearTimeout(timer); reject(new Error(`the CLI exited before waiting; stderr: ${stderr}`)); });
  });
  child.kill('SIGINT');
  const [code, signal] = await exited;
  assert.equal(signal, null, stderr);
  assert.equal(code, 130, stderr);
  assert.match(stderr, /ftpkit: interrupted \(SIGINT\)/);
  assert.ok((await lstat(fifo)).isFIFO());
  assert.deepEqual(await readdir(work), ['pipe']);
});

// Bounded: code that blocks in open() waiting for a reader would hang here; the timeout fails the test and
// t.after releases the blocked open.
test('library: abort() through the signal ends a wait for a FIFO reader; the session goes on', { timeout: 60_000 }, async t => {
  const { work, port } = await setup(t, { 'f.txt': 'hello\n' });
  const fifo = path.join(work, 'pipe');
  await mkfifo(fifo);
  t.after(() => releaseFifoWriters(fifo));
  const c = new FtpClient({ host: '127.0.0.1', port, user: 'test', password: 's3cr=t' });
  t.after(() => c.destroy());
  await c.connect();
  const ac = new AbortController();
  c.on('transcript', e => { if (e.kind === 'status' && /waiting for one/.test(e.text)) ac.abort(); });
  await assert.rejects(c.download('f.txt', fifo, { signal: ac.signal }), { name: 'FtpAbortedError', message: /waiting for a reader/ });
  assert.equal((await c.send('NOOP')).code, 200);
  assert.ok((await lstat(fifo)).isFIFO());
  await c.close();
});

test('get -r: a link inside the folder is written through, a link leading outside is refused, a FIFO is fed', async t => {
  const { work, url } = await setup(t, { 'site/in.txt': 'inside', 'site/out.txt': 'from the server', 'site/pipe': 'to the fifo' });
  const dest = path.join(work, 'dest');
  const outside = path.join(work, 'outside');
  await mkdir(path.join(dest, 'keep'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(dest, 'keep/real-in.txt'), 'old');
  await writeFile(path.join(outside, 'victim.txt'), 'precious');
  await symlink('keep/real-in.txt', path.join(dest, 'in.txt'));
  await symlink('../outside/victim.txt', path.join(dest, 'out.txt'));
  const fifo = path.join(dest, 'pipe');
  await mkfifo(fifo);
  t.after(() => releaseFifoWriters(fifo));
  const received = readFifo(t, fifo);

  const r = await ftpkit(['get', '-r', '--json', url('site'), dest], env);
  assert.notEqual(r.code, 0, describeCli(r)); // one action failed
  const result = JSON.parse(r.stdout);
  assert.deepEqual(result.failures.map((f: { action: { rel: string } }) => f.action.rel), ['out.txt']);
  assert.match(result.failures[0].error.message, /resolves to .*victim\.txt, outside/);
  assert.equal(result.transferred, 2);

  assert.ok((await lstat(path.join(dest, 'in.txt'))).isSymbolicLink());
  assert.equal(await readFile(path.join(dest, 'keep/real-in.txt'), 'utf8'), 'inside');
  assert.ok((await lstat(path.join(dest, 'out.txt'))).isSymbolicLink());
  assert.equal(await readFile(path.join(outside, 'victim.txt'), 'utf8'), 'precious');
  assert.ok((await lstat(fifo)).isFIFO());
  assert.equal((await received).toString(), 'to the fifo');
  assert.deepEqual((await readdir(dest)).sort(), ['in.txt', 'keep', 'out.txt', 'pipe']);
});

test('mirror into a folder holding a character device writes into it and keeps it', { skip: nodeSkip() }, async t => {
  const { work, url } = await setup(t, { 'site/null': 'discarded', 'site/a.txt': 'a' });
  const dest = path.join(work, 'dest');
  await mkdir(dest);
  await mknodChar(path.join(dest, 'null'), 1, 3);
  const r = await ftpkit(['mirror', '--json', url('site'), dest], env);
  ok(r);
  assert.equal(JSON.parse(r.stdout).transferred, 2);
  await assertNullDevice(path.join(dest, 'null'));
  assert.equal(await readFile(path.join(dest, 'a.txt'), 'utf8'), 'a');
});

test('mirror or get -r into a FIFO (not a folder) is a usage error (exit 2); the FIFO stays', async t => {
  const { work, url } = await setup(t, { 'site/a.txt': 'a' });
  const fifo = path.join(work, 'pipe');
  await mkfifo(fifo);
  t.after(() => releaseFifoWriters(fifo));
  for (const args of [['mirror', url('site'), fifo], ['get', '-r', url('site'), fifo]]) {
    const r = await ftpkit(args, env);
    assert.equal(r.code, 2, describeCli(r));
    assert.match(r.stderr, /pipe exists and is not a folder/);
    assert.ok((await lstat(fifo)).isFIFO());
  }
});
