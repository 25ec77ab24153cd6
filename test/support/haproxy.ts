/**
 * HAProxy for a test (Debian's haproxy): started in the foreground (-db) with the test's own configuration
 * on loopback, in its own process group, stopped by PID (never the system service).
 *
 * A per-test launcher rather than a shared service (test/support/services/): each test puts its own
 * backends behind the balancer (ftpkit nodes on ports known only once they listen), and HAProxy starts in
 * milliseconds, so one instance per run would save nothing and need a reload per test.
 *
 * Ready: the launcher adds a `monitor-uri` frontend on `readyPort`; HAProxy binds every listener before
 * it serves any, so once that port accepts, the FTP frontends do too (a probe of an FTP frontend would
 * open a connection to a node, which a test counting sessions must not see).
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

async function accepts(host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * Write `config` (plus the readiness frontend on host:readyPort) to `dir`/haproxy.cfg, check it
 * (haproxy -c), start HAProxy and wait (bounded) until it listens. Rejects with HAProxy's own output.
 */
export async function startHaproxy(dir: string, config: string, ready: { host: string; port: number }, timeoutMs = 15_000): Promise<HaproxyInstance> {
  if (!HAPROXY_BIN) throw new Error('haproxy is not installed');
  const configFile = path.join(dir, 'haproxy.cfg');
  await writeFile(configFile, `${config}\nfrontend ready\n    mode http\n    bind ${ready.host}:${ready.port}\n    monitor-uri /ready\n`);
  const check = spawnSync(HAPROXY_BIN, ['-c', '-f', configFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c refused the configuration:\n${check.stdout}${check.stderr}`);
  const proc = spawnManaged(HAPROXY_BIN, ['-db', '-f', configFile]);
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  while (!(await accepts(ready.host, ready.port))) {
    if (exited || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`haproxy ${exited ? 'exited' : 'did not listen in time'}:\n${proc.output()}`);
    }
    await new Promise(r => setTimeout(r, 50));
  }
  return { proc, configFile, stop: () => proc.stop() };
}
