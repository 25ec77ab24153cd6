/**
 * The client through real proxies that are the only route to the server (test/support/proxy-lab.ts):
 * Debian's danted (SOCKS5, remote DNS) and tinyproxy (HTTP CONNECT). Without the proxy the connection
 * fails; through it listing, download and upload are byte-exact, in cleartext, explicit and implicit TLS,
 * passive mode (each data connection through the proxy too), and active mode through SOCKS5 BIND (PORT and
 * EPRT, plain and PROT P). Active mode through HTTP CONNECT, or a SOCKS5 proxy refusing BIND, is a clear error.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { FtpClient, FtpNetworkError, FtpUsageError, type FtpClientOptions } from '../../src/client/index.js';
import { peerSkip } from '../support/peers-common.js';
import { startProxyLab, type ProxyLab } from '../support/proxy-lab.js';
import { tempDir } from '../support/temp-dir.js';
import { runFtpkit, describeCli } from '../support/ftpkit-cli.js';
import net from 'node:net';
import { socksBind } from '../../src/net/proxy/socks-bind.js';
import { parseProxyUrl } from '../../src/net/proxy/proxy-url.js';

const skip = peerSkip('netns', 'danted', 'tinyproxy');
let lab: ProxyLab;
let socks: string;
let http: string;

before(async () => {
  if (skip.skip) return;
  lab = await startProxyLab();
  socks = (await lab.startDante()).url;
  http = (await lab.startTinyproxy()).url;
});
after(async () => { await lab?.stop(); });

function options(extra: Partial<FtpClientOptions>): FtpClientOptions {
  return { host: lab.host, port: lab.port, user: lab.user, password: lab.password,
    timeouts: { connectMs: 10_000, commandMs: 20_000, dataMs: 20_000 }, ...extra };
}

async function roundTrip(t: { after: (fn: () => unknown) => void }, opts: FtpClientOptions, name: string): Promise<string[]> {
  const transcript: string[] = [];
  const client = new FtpClient(opts);
  client.on('transcript', (e) => transcript.push('text' in e ? String(e.text) : JSON.stringify(e)));
  t.after(() => client.destroy());
  await client.connect();
  const dir = await tempDir(t);
  const payload = randomBytes(300_000 + Math.floor(Math.random() * 1000));
  const local = path.join(dir, 'up.bin');
  await writeFile(local, payload);
  await client.upload(local, `${name}.bin`);
  assert.deepEqual(await readFile(path.join(lab.root, `${name}.bin`)), payload, 'upload byte-exact on the server');
  const back = path.join(dir, 'down.bin');
  await client.download(`${name}.bin`, back);
  assert.deepEqual(await readFile(back), payload, 'download byte-exact');
  const names = (await client.list()).map((e) => e.name);
  assert.ok(names.includes(`${name}.bin`), `listing has ${name}.bin: ${names.join(', ')}`);
  await client.close();
  return transcript;
}

test('without a proxy the server cannot be reached (the proxy is the only route)', skip, async () => {
  const client = new FtpClient(options({ timeouts: { connectMs: 3000 } }));
  await assert.rejects(client.connect(), FtpNetworkError);
  client.destroy();
});

test('SOCKS5 (danted, socks5h://): list, get, put byte-exact, passive', skip, async (t) => {
  const transcript = await roundTrip(t, options({ proxy: socks }), 'socks-plain');
  assert.ok(transcript.some((l) => l.includes('through the proxy socks5h://')), transcript.join('\n'));
});

test('SOCKS5 (socks5://, resolved here) and a name the proxy would not know work too', skip, async (t) => {
  await roundTrip(t, options({ proxy: socks.replace('socks5h:', 'socks5:'), host: 'localhost' }), 'socks-local-dns');
});

test('SOCKS5 with explicit TLS (AUTH TLS) and with implicit TLS', skip, async (t) => {
  await roundTrip(t, options({ proxy: socks, secure: 'explicit', tls: { caFile: lab.caFile } }), 'socks-explicit');
  await roundTrip(t, options({ proxy: socks, port: lab.implicitPort, secure: 'implicit', tls: { caFile: lab.caFile } }), 'socks-implicit');
});

test('HTTP CONNECT (tinyproxy): plain and explicit TLS, byte-exact', skip, async (t) => {
  await roundTrip(t, options({ proxy: http }), 'http-plain');
  await roundTrip(t, options({ proxy: http, secure: 'explicit', tls: { caFile: lab.caFile } }), 'http-explicit');
});

test('noProxy naming the server bypasses the proxy (and so fails here)', skip, async () => {
  const client = new FtpClient(options({ proxy: socks, noProxy: 'example.org, 127.0.0.0/8', timeouts: { connectMs: 3000 } }));
  await assert.rejects(client.connect(), FtpNetworkError);
  client.destroy();
});

for (const command of ['port', 'eprt'] as const) {
  test(`active mode (${command.toUpperCase()}) through SOCKS5 BIND (danted): list, get, put byte-exact, plain and PROT P`, skip, async (t) => {
    for (const secure of [undefined, 'explicit'] as const) {
      const transcript = await roundTrip(t, options({ proxy: socks, data: { mode: 'active', active: { command } },
        ...(secure ? { secure, tls: { caFile: lab.caFile } } : {}) }), `socks-active-${command}-${secure ?? 'plain'}`);
      const all = transcript.join('\n');
      assert.match(all, /SOCKS5 proxy listens for us, BIND/, all);
      assert.match(all, new RegExp(`${command.toUpperCase()} `), all);
      assert.ok(!transcript.some((l) => /^(PASV|EPSV)\b/.test(l)), `no passive command was sent:\n${all}`);
      assert.match(all, /data connection accepted from 127\.0\.0\.1:/, all);
      if (secure) assert.match(all, /PROT P/, 'the data connections were TLS-protected');
    }
  });
}

test('active mode through an HTTP CONNECT proxy is refused, naming --passive and --no-proxy', skip, async (t) => {
  const client = new FtpClient(options({ proxy: http, data: { mode: 'active' } }));
  t.after(() => client.destroy());
  await client.connect();
  await assert.rejects(client.list(), (e: unknown) => e instanceof FtpUsageError && /--passive/.test(e.message)
    && /--no-proxy/.test(e.message) && /HTTP proxy/.test(e.message));
});

test('a SOCKS5 proxy that refuses BIND: a data-connection error naming --passive and --no-proxy', skip, async (t) => {
  const connectOnly = (await lab.startDante({ port: 1081, commands: 'connect' })).url;
  const client = new FtpClient(options({ proxy: connectOnly, data: { mode: 'active' } }));
  t.after(() => client.destroy());
  await client.connect();
  const err = await client.list().then(() => undefined, (e: unknown) => e as Error);
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.equal(err.connection, 'data');
  assert.equal(err.phase, 'listen');
  assert.match(err.message, /BIND/);
  assert.match(err.message, /--passive/);
  assert.match(err.message, /--no-proxy/);
  // The session is still usable: passive mode through the same proxy works.
  await client.close();
  const again = new FtpClient(options({ proxy: connectOnly }));
  t.after(() => again.destroy());
  await again.connect();
  await again.list();
  await again.close();
});

test('SOCKS5 BIND: a connection to the proxy from another host than the server is refused (port theft)', skip, async (t) => {
  // A dante whose BIND listens on the veth address, so this test process can connect to it as a thief.
  const reachable = (await lab.startDante({ port: 1082, external: 'veth' })).url;
  const thiefTries = async (expected: string): Promise<{ err: Error | undefined; refused: string[] }> => {
    const binding = await socksBind(parseProxyUrl(reachable), expected, 20_000);
    t.after(() => binding.close());
    const refused: string[] = [];
    const waiting = binding.established(20_000, [lab.host], (peer) => refused.push(peer));
    const thief = net.connect({ host: binding.bound.host, port: binding.bound.port, localAddress: lab.hostAddress });
    t.after(() => thief.destroy());
    thief.on('error', () => {});
    return { err: await waiting.then(() => undefined, (e: unknown) => e as Error), refused };
  };
  // The BIND request names the server (DST.ADDR, RFC 1928 s4): dante itself refuses another peer.
  const byProxy = await thiefTries(lab.host);
  assert.ok(byProxy.err instanceof FtpNetworkError, String(byProxy.err));
  assert.equal(byProxy.err.failure, 'permission');
  assert.match(byProxy.err.message, /rejected incoming bound connection/);
  // A proxy that lets it through (here: told to expect the thief): our own check of the second reply refuses it.
  const byUs = await thiefTries(lab.hostAddress);
  assert.ok(byUs.err instanceof FtpNetworkError, String(byUs.err));
  assert.equal(byUs.err.failure, 'permission');
  assert.match(byUs.err.message, /port theft/);
  assert.deepEqual(byUs.refused, [lab.hostAddress]);
});

test('a proxy that refuses names itself in the error; credentials are masked', skip, async () => {
  const client = new FtpClient(options({ proxy: 'socks5h://someone:hunter2@127.0.0.1:9', timeouts: { connectMs: 3000 } }));
  const err = await client.connect().then(() => undefined, (e: unknown) => e as Error);
  client.destroy();
  assert.ok(err instanceof FtpNetworkError, String(err));
  assert.match(err.message, /SOCKS5 proxy socks5h:\/\/someone:\*\*\*@127\.0\.0\.1:9/);
  assert.doesNotMatch(err.message, /hunter2/);
});

test('CLI: get through the proxy from --proxy and from $all_proxy; --proxy "" goes direct and fails; --active uses BIND', skip, async (t) => {
  const dir = await tempDir(t);
  const payload = randomBytes(123_457);
  await writeFile(path.join(lab.root, 'cli.bin'), payload);
  const url = `ftp://${lab.user}@${lab.host}:${lab.port}/cli.bin`;
  const env = { FTPKIT_PASSWORD: lab.password };
  const viaFlag = await runFtpkit(['get', url, path.join(dir, 'a.bin'), '--proxy', socks, '--no-netrc'], { env });
  assert.equal(viaFlag.code, 0, describeCli(viaFlag));
  assert.deepEqual(await readFile(path.join(dir, 'a.bin')), payload);
  const viaEnv = await runFtpkit(['get', url, path.join(dir, 'b.bin'), '--no-netrc'], { env: { ...env, all_proxy: http } });
  assert.equal(viaEnv.code, 0, describeCli(viaEnv));
  assert.deepEqual(await readFile(path.join(dir, 'b.bin')), payload);
  const direct = await runFtpkit(['get', url, path.join(dir, 'c.bin'), '--proxy', '', '--no-netrc', '--connect-timeout', '3'], { env: { ...env, all_proxy: http } });
  assert.equal(direct.code, 5, describeCli(direct));
  const active = await runFtpkit(['get', url, path.join(dir, 'd.bin'), '--proxy', socks, '--active', '--no-netrc'], { env });
  assert.equal(active.code, 0, describeCli(active));
  assert.deepEqual(await readFile(path.join(dir, 'd.bin')), payload, 'active mode through SOCKS5 BIND from the CLI');
});
