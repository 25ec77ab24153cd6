/**
 * HAProxy for a test (Debian's haproxy): started in the foreground (-db) with the test's own configuration
 * on loopback, in its own process group, stopped by PID (never the system service).
 *
 * A per-test launcher rather than a shared service (test/support/services/): each test puts its own
 * backends behind the balancer (ftpkit nodes on ports known only once they listen), and HAProxy starts in
 * milliseconds, so one instance per run would save nothing and need a reload per test.
 *
 * Ready: the launcher adds a `monitor-uri` frontend on `readyPort`; HAProxy binds its TCP listeners before
 * it serves any, so once that port accepts, the FTP frontends do too (a probe of an FTP frontend would
 * open a connection to a node, which a test counting sessions must not see). The admin socket is a UNIX
 * listener, and a loaded run here once met `connect ENOENT` on it after the ready port accepted: a test
 * that uses one names it, and the wait covers it too.
 */
import net from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { HAPROXY_BIN, spawnManaged, type ManagedProcess } from './peers-common.js';

export interface HaproxyInstance {
  proc: ManagedProcess;
  configFile: string;
  stop(): Promise<void>;
}

async function accepts(where: { host: string; port: number } | { path: string }): Promise<boolean> {
  return new Promise(resolve => {
    const s = net.connect(where);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * Write `config` (plus the readiness frontend on host:readyPort) to `dir`/haproxy.cfg, check it
 * (haproxy -c), start HAProxy and wait (bounded) until it listens there and on the admin socket
 * `ready.adminSocket` when given. Rejects with HAProxy's own output.
 */
export async function startHaproxy(dir: string, config: string, ready: { host: string; port: number; adminSocket?: string }, timeoutMs = 15_000): Promise<HaproxyInstance> {
  if (!HAPROXY_BIN) throw new Error('haproxy is not installed');
  const configFile = path.join(dir, 'haproxy.cfg');
  await writeFile(configFile, `${config}\nfrontend ready\n    mode http\n    bind ${ready.host}:${ready.port}\n    monitor-uri /ready\n`);
  const check = spawnSync(HAPROXY_BIN, ['-c', '-f', configFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c refused the configuration:\n${check.stdout}${check.stderr}`);
  const proc = spawnManaged(HAPROXY_BIN, ['-db', '-f', configFile]);
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  const listening = async (): Promise<boolean> => await accepts({ host: ready.host, port: ready.port })
    && (ready.adminSocket === undefined || await accepts({ path: ready.adminSocket }));
  while (!(await listening())) {
    if (exited || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`haproxy ${exited ? 'exited' : 'did not listen in time'}:\n${proc.output()}`);
    }
    await new Promise(r => setTimeout(r, 50));
  }
  return { proc, configFile, stop: () => proc.stop() };
}

/**
 * deploy/haproxy.cfg (`sample`) with its addresses and ports made loopback ones, an admin socket added and
 * the health checks every 200 ms; every replaced text must be in the file (the sample is what is tested).
 */
export function loopbackDeployConfig(sample: string, o: {
  balancer: string; controlPort: number; ranges: ReadonlyArray<{ min: number; max: number }>;
  nodes: ReadonlyArray<{ host: string; port: number }>; statsSocket: string;
}): string {
  const replacements: Array<[string, string]> = [
    ['global\n', `global\n    stats socket ${o.statsSocket} level admin\n`],
    ['203.0.113.10:21\n', `${o.balancer}:${o.controlPort}\n`],
    ['203.0.113.10:50000-50099', `${o.balancer}:${o.ranges[0]!.min}-${o.ranges[0]!.max}`],
    ['203.0.113.10:50100-50199', `${o.balancer}:${o.ranges[1]!.min}-${o.ranges[1]!.max}`],
    ['10.0.0.11:2121', `${o.nodes[0]!.host}:${o.nodes[0]!.port}`],
    ['10.0.0.12:2121', `${o.nodes[1]!.host}:${o.nodes[1]!.port}`],
    ['server node1 10.0.0.11 ', `server node1 ${o.nodes[0]!.host} `],
    ['server node2 10.0.0.12 ', `server node2 ${o.nodes[1]!.host} `],
    ['source 10.0.0.10', `source ${o.balancer}`],
    // Checks every 200 ms: a test sees them pass within a second.
    ['check inter 2s', 'check inter 200ms'],
  ];
  let config = sample;
  for (const [from, to] of replacements) {
    if (!config.includes(from)) throw new Error(`deploy/haproxy.cfg no longer contains ${JSON.stringify(from)}`);
    config = config.split(from).join(to);
  }
  if (/203\.0\.113|10\.0\.0\./.test(config.replace(/^\s*#.*$/gm, ''))) throw new Error('an address of deploy/haproxy.cfg was not replaced');
  return config;
}
