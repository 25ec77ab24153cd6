/**
 * FtpClient <-> ftpkit's FtpServer in MODE Z (deflate) and MODE B (block): text and random data both ways,
 * byte-exact, with REST, TYPE A, listings, under FTPS (compress, then encrypt); 'auto' picks Z from FEAT;
 * progress counts file bytes while the result and the transcript show the wire bytes; a server that sends
 * a corrupt or truncated stream gives the client a typed error and leaves no local file.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { FtpClient, FtpStreamCodecError } from '../../src/client/index.js';
import type { FtpClientOptions, TranscriptEvent } from '../../src/client/index.js';
import { LocalStorage } from '../../src/server/index.js';
import { startServer } from '../support/server-harness.js';
import { tempDir } from '../support/temp-dir.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';

const TEXT = Buffer.from(Array.from({ length: 30_000 }, (_, i) => `${i},2026-12-06,user${i % 97},GET,/a/b/${i % 13}.csv,200\n`).join(''));
const RANDOM = randomBytes(3 * 1024 * 1024 + 17);

let pki: TestPki;
test.before(async () => { pki = await makeTestPki(); });
test.after(async () => { await pki?.cleanup(); });

async function setup(t: TestContext, o: Partial<FtpClientOptions> = {}, tls = false) {
  const dir = await tempDir(t);
  const root = path.join(dir, 'root');
  const local = path.join(dir, 'local');
  await fs.mkdir(root);
  await fs.mkdir(local);
  const h = await startServer({ storage: new LocalStorage(root),
    options: tls ? { tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile } } : {} });
  t.after(() => h.close());
  const c = new FtpClient({ host: '127.0.0.1', port: h.port, user: 'test', password: 'test',
    timeouts: { commandMs: 20_000, dataMs: 20_000 }, ...(tls ? { secure: 'explicit', tls: { ca: pki.ca.cert } } : {}), ...o });
  const transcript: TranscriptEvent[] = [];
  c.on('transcript', e => transcript.push(e));
  t.after(() => c.destroy());
  await c.connect();
  const sent = (verb: string) => transcript.filter(e => e.kind === 'command' && e.text.startsWith(verb)).map(e => e.text);
  return { h, c, root, local, transcript, sent };
}

for (const tls of [false, true]) {
  for (const mode of ['Z', 'B'] as const) {
    test(`MODE ${mode}${tls ? ' under FTPS' : ''}: text and random files both ways byte-exact, with REST, TYPE A and listings`, async t => {
      const { c, root, local, sent, transcript } = await setup(t, {}, tls);
      for (const [name, data] of [['text.csv', TEXT], ['random.bin', RANDOM]] as const) {
        await fs.writeFile(path.join(local, name), data);
        const up = await c.upload(path.join(local, name), name, { mode });
        assert.equal(up.transferMode, mode);
        assert.equal(up.fileBytes, data.length);
        assert.ok((await fs.readFile(path.join(root, name))).equals(data), `${name} up`);
        const down = await c.download(name, path.join(local, `${name}.back`), { mode });
        assert.ok((await fs.readFile(path.join(local, `${name}.back`))).equals(data), `${name} down`);
        assert.equal(down.fileBytes, data.length);
        if (mode === 'Z' && name === 'text.csv') assert.ok(down.bytes * 4 < data.length, `wire ${down.bytes} for ${data.length}`);
        if (mode === 'B') assert.ok(down.bytes > data.length, 'block headers add bytes');
      }
      // REST: a partial local file resumed in file offsets.
      await fs.writeFile(path.join(local, 'part.bin'), RANDOM.subarray(0, 1_000_000));
      const resumed = await c.download('random.bin', path.join(local, 'part.bin'), { mode, resume: true });
      assert.equal(resumed.startOffset, 1_000_000);
      assert.ok((await fs.readFile(path.join(local, 'part.bin'))).equals(RANDOM));
      // An upload resumed with REST + STOR.
      await fs.writeFile(path.join(root, 'partial.bin'), RANDOM.subarray(0, 500_000));
      await c.upload(path.join(local, 'random.bin'), 'partial.bin', { mode, startAt: 500_000 });
      assert.ok((await fs.readFile(path.join(root, 'partial.bin'))).equals(RANDOM));
      // TYPE A: line ends converted, then coded.
      await c.upload(path.join(local, 'text.csv'), 'ascii.csv', { mode, type: 'ascii' });
      assert.ok((await fs.readFile(path.join(root, 'ascii.csv'))).equals(TEXT));
      await c.download('ascii.csv', path.join(local, 'ascii.back'), { mode, type: 'ascii' });
      assert.ok((await fs.readFile(path.join(local, 'ascii.back'))).equals(TEXT));
      assert.deepEqual(sent('MODE'), [`MODE ${mode}`], 'MODE is sent once, when it changes');
      assert.ok(transcript.some(e => e.kind === 'status' && new RegExp(`^MODE ${mode}: RETR text\\.csv: ${TEXT.length} bytes of data moved as \\d+ bytes on the wire`).test(e.text)));
      // Back to stream for one transfer, and the listing in the connection's mode (S).
      await c.download('text.csv', path.join(local, 'plain.csv'), { mode: 'S' });
      assert.ok((await fs.readFile(path.join(local, 'plain.csv'))).equals(TEXT));
      assert.deepEqual(sent('MODE'), [`MODE ${mode}`, 'MODE S']);
    });
  }
}

test('transferMode option: listings and transfers of the connection in MODE Z; auto picks Z from FEAT', async t => {
  const { c, root, local, sent } = await setup(t, { transferMode: 'auto' });
  await fs.writeFile(path.join(root, 'a.csv'), TEXT);
  const names = await c.list('/');
  assert.deepEqual(names.map(e => e.name), ['a.csv']);
  const progress: number[] = [];
  c.on('progress', e => progress.push(e.bytes));
  const r = await c.download('a.csv', path.join(local, 'a.csv'));
  assert.equal(r.transferMode, 'Z');
  assert.ok((await fs.readFile(path.join(local, 'a.csv'))).equals(TEXT));
  assert.equal(progress.at(-1), TEXT.length, 'progress counts the file, not the wire');
  assert.deepEqual(sent('MODE'), ['MODE Z']);
});

test('auto against a server without MODE Z stays in stream mode (no MODE sent)', async t => {
  const { h, c, root, local, sent } = await setup(t, { transferMode: 'auto' });
  await fs.writeFile(path.join(root, 'a.csv'), TEXT);
  // The FEAT of this connection, without MODE Z.
  (c as unknown as { session: { features: Map<string, string> } }).session.features.delete('MODE');
  const r = await c.download('a.csv', path.join(local, 'a.csv'));
  assert.equal(r.transferMode, 'S');
  assert.deepEqual(sent('MODE'), []);
  assert.ok(h);
});

/** A minimal FTP server that answers every download with the given bytes on the data connection. */
async function brokenServer(t: TestContext, payload: Buffer): Promise<number> {
  const data = createServer();
  data.listen(0, '127.0.0.1');
  await once(data, 'listening');
  const dataPort = (data.address() as AddressInfo).port;
  // The client connects right after EPSV, before RETR: keep the socket until RETR.
  let waiting: Socket | undefined;
  let onData: ((d: Socket) => void) | undefined;
  data.on('connection', (d: Socket) => { d.on('error', () => {}); if (onData) onData(d); else waiting = d; });
  const nextDataSocket = (use: (d: Socket) => void): void => {
    if (waiting) { const d = waiting; waiting = undefined; use(d); } else onData = d => { onData = undefined; use(d); };
  };
  const control = createServer(sock => {
    sock.on('error', () => {});
    sock.write('220 broken\r\n');
    let buf = '';
    sock.on('data', d => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 2);
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'USER') sock.write('331 ok\r\n');
        else if (verb === 'PASS') sock.write('230 ok\r\n');
        else if (verb === 'FEAT') sock.write('211-Features:\r\n MODE Z\r\n211 End\r\n');
        else if (verb === 'EPSV') sock.write(`229 Entering Extended Passive Mode (|||${dataPort}|)\r\n`);
        else if (verb === 'RETR') {
          sock.write('150 here\r\n');
          nextDataSocket(d => d.end(payload, () => sock.write('226 done\r\n')));
        } else if (verb === 'QUIT') { sock.end('221 bye\r\n'); } else sock.write('200 ok\r\n');
      }
    });
  });
  control.listen(0, '127.0.0.1');
  await once(control, 'listening');
  t.after(() => { control.close(); data.close(); });
  return (control.address() as AddressInfo).port;
}

for (const [name, mode, payload, failure] of [
  ['a truncated deflate stream', 'Z', deflateSync(TEXT).subarray(0, 300), 'truncated'],
  ['corrupt deflate data', 'Z', Buffer.from('not deflate at all, not at all'), 'corrupt'],
  ['blocks without the EOF block', 'B', Buffer.concat([Buffer.from([0, 0, 4]), Buffer.from('abcd')]), 'truncated'],
] as const) {
  test(`client: ${name} from the server fails typed (${failure}) and leaves no local file`, async t => {
    const port = await brokenServer(t, payload);
    const dir = await tempDir(t);
    const c = new FtpClient({ host: '127.0.0.1', port, user: 'u', password: 'p', timeouts: { commandMs: 10_000, dataMs: 10_000 } });
    t.after(() => c.destroy());
    await c.connect();
    await assert.rejects(c.download('x', path.join(dir, 'x'), { mode }), (err: unknown) => {
      const cause = err instanceof FtpStreamCodecError ? err : (err as { cause?: unknown }).cause;
      assert.ok(cause instanceof FtpStreamCodecError, String(err));
      assert.equal(cause.failure, failure);
      return true;
    });
    assert.deepEqual(await fs.readdir(dir), []);
  });
}
