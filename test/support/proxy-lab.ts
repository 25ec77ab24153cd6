/**
 * A lab where a proxy is the only route to the FTP server (the client's proxy tests, docs/client.md#proxies):
 *
 *   test process (host namespace) --veth 10.231.R.1 <-> 10.231.R.2--> [private namespace]
 *                                                                       danted / tinyproxy on 10.231.R.2
 *                                                                       FtpServer (FTPS) on its own 127.0.0.1
 *
 * The server listens on the namespace's loopback: from the test process "127.0.0.1:PORT" is the host's own
 * loopback, where nothing of the lab listens, so a direct connection fails; the proxies, in the server's
 * namespace, reach it. The proxies listen on the namespace side of a veth pair; the pair disappears with
 * the namespace (the server process is its last member). Ports inside the fresh namespace are all free,
 * so the proxies use fixed ones there. Root only (unshare/nsenter/ip).
 */
import path from 'node:path';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import type { FtpsTarget } from './tls-target.js';
import { assertPeer, makeTempDir, spawnManaged, SUPPORT_DIR, type ManagedProcess } from './peers-common.js';

/** The FTPS target's fields (tls-target.ts), served from the namespace; `host` reachable only through a proxy. */
export interface ProxyLab extends Pick<FtpsTarget, 'host' | 'port' | 'implicitPort' | 'user' | 'password' | 'root' | 'caFile'> {
  /** SOCKS5 (danted) and HTTP CONNECT (tinyproxy) endpoints, started on demand. */
  /**
   * `commands`: the SOCKS commands dante allows (default 'connect bind bindreply': BIND for active mode,
   * bindreply for the connection the server makes to it); a second dante needs another `port`.
   */
  startDante(opts?: { port?: number; commands?: string; external?: 'lo' | 'veth' }): Promise<{ url: string }>;
  /** The test process's address on the lab's veth pair (a stranger to the server, for port-theft tests). */
  readonly hostAddress: string;
  startTinyproxy(): Promise<{ url: string }>;
  logs(): string;
  stop(): Promise<void>;
}

let labs = 0;

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

/** Bounded poll until host:port accepts a TCP connection, or the process exits. */
async function waitListening(host: string, port: number, proc: ManagedProcess, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (exited) throw new Error(`exited before listening on ${host}:${port}:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`not listening on ${host}:${port} within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startProxyLab(): Promise<ProxyLab> {
  assertPeer('netns');
  const repo = path.resolve(SUPPORT_DIR, '..', '..');
  const script = 'ip link set lo up && exec "$0" --import tsx "$1"';
  const server = spawnManaged('unshare', ['--net', '--', 'sh', '-c', script, process.execPath, path.join(SUPPORT_DIR, 'proxy-lab-main.ts')], { cwd: repo });
  const daemons: ManagedProcess[] = [];
  const { dir, cleanup } = await makeTempDir('proxy-lab');
  const stop = async (): Promise<void> => {
    for (const d of daemons.splice(0)) await d.stop(3000);
    await server.stop(5000);
    await cleanup();
  };
  try {
    const info = await new Promise<{ port: number; implicitPort: number; root: string; user: string; password: string; caFile: string }>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`proxy lab server did not start:\n${server.output()}`)), 30000);
      server.child.stdout!.on('data', (b: Buffer) => {
        buf += b.toString();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        try { resolve(JSON.parse(buf.slice(0, nl))); } catch (err) { reject(err); }
      });
      void server.exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`proxy lab server exited (${signal ?? code}):\n${server.output()}`)); });
    });
    const pid = server.child.pid!;
    const ns = `/proc/${pid}/ns/net`;
    // A /30 of our own, from the pid and a counter, so parallel test processes do not share it.
    const r = (pid * 7 + labs++) % 16000;
    const hostSide = `10.231.${r >> 6}.${(r & 63) * 4 + 1}`;
    const nsSide = `10.231.${r >> 6}.${(r & 63) * 4 + 2}`;
    const hostIf = `cnp${pid % 100000}h${labs}`.slice(0, 15);
    run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'lab0', 'netns', String(pid)]);
    run('ip', ['addr', 'add', `${hostSide}/30`, 'dev', hostIf]);
    run('ip', ['link', 'set', hostIf, 'up']);
    run('nsenter', [`--net=${ns}`, 'ip', 'addr', 'add', `${nsSide}/30`, 'dev', 'lab0']);
    run('nsenter', [`--net=${ns}`, 'ip', 'link', 'set', 'lab0', 'up']);

    const startDaemon = async (name: string, args: string[], port: number): Promise<void> => {
      const proc = spawnManaged('nsenter', [`--net=${ns}`, '--', name, ...args]);
      daemons.push(proc);
      await waitListening(nsSide, port, proc);
    };
    return {
      host: '127.0.0.1', port: info.port, implicitPort: info.implicitPort, user: info.user, password: info.password,
      root: info.root, caFile: info.caFile, hostAddress: hostSide,
      async startDante(opts = {}) {
        const port = opts.port ?? 1080;
        const conf = path.join(dir, `danted-${port}.conf`);
        await writeFile(conf, [
          'logoutput: stderr',
          `internal: ${nsSide} port = ${port}`,
          // 'veth': BIND listens where the test process can reach it (to play a thief).
          `external: ${opts.external === 'veth' ? 'lab0' : 'lo'}`,
          'clientmethod: none',
          'socksmethod: none',
          'user.privileged: root',
          'user.unprivileged: nobody',
          `client pass { from: ${hostSide}/32 to: 0.0.0.0/0 }`,
          `socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 command: ${opts.commands ?? 'connect bind bindreply'} }`,
          '',
        ].join('\n'));
        await startDaemon('danted', ['-f', conf, '-p', path.join(dir, `danted-${port}.pid`)], port);
        return { url: `socks5h://${nsSide}:${port}` };
      },
      async startTinyproxy() {
        const port = 8888;
        const conf = path.join(dir, 'tinyproxy.conf');
        await writeFile(conf, [
          'User nobody',
          'Group nogroup',
          `Port ${port}`,
          `Listen ${nsSide}`,
          'Timeout 60',
          'MaxClients 50',
          `Allow ${hostSide}`,
          'LogLevel Info',
          `PidFile "${path.join(dir, 'tinyproxy.pid')}"`,
          '',
        ].join('\n'));
        await startDaemon('tinyproxy', ['-d', '-c', conf], port);
        return { url: `http://${nsSide}:${port}` };
      },
      logs: () => [server.output(), ...daemons.map((d) => d.output())].join('\n---\n'),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
