/**
 * Scale-out end to end (issue 13; docs/scale-out.md): two `ftpkit serve --config` processes (nodes on
 * 127.0.0.11 and 127.0.0.12) that keep nothing of their own: files in S3 (Ceph's radosgw, the shared
 * service services/radosgw.ts), users, bans and quota usage in PostgreSQL (services/postgres.ts), behind a
 * real HAProxy on 127.0.0.10 configured by deploy/haproxy.cfg itself (loopback addresses and ports; PROXY
 * v2, control leastconn, one passive range per node). The user is added with the real `ftpkit user add
 * --root s3://bucket/prefix/`.
 * How a node is forced: through the balancer, the other node is put in maintenance on HAProxy's admin
 * socket (`disable server ftp_nodes/nodeN`) and the node's own log shows the command; elsewhere the client
 * connects to one node's own address (the nodes take PROXY headers `optional`, so a direct client is served).
 * Checked: a 50 MB file uploaded by curl through the balancer to node 1 is listed and downloaded byte-exact
 * through the balancer from node 2; lftp on node 2 then node 1; a foreign data connection relayed by the
 * balancer is dropped (theft check on the PROXY address); a quota counts uploads from both nodes; a ban
 * earned on node 2 holds on node 1; kill -9 of node 1 mid-upload leaves no object under the final name
 * (the multipart upload stays, listed, for the sweep or a lifecycle rule).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client,
} from '@aws-sdk/client-s3';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { runFtpkit, describeCli } from '../support/ftpkit-cli.js';
import { describeRun, freePortRange, lftpOpen, peerSkip, runCurl, runLftp } from '../support/peers.js';
import { loopbackDeployConfig, startHaproxy } from '../support/haproxy.js';
import { RawControl, readAll, readUntilClosed, type Harness } from '../support/server-harness.js';
import { parsePasvReply } from '../../src/protocol/hostport.js';
import { REPO_ROOT } from '../support/ftpkit-cli.js';
import { useService } from '../support/services/use-service.js';
import { radosgw, type RadosgwDetails } from '../support/services/radosgw.js';
import { createTestDatabase, postgresService, type PostgresDetails } from '../support/services/postgres.js';
import { tempDir } from '../support/temp-dir.js';

const LB = '127.0.0.10';
const NODES = ['127.0.0.11', '127.0.0.12'] as const;
const RANGE = 20;
const MB = 1000 * 1000;
const PASSWORD = 'scale out pw';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Tests that reached their end (the nodes' logs are shown for the others). */
const finished = new WeakSet<TestContext>();

interface Cluster {
  dir: string;
  raw: S3Client;
  bucket: string;
  prefix: string;
  url: string;
  config: string;
  nodes: ServeProcess[];
  nodeUrl(i: number): string;
  /** The balancer's control URL. */
  lbUrl: string;
  /** A command on HAProxy's admin socket (`disable server ftp_nodes/node2`...). */
  admin(command: string): Promise<string>;
}

