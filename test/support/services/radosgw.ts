/**
 * The shared S3 test service: Ceph's radosgw from Debian (packages radosgw, ceph-mon, ceph-osd), the smallest
 * cluster that serves S3 (docs/testing.md#shared-services): one monitor, one OSD on `memstore` (objects in
 * RAM, nothing on disk but the monitor's store), radosgw with the beast frontend on a loopback port, cephx off
 * for the cluster, one S3 user made with radosgw-admin and one bucket. Everything lives in the folder the
 * runner gives; every daemon runs in the foreground in its own process group and is stopped by PID.
 *
 * Started once per test run (about 17 s, 140-200 MB). Tests make their own prefix or bucket per file.
 * The OSD holds 1 GiB unless FTPKIT_RADOSGW_MEMSTORE_BYTES says otherwise (scripts/s3-vs-local.sh moves 1 GiB objects).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { freePortRange, spawnManaged, type ManagedProcess } from '../peers-common.js';
import type { RunningService, SharedService } from './registry.js';

const run = promisify(execFile);
const PROGRAMS = ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/radosgw', '/usr/bin/radosgw-admin', '/usr/bin/monmaptool', '/usr/bin/ceph'];

/** What a test file receives (FTPKIT_SERVICE_RADOSGW). */
export interface RadosgwDetails extends Record<string, unknown> {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A bucket made at start; a test file should use its own prefix in it (or its own bucket). */
  bucket: string;
}

function cephConf(dir: string, monPort: number, rgwPort: number, fsid: string): string {
  return `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
keyring = ${dir}/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = memstore
memstore device bytes = ${process.env.FTPKIT_RADOSGW_MEMSTORE_BYTES ?? 1073741824}
osd crush update on start = false
osd class update on start = false
osd max object name len = 256
osd max object namespace len = 64
rgw dns name = localhost
[mon.a]
mon data = ${dir}/mon
[osd.0]
osd data = ${dir}/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`;
}

async function poll<T>(what: string, deadlineMs: number, attempt: () => Promise<T | undefined>, failed?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < deadline) {
    const why = failed?.();
    if (why) throw new Error(`${what}: ${why}`);
    try {
      const v = await attempt();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not ready within ${deadlineMs / 1000} s${last ? ` (${last})` : ''}`);
}

export const radosgw: SharedService = {
  name: 'radosgw',
  problem() {
    const missing = PROGRAMS.filter((p) => !existsSync(p));
    if (missing.length) return `missing ${missing.join(', ')} (Debian packages radosgw, ceph-mon, ceph-osd)`;
    // memstore and the daemons' own folders work as any user, but ceph-osd wants to raise its limits.
    if (process.getuid?.() !== 0) return 'the Ceph daemons are started as root only';
    return null;
  },
  async start(dir) {
    const procs: ManagedProcess[] = [];
    const stop = async () => {
      for (const p of procs.reverse()) await p.stop(5000);
      await rm(dir, { recursive: true, force: true });
    };
    try {
      const ports = await freePortRange(2);
      const [monPort, rgwPort] = [ports.min, ports.max];
      const fsid = randomUUID();
      const conf = path.join(dir, 'ceph.conf');
      for (const d of ['run', 'log', 'mon', 'osd', 'rgw']) await mkdir(path.join(dir, d), { recursive: true });
      await writeFile(conf, cephConf(dir, monPort, rgwPort, fsid));
      const c = ['-c', conf];
      const exited = (p: ManagedProcess, name: string) => () => (p.child.exitCode !== null || p.child.signalCode !== null
        ? `${name} exited: ${p.output().slice(-2000)}` : undefined);

      // The monitor: `--addv` with a v1 address only (msgr2 off keeps one port).
      await run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v1:127.0.0.1:${monPort}]`, path.join(dir, 'monmap')]);
      await run('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap')]);
      const mon = spawnManaged('ceph-mon', [...c, '-f', '-i', 'a']);
      procs.push(mon);
      // A monitor that just formed its quorum may still refuse commands for a moment ("EPERM: problem getting
      // command descriptions"): each command is retried, bounded.
      const ceph = (...args: string[]) => poll(`ceph ${args.join(' ')}`, 60_000,
        async () => run('ceph', [...c, '--connect-timeout', '20', ...args], { timeout: 60_000 }), exited(mon, 'ceph-mon'));
      await poll('ceph-mon', 30_000, async () => ((await ceph('mon', 'stat')).stdout ? true : undefined), exited(mon, 'ceph-mon'));

      // The OSD: registered, put in the CRUSH map from here (its own update at start can race the monitor).
      const osdUuid = randomUUID();
      const id = (await ceph('osd', 'new', osdUuid)).stdout.trim();
      if (id !== '0') throw new Error(`unexpected OSD id ${JSON.stringify(id)}`);
      await ceph('osd', 'crush', 'add', 'osd.0', '1.0', 'root=default');
      await run('ceph-osd', [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid], { timeout: 60_000 });
      const osd = spawnManaged('ceph-osd', [...c, '-f', '-i', '0']);
      procs.push(osd);
      await poll('ceph-osd', 60_000, async () => (/1 up/.test((await ceph('osd', 'stat')).stdout) ? true : undefined), exited(osd, 'ceph-osd'));

      // radosgw makes its pools at start; the S3 user is made once it answers.
      const rgw = spawnManaged('radosgw', [...c, '-f', '-n', 'client.rgw']);
      procs.push(rgw);
      const endpoint = `http://127.0.0.1:${rgwPort}`;
      await poll('radosgw', 90_000, async () => ((await fetch(endpoint)).status > 0 ? true : undefined), exited(rgw, 'radosgw'));
      const accessKeyId = 'FTPKITTESTACCESSKEY0';
      const secretAccessKey = randomUUID().replace(/-/g, '');
      await run('radosgw-admin', [...c, '-n', 'client.rgw', 'user', 'create', '--uid', 'ftpkit', '--display-name', 'ftpkit tests',
        '--access-key', accessKeyId, '--secret-key', secretAccessKey], { timeout: 60_000 });
      const details: RadosgwDetails = { endpoint, region: 'default', accessKeyId, secretAccessKey, bucket: 'ftpkit-tests' };
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const s3 = new S3Client({ endpoint, region: details.region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
      try {
        // The user is read by radosgw from the cluster: poll until it knows the key.
        await poll('radosgw user', 30_000, async () => ((await s3.send(new ListBucketsCommand({}))).Buckets ? true : undefined));
        await s3.send(new CreateBucketCommand({ Bucket: details.bucket }));
      } finally {
        s3.destroy();
      }
      return { details, stop } satisfies RunningService;
    } catch (err) {
      await stop();
      throw err;
    }
  },
};
