/**
 * lftp 4.9 as a client of OUR server (issue 2, "Tests"): mirror down and up of a tree with nested folders
 * and odd names (spaces, both quotes, UTF-8, leading dash, an empty folder), in passive (PASV or EPSV) and
 * active (PORT/EPRT) mode with parallel connections; and resume with `reget` after a download that was
 * really interrupted (lftp killed mid-transfer), checked by SHA-256 and by the REST offset on the wire.
 * IPv4 and IPv6.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  BIG_FILE_SIZE, describeRun, lftpCommands, lftpOpen, lftpQuote, makeTempDir, peerSkip, requirePeer, runLftp,
  sha256File, treeDigest, writeRandomFile, writeTree, type LftpOptions, type RunResult,
} from '../support/peers.js';
import { startTarget, waitForTransfer, type InteropTarget } from '../support/peers-target.js';
import { startTargetInNetns } from '../support/peers-netns.js';

/** How each data mode is set in lftp, and the verbs that must (not) appear on the wire. */
function modeSettings(mode: 'passive' | 'epsv' | 'active', family: 4 | 6): { settings: LftpOptions['settings']; sent: string[]; notSent: string[] } {
  switch (mode) {
    case 'passive':
      // lftp's default: PASV on IPv4; on IPv6 only EPSV exists (RFC 2428).
      return { settings: { 'ftp:passive-mode': true, 'ftp:prefer-epsv': false }, sent: [family === 4 ? 'PASV' : 'EPSV'], notSent: ['PORT', 'EPRT'] };
    case 'epsv':
      // Also LIST instead of MLSD: lftp then parses our `ls -l` lines, odd names included.
      return {
        settings: { 'ftp:passive-mode': true, 'ftp:prefer-epsv': true, 'ftp:use-mlsd': false },
        sent: ['EPSV', 'LIST'], notSent: ['PASV', 'PORT', 'EPRT', 'MLSD'],
      };
    case 'active':
      // auto-passive-mode off: lftp must not quietly switch to passive when active fails.
      return {
        settings: { 'ftp:passive-mode': false, 'ftp:auto-passive-mode': false },
        sent: [family === 4 ? 'PORT' : 'EPRT'], notSent: ['PASV', 'EPSV'],
      };
  }
}

