/**
 * Smoke tests of the peer harness itself (test/support/peers*.ts): each third-party server launcher starts a
 * daemon that real clients can list, download from and upload to, in plain and TLS variants, on IPv4 and
 * IPv6; stop() really stops it; each client runner really drives its client. If these fail, the interop
 * tests of the client/TLS/doctor layers cannot be trusted either.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {
  HELLO_TEXT, curlCommands, describeRun, lftpCommands, lftpOpen, lftpQuote, makeTempDir, peerSkip, requirePeer,
  runCurl, runFtplib, runLftp, startProftpd, startPureFtpd, startPyftpdlib, startVsftpd,
  type PeerName, type PeerServer,
} from '../support/peers.js';

type Launcher = () => Promise<PeerServer>;

async function withServer(t: import('node:test').TestContext, peers: PeerName[], launch: Launcher): Promise<PeerServer | undefined> {
  if (!requirePeer(t, ...peers)) return undefined;
  const server = await launch();
  t.after(() => server.stop());
  return server;
}

/** Fails with the server's logs attached, so a broken launcher explains itself. */
async function check(server: PeerServer, ok: boolean, what: string): Promise<void> {
  if (!ok) assert.fail(`${what}\n${await server.logs()}`);
}

/** Listing, download and upload through curl; `tlsArgs` e.g. ['--ssl-reqd', '-k']. */
async function curlRoundTrip(server: PeerServer, tlsArgs: string[] = [], extra: string[] = []): Promise<void> {
  const auth = ['-u', `${server.user}:${server.password}`, ...tlsArgs, ...extra];
  const list = await runCurl([...auth, `${server.url}/`], { timeoutMs: 20000 });
  await check(server, list.code === 0, `listing failed: ${describeRun(list)}`);
  assert.match(list.stdout, /hello\.txt/);
  assert.match(list.stdout, /upload/);

  const get = await runCurl([...auth, `${server.url}/hello.txt`], { timeoutMs: 20000 });
  await check(server, get.code === 0, `download failed: ${describeRun(get)}`);
  assert.equal(get.stdout, HELLO_TEXT);

  const body = `uploaded through ${server.name} at ${Date.now()}\n`;
  const put = await runCurl([...auth, '-T', '-', `${server.url}${server.uploadDir}/put.txt`], { timeoutMs: 20000, input: body });
  await check(server, put.code === 0, `upload failed: ${describeRun(put)}`);
  assert.equal(await readFile(path.join(server.localUploadDir, 'put.txt'), 'utf8'), body);
}

