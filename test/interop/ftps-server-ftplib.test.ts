/**
 * Python 3.11 ftplib.FTP_TLS as a client of OUR FTPS server: explicit (AUTH TLS, PROT P) and implicit,
 * TLS 1.2 and 1.3 forced on the client side (and on the server side), passive and active, 24 MiB up and
 * down with SHA-256, the server certificate verified. WITH session reuse (data sockets wrapped with
 * `session=control.session`) transfers work; WITHOUT it (stock FTP_TLS) the server refuses the data
 * connection with 522 while reuse is required, and accepts it when `requireSessionReuse` is off.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  describeRun, makeTempDir, peerSkip, requirePeer, runFtplib, runPython, sha256File, writeRandomFile,
  type FtplibSpec, type FtplibResult,
} from '../support/peers.js';
import { startFtpsTarget, type FtpsTarget } from '../support/tls-target.js';
import { targetWithBigFile } from '../support/big-file-target.js';

for (const version of ['1.2', '1.3'] as const) {
  describe(`ftplib FTP_TLS -> ftpkit FTPS server, TLS ${version}`, peerSkip('python3'), () => {
    const fx = targetWithBigFile(() => startFtpsTarget({ minVersion: `TLSv${version}`, maxVersion: `TLSv${version}` }), 'ftplib-ftps', { inRoot: true });

    function spec(over: Partial<FtplibSpec>): FtplibSpec {
      const implicit = over.tls === 'implicit';
      return {
        host: '127.0.0.1', port: implicit ? fx.target.implicitPort : fx.target.port,
        user: fx.target.user, password: fx.target.password,
        tls: 'explicit', reuseSession: true, caFile: fx.target.caFile, tlsVersion: version, socketTimeout: 20,
        actions: [], ...over,
      };
    }

    async function ftplib(s: FtplibSpec): Promise<FtplibResult> {
      return runFtplib(s, { timeoutMs: 90000 });
    }

    for (const tls of ['explicit', 'implicit'] as const) {
      for (const mode of ['pasv', 'active'] as const) {
        test(`${tls} ${mode} with session reuse: 24 MiB retr and stor, SHA-256 equal`, async (t) => {
          if (!requirePeer(t, 'python3')) return;
          const local = path.join(fx.work.dir, `down-${tls}-${mode}.bin`);
          const remote = `up-${tls}-${mode}.bin`;
          const r = await ftplib(spec({
            tls, mode,
            actions: [{ op: 'retr', remote: 'big.bin', local }, { op: 'stor', local: fx.big, remote }, { op: 'nlst' }],
          }));
          if (!r.report?.ok) assert.fail(`ftplib failed: ${describeRun(r)}\n${fx.target.logs()}`);
          assert.equal(await sha256File(local), fx.bigSha);
          assert.equal(await sha256File(path.join(fx.target.root, remote)), fx.bigSha);
          const transcript = r.report.transcript.join('\n');
          if (tls === 'explicit') assert.match(transcript, /AUTH TLS/);
          assert.match(transcript, /PROT P/);
        });
      }
    }

    test('stock FTP_TLS (no session reuse) is refused with 522 while reuse is required', async (t) => {
      if (!requirePeer(t, 'python3')) return;
      const replies: string[] = [];
      const onReply = (e: { code: number; lines: string[] }): void => { replies.push(`${e.code} ${e.lines.join(' ')}`); };
      fx.target.server.on('reply', onReply);
      t.after(() => fx.target.server.off('reply', onReply));
      const r = await ftplib(spec({ reuseSession: false, actions: [{ op: 'retr', remote: 'big.bin', local: path.join(fx.work.dir, 'refused.bin') }] }));
      assert.equal(r.report?.ok, false, `expected a refusal: ${describeRun(r)}`);
      // TLS 1.3: ftplib reads our 522. TLS 1.2: the hang-up right after the handshake raises first.
      const failed = r.report!.steps.find((s) => !s.ok);
      if (version === '1.3') assert.match(failed?.error ?? '', /522.*session reuse required/, describeRun(r));
      assert.ok(replies.some((l) => /^522 .*session reuse required/.test(l)), replies.join('\n'));
    });
  });
}

describe('ftplib FTP_TLS -> ftpkit FTPS server with requireSessionReuse off', peerSkip('python3'), () => {
  let target: FtpsTarget;
  let work: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    target = await startFtpsTarget({ requireSessionReuse: false });
    work = await makeTempDir('ftplib-ftps-noreuse');
  });
  after(async () => {
    await target?.stop();
    await work?.cleanup();
  });

  test('stock FTP_TLS (no session reuse) transfers', async (t) => {
    if (!requirePeer(t, 'python3')) return;
    const local = path.join(work.dir, 'in.bin');
    const src = path.join(work.dir, 'src.bin');
    const sha = await writeRandomFile(src, 1024 * 1024);
    const r = await runFtplib({
      host: '127.0.0.1', port: target.port, user: target.user, password: target.password,
      tls: 'explicit', reuseSession: false, caFile: target.caFile,
      actions: [{ op: 'stor', local: src, remote: 'x.bin' }, { op: 'retr', remote: 'x.bin', local }],
    }, { timeoutMs: 60000 });
    if (!r.report?.ok) assert.fail(`ftplib failed: ${describeRun(r)}\n${target.logs()}`);
    assert.equal(await sha256File(local), sha);
  });
});

describe('ftplib FTP_TLS -> ftpkit FTPS server with CCC allowed', peerSkip('python3'), () => {
  let target: FtpsTarget;
  before(async () => { target = await startFtpsTarget({ allowCcc: true }); });
  after(async () => { await target?.stop(); });

  for (const version of ['1.2', '1.3'] as const) {
    test(`TLS ${version}: ccc() returns the control connection to cleartext; data stays protected, resuming the saved session`, async (t) => {
      if (!requirePeer(t, 'python3')) return;
      const script = `
import ftplib, ssl, sys, json
ctx = ssl.create_default_context(cafile=sys.argv[3])
ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_${version === '1.2' ? '2' : '3'}
class F(ftplib.FTP_TLS):
    saved = None
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.saved)
        return conn, size
f = F(context=ctx, timeout=15)
f.connect('127.0.0.1', int(sys.argv[1]))
f.auth()
f.login('${target.user}', sys.argv[2])
f.prot_p()
f.saved = f.sock.session
out = {'ccc': f.ccc(), 'plain': f.sock._sslobj is None}
f.storbinary('STOR ccc.txt', __import__('io').BytesIO(b'after ccc\\n'))
buf = []
f.retrbinary('RETR ccc.txt', buf.append)
out['data'] = b''.join(buf).decode()
out['pwd'] = f.pwd()
f.quit()
print(json.dumps(out))
`;
      const r = await runPython(script, [String(target.port), target.password, target.caFile], { timeoutMs: 30000 });
      if (r.code !== 0) assert.fail(`ftplib failed: ${describeRun(r)}\n${target.logs()}`);
      const out = JSON.parse(r.stdout) as { ccc: string; plain: boolean; data: string; pwd: string };
      assert.match(out.ccc, /^200 /);
      assert.equal(out.plain, true, 'ftplib unwrapped its control socket (no TLS object left)');
      assert.equal(out.data, 'after ccc\n');
      assert.equal(out.pwd, '/');
    });
  }
});