for (const family of [4, 6] as const) {
  describe(`lftp -> ftpkit server over IPv${family}`, peerSkip('lftp'), () => {
    let target: InteropTarget;
    let work: { dir: string; cleanup: () => Promise<void> };

    before(async () => {
      target = await startTarget({ family });
      work = await makeTempDir('lftp');
    });
    after(async () => {
      await target?.stop();
      await work?.cleanup();
    });

    type Target = Pick<InteropTarget, 'url' | 'user' | 'password' | 'root' | 'base' | 'logs'> & { wrap?: string[] };

    async function lftpOk(commands: string[], opts: LftpOptions = {}, tgt: Target = target): Promise<RunResult> {
      const r = await runLftp([lftpOpen(tgt), ...commands], {
        timeoutMs: 120000, wrap: tgt.wrap, ...opts,
        // Plain FTP here: TLS interop is tested with the FTPS feature.
        settings: { 'ftp:ssl-allow': false, 'ftp:use-mode-z': false, ...(opts.settings ?? {}) },
      });
      if (r.code !== 0) assert.fail(`lftp failed: ${describeRun(r)}\n${await tgt.logs()}`);
      return r;
    }

    function assertVerbs(r: RunResult, expected: { sent: string[]; notSent: string[] }): void {
      const verbs = lftpCommands(r.stderr).map((c) => c.split(' ')[0]);
      for (const v of expected.sent) assert.ok(verbs.includes(v), `expected ${v}; lftp sent: ${[...new Set(verbs)].join(' ')}`);
      for (const v of expected.notSent) assert.ok(!verbs.includes(v), `unexpected ${v}; lftp sent: ${[...new Set(verbs)].join(' ')}`);
    }

    /** A fresh folder in the served root (world-writable, for reference servers running as another user). */
    async function serverDir(name: string, tgt: Target = target): Promise<{ local: string; remote: string }> {
      const local = path.join(tgt.root, `v${family}-${name}`);
      await mkdir(local, { recursive: true });
      await chmod(local, 0o777);
      return { local, remote: `${tgt.base}/v${family}-${name}` };
    }

    for (const mode of ['passive', 'epsv', 'active'] as const) {
      // lftp advertises `EPRT |2|::|port|` to a loopback peer (it leaves the data socket unbound then), which
      // every server refuses (RFC 2577): over IPv6 the active case runs against our server on a
      // non-loopback address in a private network namespace, where lftp behaves as on a real network.
      const netns = family === 6 && mode === 'active';
      test(`mirror down and up (${mode}${mode === 'epsv' ? ' + LIST parsing' : ''}, 3 parallel connections): odd names, nested folders, same tree${netns ? ' [server in a netns on a ULA address]' : ''}`, async (t) => {
        if (!requirePeer(t, 'lftp', ...(netns ? ['netns' as const] : []))) return;
        let tgt: Target = target;
        if (netns) {
          const own = await startTargetInNetns();
          t.after(() => own.stop());
          tgt = own;
        }
        const m = modeSettings(mode, family);
        const src = await serverDir(`down-${mode}`, tgt);
        await writeTree(src.local);
        const expected = await treeDigest(src.local);

        const localCopy = path.join(work.dir, `mirror-${family}-${mode}`);
        const down = await lftpOk([`mirror --parallel=3 ${lftpQuote(src.remote)} ${lftpQuote(localCopy)}`], { settings: m.settings }, tgt);
        assertVerbs(down, m);
        assert.deepEqual(await treeDigest(localCopy), expected, 'mirrored-down tree differs from the served one');

        const dst = await serverDir(`up-${mode}`, tgt);
        const up = await lftpOk([`mirror -R --parallel=3 ${lftpQuote(localCopy)} ${lftpQuote(`${dst.remote}/tree`)}`], { settings: m.settings }, tgt);
        assertVerbs(up, m);
        assert.deepEqual(await treeDigest(path.join(dst.local, 'tree')), expected, 'mirrored-up tree differs from the local one');
      });
    }

    test('reget resumes a download interrupted mid-transfer (REST offset, SHA-256 equal)', async (t) => {
      if (!requirePeer(t, 'lftp')) return;
      const src = await serverDir('reget');
      const bigSha = await writeRandomFile(path.join(src.local, 'big.bin'), BIG_FILE_SIZE);
      const local = path.join(work.dir, `reget-${family}.bin`);
      const remote = `${src.remote}/big.bin`;

      // 1. A slow download (2 MB/s), killed once a few MB have arrived: a real interrupted transfer.
      const abort = new AbortController();
      const watcher = setInterval(() => {
        stat(local).then((s) => { if (s.size >= 3_000_000) abort.abort(); }, () => undefined);
      }, 50);
      let first!: RunResult;
      try {
        first = await runLftp([lftpOpen(target), `get ${lftpQuote(remote)} -o ${lftpQuote(local)}`], {
          timeoutMs: 60000, signal: abort.signal, settings: { 'ftp:ssl-allow': false, 'net:limit-rate': 2_000_000 },
        });
      } finally {
        clearInterval(watcher);
      }
      assert.equal(abort.signal.aborted, true, `the first download was meant to be interrupted: ${describeRun(first)}`);
      const partial = (await stat(local)).size;
      assert.ok(partial > 0 && partial < BIG_FILE_SIZE, `partial size ${partial}`);
      if (target.server) {
        // Issue 2: a client vanishing mid-transfer is logged as a partial transfer.
        const failed = await waitForTransfer(target, () => target.failedTransfers.find((e) => e.path.endsWith(`v${family}-reget/big.bin`)));
        assert.equal(failed.direction, 'download');
        assert.ok(failed.bytes >= partial && failed.bytes < BIG_FILE_SIZE, `partial transfer logged with ${failed.bytes} bytes (client had ${partial})`);
      }

      // 2. reget asks for the rest with REST <local size>; the server must still be healthy after the kill.
      const second = await lftpOk([`reget ${lftpQuote(remote)} -o ${lftpQuote(local)}`]);
      const rest = lftpCommands(second.stderr).find((c) => c.startsWith('REST '));
      assert.equal(rest, `REST ${partial}`, lftpCommands(second.stderr).join(', '));
      assert.match(second.stderr, /<--- 350/, 'REST accepted with 350');
      assert.equal(await sha256File(local), bigSha, 'resumed file differs');
      if (target.server) {
        const resumed = target.transfers.filter((e) => e.kind === 'download' && e.path.endsWith(`v${family}-reget/big.bin`)).at(-1);
        assert.equal(resumed?.offset, partial, 'our server saw the resumed download start at the REST offset');
        assert.equal(resumed?.bytes, BIG_FILE_SIZE - partial, 'only the rest went over the wire');
      }
    });

    test('cls lists the odd names byte-exact', async (t) => {
      if (!requirePeer(t, 'lftp')) return;
      const src = await serverDir('names');
      await writeTree(src.local);
      const r = await lftpOk([`cd ${lftpQuote(src.remote)}`, 'cls -1'], { debug: false });
      const names = r.stdout.split('\n').filter(Boolean).map((n) => n.replace(/\/$/, '')).sort();
      const expected = ['-leading-dash.txt', 'bin', 'dir with space', 'empty dir', "it's single.txt", 'héllo wörld ✓.txt', 'plain.txt', 'quote"double.txt', 'with space.txt', '日本語'].sort();
      assert.deepEqual(names, expected);
    });
  });
}