async function assertStopped(server: PeerServer): Promise<void> {
  await server.stop();
  assert.equal(existsSync(server.dir), false, 'temp dir removed');
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect({ host: server.host, port: server.port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
  assert.ok(refused, `${server.name} still accepts connections on ${server.port} after stop()`);
}

describe('vsftpd launcher', peerSkip('vsftpd', 'curl'), () => {
  test('plain IPv4: list, download, upload; stop() frees the port', async (t) => {
    const s = await withServer(t, ['vsftpd', 'curl'], () => startVsftpd());
    if (!s) return;
    await curlRoundTrip(s);
    await assertStopped(s);
  });
  test('plain IPv6', async (t) => {
    const s = await withServer(t, ['vsftpd', 'curl'], () => startVsftpd({ ipv6: true }));
    if (!s) return;
    assert.equal(s.host, '::1');
    await curlRoundTrip(s);
  });
  test('explicit TLS required (curl --ssl-reqd); plain login refused', async (t) => {
    const s = await withServer(t, ['vsftpd', 'curl'], () => startVsftpd({ tls: 'required' }));
    if (!s) return;
    await curlRoundTrip(s, ['--ssl-reqd', '-k']);
    const plain = await runCurl(['-u', `${s.user}:${s.password}`, `${s.url}/`], { timeoutMs: 20000 });
    assert.notEqual(plain.code, 0, 'vsftpd with force_anon_logins_ssl must refuse a cleartext login');
  });
  test('implicit TLS (ftps://)', async (t) => {
    const s = await withServer(t, ['vsftpd', 'curl'], () => startVsftpd({ tls: 'implicit' }));
    if (!s) return;
    assert.match(s.url, /^ftps:/);
    await curlRoundTrip(s, ['-k']);
  });
  test('require_ssl_reuse: ftplib without session reuse gets 522, with reuse it transfers', async (t) => {
    const s = await withServer(t, ['vsftpd', 'python3'], () => startVsftpd({ tls: 'required' }));
    if (!s) return;
    const base = { host: s.host, port: s.port, user: s.user, password: s.password, tls: 'explicit' as const };
    const { dir, cleanup } = await makeTempDir('smoke');
    t.after(cleanup);
    const without = await runFtplib({ ...base, actions: [{ op: 'retr', remote: '/hello.txt', local: path.join(dir, 'a') }] }, { timeoutMs: 30000 });
    assert.equal(without.report?.ok, false, describeRun(without));
    assert.match(without.report?.error ?? '', /522/);
    const withReuse = await runFtplib({ ...base, reuseSession: true, actions: [{ op: 'retr', remote: '/hello.txt', local: path.join(dir, 'b') }] }, { timeoutMs: 30000 });
    await check(s, withReuse.report?.ok === true, describeRun(withReuse));
    assert.equal(await readFile(path.join(dir, 'b'), 'utf8'), HELLO_TEXT);
  });
});

describe('pure-ftpd launcher', peerSkip('pure-ftpd', 'curl'), () => {
  test('plain IPv4 with a virtual user (fast SHA-512 crypt login)', async (t) => {
    const s = await withServer(t, ['pure-ftpd', 'curl'], () => startPureFtpd());
    if (!s) return;
    const started = Date.now();
    await curlRoundTrip(s);
    // Three logins; argon2id would cost ~2.5 s each.
    assert.ok(Date.now() - started < 6000, `logins too slow: ${Date.now() - started} ms`);
    const wrong = await runCurl(['-u', `${s.user}:wrong`, `${s.url}/`], { timeoutMs: 20000 });
    assert.equal(wrong.code, 67, `a wrong password must fail the login (curl exit 67): ${describeRun(wrong)}`);
    await assertStopped(s);
  });
  test('plain IPv6 (EPSV; pure-ftpd refuses PASV on IPv6)', async (t) => {
    const s = await withServer(t, ['pure-ftpd', 'curl'], () => startPureFtpd({ ipv6: true }));
    if (!s) return;
    await curlRoundTrip(s);
  });
  test('TLS required for control and data (-Y 3)', async (t) => {
    const s = await withServer(t, ['pure-ftpd', 'curl'], () => startPureFtpd({ tls: 3 }));
    if (!s) return;
    await curlRoundTrip(s, ['--ssl-reqd', '-k']);
  });
});

describe('proftpd launcher', peerSkip('proftpd', 'curl'), () => {
  test('plain IPv4', async (t) => {
    const s = await withServer(t, ['proftpd', 'curl'], () => startProftpd());
    if (!s) return;
    await curlRoundTrip(s);
    await assertStopped(s);
  });
  test('plain IPv6', async (t) => {
    const s = await withServer(t, ['proftpd', 'curl'], () => startProftpd({ ipv6: true }));
    if (!s) return;
    await curlRoundTrip(s);
  });
  test('explicit TLS required (session reuse required, curl resumes)', async (t) => {
    const s = await withServer(t, ['proftpd', 'curl'], () => startProftpd({ tls: 'required' }));
    if (!s) return;
    await curlRoundTrip(s, ['--ssl-reqd', '-k']);
  });
  test('implicit TLS', async (t) => {
    const s = await withServer(t, ['proftpd', 'curl'], () => startProftpd({ tls: 'implicit' }));
    if (!s) return;
    await curlRoundTrip(s, ['-k']);
  });
  test('TLS session reuse: required by default (ftplib without reuse refused), optional with requireSslReuse: false', async (t) => {
    if (!requirePeer(t, 'proftpd', 'python3')) return;
    const { dir, cleanup } = await makeTempDir('smoke');
    t.after(cleanup);
    for (const requireSslReuse of [true, false]) {
      const s = await startProftpd({ tls: 'required', requireSslReuse });
      t.after(() => s.stop());
      const base = { host: s.host, port: s.port, user: s.user, password: s.password, tls: 'explicit' as const };
      const local = path.join(dir, `hello-${requireSslReuse}`);
      const without = await runFtplib({ ...base, actions: [{ op: 'retr', remote: '/hello.txt', local }] }, { timeoutMs: 30000 });
      assert.equal(without.report?.ok, !requireSslReuse, `requireSslReuse=${requireSslReuse}: ${describeRun(without)}`);
      const withReuse = await runFtplib({ ...base, reuseSession: true, actions: [{ op: 'retr', remote: '/hello.txt', local }] }, { timeoutMs: 30000 });
      await check(s, withReuse.report?.ok === true, describeRun(withReuse));
      assert.equal(await readFile(local, 'utf8'), HELLO_TEXT);
      await s.stop();
    }
  });
  test('MODE Z available with deflate', async (t) => {
    const s = await withServer(t, ['proftpd', 'python3'], () => startProftpd({ deflate: true }));
    if (!s) return;
    const r = await runFtplib({ host: s.host, port: s.port, user: s.user, password: s.password, actions: [{ op: 'cmd', line: 'MODE Z' }] }, { timeoutMs: 20000 });
    await check(s, r.report?.ok === true, describeRun(r));
    assert.match(r.report!.steps[0]!.reply ?? '', /^200/);
  });
});

describe('pyftpdlib launcher', peerSkip('pyftpdlib', 'curl'), () => {
  test('plain IPv4, named user', async (t) => {
    const s = await withServer(t, ['pyftpdlib', 'curl'], () => startPyftpdlib());
    if (!s) return;
    await curlRoundTrip(s);
    await assertStopped(s);
  });
  test('plain IPv6', async (t) => {
    const s = await withServer(t, ['pyftpdlib', 'curl'], () => startPyftpdlib({ ipv6: true }));
    if (!s) return;
    await curlRoundTrip(s);
  });
  test('without EPSV: curl falls back to PASV', async (t) => {
    const s = await withServer(t, ['pyftpdlib', 'curl'], () => startPyftpdlib({ noEpsv: true }));
    if (!s) return;
    const r = await runCurl(['-u', `${s.user}:${s.password}`, `${s.url}/hello.txt`], { timeoutMs: 20000, verbose: true });
    await check(s, r.code === 0, describeRun(r));
    const cmds = curlCommands(r.stderr);
    assert.ok(cmds.includes('EPSV') && cmds.includes('PASV'), cmds.join(', '));
  });
  test('TLS required through lftp (ftp:ssl-force, protected data)', async (t) => {
    const s = await withServer(t, ['pyftpdlib-tls', 'lftp'], () => startPyftpdlib({ tls: 'required' }));
    if (!s) return;
    const { dir, cleanup } = await makeTempDir('smoke');
    t.after(cleanup);
    const out = path.join(dir, 'hello.txt');
    const r = await runLftp([lftpOpen(s), `get /hello.txt -o ${lftpQuote(out)}`], {
      timeoutMs: 30000, settings: { 'ftp:ssl-force': true, 'ftp:ssl-protect-data': true },
    });
    await check(s, r.code === 0, describeRun(r));
    assert.equal(await readFile(out, 'utf8'), HELLO_TEXT);
    const cmds = lftpCommands(r.stderr);
    assert.ok(cmds.includes('AUTH TLS') && cmds.includes('PROT P'), cmds.join(', '));
  });
});

describe('client runners', peerSkip('pyftpdlib', 'python3'), () => {
  test('ftplib: MLSD, STOR, REST+RETR in every data mode', async (t) => {
    const s = await withServer(t, ['pyftpdlib', 'python3'], () => startPyftpdlib());
    if (!s) return;
    const { dir, cleanup } = await makeTempDir('smoke');
    t.after(cleanup);
    const local = path.join(dir, 'up.bin');
    await writeFile(local, 'x'.repeat(1000));
    for (const mode of ['pasv', 'epsv', 'active', 'eprt'] as const) {
      const partial = path.join(dir, `part-${mode}`);
      await writeFile(partial, 'x'.repeat(400));
      const r = await runFtplib({
        host: s.host, port: s.port, user: s.user, password: s.password, mode,
        actions: [
          { op: 'stor', local, remote: `/upload/${mode}.bin` },
          { op: 'mlsd', path: '/upload' },
          { op: 'retr', remote: `/upload/${mode}.bin`, local: partial, rest: 400 },
        ],
      }, { timeoutMs: 30000 });
      await check(s, r.report?.ok === true, `${mode}: ${describeRun(r)}`);
      const entries = Object.fromEntries(r.report!.steps[1]!.entries!);
      assert.equal(entries[`${mode}.bin`]?.size, '1000');
      assert.equal(r.report!.steps[2]!.bytes, 600, 'REST 400 transfers the remaining 600 bytes');
      const sent = r.report!.transcript.filter((l) => l.startsWith('> ')).map((l) => l.slice(2).split(' ')[0]);
      const expected = { pasv: 'PASV', epsv: 'EPSV', active: 'PORT', eprt: 'EPRT' }[mode];
      assert.ok(sent.includes(expected), `${mode} sent ${sent.join(',')}`);
      assert.ok(r.report!.transcript.includes('> PASS ****'), 'password masked in the transcript');
    }
  });
  test('a hanging client is killed at its time bound', async (t) => {
    if (!requirePeer(t, 'curl')) return;
    // A TCP server that accepts and never greets: curl would wait for the 220 forever.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const openSockets = new Set<net.Socket>();
    silent.on('connection', (c) => openSockets.add(c));
    t.after(() => new Promise<void>((r) => { silent.close(() => r()); for (const c of openSockets) c.destroy(); }));
    const port = (silent.address() as net.AddressInfo).port;
    const r = await runCurl(['--max-time', '600', `ftp://127.0.0.1:${port}/`], { timeoutMs: 1500 });
    assert.equal(r.timedOut, true);
    assert.ok(r.durationMs < 10000);
  });
});
