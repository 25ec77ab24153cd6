/**
 * GNU inetutils ftpd as a peer server on loopback: the classic BSD-derived daemon that hands LIST's
 * argument to /bin/ls and answers an empty listing with 226 when ls finds nothing or may not read the
 * folder. It has no option for its port, so it runs as inetd(8) would start it (test/support/inetd.cjs on
 * a free port, one ftpd per connection). It serves anonymous FTP from the `ftp` account's home, chrooted:
 * a private mount namespace bind-mounts the test's folder there, so nothing of the machine's /srv/ftp is
 * seen or touched. stop() kills the whole process group and removes the folder.
 */
import { chown, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  PEER_BIN, SUPPORT_DIR, assertPeer, ftpAccount, makeTempDir, listeningPort, spawnManaged, waitForGreeting,
} from './peers-common.js';
import type { PeerServer } from './peers-servers.js';

/** Anonymous login; `root` is the local folder served as "/", owned by the ftp account (anonymous may write). */
export type InetutilsPeer = Pick<PeerServer, 'host' | 'port' | 'url' | 'user' | 'password' | 'root' | 'logs' | 'stop'>;

export interface InetutilsOptions {
  /** Files written under the root before the start (relative path -> content); folders are created. */
  files?: Record<string, string>;
  /** Runs after the files are written and given to the ftp account (e.g. make a folder unreadable). */
  prepare?: (root: string) => Promise<void>;
}

async function chownTree(p: string, uid: number, gid: number): Promise<void> {
  await chown(p, uid, gid);
  for (const e of await readdir(p, { withFileTypes: true })) {
    if (e.isDirectory()) await chownTree(path.join(p, e.name), uid, gid);
    else await chown(path.join(p, e.name), uid, gid);
  }
}

export async function startInetutilsFtpd(opts: InetutilsOptions = {}): Promise<InetutilsPeer> {
  assertPeer('inetutils-ftpd');
  const account = ftpAccount()!;
  const host = '127.0.0.1';
  const { dir, cleanup } = await makeTempDir('inetutils');
  const root = path.join(dir, 'root');
  await mkdir(root, { mode: 0o755 });
  for (const [rel, content] of Object.entries(opts.files ?? {})) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
  await chownTree(root, account.uid, account.gid);
  await opts.prepare?.(root);
  const proc = spawnManaged('unshare', ['--mount', '--propagation', 'private', '--',
    'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', root, account.home,
    process.execPath, path.join(SUPPORT_DIR, 'inetd.cjs'), host, PEER_BIN.inetutilsFtpd!, '-q']);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= proc.stop().then(cleanup));
  try {
    const port = await listeningPort(proc);
    await waitForGreeting(host, port, { proc });
    return { host, port, url: `ftp://${host}:${port}`, user: 'anonymous', password: 'test@ftpkit.invalid', root,
      logs: async () => `--- inetd/inetutils-ftpd output ---\n${proc.output()}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
