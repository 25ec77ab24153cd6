/**
 * The CLI's segmented download, verification, timestamps and mirror --checksum (docs/client.md), run as
 * users do (`ftpkit get|put|mirror`, test/support/ftpkit-cli.ts) against ftpkit's own server in this
 * process (its 'download' event lets a test change a file between the transfer and the check), byte-exact.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { startServer } from '../support/server-harness.js';
import { describeCli, runFtpkit } from '../support/ftpkit-cli.js';
import { LocalStorage } from '../../src/server/index.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const DATA = randomBytes(4 * 1024 * 1024 + 999);
const OLD = new Date('2021-06-07T08:09:10Z');

async function serve(t: TestContext) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ftpkit-cli-ops-'));
  const root = path.join(dir, 'root');
  const local = path.join(dir, 'local');
  await fs.mkdir(root);
  await fs.mkdir(local);
  await fs.writeFile(path.join(root, 'big.bin'), DATA);
  await fs.utimes(path.join(root, 'big.bin'), OLD, OLD);
  const h = await startServer({ storage: new LocalStorage(root) });
  t.after(async () => { await h.close(); await fs.rm(dir, { recursive: true, force: true }); });
  return { h, root, local, url: (p: string) => `ftp://test:test@127.0.0.1:${h.port}/${p}` };
}

test('get --segments 4 --verify: byte-exact on 4 connections, SHA-256 checked, the server\'s time kept', async t => {
  const { url, local } = await serve(t);
  const dest = path.join(local, 'big.bin');
  const r = await runFtpkit(['get', '--segments', '4', '--verify', '--json', url('big.bin'), dest]);
  assert.equal(r.code, 0, describeCli(r));
  const out = JSON.parse(r.stdout);
  assert.equal(out.segments, 4);
  assert.equal(out.verified.method, 'SHA-256');
  assert.equal(out.modifiedAt, OLD.toISOString());
  assert.equal(sha(await fs.readFile(dest)), sha(DATA));
  assert.equal((await fs.stat(dest)).mtime.getTime(), OLD.getTime());
  const human = await runFtpkit(['get', '--segments', '2', url('big.bin'), path.join(local, 'two.bin')]);
  assert.match(human.stdout, /2 segments, verified by SHA-256/, describeCli(human));
});

test('get --no-preserve keeps the download time; put keeps the local time with MFMT, --verify checks it', async t => {
  const { url, local, root } = await serve(t);
  const dest = path.join(local, 'now.bin');
  const r = await runFtpkit(['get', '--no-preserve', url('big.bin'), dest]);
  assert.equal(r.code, 0, describeCli(r));
  assert.ok((await fs.stat(dest)).mtime.getTime() > OLD.getTime() + 1000);

  const when = new Date('2018-03-04T05:06:07Z');
  await fs.utimes(dest, when, when);
  const up = await runFtpkit(['put', '--verify', '--json', dest, url('up.bin')]);
  assert.equal(up.code, 0, describeCli(up));
  assert.equal(JSON.parse(up.stdout).verified.method, 'SHA-256');
  assert.equal((await fs.stat(path.join(root, 'up.bin'))).mtime.getTime(), when.getTime());
  const plain = await runFtpkit(['put', '--no-preserve', dest, url('plain.bin')]);
  assert.equal(plain.code, 0, describeCli(plain));
  assert.ok((await fs.stat(path.join(root, 'plain.bin'))).mtime.getTime() > when.getTime() + 1000);
});

test('get --verify with a file changed on the server: exit 9, the destination keeps its old content', async t => {
  const { h, url, local, root } = await serve(t);
  const dest = path.join(local, 'big.bin');
  await fs.writeFile(dest, 'before');
  // Changed after the RETR, before the server reads HASH.
  h.server.once('download', () => appendFileSync(path.join(root, 'big.bin'), 'changed'));
  const r = await runFtpkit(['get', '--verify', '--json', url('big.bin'), dest]);
  assert.equal(r.code, 9, describeCli(r));
  assert.match(r.stderr, /does not match the server's copy: SHA-256/);
  const out = JSON.parse(r.stdout);
  assert.deepEqual({ ...out.error, message: undefined, expected: undefined, actual: undefined, name: undefined },
    { code: 'ERR_FTP_VERIFY', reason: 'mismatch', method: 'SHA-256', message: undefined, expected: undefined, actual: undefined, name: undefined });
  assert.equal(out.error.actual, sha(DATA));
  assert.notEqual(out.error.expected, out.error.actual);
  assert.equal(await fs.readFile(dest, 'utf8'), 'before');
  assert.deepEqual((await fs.readdir(local)).filter(n => n.includes('ftpkit-part')), []);
});

test('mirror --checksum transfers a file whose size and time match but whose content differs', async t => {
  const { url, local, root } = await serve(t);
  await fs.mkdir(path.join(root, 'tree'));
  await fs.writeFile(path.join(root, 'tree', 'same.txt'), 'AAAA');
  await fs.writeFile(path.join(root, 'tree', 'other.txt'), 'BBBB');
  const target = path.join(local, 'tree');
  const first = await runFtpkit(['mirror', url('tree/'), target]);
  assert.equal(first.code, 0, describeCli(first));
  // Same size, same time, other bytes.
  const st = await fs.stat(path.join(target, 'same.txt'));
  await fs.writeFile(path.join(target, 'same.txt'), 'ZZZZ');
  await fs.utimes(path.join(target, 'same.txt'), st.atime, st.mtime);
  const plain = await runFtpkit(['mirror', '--json', url('tree/'), target]);
  assert.equal(JSON.parse(plain.stdout).transferred, 0, 'by size and time alone nothing changed');
  const checked = await runFtpkit(['mirror', '--checksum', '--json', url('tree/'), target]);
  assert.equal(checked.code, 0, describeCli(checked));
  const out = JSON.parse(checked.stdout);
  assert.equal(out.transferred, 1);
  assert.match(out.actions.find((a: { rel: string }) => a.rel === 'same.txt').reason, /checksum differs \(SHA-256\)/);
  assert.equal(await fs.readFile(path.join(target, 'same.txt'), 'utf8'), 'AAAA');
});
