/**
 * The doctor's fixes run by the products they are written for: vsftpd, proftpd and pure-ftpd started with
 * the passive-address and port-range lines the report prints answer PASV with that address and a port of
 * that range; curl and lftp given the printed words move a file to and from ftpkit's server. Skips (with the
 * reason) where a peer is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixesFor, type FixBlock } from '../../src/doctor/index.js';
import { equivalents } from '../../src/doctor/equivalents.js';
import { parsePasvReply } from '../../src/protocol/hostport.js';
import type { ClientSettings } from '../../src/client/options.js';
import type { Finding } from '../../src/doctor/types.js';
import { MemoryStorage } from '../../src/server/index.js';
import { RawControl, startServer } from '../support/server-harness.js';
import { freePortRange, peerSkip, type PortRange } from '../support/peers-common.js';
import { startProftpd, startPureFtpd, startVsftpd, type PeerServer } from '../support/peers-servers.js';
import { describeRun, lftpOpen, runCurl, runLftp } from '../support/peers-clients.js';

const SEEN = '198.18.7.7';

/** A finding whose cause is "the server advertises its private address": what the admin gets to paste. */
function privatePasvFinding(): Finding {
  const spec = { id: 'pasv-reply', label: 'PASV, address from the reply', mode: 'passive', command: 'pasv', addressPolicy: 'reply', tls: false } as const;
  return { version: 1, target: { host: 'ftp.example.net', port: 21, user: 'anonymous', secure: 'none', addresses: [SEEN], controlAddress: SEEN },
    startedAt: new Date(0).toISOString(), elapsedMs: 5000, budgetMs: 20000, steps: [], works: [], truncated: false, recommended: undefined,
    matrix: [{ spec, outcome: { kind: 'timeout', ms: 5000, connection: 'data', phase: 'connect' }, advertised: { host: '10.0.20.2', port: 30001 }, evidence: [] }],
    causes: [{ code: 'server-private-pasv-address', side: 'server', title: 'behind NAT', detail: 'PASV to 10.0.20.2 dropped' }] };
}

function block(blocks: FixBlock[], product: string): string[] {
  const b = blocks.find(x => x.product === product);
  assert.ok(b, `a ${product} block`);
  return b.lines;
}

async function assertPasvAdvertises(s: PeerServer, range: PortRange): Promise<void> {
  const c = await RawControl.connect(s.host, s.port);
  try {
    assert.equal((await c.send(`USER ${s.user}`)).code, 331);
    assert.equal((await c.send(`PASS ${s.password}`)).code, 230);
    const r = await c.send('PASV');
    assert.equal(r.code, 227, `${r.code} ${r.text}`);
    const hp = parsePasvReply(r.text);
    assert.equal(hp?.host, SEEN, r.text);
    assert.ok(hp!.port >= range.min && hp!.port <= range.max, `${hp!.port} in ${range.min}-${range.max}`);
  } finally {
    c.close();
  }
}

/** Each product, started with what its block prints (pure-ftpd: the flags of its command line). */
const SERVERS: Array<[string, 'vsftpd' | 'proftpd' | 'pure-ftpd', (range: PortRange, lines: string[]) => Promise<PeerServer>]> = [
  ['vsftpd', 'vsftpd', (range, lines) => startVsftpd({ pasvPorts: range, extra: lines })],
  ['proftpd', 'proftpd', (range, lines) => startProftpd({ pasvPorts: range, extra: lines })],
  // "pure-ftpd -P ADDR -p MIN:MAX ...   # or, ..." -> the flags.
  ['pure-ftpd', 'pure-ftpd', (range, lines) => startPureFtpd({ pasvPorts: range, extra: lines[0]!.replace(/\s*\.\.\..*$/, '').split(/\s+/).slice(1) })],
];

for (const [product, peer, start] of SERVERS) {
  test(`${product} with the printed lines answers PASV with the address seen and a port of the range`, peerSkip(peer), async t => {
    const range = await freePortRange(4);
    const s = await start(range, block(fixesFor(privatePasvFinding(), { passivePorts: range }).admin, product));
    t.after(() => s.stop());
    await assertPasvAdvertises(s, range);
  });
}

/** "curl FLAGS URL   # note" -> FLAGS. */
function curlFlags(line: string): string[] {
  const words = line.replace(/\s+#.*$/, '').split(/\s+/);
  return words.slice(1, -1);
}
/** "lftp -e 'set a b; set c d' URL" -> the set commands. */
function lftpSets(line: string): string[] {
  const m = /^lftp -e '([^']*)' /.exec(line);
  assert.ok(m, line);
  return m[1]!.split('; ');
}

const SETTINGS: Array<[string, ClientSettings]> = [
  ['EPSV', { secure: 'none', data: { mode: 'passive', passive: { command: 'epsv' } } }],
  ['PASV, control host', { secure: 'none', data: { mode: 'passive', passive: { command: 'pasv', addressPolicy: 'control' } } }],
  ['PASV, reply address', { secure: 'none', data: { mode: 'passive', passive: { command: 'pasv', addressPolicy: 'reply' } } }],
  ['PORT', { secure: 'none', data: { mode: 'active', active: { command: 'port' } } }],
];

for (const [name, settings] of SETTINGS) {
  test(`curl and lftp with the printed words for ${name} download and upload with ftpkit's server`, peerSkip('curl', 'lftp'), async t => {
    const storage = new MemoryStorage();
    storage.writeFile('/hello.txt', 'hello fixes\n');
    const h = await startServer({ storage });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ftpkit-fixes-'));
    t.after(async () => { await h.close(); await rm(dir, { recursive: true, force: true }); });
    const e = equivalents(settings, { host: h.host, port: h.port, localAddress: '127.0.0.1' });
    const base = `ftp://${h.host}:${h.port}/`;

    const got = path.join(dir, 'curl-got.txt');
    const c1 = await runCurl([...curlFlags(e.curl), '-u', 'test:test', '-o', got, `${base}hello.txt`], { timeoutMs: 30_000 });
    assert.equal(c1.code, 0, describeRun(c1));
    assert.equal(await readFile(got, 'utf8'), 'hello fixes\n');
    const up = path.join(dir, 'up.txt');
    await writeFile(up, 'uploaded by curl\n');
    const c2 = await runCurl([...curlFlags(e.curl), '-u', 'test:test', '-T', up, `${base}curl-up.txt`], { timeoutMs: 30_000 });
    assert.equal(c2.code, 0, describeRun(c2));

    const lgot = path.join(dir, 'lftp-got.txt');
    const l = await runLftp([...lftpSets(e.lftp), lftpOpen({ url: base, user: 'test', password: 'test' }),
      `get /hello.txt -o ${lgot}`, `put ${up} -o /lftp-up.txt`], { timeoutMs: 30_000 });
    assert.equal(l.code, 0, describeRun(l));
    assert.equal(await readFile(lgot, 'utf8'), 'hello fixes\n');
    const names = (await storage.list('/')).map(x => x.name).sort();
    assert.deepEqual(names.filter(n => n.endsWith('-up.txt')), ['curl-up.txt', 'lftp-up.txt']);
  });
}
