/**
 * Our FtpServer with FTPS for the interop tests with third-party clients (test/interop/ftps-*.test.ts):
 * LocalStorage on a temp dir, one read-write user, a private CA's server certificate for
 * localhost/127.0.0.1/::1 (clients verify it with `caFile`), explicit TLS on the main port and implicit TLS
 * on a second one, session reuse required (the default). The server's transcript and warnings are kept
 * for assertion messages.
 */
import { freePortRange } from './peers-common.js';
import { servedRoot, keepServerLog } from './ftpkit-target.js';
import { makeTestPki, type TestPki } from './tls-certs.js';
import { FtpServer } from '../../src/server/ftp-server.js';
import type { FtpServerTlsOptions } from '../../src/server/tls/options.js';

export interface FtpsTarget {
  server: FtpServer;
  host: string;
  port: number;
  implicitPort: number;
  user: string;
  password: string;
  /** Local folder served as "/". */
  root: string;
  /** CA certificate file that verifies the server certificate. */
  caFile: string;
  pki: TestPki;
  logs(): string;
  stop(): Promise<void>;
}

export async function startFtpsTarget(tls: Partial<FtpServerTlsOptions> = {}): Promise<FtpsTarget> {
  const { root, cleanup, user, password, authenticator } = await servedRoot('ftps-target');
  const pki = await makeTestPki();
  const range = await freePortRange(20);
  const server = new FtpServer({
    host: '127.0.0.1',
    port: 0,
    authenticator,
    passive: { portRange: { min: range.min, max: range.max } },
    limits: { loginFailureDelayMs: 10 },
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, implicitPort: 0, handshakeTimeoutMs: 5000, ...tls },
  });
  const { lines, keep } = keepServerLog(server, 400);
  server.on('transfer-failed', (e) => keep(`transfer-failed ${e.sessionId} ${e.direction} ${e.path}: ${e.reason}`));
  await server.listen();
  let stopped: Promise<void> | undefined;
  return {
    server,
    host: '127.0.0.1',
    port: server.address()!.port,
    implicitPort: server.implicitAddress()!.port,
    user, password, root, caFile: pki.ca.certFile, pki,
    logs: () => `--- ftpkit FTPS server (last ${lines.length} lines) ---\n${lines.join('\n')}`,
    stop: () => (stopped ??= server.close({ timeoutMs: 2000 }).finally(async () => { await pki.cleanup(); await cleanup(); })),
  };
}
