/**
 * Transfers over real sockets: PASV/EPSV/PORT/EPRT on 127.0.0.1 and ::1 with multi-MB files (bigger than
 * socket buffers) compared by checksum, TYPE A conversion both ways, REST for RETR and STOR, APPE, STOU,
 * listings.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  MemoryStorage, RawControl, openActive, openPassive, readAll, startServer, writeAll,
} from '../support/server-harness.js';
import type { Harness } from '../support/server-harness.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const BIG = randomBytes(12 * 1024 * 1024 + 17);

async function setup(t: TestContext, host = '127.0.0.1'): Promise<{ h: Harness; storage: MemoryStorage; c: RawControl }> {
  const storage = new MemoryStorage();
  const h = await startServer({ host, storage });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  return { h, storage, c };
}

type Mode = 'EPSV' | 'PASV' | 'EPRT' | 'PORT';

/** Prepare a data connection in `mode`, send `command`, and return the data socket and the 150 reply. */
async function dataCommand(c: RawControl, mode: Mode, command: string): Promise<{ socket: Socket; code: number }> {
  if (mode === 'EPSV' || mode === 'PASV') {
    const socket = await openPassive(c, mode);
    const r = await c.send(command);
    return { socket, code: r.code };
  }
  const l = await openActive(c, mode);
  try {
    const r = await c.send(command);
    if (r.code !== 150) return { socket: undefined as unknown as Socket, code: r.code };
    return { socket: await l.accepted, code: r.code };
  } finally {
    l.close();
  }
}

async function download(c: RawControl, mode: Mode, command: string): Promise<Buffer> {
  const { socket, code } = await dataCommand(c, mode, command);
  assert.equal(code, 150, command);
  const [data, done] = await Promise.all([readAll(socket), c.read()]);
  assert.equal(done.code, 226, `${command}: ${done.text}`);
  return data;
}

async function upload(c: RawControl, mode: Mode, command: string, data: Uint8Array): Promise<void> {
  const { socket, code } = await dataCommand(c, mode, command);
  assert.equal(code, 150, command);
  await writeAll(socket, data);
  const done = await c.read();
  assert.equal(done.code, 226, `${command}: ${done.text}`);
}

const modesFor = (host: string): Mode[] => (host === '::1' ? ['EPSV', 'EPRT'] : ['EPSV', 'PASV', 'EPRT', 'PORT']);

for (const host of ['127.0.0.1', '::1']) {
  for (const mode of modesFor(host)) {
    test(`[${host}] ${mode}: 12 MB upload and download, TYPE I byte-exact`, async t => {
      const { h, storage, c } = await setup(t, host);
      const events: string[] = [];
      h.server.on('upload', e => events.push(`up ${e.path} ${e.bytes}`));
      h.server.on('download', e => events.push(`down ${e.path} ${e.bytes}`));
      assert.equal((await c.send('TYPE I')).code, 200);
      await upload(c, mode, 'STOR big.bin', BIG);
      assert.equal(sha((storage as MemoryStorage).readFile('/big.bin')), sha(BIG));
      const back = await download(c, mode, 'RETR big.bin');
      assert.equal(back.length, BIG.length);
      assert.equal(sha(back), sha(BIG));
      assert.deepEqual(events, [`up /big.bin ${BIG.length}`, `down /big.bin ${BIG.length}`]);
      assert.equal((await c.send('SIZE big.bin')).text, String(BIG.length));
    });
  }
}

test('PASV on an IPv6 control connection is refused with a hint to use EPSV', async t => {
  const { c } = await setup(t, '::1');
  const r = await c.send('PASV');
  assert.equal(r.code, 425);
  assert.match(r.text, /EPSV/);
  assert.equal((await c.send('PORT 127,0,0,1,156,64')).code, 522);
  assert.equal((await c.send('EPRT |1|127.0.0.1|40000|')).code, 522);
  assert.equal((await c.send('EPSV 1')).code, 522);
  assert.equal((await c.send('EPSV 2')).code, 229);
});

test('EPSV/EPRT family checks on IPv4 (RFC 2428)', async t => {
  const { c } = await setup(t);
  assert.equal((await c.send('EPSV 2')).code, 522);
  assert.equal((await c.send('EPSV 3')).code, 522);
  assert.equal((await c.send('EPRT |2|::1|40000|')).code, 522);
  assert.equal((await c.send('EPRT |3|foo|40000|')).code, 522);
  assert.equal((await c.send('EPSV 1')).code, 229);
});

test('PASV advertises the control connection address, or passive.address when set', async t => {
  const { c } = await setup(t);
  assert.match((await c.send('PASV')).text, /\(127,0,0,1,\d+,\d+\)/);
  const h2 = await startServer({ options: { passive: { address: '203.0.113.9', portRange: { min: 20000, max: 60000 } } } });
  t.after(() => h2.close());
  const c2 = await RawControl.login(h2);
  t.after(() => c2.close());
  assert.match((await c2.send('PASV')).text, /\(203,0,113,9,\d+,\d+\)/);
});

