/**
 * Two ftpkit nodes behind a real HAProxy (Debian's haproxy) speaking PROXY protocol v2, configured by
 * deploy/haproxy.cfg itself with its addresses and ports replaced by loopback ones (the balancer on
 * 127.0.0.10, the nodes on 127.0.0.11 and 127.0.0.12, over one shared folder): HAProxy's health checks
 * (v2 LOCAL) pass and open no session; curl and lftp list, upload and download byte-exact through the
 * balancer; PASV advertises the balancer; concurrent sessions land on both nodes (leastconn) with the real
 * client address; a data connection relayed for another client address is refused by the theft check.
 * docs/server.md#behind-a-load-balancer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  describeRun, freePortRange, lftpOpen, makeTempDir, peerSkip, requirePeer, runCurl, runLftp, sha256File,
  writeRandomFile, type PortRange,
} from '../support/peers.js';
import { loopbackDeployConfig, startHaproxy, type HaproxyInstance } from '../support/haproxy.js';
import { RawControl, readAll, readUntilClosed, startServer, type Harness } from '../support/server-harness.js';
import { REPO_ROOT } from '../support/ftpkit-cli.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';
import { LocalStorage } from '../../src/server/storage/local.js';
import { parsePasvReply } from '../../src/protocol/hostport.js';
import type { WarningEvent } from '../../src/server/events.js';

const LB = '127.0.0.10';
const NODES = ['127.0.0.11', '127.0.0.12'] as const;
const RANGE = 20;

interface Node { h: Harness; opened: string[]; warnings: WarningEvent[]; range: PortRange; implicitPort: number }

/** The implicit FTPS frontend of docs/server.md#behind-a-load-balancer, on loopback (not in the sample file). */
function implicitFrontend(port: number, nodes: Node[]): string {
  return `
frontend ftps_implicit
    bind ${LB}:${port}
    default_backend ftps_nodes

backend ftps_nodes
    balance leastconn
    default-server send-proxy-v2
    server node1 ${NODES[0]}:${nodes[0].implicitPort}
    server node2 ${NODES[1]}:${nodes[1].implicitPort}
`;
}

function loopbackConfig(sample: string, controlPort: number, nodes: Node[], statsSocket: string): string {
  return loopbackDeployConfig(sample, {
    balancer: LB, controlPort, ranges: nodes.map(n => n.range), nodes: nodes.map((n, i) => ({ host: NODES[i]!, port: n.h.port })), statsSocket,
  });
}

