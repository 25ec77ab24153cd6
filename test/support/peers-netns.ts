/**
 * Our server as interop target inside a private network namespace, on a non-loopback address. Some clients
 * behave differently with a loopback peer (lftp advertises `EPRT |2|::|port|` then, see docs/testing.md);
 * in a namespace of our own the server can own a real-looking address on `lo` without touching the host's
 * network. Clients run in the same namespace through RunOptions.wrap (nsenter). Root only.
 */
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { assertPeer, spawnManaged, urlHost, SUPPORT_DIR } from './peers-common.js';
import type { InteropTarget } from './peers-target.js';

export interface NetnsTarget extends Omit<InteropTarget, 'server' | 'transfers' | 'failedTransfers'> {
  /** Prefix for RunOptions.wrap: runs a client in the server's namespace. */
  wrap: string[];
}

/** ULA (RFC 4193) address given to `lo` inside the namespace; never routed anywhere. */
export const NETNS_ADDRESS6 = 'fd00:f7b::1';

export async function startTargetInNetns(address = NETNS_ADDRESS6, timeoutMs = 20000): Promise<NetnsTarget> {
  assertPeer('netns');
  const repo = path.resolve(SUPPORT_DIR, '..', '..');
  const prefix = address.includes(':') ? 128 : 32;
  const family = address.includes(':') ? '-6' : '-4';
  // unshare without --fork execs: the namespace lives exactly as long as the node process inside it.
  // nodad: the address is usable at once (no IPv6 duplicate address detection wait).
  const script = `ip link set lo up && ip ${family} addr add ${address}/${prefix} dev lo${family === '-6' ? ' nodad' : ''} && ` +
    `exec "$0" --import tsx "$1" "$2"`;
  const proc = spawnManaged('unshare', ['--net', '--', 'sh', '-c', script, process.execPath, path.join(SUPPORT_DIR, 'peers-target-main.ts'), address], { cwd: repo });
  const info = await new Promise<{ port: number; root: string; host: string; user: string; password: string }>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`target in netns did not start within ${timeoutMs} ms:\n${proc.output()}`)), timeoutMs);
    proc.child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try { resolve(JSON.parse(buf.slice(0, nl))); } catch (err) { reject(err); }
    });
    proc.exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`target in netns exited (${signal ?? code}):\n${proc.output()}`)); });
  }).catch(async (err) => { await proc.stop(); throw err; });
  let stopped: Promise<void> | undefined;
  return {
    name: 'ftpkit (netns)', host: info.host, port: info.port, url: `ftp://${urlHost(info.host)}:${info.port}`,
    user: info.user, password: info.password, root: info.root, base: '',
    wrap: ['nsenter', `--net=/proc/${proc.child.pid}/ns/net`],
    logs: async () => `--- ftpkit server in netns ---\n${proc.output()}`,
    // The server removes its temp root on SIGTERM; remove it here too in case it had to be killed.
    stop: () => (stopped ??= proc.stop(5000).then(() => rm(path.dirname(info.root), { recursive: true, force: true }))),
  };
}
