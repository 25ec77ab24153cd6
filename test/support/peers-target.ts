/**
 * The server under test for the interop tests with third-party CLIENTS (test/interop/server-*.test.ts):
 * our FtpServer on a free port, serving a temp dir through LocalStorage to a read-write user, with a
 * passive range picked like the peers' (the default 50000-50100 would collide between parallel test files).
 * Its transcript, warnings and failures are kept for assertion messages.
 *
 * FTPKIT_INTEROP_TARGET=pyftpdlib|vsftpd|pure-ftpd|proftpd runs the same tests against a reference server
 * instead: when a test fails there too, the test (or the client) is wrong, not our server.
 */
import { freePortRange, urlHost } from './peers-common.js';
import { servedRoot, keepServerLog } from './ftpkit-target.js';
import { startProftpd, startPureFtpd, startPyftpdlib, startVsftpd, type PeerServer } from './peers-servers.js';
import { FtpServer } from '../../src/server/ftp-server.js';
import type { TransferEvent, TransferFailedEvent } from '../../src/server/events.js';

export interface InteropTarget {
  name: string;
  host: string;
  port: number;
  /** ftp://host:port, IPv6 bracketed, no trailing slash. */
  url: string;
  user: string;
  password: string;
  /** Local folder behind `base`. */
  root: string;
  /** FTP path of `root` without trailing slash: '' (the user's "/") for our server, '/upload' for vsftpd. */
  base: string;
  /** Our server, to observe its events (undefined for a reference server). */
  server?: FtpServer;
  /** Completed transfers seen by our server (downloads and uploads, with their REST offset). */
  transfers: Array<TransferEvent & { kind: 'upload' | 'download' }>;
  /** Transfers our server reported as failed (client vanished, aborted...). */
  failedTransfers: TransferFailedEvent[];
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export const TARGET = process.env.FTPKIT_INTEROP_TARGET ?? 'ftpkit';

/**
 * Resolves once `pick` finds what it looks for in `list` (checked now and after each of the server's
 * transfer events), bounded by timeoutMs: waiting for an event, not sleeping.
 */
export function waitForTransfer<T>(target: InteropTarget, pick: () => T | undefined, timeoutMs = 10000): Promise<T> {
  const found = pick();
  if (found !== undefined) return Promise.resolve(found);
  const server = target.server;
  if (!server) return Promise.reject(new Error('not our server: no events to wait for'));
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = pick();
      if (value === undefined) return;
      done();
      resolve(value);
    };
    const timer = setTimeout(() => { done(); reject(new Error(`expected transfer event not seen within ${timeoutMs} ms`)); }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      for (const e of ['transfer-failed', 'upload', 'download'] as const) server.off(e, check);
    };
    // Registered after the target's own recorders, so the lists are up to date when check runs.
    for (const e of ['transfer-failed', 'upload', 'download'] as const) server.on(e, check);
  });
}

/**
 * Starts the target. Our server listens on its default host ("::", both families), so one server serves
 * the IPv4 (127.0.0.1, as a mapped address) and the IPv6 (::1) tests; `family` only picks the host the
 * clients connect to.
 */
export async function startTarget(opts: { family?: 4 | 6; listenHost?: string } = {}): Promise<InteropTarget> {
  const family = opts.family ?? 4;
  if (TARGET !== 'ftpkit') return fromPeer(await startReference(TARGET, family === 6));
  const { root, cleanup, user, password, authenticator } = await servedRoot('target');
  const range = await freePortRange(20);
  const server = new FtpServer({
    host: opts.listenHost,
    port: 0,
    authenticator,
    passive: { portRange: { min: range.min, max: range.max } },
    limits: { loginFailureDelayMs: 10 },
  });
  const { lines, keep } = keepServerLog(server, 600);
  const transfers: InteropTarget['transfers'] = [];
  const failedTransfers: TransferFailedEvent[] = [];
  server.on('transfer-failed', (e) => failedTransfers.push(e));
  server.on('transfer-failed', (e) => keep(`transfer-failed ${e.sessionId} ${e.direction} ${e.path}: ${e.reason} after ${e.bytes} bytes`));
  server.on('upload', (e) => transfers.push({ ...e, kind: 'upload' }));
  server.on('download', (e) => transfers.push({ ...e, kind: 'download' }));
  await server.listen();
  const port = server.address()!.port;
  const host = opts.listenHost ?? (family === 6 ? '::1' : '127.0.0.1');
  let stopped: Promise<void> | undefined;
  return {
    name: 'ftpkit', host, port, url: `ftp://${urlHost(host)}:${port}`, user, password, root, base: '', server, transfers, failedTransfers,
    logs: async () => `--- ftpkit server (last ${lines.length} lines) ---\n${lines.join('\n')}`,
    stop: () => (stopped ??= server.close({ timeoutMs: 2000 }).finally(cleanup)),
  };
}

async function startReference(name: string, ipv6: boolean): Promise<PeerServer> {
  switch (name) {
    case 'pyftpdlib': return startPyftpdlib({ ipv6 });
    case 'vsftpd': return startVsftpd({ ipv6 });
    case 'pure-ftpd': return startPureFtpd({ ipv6 });
    case 'proftpd': return startProftpd({ ipv6 });
    default: throw new Error(`FTPKIT_INTEROP_TARGET=${name}: expected ftpkit, pyftpdlib, vsftpd, pure-ftpd or proftpd`);
  }
}

function fromPeer(p: PeerServer): InteropTarget {
  // vsftpd serves anonymously with only /upload writable: tests then work inside /upload.
  const writable = p.name === 'vsftpd';
  return {
    name: p.name, host: p.host, port: p.port,
    url: p.url, base: writable ? p.uploadDir : '',
    user: p.user, password: p.password,
    root: writable ? p.localUploadDir : p.root,
    transfers: [], failedTransfers: [], logs: p.logs, stop: p.stop,
  };
}