test('passive ports come from the configured range', async t => {
  const storage = new MemoryStorage();
  const h = await startServer({ storage, options: { passive: { portRange: { min: 41000, max: 41400 } } } });
  t.after(() => h.close());
  const c = await RawControl.login(h);
  t.after(() => c.close());
  for (let i = 0; i < 5; i++) {
    const r = await c.send('EPSV');
    const port = Number(/\|\|\|(\d+)\|/.exec(r.text)![1]);
    assert.ok(port >= 41000 && port <= 41400, String(port));
  }
});

test('a transfer command without PASV/PORT gets 425; a new PASV replaces an unused one', async t => {
  const { storage, c } = await setup(t);
  storage.writeFile('/f.txt', 'data');
  assert.equal((await c.send('RETR f.txt')).code, 425);
  assert.equal((await c.send('LIST')).code, 425);
  const first = await c.send('EPSV');
  const firstPort = Number(/\|\|\|(\d+)\|/.exec(first.text)![1]);
  const data = await download(c, 'EPSV', 'RETR f.txt');
  assert.equal(data.toString(), 'data');
  // The first listener was closed when the second EPSV replaced it.
  const { connect } = await import('node:net');
  const s = connect({ host: '127.0.0.1', port: firstPort });
  const err = await new Promise<NodeJS.ErrnoException | undefined>(resolve => { s.on('error', resolve); s.on('connect', () => { s.destroy(); resolve(undefined); }); });
  assert.equal(err?.code, 'ECONNREFUSED');
});

test('RETR of a missing file answers 550 before any 150; the data channel stays usable', async t => {
  const { storage, c } = await setup(t);
  storage.writeFile('/f.txt', 'ok');
  const socket = await openPassive(c);
  t.after(() => socket.destroy());
  assert.equal((await c.send('RETR missing')).code, 550);
  assert.equal((await c.send('RETR /')).code, 550);
  assert.equal((await c.send('RETR f.txt')).code, 150);
  const [data, done] = await Promise.all([readAll(socket), c.read()]);
  assert.equal(data.toString(), 'ok');
  assert.equal(done.code, 226);
});

test('TYPE A converts LF <-> CRLF in both directions; TYPE I does not', async t => {
  const { storage, c } = await setup(t);
  // Make line ends straddle many chunk boundaries.
  const text = Array.from({ length: 200_000 }, (_, i) => `line ${i}${i % 7 === 0 ? ' \r inner CR' : ''}`).join('\n') + '\n';
  storage.writeFile('/t.txt', text);
  assert.equal((await c.send('TYPE A')).code, 200);
  const wire = await download(c, 'EPSV', 'RETR t.txt');
  assert.equal(wire.toString(), text.replace(/\n/g, '\r\n'));
  await upload(c, 'EPSV', 'STOR back.txt', wire);
  assert.equal(storage.readFile('/back.txt').toString(), text);
  assert.equal((await c.send('TYPE I')).code, 200);
  const raw = await download(c, 'EPSV', 'RETR t.txt');
  assert.equal(raw.toString(), text);
});

test('REST for RETR and for STOR (resume), APPE appends', async t => {
  const { storage, c } = await setup(t);
  const content = randomBytes(3 * 1024 * 1024);
  storage.writeFile('/r.bin', content);
  await c.send('TYPE I');
  assert.equal((await c.send('REST 1000000')).code, 350);
  const tail = await download(c, 'EPSV', 'RETR r.bin');
  assert.equal(sha(tail), sha(content.subarray(1_000_000)));
  // The offset was used up by that RETR: this one is whole.
  assert.equal((await download(c, 'EPSV', 'RETR r.bin')).length, content.length);
  // Commands between REST and RETR (TYPE, PASV: ftplib sends EPSV after REST) keep the offset.
  assert.equal((await c.send('REST 5')).code, 350);
  assert.equal((await c.send('TYPE I')).code, 200);
  assert.equal((await download(c, 'PASV', 'RETR r.bin')).length, content.length - 5);
  // Resume an upload: first half, then REST + STOR of the rest.
  const half = 1_500_001;
  await upload(c, 'EPSV', 'STOR u.bin', content.subarray(0, half));
  storage.writeFile('/u.bin', Buffer.concat([content.subarray(0, half), Buffer.from('garbage beyond the offset')]));
  assert.equal((await c.send(`REST ${half}`)).code, 350);
  await upload(c, 'EPSV', 'STOR u.bin', content.subarray(half));
  assert.equal(sha(storage.readFile('/u.bin')), sha(content));
  await upload(c, 'PASV', 'APPE u.bin', Buffer.from('+tail'));
  assert.equal(storage.readFile('/u.bin').subarray(-5).toString(), '+tail');
  await upload(c, 'PASV', 'APPE new.bin', Buffer.from('created'));
  assert.equal(storage.readFile('/new.bin').toString(), 'created');
});

