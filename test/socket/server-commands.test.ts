/**
 * Raw control-connection transcripts against FtpServer on 127.0.0.1 and ::1: exact reply codes for good and
 * bad input, and the session staying usable after each bad command.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage, RawControl, READ_ONLY, startServer } from '../support/server-harness.js';
import type { Harness, HarnessOptions } from '../support/server-harness.js';

async function setup(t: TestContext, opts: HarnessOptions = {}): Promise<{ h: Harness; storage: MemoryStorage }> {
  const storage = (opts.storage as MemoryStorage | undefined) ?? new MemoryStorage();
  const h = await startServer({ ...opts, storage });
  t.after(() => h.close());
  return { h, storage };
}

async function login(t: TestContext, h: Harness, user = 'test', pass = 'test'): Promise<RawControl> {
  const c = await RawControl.login(h, user, pass);
  t.after(() => c.close());
  return c;
}

async function codes(c: RawControl, lines: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const l of lines) out.push((await c.send(l)).code);
  return out;
}

for (const host of ['127.0.0.1', '::1']) {
  test(`[${host}] greeting, login, commands before login`, async t => {
    const { h } = await setup(t, { host });
    const c = await RawControl.connect(h.host, h.port);
    t.after(() => c.close());
    assert.equal(c.greeting.code, 220);
    assert.deepEqual(await codes(c, ['PWD', 'CWD /', 'LIST', 'RETR x', 'PASV', 'MKD x']), [530, 530, 530, 530, 530, 530]);
    assert.deepEqual(await codes(c, ['PASS nouser']), [503]); // PASS without USER
    assert.deepEqual(await codes(c, ['FEAT', 'SYST', 'NOOP', 'HELP', 'OPTS UTF8 ON']), [211, 215, 200, 214, 200]);
    assert.deepEqual(await codes(c, ['USER test', 'PASS wrong']), [331, 530]);
    assert.deepEqual(await codes(c, ['USER nobody', 'PASS x']), [331, 530]); // no user probing: same codes
    assert.deepEqual(await codes(c, ['USER test', 'PASS test', 'PWD']), [331, 230, 257]);
    assert.deepEqual(await codes(c, ['USER other']), [530]);
    assert.deepEqual(await codes(c, ['PASS test']), [503]);
  });

  test(`[${host}] unknown verbs 502, line noise 500, argument errors 501`, async t => {
    const { h } = await setup(t, { host });
    const c = await login(t, h);
    assert.equal((await c.send('XYZZ')).code, 502);
    assert.equal((await c.send('HASHX foo')).code, 500);
    assert.equal((await c.send('12345')).code, 500);
    assert.equal((await c.send('CWD')).code, 501);
    assert.equal((await c.send('PWD extra')).code, 501);
    assert.equal((await c.send('TYPE Q')).code, 501);
    assert.equal((await c.send('REST abc')).code, 501);
    assert.equal((await c.send('PORT 1,2,3')).code, 501);
    assert.equal((await c.send('EPRT |1|999.1.1.1|5000|')).code, 501);
    assert.equal((await c.send('EPSV foo')).code, 501);
    assert.equal((await c.send('MFMT 2024 x')).code, 501);
    assert.equal((await c.send('OPTS NOPE')).code, 501);
    assert.equal((await c.send('NOOP')).code, 200, 'session still usable');
  });

  test(`[${host}] 504 for unsupported parameters, TYPE/MODE/STRU`, async t => {
    const { h } = await setup(t, { host });
    const c = await login(t, h);
    assert.deepEqual(await codes(c, ['TYPE A', 'TYPE I', 'type l 8', 'TYPE A N', 'TYPE E', 'TYPE A T']), [200, 200, 200, 200, 504, 504]);
    assert.deepEqual(await codes(c, ['MODE S', 'MODE B', 'MODE Z', 'MODE C', 'MODE S', 'STRU F', 'STRU R', 'STRU P']), [200, 200, 200, 504, 200, 200, 504, 504]);
  });

  test(`[${host}] directories: MKD/PWD quoting, CWD/CDUP, RMD, X-aliases, 550s`, async t => {
    const { h, storage } = await setup(t, { host });
    const c = await login(t, h);
    let r = await c.send('MKD say "hi" ✓');
    assert.equal(r.code, 257);
    assert.equal(r.text, '"/say ""hi"" ✓" created');
    assert.equal((await c.send('CWD say "hi" ✓')).code, 250);
    r = await c.send('PWD');
    assert.equal(r.text, '"/say ""hi"" ✓" is the current directory');
    assert.equal((await c.send('XMKD sub')).code, 257);
    assert.equal((await c.send('XCWD sub')).code, 250);
    assert.equal((await c.send('XPWD')).text.startsWith('"/say ""hi"" ✓/sub"'), true);
    assert.equal((await c.send('CDUP')).code, 250);
    assert.equal((await c.send('XCUP')).code, 250);
    assert.equal((await c.send('PWD')).text.startsWith('"/"'), true);
    assert.equal((await c.send('CWD ../../..')).code, 250, 'climbing above the root stays at the root');
    assert.equal((await c.send('PWD')).text.startsWith('"/"'), true);
    assert.equal((await c.send('CWD nowhere')).code, 550);
    storage.writeFile('/file.txt', 'x');
    assert.equal((await c.send('CWD file.txt')).code, 550);
    assert.equal((await c.send('MKD file.txt')).code, 550);
    assert.equal((await c.send('RMD say "hi" ✓')).code, 550, 'not empty');
    assert.equal((await c.send('XRMD say "hi" ✓/sub')).code, 250);
    assert.equal((await c.send('RMD say "hi" ✓')).code, 250);
    assert.equal((await c.send('RMD /')).code, 550);
    assert.equal((await c.send('CWD a\0b')).code, 553, 'NUL in a path');
  });

  test(`[${host}] files: DELE, RNFR/RNTO, SIZE, MDTM, MFMT, SITE CHMOD, MLST, STAT path`, async t => {
    const { h, storage } = await setup(t, { host });
    storage.writeFile('/a.txt', 'hello', new Date(Date.UTC(2020, 0, 2, 3, 4, 5)));
    storage.mkdirp('/d');
    const c = await login(t, h);
    assert.equal((await c.send('SIZE a.txt')).text, '5');
    assert.equal((await c.send('SIZE d')).code, 550);
    assert.equal((await c.send('SIZE none')).code, 550);
    assert.equal((await c.send('MDTM a.txt')).text, '20200102030405');
    let r = await c.send('MFMT 20210304050607 a.txt');
    assert.equal(r.code, 213);
    assert.equal(r.text, 'Modify=20210304050607; /a.txt');
    assert.equal((await c.send('MDTM /a.txt')).text, '20210304050607');
    assert.equal((await c.send('RNTO b.txt')).code, 503, 'RNTO without RNFR');
    assert.equal((await c.send('RNFR none')).code, 550);
    assert.deepEqual(await codes(c, ['RNFR a.txt', 'RNTO d/b.txt']), [350, 250]);
    assert.equal(storage.exists('/d/b.txt'), true);
    assert.deepEqual(await codes(c, ['RNFR d/b.txt', 'NOOP', 'RNTO c.txt']), [350, 200, 503], 'RNTO must follow RNFR immediately');
    assert.equal((await c.send('SITE CHMOD 600 d/b.txt')).code, 200);
    r = await c.send('MLST d/b.txt');
    assert.equal(r.code, 250);
    assert.match(r.lines[1], /^ type=file;size=5;modify=20210304050607;perm=adfrw;unique=\w+;UNIX\.mode=0600; \/d\/b\.txt$/);
    assert.equal((await c.send('SITE CHMOD 9z d/b.txt')).code, 501);
    assert.equal((await c.send('SITE HELP')).code, 214);
    assert.equal((await c.send('SITE FOO')).code, 500);
    r = await c.send('STAT /d');
    assert.equal(r.code, 212);
    assert.match(r.text, /-rw------- +1 ftp +ftp +5 Mar 04  2021 b\.txt/);
    assert.equal((await c.send('STAT /d/b.txt')).code, 213);
    assert.equal((await c.send('STAT /nope')).code, 550);
    assert.equal((await c.send('DELE d/b.txt')).code, 250);
    assert.equal((await c.send('DELE d/b.txt')).code, 550);
    assert.equal((await c.send('DELE d')).code, 550);
  });

  test(`[${host}] read-only user: 550 Permission denied, nothing touched`, async t => {
    const { h, storage } = await setup(t, { host, anonymous: READ_ONLY });
    storage.writeFile('/keep.txt', 'k');
    const c = await login(t, h, 'anonymous', 'guest@');
    for (const cmd of ['MKD x', 'RMD x', 'DELE keep.txt', 'RNFR keep.txt', 'SITE CHMOD 777 keep.txt', 'MFMT 20200101000000 keep.txt', 'STOR y', 'APPE y', 'STOU']) {
      const r = await c.send(cmd);
      assert.equal(r.code, 550, cmd);
      assert.match(r.text, /Permission denied/);
    }
    assert.equal(storage.exists('/keep.txt'), true);
    assert.equal(storage.exists('/x'), false);
  });

  test(`[${host}] FEAT lists what is implemented; OPTS MLST changes the facts; HELP`, async t => {
    const { h } = await setup(t, { host });
    const c = await login(t, h);
    let r = await c.send('FEAT');
    assert.equal(r.code, 211);
    const feats = r.lines.slice(1, -1).map(l => l.trim());
    for (const f of ['EPRT', 'EPSV', 'MDTM', 'MFMT', 'REST STREAM', 'SIZE', 'TVFS', 'UTF8', 'MLST type*;size*;modify*;perm*;unique*;UNIX.mode*;']) {
      assert.ok(feats.includes(f), `FEAT has ${f}`);
    }
    assert.ok(r.lines.slice(1, -1).every(l => l.startsWith(' ')), 'feature lines start with a space (RFC 2389)');
    r = await c.send('OPTS MLST type;size;');
    assert.equal(r.code, 200);
    assert.equal(r.text, 'MLST OPTS type;size;');
    r = await c.send('FEAT');
    assert.ok(r.lines.some(l => l.trim() === 'MLST type*;size*;modify;perm;unique;UNIX.mode;'));
    r = await c.send('MLST /');
    assert.equal(r.lines[1], ' type=dir; /');
    r = await c.send('HELP');
    assert.equal(r.code, 214);
    assert.match(r.text, /RETR/);
    assert.match(r.text, /XPWD/);
    assert.equal((await c.send('HELP RETR')).code, 214);
    assert.equal((await c.send('HELP BOGUS')).code, 502);
  });

  test(`[${host}] REIN resets the session; QUIT closes`, async t => {
    const { h } = await setup(t, { host });
    const c = await login(t, h);
    assert.equal((await c.send('TYPE I')).code, 200);
    assert.equal((await c.send('REIN')).code, 220);
    assert.equal((await c.send('PWD')).code, 530);
    assert.deepEqual(await codes(c, ['USER test', 'PASS test']), [331, 230]);
    assert.match((await c.send('STAT')).text, /TYPE: ASCII/);
    assert.equal((await c.send('QUIT')).code, 221);
    await c.waitClosed();
  });

  test(`[${host}] EPSV ALL refuses PORT/PASV/EPRT afterwards (RFC 2428 s4)`, async t => {
    const { h } = await setup(t, { host });
    const c = await login(t, h);
    assert.equal((await c.send('EPSV ALL')).code, 200);
    const port = host === '::1' ? 'EPRT |2|::1|40000|' : 'EPRT |1|127.0.0.1|40000|';
    assert.deepEqual(await codes(c, ['PASV', 'PORT 127,0,0,1,156,64', port]), [503, 503, 503]);
    assert.equal((await c.send('EPSV')).code, 229);
  });
}

test('lower-case verbs, LF-only line ends, Telnet IAC before ABOR, blank lines', async t => {
  const { h } = await setup(t);
  const c = await login(t, h);
  c.write('noop\n');
  assert.equal((await c.read()).code, 200);
  c.write('\r\n\n');
  c.write(Buffer.from([0xff, 0xf4, 0xff, 0xf2]));
  c.write('ABOR\r\n');
  assert.equal((await c.read()).code, 225, 'ABOR without a transfer');
  c.write('syst\r\n');
  assert.equal((await c.read()).code, 215, 'blank lines produced no reply');
});

test('an over-long line gets 500 and the session stays usable; the server does not buffer it', async t => {
  const { h } = await setup(t, { options: { limits: { maxLineLength: 512 } } });
  const c = await login(t, h);
  c.write('STOR ' + 'x'.repeat(2000));
  assert.equal((await c.read()).code, 500, 'refused as soon as the bound is passed, before the line end');
  c.write('y'.repeat(1_000_000));
  c.write('\r\nNOOP\r\n');
  assert.equal((await c.read()).code, 200);
});

test('too many login failures close the connection; failures are delayed and reported', async t => {
  const { h } = await setup(t, { options: { limits: { maxLoginFailures: 2, loginFailureDelayMs: 50 } } });
  const failed: string[] = [];
  h.server.on('login-failed', e => failed.push(e.user));
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  await c.send('USER test');
  const t0 = Date.now();
  assert.equal((await c.send('PASS bad1')).code, 530);
  assert.ok(Date.now() - t0 >= 45, 'the 530 is delayed');
  await c.send('USER test');
  assert.equal((await c.send('PASS bad2')).code, 530);
  await c.waitClosed();
  assert.deepEqual(failed, ['test', 'test']);
});

test('events: command, login, transcript with PASS masked, session-open/close', async t => {
  const { h } = await setup(t);
  const seen: string[] = [];
  const transcript: string[] = [];
  h.server.on('session-open', () => seen.push('open'));
  h.server.on('login', e => seen.push(`login:${e.user}`));
  h.server.on('command', e => seen.push(`${e.verb}:${e.argument}:${e.replyCode}`));
  h.server.on('transcript', e => transcript.push(`${e.direction} ${e.line}`));
  const closed = new Promise<void>(resolve => h.server.on('session-close', () => resolve()));
  const c = await RawControl.login(h, 'test', 'test');
  await c.send('QUIT');
  await closed;
  c.close();
  assert.deepEqual(seen, ['open', 'USER:test:331', 'login:test', 'PASS:****:230', 'QUIT::221']);
  assert.ok(transcript.includes('in PASS ****'));
  assert.ok(!transcript.join('\n').includes('test\ntest') && !transcript.some(l => /PASS test/.test(l)));
});

test('idle timeout sends 421 and closes', async t => {
  const { h } = await setup(t, { options: { timeouts: { idleMs: 150 } } });
  const c = await login(t, h);
  const r = await c.read();
  assert.equal(r.code, 421);
  await c.waitClosed();
});

test('session limit: the connection over the limit gets 421', async t => {
  const { h } = await setup(t, { options: { limits: { maxSessions: 1 } } });
  const c1 = await RawControl.connect(h.host, h.port);
  t.after(() => c1.close());
  const c2 = await RawControl.connect(h.host, h.port);
  t.after(() => c2.close());
  assert.equal(c2.greeting.code, 421);
  assert.equal((await c1.send('NOOP')).code, 200);
});

test('per-address session limit (limits.maxSessionsPerAddress)', async t => {
  const { h } = await setup(t, { options: { limits: { maxSessionsPerAddress: 2 } } });
  const warnings: string[] = [];
  h.server.on('warning', w => warnings.push(w.message));
  const a = await RawControl.connect(h.host, h.port);
  t.after(() => a.close());
  const b = await RawControl.connect(h.host, h.port);
  t.after(() => b.close());
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  assert.deepEqual([a.greeting.code, b.greeting.code, c.greeting.code], [220, 220, 421]);
  assert.match(warnings[0], /too many sessions from 127\.0\.0\.1/);
  const closed = new Promise(resolve => h.server.once('session-close', resolve));
  a.close();
  await closed;
  const d = await RawControl.connect(h.host, h.port);
  t.after(() => d.close());
  assert.equal(d.greeting.code, 220, 'a freed slot can be used again');
});

test('graceful close: idle sessions get 421 and the server stops listening', async t => {
  const { h } = await setup(t);
  const c = await login(t, h);
  await h.server.close({ timeoutMs: 500 });
  assert.equal((await c.read()).code, 421);
  await c.waitClosed();
  await assert.rejects(RawControl.connect(h.host, h.port));
});

test('two servers in one process do not share state', async t => {
  const a = await setup(t);
  const b = await setup(t);
  const ca = await login(t, a.h);
  const cb = await login(t, b.h);
  assert.equal((await ca.send('MKD only-a')).code, 257);
  assert.equal((await cb.send('CWD only-a')).code, 550);
  assert.equal(b.h.server.sessionCount, 1);
});

test('a client that floods commands without reading replies is cut off, the server stays healthy', async t => {
  const { h } = await setup(t);
  const c = await login(t, h);
  const closed = new Promise<void>(resolve => h.server.once('session-close', e => { assert.match(e.reason, /does not read|queued/); resolve(); }));
  c.socket.pause(); // never read
  const line = 'HELP\r\n'.repeat(1000); // each HELP reply is ~1 KB
  for (let i = 0; i < 100 && !c.closed; i++) {
    if (!c.socket.write(line)) await new Promise(resolve => { c.socket.once('drain', resolve); c.socket.once('close', resolve); });
  }
  await closed;
  const c2 = await login(t, h);
  assert.equal((await c2.send('NOOP')).code, 200);
});

test('AVBL: 213 free bytes when the storage can tell, 502 (and not in FEAT) when it cannot', async t => {
  class SpaceStorage extends MemoryStorage {
    async availableBytes(): Promise<number> { return 123456789; }
  }
  const { h: h1 } = await setup(t, { storage: new SpaceStorage() });
  const c1 = await login(t, h1);
  assert.equal((await c1.send('AVBL')).text, '123456789');
  assert.ok((await c1.send('FEAT')).lines.some(l => l.trim() === 'AVBL'));
  (h1.storage as MemoryStorage).writeFile('/f', 'x');
  assert.equal((await c1.send('AVBL f')).code, 550);
  const { h: h2 } = await setup(t);
  const c2 = await login(t, h2);
  assert.equal((await c2.send('AVBL')).code, 502);
  assert.ok(!(await c2.send('FEAT')).lines.some(l => l.trim() === 'AVBL'));
});

test('HASH (draft-bryan-ftpext-hash): SHA-256 by default, OPTS HASH selects, FEAT marks the selected one', async t => {
  const { h, storage } = await setup(t);
  const { createHash } = await import('node:crypto');
  const content = Buffer.alloc(3_000_000, 9);
  storage.writeFile('/d/f.bin', content);
  const c = await login(t, h);
  let r = await c.send('HASH d/f.bin');
  assert.equal(r.code, 213);
  assert.equal(r.text, `SHA-256 0-${content.length - 1} ${createHash('sha256').update(content).digest('hex')} /d/f.bin`);
  assert.ok((await c.send('FEAT')).lines.some(l => l.trim() === 'HASH SHA-1;SHA-256*;SHA-512;MD5'));
  assert.equal((await c.send('OPTS HASH md5')).text, 'MD5');
  assert.equal((await c.send('OPTS HASH')).text, 'MD5');
  assert.equal((await c.send('OPTS HASH CRC99')).code, 501);
  r = await c.send('HASH /d/f.bin');
  assert.equal(r.text.split(' ')[2], createHash('md5').update(content).digest('hex'));
  assert.ok((await c.send('FEAT')).lines.some(l => l.trim() === 'HASH SHA-1;SHA-256;SHA-512;MD5*'));
  assert.equal((await c.send('HASH d')).code, 550);
  assert.equal((await c.send('HASH nope')).code, 550);
  assert.equal((await c.send('HASH')).code, 501);
});

test('MFMT is not offered (and answers 502) when the storage cannot set times', async t => {
  const plain = new MemoryStorage() as MemoryStorage & { setModifiedAt?: unknown };
  Object.defineProperty(plain, 'setModifiedAt', { value: undefined });
  plain.writeFile('/f', 'x');
  const { h } = await setup(t, { storage: plain });
  const c = await login(t, h);
  assert.ok(!(await c.send('FEAT')).lines.some(l => l.trim() === 'MFMT'));
  assert.equal((await c.send('MFMT 20200101000000 f')).code, 502);
});

test('no event ever carries a password, even in a malformed PASS line', async t => {
  const { h } = await setup(t);
  const seen: string[] = [];
  for (const ev of ['transcript', 'command', 'reply', 'login-failed'] as const) h.server.on(ev, (e: object) => seen.push(JSON.stringify(e)));
  const c = await RawControl.connect(h.host, h.port);
  t.after(() => c.close());
  await c.send('USER test');
  assert.equal((await c.send('PASS s3cr3t-one')).code, 530);
  assert.equal((await c.send('pass\ts3cr3t-two')).code, 500);
  assert.equal((await c.send('ACCT s3cr3t-three')).code, 202);
  assert.ok(seen.length > 5);
  assert.ok(!seen.join('\n').toLowerCase().includes('s3cr3t'), 'no secret in any event');
});
