/**
 * ftp-srv (npm, a devDependency) as a peer server on loopback: a Node FTP server whose behaviour differs
 * from the C servers in ways the client must handle. Under PROT P it waits for the data connection's TLS
 * handshake before it answers 150, and it answers 451 (not 550) to LIST of a missing folder. It runs as a
 * child (test/support/ftp_srv_server.cjs) on a free port with a free passive range; stop() kills it and
 * removes its folder.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  SUPPORT_DIR, assertPeer, freePortRange, makeTempDir, listeningPort, spawnManaged, waitForGreeting, writeCertificate,
} from './peers-common.js';
import type { PeerServer } from './peers-servers.js';

/** `root` is the local folder served as "/"; `certFile` the certificate's PEM when started with TLS. */
export type FtpSrvPeer = Pick<PeerServer, 'host' | 'port' | 'user' | 'password' | 'root' | 'certFile' | 'logs' | 'stop'>;

export interface FtpSrvOptions {
  /** Offer explicit TLS (AUTH TLS, PROT P) with a self-signed certificate for localhost/127.0.0.1. */
  tls?: boolean;
  /** Files written under the root before the start (relative path -> content). */
  files?: Record<string, string | Uint8Array>;
  /** How many passive ports (default 10; the bench's load needs one per concurrent client). */
  pasvPorts?: number;
}

/** Start ftp-srv; the promise settles once it has greeted a test connection. */
export async function startFtpSrv(opts: FtpSrvOptions = {}): Promise<FtpSrvPeer> {
  assertPeer('ftp-srv');
  const host = '127.0.0.1';
  const user = 'ftpkit';
  const password = 'ftpkit-secret';
  const { dir, cleanup } = await makeTempDir('ftp-srv');
  const root = path.join(dir, 'root');
  await mkdir(root);
  for (const [rel, content] of Object.entries(opts.files ?? {})) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
  const certs = opts.tls ? await writeCertificate(dir) : undefined;
  const pasv = await freePortRange(opts.pasvPorts ?? 10);
  const args = [path.join(SUPPORT_DIR, 'ftp_srv_server.cjs'), '--host', host, '--root', root, '--user', user,
    '--pasv-min', String(pasv.min), '--pasv-max', String(pasv.max)];
  if (certs) args.push('--cert', certs.cert, '--key', certs.key);
  const proc = spawnManaged(process.execPath, args, { env: { ...process.env, FTPKIT_PEER_PASSWORD: password } });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= proc.stop().then(cleanup));
  try {
    const port = await listeningPort(proc);
    await waitForGreeting(host, port, { proc });
    return { host, port, user, password, root, certFile: certs?.cert, logs: async () => `--- ftp-srv output ---\n${proc.output()}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