test('STOU stores under a unique name given in the 150 reply (RFC 1123 s4.1.2.9)', async t => {
  const { storage, c } = await setup(t);
  await c.send('TYPE I');
  const socket = await openPassive(c);
  const r = await c.send('STOU');
  assert.equal(r.code, 150);
  const name = /FILE: (\S+)/.exec(r.text)![1];
  await writeAll(socket, Buffer.from('unique'));
  assert.equal((await c.read()).code, 226);
  assert.equal(storage.readFile(`/${name}`).toString(), 'unique');
});

test('LIST, NLST, MLSD over the data connection; UTF-8 names, spaces, quotes', async t => {
  const { storage, c } = await setup(t);
  storage.writeFile('/dir/a file.txt', '12345', new Date(Date.UTC(2020, 0, 1)));
  storage.writeFile('/dir/"quoted" ünï.txt', 'x');
  storage.mkdirp('/dir/sub');
  const list = (await download(c, 'EPSV', 'LIST -la dir')).toString();
  const lines = list.split('\r\n');
  assert.equal(lines.pop(), '', 'CRLF after every line');
  assert.deepEqual(lines.map(l => l.replace(/^.* \d\d:\d\d |^.*  \d{4} /, '')), ['"quoted" ünï.txt', 'a file.txt', 'sub']);
  assert.match(lines[1], /^-rw-r--r-- +1 ftp +ftp +5 Jan 01  2020 a file\.txt$/);
  assert.match(lines[2], /^drwxr-xr-x/);
  const nlst = (await download(c, 'PASV', 'NLST dir')).toString();
  assert.equal(nlst, '"quoted" ünï.txt\r\na file.txt\r\nsub\r\n');
  assert.equal((await download(c, 'EPSV', 'NLST dir/a file.txt')).toString(), 'dir/a file.txt\r\n');
  const mlsd = (await download(c, 'EPRT', 'MLSD /dir')).toString().split('\r\n').filter(Boolean);
  assert.match(mlsd[0], /^type=cdir;.* \.$/);
  assert.match(mlsd[2], /^type=file;size=5;modify=20200101000000;perm=adfrw;unique=\w+;UNIX\.mode=0644; a file\.txt$/);
  assert.match(mlsd[3], /^type=dir;modify=\d+(\.\d+)?;perm=elcmdf;unique=\w+;UNIX\.mode=0755; sub$/);
  const socket = await openPassive(c);
  t.after(() => socket.destroy());
  assert.equal((await c.send('MLSD dir/a file.txt')).code, 501);
  assert.equal((await c.send('LIST nowhere')).code, 550);
});

test('the default listener ("::") serves IPv4 clients (mapped, PASV works) and IPv6 clients', async t => {
  const storage = new MemoryStorage();
  storage.writeFile('/f.txt', 'both families');
  const h = await startServer({ storage, options: { host: undefined } });
  t.after(() => h.close());
  assert.equal(h.server.address()?.address, '::');
  const c4 = await RawControl.login(h);
  t.after(() => c4.close());
  assert.match((await c4.send('PASV')).text, /\(127,0,0,1,\d+,\d+\)/, 'the mapped address is advertised unmapped');
  assert.equal((await download(c4, 'PASV', 'RETR f.txt')).toString(), 'both families');
  assert.equal((await download(c4, 'PORT', 'RETR f.txt')).toString(), 'both families');
  const c6 = await RawControl.login({ ...h, host: '::1' });
  t.after(() => c6.close());
  assert.equal((await download(c6, 'EPSV', 'RETR f.txt')).toString(), 'both families');
  assert.equal((await download(c6, 'EPRT', 'RETR f.txt')).toString(), 'both families');
});

test('LIST/NLST with a "*" or "?" pattern in the last segment (mget-style)', async t => {
  const { storage, c } = await setup(t);
  storage.writeFile('/d/a1.txt', '1');
  storage.writeFile('/d/a2.txt', '2');
  storage.writeFile('/d/b.log', '3');
  assert.equal((await download(c, 'EPSV', 'NLST d/*.txt')).toString(), 'd/a1.txt\r\nd/a2.txt\r\n');
  await c.send('CWD d');
  assert.equal((await download(c, 'EPSV', 'NLST a?.txt')).toString(), 'a1.txt\r\na2.txt\r\n');
  const list = (await download(c, 'EPSV', 'LIST *.log')).toString();
  assert.match(list, /b\.log\r\n$/);
  assert.equal(list.split('\r\n').length, 2);
  const socket = await openPassive(c);
  t.after(() => socket.destroy());
  assert.equal((await c.send('NLST *.none')).code, 550);
});

test('upload data sent (and the data connection closed) before the 150 reply is not lost', async t => {
  const { storage, c } = await setup(t);
  await c.send('TYPE I');
  const socket = await openPassive(c);
  const payload = randomBytes(200_000);
  await writeAll(socket, payload); // all sent and FIN queued before STOR is even sent
  assert.equal((await c.send('STOR early.bin')).code, 150);
  assert.equal((await c.read()).code, 226);
  assert.equal(sha(storage.readFile('/early.bin')), sha(payload));
});
