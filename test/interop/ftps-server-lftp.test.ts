/**
 * lftp 4.9 (GnuTLS) as an FTPS client of OUR server: explicit TLS forced (ftp:ssl-force) with protected
 * data (ftp:ssl-protect-data), and implicit (ftps://), TLS 1.2 and TLS 1.3 forced on the client side
 * (ssl:priority) and on the server side, passive and active, 24 MiB up and down checked by SHA-256, the
 * server certificate verified against our test CA. The server requires session reuse, so each passing
 * transfer shows lftp's data connections resumed the control session.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  describeRun, lftpCommands, lftpQuote, peerSkip, requirePeer, runLftp, sha256File, type RunResult,
} from '../support/peers.js';
import { startFtpsTarget } from '../support/tls-target.js';
import { targetWithBigFile } from '../support/big-file-target.js';

const PRIORITY = {
  'TLSv1.2': 'NORMAL:-VERS-ALL:+VERS-TLS1.2',
  'TLSv1.3': 'NORMAL:-VERS-ALL:+VERS-TLS1.3',
} as const;

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  describe(`lftp -> ftpkit FTPS server, ${version} forced on both sides`, peerSkip('lftp'), () => {
    const fx = targetWithBigFile(() => startFtpsTarget({ minVersion: version, maxVersion: version }), 'lftp-ftps', { inRoot: true });

    async function lftp(implicit: boolean, mode: 'passive' | 'active', commands: string[]): Promise<RunResult> {
      const url = implicit ? `ftps://127.0.0.1:${fx.target.implicitPort}` : `ftp://127.0.0.1:${fx.target.port}`;
      const r = await runLftp([`open -u ${lftpQuote(fx.target.user)},${lftpQuote(fx.target.password)} ${url}`, ...commands], {
        timeoutMs: 90000,
        verifyCertificate: true,
        settings: {
          'ssl:ca-file': fx.target.caFile,
          'ssl:priority': PRIORITY[version],
          'ftp:ssl-force': true,
          'ftp:ssl-protect-data': true,
          'ftp:ssl-protect-list': true,
          'ftp:passive-mode': mode === 'passive',
          'ftp:auto-passive-mode': false,
        },
      });
      if (r.code !== 0) assert.fail(`lftp failed: ${describeRun(r)}\n${fx.target.logs()}`);
      return r;
    }

    for (const implicit of [false, true]) {
      for (const mode of ['passive', 'active'] as const) {
        test(`${implicit ? 'implicit' : 'explicit'} ${mode}: 24 MiB get and put with protected data, SHA-256 equal`, async (t) => {
          if (!requirePeer(t, 'lftp')) return;
          const local = path.join(fx.work.dir, `down-${implicit}-${mode}.bin`);
          const remote = `up-${implicit}-${mode}.bin`;
          const r = await lftp(implicit, mode, [
            `get big.bin -o ${lftpQuote(local)}`,
            `put ${lftpQuote(fx.big)} -o ${lftpQuote(remote)}`,
            'cls -1',
          ]);
          assert.equal(await sha256File(local), fx.bigSha);
          assert.equal(await sha256File(path.join(fx.target.root, remote)), fx.bigSha);
          const sent = lftpCommands(r.stderr);
          if (!implicit) assert.ok(sent.includes('AUTH TLS'), sent.join(' | '));
          assert.ok(sent.includes('PROT P'), sent.join(' | '));
          assert.ok(sent.some((c) => c.startsWith(mode === 'passive' ? 'EPSV' : 'EPRT') || c.startsWith(mode === 'passive' ? 'PASV' : 'PORT')), sent.join(' | '));
          assert.match(r.stdout, /big\.bin/);
        });
      }
    }
  });
}