async function cluster(t: TestContext): Promise<Cluster | undefined> {
  const s3 = await useService<RadosgwDetails>(t, radosgw);
  if (!s3) return undefined;
  const pg = await useService<PostgresDetails>(t, postgresService);
  if (!pg) return undefined;
  const url = await createTestDatabase(pg, fn => t.after(fn));
  const dir = await tempDir(t, 'ftpkit-scale-');
  const prefix = `scale-${Date.now()}/`;
  const raw = new S3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // radosgw's memstore OSD holds objects in RAM: remove everything under the prefix, and open uploads.
  t.after(async () => {
    try {
      const uploads = await raw.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }));
      for (const u of uploads.Uploads ?? []) await raw.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: u.Key, UploadId: u.UploadId }));
      const page = await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
      for (const o of page.Contents ?? []) await raw.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: o.Key }));
    } catch {
      // Housekeeping only: the service is stopped at the end of the run anyway.
    } finally {
      raw.destroy();
    }
  });

  // The operator's steps of docs/scale-out.md: migrate, add the user (S3 root, a quota), one config for every node.
  const migrate = await runFtpkit(['db', 'migrate', '--url', url]);
  assert.equal(migrate.code, 0, describeCli(migrate));
  const add = await runFtpkit(['user', 'add', 'alice', '--root', `s3://${s3.bucket}/${prefix}alice/`, '--quota-bytes', '120MB', '--url', url],
    { input: `${PASSWORD}\n` });
  assert.equal(add.code, 0, describeCli(add));
  // One configuration per node: only the passive range differs (docs/scale-out.md). PROXY headers are
  // `optional` so that the test may also reach a node directly (a node is forced that way).
  const ports = await freePortRange(2 + 2 * RANGE);
  const ranges = [0, 1].map(i => ({ min: ports.min + 2 + i * RANGE, max: ports.min + 1 + (i + 1) * RANGE }));
  const common = [
    'limits: { loginFailureDelay: 0 }',
    'defender: { threshold: 3 }',
    's3:',
    `  endpoint: ${JSON.stringify(s3.endpoint)}`,
    `  region: ${JSON.stringify(s3.region)}`,
    `  accessKeyId: ${JSON.stringify(s3.accessKeyId)}`,
    `  secretAccessKey: ${JSON.stringify(s3.secretAccessKey)}`,
    '  forcePathStyle: true',
    'database:',
    `  url: ${JSON.stringify(url)}`,
    '  banRefresh: 200ms',
    '  quotaReserveBytes: 4194304',
    `proxyProtocol: { from: [${LB}], mode: optional }`,
  ];
  const configs = await Promise.all(ranges.map(async (r, i) => {
    const file = join(dir, `node${i + 1}.yaml`);
    await writeFile(file, [...common, `passive: { address: ${LB}, ports: ${r.min}-${r.max} }`].join('\n') + '\n');
    return file;
  }));
  const config = configs[0]!;
  const nodes = await Promise.all(NODES.map((host, i) => startServeProcess(t, ['--config', configs[i]!, '--host', host], 60_000)));
  // What the nodes logged, when the test fails (their JSON log goes to stderr).
  t.after(() => {
    if (!finished.has(t)) nodes.forEach((n, i) => process.stderr.write(`--- node ${i + 1} stderr ---\n${n.stderr().slice(-6000)}\n`));
  });
  const socket = join(dir, 'haproxy.sock');
  const sample = await readFile(join(REPO_ROOT, 'deploy/haproxy.cfg'), 'utf8');
  const haproxy = await startHaproxy(dir, loopbackDeployConfig(sample, { balancer: LB, controlPort: ports.min, ranges, nodes: nodes.map((n, i) => ({ host: NODES[i], port: n.port })), statsSocket: socket }), { host: LB, port: ports.min + 1, adminSocket: socket });
  t.after(() => haproxy.stop());
  const admin = async (command: string): Promise<string> => {
    const s = net.connect(socket);
    s.on('error', () => {});
    await once(s, 'connect');
    s.end(`${command}\n`);
    return (await readAll(s)).toString();
  };
  return {
    dir, raw, bucket: s3.bucket, prefix, url, config, nodes, admin, lbUrl: `ftp://${LB}:${ports.min}/`,
    nodeUrl: (i) => `ftp://${NODES[i]}:${nodes[i]!.port}/`,
  };
}

/** A bounded wait for a line of the node's JSON log. */
async function waitForLog(node: ServeProcess, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(node.stderr());
    if (m) return m;
    if (Date.now() > deadline) assert.fail(`no log line ${pattern} within ${timeoutMs} ms`);
    await new Promise(res => setTimeout(res, 100));
  }
}

async function objectSize(c: Cluster, key: string): Promise<number | undefined> {
  try {
    return (await c.raw.send(new HeadObjectCommand({ Bucket: c.bucket, Key: c.prefix + key }))).ContentLength;
  } catch {
    return undefined;
  }
}