/** `show stat` on HAProxy's admin socket: per "backend/server", its check status (L7OK...). */
async function checkStatuses(socketPath: string): Promise<Record<string, string>> {
  const s = net.connect(socketPath);
  s.on('error', () => {});
  await once(s, 'connect');
  s.end('show stat\n');
  const text = (await readAll(s)).toString();
  const [head, ...rows] = text.trim().split('\n');
  const cols = head.replace(/^# /, '').split(',');
  const out: Record<string, string> = {};
  for (const row of rows) {
    const f = row.split(',');
    out[`${f[0]}/${f[1]}`] = f[cols.indexOf('check_status')] ?? '';
  }
  return out;
}

describe('two ftpkit nodes behind HAProxy (PROXY protocol v2)', peerSkip('haproxy', 'curl', 'lftp'), () => {
  /** The nodes' shared folder. */
  let work: { dir: string; cleanup: () => Promise<void> };
  /** The clients' files and HAProxy's configuration and admin socket. */
  let side: { dir: string; cleanup: () => Promise<void> };
  let statsSocket = '';
  let nodes: Node[] = [];
  let haproxy: HaproxyInstance | undefined;
  let controlPort = 0;
  let implicitPort = 0;
  let pki: TestPki | undefined;
  const lbUrl = (): string => `ftp://${LB}:${controlPort}`;

  before(async () => {
    work = await makeTempDir('haproxy-nodes');
    side = await makeTempDir('haproxy-side');
    const ports = await freePortRange(3 + 2 * RANGE);
    implicitPort = ports.max;
    pki = await makeTestPki();
    controlPort = ports.min;
    const shared = new LocalStorage(work.dir);
    nodes = await Promise.all(NODES.map(async (host, i) => {
      const range = { min: ports.min + 2 + i * RANGE, max: ports.min + 1 + (i + 1) * RANGE };
      const h = await startServer({
        host, storage: shared,
        // Each node as deploy/haproxy.cfg's comment says: the balancer trusted, advertised, its own range.
        options: {
          passive: { portRange: range, address: LB }, proxyProtocol: { from: [LB] },
          tls: { certFile: pki!.server.certFile, keyFile: pki!.server.keyFile, implicitPort: 0, handshakeTimeoutMs: 20_000 },
        },
      });
      const node: Node = { h, opened: [], warnings: [], range, implicitPort: h.server.implicitAddress()!.port };
      h.server.on('session-open', e => node.opened.push(e.remoteAddress));
      h.server.on('warning', w => node.warnings.push(w));
      return node;
    }));
    const sample = await readFile(path.join(REPO_ROOT, 'deploy/haproxy.cfg'), 'utf8');
    statsSocket = path.join(side.dir, 'haproxy.sock');
    haproxy = await startHaproxy(side.dir, loopbackConfig(sample, controlPort, nodes, statsSocket) + implicitFrontend(implicitPort, nodes), { host: LB, port: ports.min + 1, adminSocket: statsSocket });
  });
  after(async () => {
    await haproxy?.stop();
    await Promise.all(nodes.map(n => n.h.close()));
    await work?.cleanup();
    await side?.cleanup();
    await pki?.cleanup();
  });

  test('health checks (PROXY v2 LOCAL) pass on both nodes and open no session', async t => {
    if (!requirePeer(t, 'haproxy')) return;
    const deadline = Date.now() + 20_000;
    let statuses: Record<string, string> = {};
    while (Date.now() < deadline) {
      statuses = await checkStatuses(statsSocket);
      if (statuses['ftp_nodes/node1'] === 'L7OK' && statuses['ftp_nodes/node2'] === 'L7OK') break;
      await delay(100);
    }
    assert.equal(statuses['ftp_nodes/node1'], 'L7OK', `HAProxy's check of node1 (tcp-check expect 220): ${JSON.stringify(statuses)}`);
    assert.equal(statuses['ftp_nodes/node2'], 'L7OK', JSON.stringify(statuses));
    // The first test of the file: no client has connected yet, so any session would be a health check's.
    assert.deepEqual(nodes.map(n => n.opened), [[], []], 'no session from the health checks');
    assert.deepEqual(nodes.flatMap(n => n.warnings.filter(w => w.code === 'proxy-protocol-refused')), []);
  });

  test('concurrent sessions land on both nodes (leastconn), each with the real client address', async t => {
    if (!requirePeer(t, 'haproxy')) return;
    const before = nodes.map(n => n.opened.length);
    const lb = { host: LB, port: controlPort } as Harness;
    const first = await RawControl.login(lb);
    t.after(() => first.close());
    const second = await RawControl.login(lb);
    t.after(() => second.close());
    const added = nodes.map((n, i) => n.opened.slice(before[i]));
    assert.deepEqual(added.map(a => a.length).sort(), [1, 1], `one session on each node: ${JSON.stringify(added)}`);
    assert.deepEqual(added.flat(), ['127.0.0.1', '127.0.0.1'], 'the client address from the PROXY header, not the balancer\'s');
    assert.deepEqual(nodes.map(n => n.h.server.sessions().map(s => s.remoteAddress)), [['127.0.0.1'], ['127.0.0.1']]);
  });

  test('curl through the balancer: PASV advertises it; STOR, LIST, RETR byte-exact', async t => {
    if (!requirePeer(t, 'curl')) return;
    const local = path.join(side.dir, 'curl.bin');
    const digest = await writeRandomFile(local, 3 * 1024 * 1024 + 17);
    const up = await runCurl(['--ftp-pasv', '--disable-epsv', '-u', 'test:test', '-T', local, `${lbUrl()}/curl.bin`], { verbose: true });
    assert.equal(up.code, 0, describeRun(up));
    const pasv = /< 227 (.*)/.exec(up.stderr)?.[1];
    assert.ok(pasv, 'curl used PASV');
    assert.equal(parsePasvReply(pasv).host, LB, `PASV advertises the balancer: ${pasv}`);
    assert.equal(await sha256File(path.join(work.dir, 'curl.bin')), digest, 'stored byte-exact in the shared folder');
    const list = await runCurl(['-u', 'test:test', `${lbUrl()}/`]);
    assert.equal(list.code, 0, describeRun(list));
    assert.match(list.stdout, /curl\.bin/);
    const back = `${local}.back`;
    const down = await runCurl(['-u', 'test:test', '-o', back, `${lbUrl()}/curl.bin`], { verbose: true });
    assert.equal(down.code, 0, describeRun(down));
    assert.match(down.stderr, /> EPSV/, 'curl\'s default EPSV (port only) reaches the same node through the balancer');
    assert.equal(await sha256File(back), digest);
  });

  test('lftp through the balancer: put, ls, get byte-exact, PASV and EPSV', async t => {
    if (!requirePeer(t, 'lftp')) return;
    const local = path.join(side.dir, 'lftp.bin');
    const digest = await writeRandomFile(local, 2 * 1024 * 1024 + 5);
    for (const epsv of [false, true]) {
      const name = `lftp-${epsv ? 'epsv' : 'pasv'}.bin`;
      const r = await runLftp([
        lftpOpen({ url: lbUrl(), user: 'test', password: 'test' }),
        `put ${local} -o ${name}`, 'cls -l', `get ${name} -o ${local}.${name}`,
      ], { timeoutMs: 60_000, settings: { 'ftp:ssl-allow': false, 'ftp:prefer-epsv': epsv, 'ftp:passive-mode': true } });
      assert.equal(r.code, 0, describeRun(r));
      assert.match(r.stdout, new RegExp(name.replace('.', '\\.')));
      assert.match(r.stderr, epsv ? /---> EPSV/ : /---> PASV/);
      if (!epsv) assert.match(r.stderr, /<--- 227 .*\(127,0,0,10,/, 'PASV advertises the balancer');
      assert.equal(await sha256File(path.join(work.dir, name)), digest);
      assert.equal(await sha256File(`${local}.${name}`), digest);
    }
  });

  test('a data connection relayed for another client address is refused (theft check behind the proxy)', async t => {
    if (!requirePeer(t, 'haproxy')) return;
    const c = await RawControl.login({ host: LB, port: controlPort } as Harness);
    t.after(() => c.close());
    assert.equal((await c.send('TYPE I')).code, 200);
    const pasv = parsePasvReply((await c.send('PASV')).text);
    assert.equal(pasv.host, LB);
    const warningsBefore = nodes.map(n => n.warnings.length);
    // Another machine (127.0.0.5) connects to the advertised port through the balancer first.
    const thief = net.connect({ host: LB, port: pasv.port, localAddress: '127.0.0.5' });
    thief.on('error', () => {});
    t.after(() => thief.destroy());
    assert.equal((await readUntilClosed(thief)).length, 0, 'the thief gets nothing');
    const deadline = Date.now() + 10_000;
    const foreign = (): WarningEvent | undefined => nodes.flatMap((n, i) => n.warnings.slice(warningsBefore[i])).find(w => w.code === 'foreign-data-connection');
    while (!foreign() && Date.now() < deadline) await delay(20);
    assert.match(foreign()?.message ?? 'no warning', /from 127\.0\.0\.5; the control connection comes from 127\.0\.0\.1/);
    // The client's own connection still works.
    const data = net.connect({ host: LB, port: pasv.port });
    data.on('error', () => {});
    const got = readAll(data);
    assert.equal((await c.send('LIST')).code, 150);
    assert.match((await got).toString(), /curl\.bin|lftp-/);
    assert.equal((await c.read()).code, 226);
  });

  test('implicit FTPS through the balancer: curl uploads and downloads byte-exact with PROT P, the node sees the real client', async t => {
    if (!requirePeer(t, 'curl')) return;
    const before = nodes.map(n => n.opened.length);
    const local = path.join(side.dir, 'ftps.bin');
    const digest = await writeRandomFile(local, 1024 * 1024 + 3);
    // The test certificate names localhost: curl checks it against that name, sent to the balancer.
    const url = `ftps://localhost:${implicitPort}`;
    const tlsArgs = ['--ssl-reqd', '--cacert', pki!.ca.certFile, '--resolve', `localhost:${implicitPort}:${LB}`];
    const up = await runCurl([...tlsArgs, '-u', 'test:test', '-T', local, `${url}/ftps.bin`], { verbose: true });
    assert.equal(up.code, 0, describeRun(up));
    assert.match(up.stderr, /> PROT P/);
    const down = await runCurl([...tlsArgs, '-u', 'test:test', '-o', `${local}.back`, `${url}/ftps.bin`]);
    assert.equal(down.code, 0, describeRun(down));
    assert.equal(await sha256File(path.join(work.dir, 'ftps.bin')), digest);
    assert.equal(await sha256File(`${local}.back`), digest);
    assert.deepEqual(nodes.flatMap((n, i) => n.opened.slice(before[i])), ['127.0.0.1', '127.0.0.1']);
  });
});