test('two nodes over S3 and PostgreSQL: upload on one, list and download on the other; quota across nodes; kill -9 mid-upload; ban shared', peerSkip('curl', 'lftp'), async t => {
  const c = await cluster(t);
  if (!c) return;
  const auth = ['-u', `alice:${PASSWORD}`, '-sS'];
  const big = randomBytes(50 * MB);
  await writeFile(join(c.dir, 'big.bin'), big);

  // curl through the balancer: STOR lands on node 1 (node 2 put in maintenance on HAProxy's admin socket),
  // then LIST and RETR land on node 2 (node 1 in maintenance), byte-exact.
  await c.admin('disable server ftp_nodes/node2');
  let r = await runCurl([...auth, '-T', join(c.dir, 'big.bin'), `${c.lbUrl}big.bin`], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, describeRun(r));
  await waitForLog(c.nodes[0]!, /"command":"STOR","argument":"big\.bin","replyCode":226/);
  assert.equal(await objectSize(c, 'alice/big.bin'), big.length, 'one object in the bucket under the user\'s prefix');
  await c.admin('enable server ftp_nodes/node2');
  await c.admin('disable server ftp_nodes/node1');
  r = await runCurl([...auth, c.lbUrl], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /big\.bin/, 'node 2 lists what node 1 stored');
  r = await runCurl([...auth, '-o', join(c.dir, 'back.bin'), `${c.lbUrl}big.bin`], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, describeRun(r));
  await waitForLog(c.nodes[1]!, /"command":"RETR","argument":"big\.bin","replyCode":226/);
  assert.doesNotMatch(c.nodes[0]!.stderr(), /"command":"RETR"/, 'the download went through node 2 only');
  assert.ok((await readFile(join(c.dir, 'back.bin'))).equals(big), 'downloaded byte-exact through node 2');
  await c.admin('enable server ftp_nodes/node1');

  // The passive-theft check behind the proxy: another address (127.0.0.6) that connects first to the port
  // PASV advertised is relayed by HAProxy with its own address in the PROXY header, and dropped.
  const control = await RawControl.login({ host: LB, port: Number(new URL(c.lbUrl).port) } as Harness, 'alice', PASSWORD);
  t.after(() => control.close());
  const pasv = parsePasvReply((await control.send('PASV')).text);
  assert.equal(pasv.host, LB, 'PASV advertises the balancer');
  const thief = net.connect({ host: LB, port: pasv.port, localAddress: '127.0.0.6' });
  thief.on('error', () => {});
  t.after(() => thief.destroy());
  assert.equal((await readUntilClosed(thief)).length, 0, 'the foreign data connection gets nothing');
  const both = { stderr: () => c.nodes.map(n => n.stderr()).join('\n') } as ServeProcess;
  const dropped = await waitForLog(both, /foreign-data-connection[^\n]*127\.0\.0\.6[^\n]*/);
  assert.match(dropped[0], /the control connection comes from 127\.0\.0\.1/);

  // lftp: a small file put through node 2, listed and fetched through node 1.
  await writeFile(join(c.dir, 'small.txt'), 'from lftp on node 2\n');
  r = await runLftp([lftpOpen({ url: c.nodeUrl(1), user: 'alice', password: PASSWORD }), `put ${join(c.dir, 'small.txt')} -o small.txt`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeRun(r));
  r = await runLftp([lftpOpen({ url: c.nodeUrl(0), user: 'alice', password: PASSWORD }), 'cls -1', `get small.txt -o ${join(c.dir, 'small-back.txt')}`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeRun(r));
  assert.match(r.stdout, /^small\.txt$/m);
  assert.equal(await readFile(join(c.dir, 'small-back.txt'), 'utf8'), 'from lftp on node 2\n');

  // Quota (120 MB): 50 MB stored through node 1; another 50 MB through node 2 fits; a third, through
  // node 1, is refused (552) because the database counts what both nodes stored.
  r = await runCurl([...auth, '-T', join(c.dir, 'big.bin'), `${c.nodeUrl(1)}big2.bin`], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, describeRun(r));
  r = await runCurl([...auth, '-v', '-T', join(c.dir, 'big.bin'), `${c.nodeUrl(0)}big3.bin`], { timeoutMs: 120_000 });
  assert.notEqual(r.code, 0, `the third 50 MB upload exceeds the 120 MB quota counted over both nodes\n${describeRun(r)}`);
  // The node cuts the data connection at the quota (curl then sees a reset before it can read the 552).
  const cutAt = await waitForLog(c.nodes[0]!, /"event":"transfer-failed"[^\n]*"path":"\/big3\.bin","bytes":(\d+)/);
  assert.ok(Number(cutAt[1]) < big.length, `stopped before the end, at the quota: ${cutAt[0]}`);
  assert.equal(await objectSize(c, 'alice/big3.bin'), undefined, 'the refused upload left no object');
  r = await runCurl([...auth, '-Q', '-DELE big.bin', '-Q', '-DELE big2.bin', c.nodeUrl(1)], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeRun(r));

  // A ban earned on node 2 (3 wrong passwords from 127.0.0.5) holds on node 1 (within its banRefresh),
  // while 127.0.0.1 still logs in there.
  const from5 = ['--interface', '127.0.0.5'];
  for (let i = 0; i < 3; i++) await runCurl([...from5, '-u', 'alice:wrong', '-sS', c.nodeUrl(1)], { timeoutMs: 30_000 });
  const banDeadline = Date.now() + 15_000;
  let banned = await runCurl([...from5, ...auth, `${c.nodeUrl(0)}small.txt`], { timeoutMs: 30_000 });
  while (banned.code === 0 && Date.now() < banDeadline) {
    await new Promise(res => setTimeout(res, 200)); // bounded poll: node 1 reads the bans every 200 ms
    banned = await runCurl([...from5, ...auth, `${c.nodeUrl(0)}small.txt`], { timeoutMs: 30_000 });
  }
  assert.notEqual(banned.code, 0, `the address banned on node 2 is refused by node 1\n${describeRun(banned)}`);
  r = await runCurl([...auth, `${c.nodeUrl(0)}small.txt`], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `another address still logs in on node 1\n${describeRun(r)}`);

  // kill -9 of node 1 mid-upload: the multipart upload has begun, no object under the final name.
  const upload = runCurl([...auth, '--limit-rate', '4M', '-T', join(c.dir, 'big.bin'), `${c.nodeUrl(0)}cut.bin`], { timeoutMs: 120_000 });
  const deadline = Date.now() + 60_000;
  let open: string[] = [];
  while (Date.now() < deadline) {
    const page = await c.raw.send(new ListMultipartUploadsCommand({ Bucket: c.bucket, Prefix: c.prefix }));
    open = (page.Uploads ?? []).map(u => (u.Key ?? '').slice(c.prefix.length));
    if (open.includes('alice/cut.bin')) break;
    await new Promise(res => setTimeout(res, 100)); // a bounded poll of S3, not a synchronisation sleep
  }
  assert.deepEqual(open, ['alice/cut.bin'], 'the upload through node 1 began a multipart upload');
  c.nodes[0]!.child.kill('SIGKILL');
  r = await upload;
  assert.notEqual(r.code, 0, 'curl saw its upload cut');
  assert.equal(await objectSize(c, 'alice/cut.bin'), undefined, 'no object under the final name after kill -9');
  const stale = await c.raw.send(new ListMultipartUploadsCommand({ Bucket: c.bucket, Prefix: c.prefix }));
  assert.deepEqual((stale.Uploads ?? []).map(u => u.Key), [`${c.prefix}alice/cut.bin`], 'the cut upload is listed (the start-up sweep of s3.staleUploadAge removes it)');
  // Node 2 still serves the user.
  r = await runCurl([...auth, `${c.nodeUrl(1)}small.txt`], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeRun(r));
  finished.add(t);
});
