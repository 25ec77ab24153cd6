/**
 * curl 7.88 as a client of OUR server (issue 2, "Tests"): listing, download and upload of a 24 MiB random
 * file in every data-connection mode curl has — EPSV (default), PASV (--disable-epsv), active with EPRT
 * (-P -) and with PORT (-P - --disable-eprt) — checked by SHA-256 and by the commands curl really sent;
 * resume both ways (REST, APPE); -Q for MKD, RNFR/RNTO, DELE; IPv4 and IPv6 (curl always uses EPSV/EPRT on
 * IPv6). A failure message carries curl's trace and our server's transcript.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  BIG_FILE_SIZE, curlCommands, describeRun, peerSkip, requirePeer, runCurl, sha256File, type RunResult,
} from '../support/peers.js';
import { startTarget } from '../support/peers-target.js';
import { targetWithBigFile } from '../support/big-file-target.js';

const MODES = {
  epsv: { args: [], sent: 'EPSV', notSent: ['PASV', 'EPRT', 'PORT'] },
  pasv: { args: ['--disable-epsv'], sent: 'PASV', notSent: ['EPSV', 'EPRT', 'PORT'] },
  // curl ignores the 227 address by default; here it connects where the reply says, so a wrong advertised
  // address (0.0.0.0, an IPv4-mapped form, another interface) fails the transfer.
  'pasv-address': { args: ['--disable-epsv', '--no-ftp-skip-pasv-ip'], sent: 'PASV', notSent: ['EPSV', 'EPRT', 'PORT'] },
  eprt: { args: ['-P', '-'], sent: 'EPRT', notSent: ['EPSV', 'PASV', 'PORT'] },
  port: { args: ['-P', '-', '--disable-eprt'], sent: 'PORT', notSent: ['EPSV', 'PASV', 'EPRT'] },
} as const;
type Mode = keyof typeof MODES;

for (const family of [4, 6] as const) {
  describe(`curl -> ftpkit server over IPv${family}`, peerSkip('curl'), () => {
    const fx = targetWithBigFile(() => startTarget({ family }), 'curl');

    const auth = () => ['-u', `${fx.target.user}:${fx.target.password}`];
    const remote = (rel: string) => `${fx.target.url}${fx.target.base}/${rel.split('/').map(encodeURIComponent).join('/')}`;

    /** Runs curl and fails with curl's trace and our server's transcript unless it exits 0. */
    async function curlOk(args: string[], input?: string): Promise<RunResult> {
      const r = await runCurl([...auth(), ...args], { timeoutMs: 90000, verbose: true, input });
      if (r.code !== 0) assert.fail(`curl failed: ${describeRun(r)}\n${await fx.target.logs()}`);
      return r;
    }

    function assertCommands(r: RunResult, mode: Mode): void {
      const verbs = curlCommands(r.stderr).map((c) => c.split(' ')[0]);
      assert.ok(verbs.includes(MODES[mode].sent), `expected ${MODES[mode].sent}, curl sent: ${verbs.join(' ')}`);
      for (const v of MODES[mode].notSent) assert.ok(!verbs.includes(v), `unexpected ${v} in: ${verbs.join(' ')}`);
    }

    async function prepareDir(name: string): Promise<string> {
      const dir = path.join(fx.target.root, `v${family}-${name}`);
      await mkdir(dir, { recursive: true });
      // World-writable so a reference server that runs as another account (vsftpd's ftp) can write too.
      await chmod(dir, 0o777);
      return dir;
    }

    // On IPv6 curl cannot use PASV or PORT (RFC 2428 only): it sends EPSV/EPRT whatever the flags say.
    const modes: Mode[] = family === 4 ? ['epsv', 'pasv', 'pasv-address', 'eprt', 'port'] : ['epsv', 'eprt'];

    for (const mode of modes) {
      test(`${mode}: 24 MiB download and upload, SHA-256 equal`, async (t) => {
        if (!requirePeer(t, 'curl')) return;
        const dir = await prepareDir(mode);
        await copyFile(fx.big, path.join(dir, 'big.bin'));
        const out = path.join(fx.work.dir, `down-${family}-${mode}.bin`);
        const down = await curlOk([...MODES[mode].args, '-o', out, remote(`v${family}-${mode}/big.bin`)]);
        assertCommands(down, mode);
        assert.equal(await sha256File(out), fx.bigSha, 'downloaded file differs');
        if (mode === 'pasv-address') {
          // Our server listens on "::": the session's local address is ::ffff:127.0.0.1, the 227 must say 127,0,0,1.
          assert.match(down.stderr, /< 227 [^\n]*\(127,0,0,1,\d+,\d+\)/, 'PASV advertises the address the client connected to');
        }

        const up = await curlOk([...MODES[mode].args, '-T', fx.big, remote(`v${family}-${mode}/uploaded.bin`)]);
        assertCommands(up, mode);
        const stored = path.join(dir, 'uploaded.bin');
        assert.equal((await stat(stored)).size, BIG_FILE_SIZE);
        assert.equal(await sha256File(stored), fx.bigSha, 'uploaded file differs');
      });
    }

    test('listing: LIST has the names and sizes, NLST (-l) only the names', async (t) => {
      if (!requirePeer(t, 'curl')) return;
      const dir = await prepareDir('list');
      await writeFile(path.join(dir, 'five.txt'), '12345');
      await writeFile(path.join(dir, 'name with space.txt'), 'x');
      await mkdir(path.join(dir, 'sub'));
      const list = await curlOk([remote(`v${family}-list`) + '/']);
      const lines = list.stdout.split(/\r?\n/).filter(Boolean);
      assert.equal(lines.length, 3, list.stdout);
      // `ls -l` format: type and permissions, links, owner, group, size, date, name.
      const five = lines.find((l) => l.endsWith(' five.txt'));
      assert.match(five ?? '', /^-[rwx-]{9}\s+\d+\s+\S+\s+\S+\s+5\s+\w{3}\s+\d{1,2}\s+(\d{2}:\d{2}|\d{4})\s+five\.txt$/, list.stdout);
      assert.match(lines.find((l) => l.endsWith(' sub')) ?? '', /^d/, list.stdout);
      assert.ok(lines.some((l) => l.endsWith(' name with space.txt')), list.stdout);

      const nlst = await curlOk(['-l', remote(`v${family}-list`) + '/']);
      assert.deepEqual(nlst.stdout.split(/\r?\n/).filter(Boolean).sort(), ['five.txt', 'name with space.txt', 'sub']);
    });

    test('-Q: MKD, RNFR/RNTO, DELE change the tree; a failing DELE fails curl with 550', async (t) => {
      if (!requirePeer(t, 'curl')) return;
      const dir = await prepareDir('quote');
      await writeFile(path.join(dir, 'old.txt'), 'rename me');
      await writeFile(path.join(dir, 'gone.txt'), 'delete me');
      const cwd = `${fx.target.base}/v${family}-quote`;
      await curlOk([
        '-Q', `MKD ${cwd}/new dir`,
        '-Q', `RNFR ${cwd}/old.txt`, '-Q', `RNTO ${cwd}/renamed file.txt`,
        '-Q', `DELE ${cwd}/gone.txt`,
        remote(`v${family}-quote`) + '/',
      ]);
      assert.ok((await stat(path.join(dir, 'new dir'))).isDirectory(), 'MKD created the folder');
      assert.equal(await readFile(path.join(dir, 'renamed file.txt'), 'utf8'), 'rename me');
      assert.equal(existsSync(path.join(dir, 'old.txt')), false, 'RNFR/RNTO moved the file');
      assert.equal(existsSync(path.join(dir, 'gone.txt')), false, 'DELE removed the file');

      const r = await runCurl([...auth(), '-Q', `DELE ${cwd}/never-existed.txt`, remote(`v${family}-quote`) + '/'], { timeoutMs: 30000, verbose: true });
      // curl's exit 21: "quote error", the server refused a -Q command.
      assert.equal(r.code, 21, describeRun(r));
      assert.match(r.stderr, /< 550/, 'the refusal is a 550');
    });

    test('resume: -C - download (REST) and upload (APPE) finish a partial file', async (t) => {
      if (!requirePeer(t, 'curl')) return;
      const dir = await prepareDir('resume');
      await copyFile(fx.big, path.join(dir, 'big.bin'));
      // Download: a local copy cut at 10 MiB plus a bit; curl asks for the rest with REST.
      const partial = path.join(fx.work.dir, `partial-${family}.bin`);
      await copyFile(fx.big, partial);
      const cut = 10 * 1024 * 1024 + 12345;
      await truncate(partial, cut);
      const down = await curlOk(['-C', '-', '-o', partial, remote(`v${family}-resume/big.bin`)]);
      assert.ok(curlCommands(down.stderr).includes(`REST ${cut}`), curlCommands(down.stderr).join(', '));
      assert.equal(await sha256File(partial), fx.bigSha);

      // Upload: the server holds a cut copy; curl asks SIZE and APPEnds the rest.
      const serverCopy = path.join(dir, 'up.bin');
      await copyFile(fx.big, serverCopy);
      await truncate(serverCopy, cut);
      const up = await curlOk(['-C', '-', '-T', fx.big, remote(`v${family}-resume/up.bin`)]);
      const verbs = curlCommands(up.stderr).map((c) => c.split(' ')[0]);
      assert.ok(verbs.includes('APPE'), verbs.join(', '));
      assert.equal(await sha256File(serverCopy), fx.bigSha);
    });

    test('--ftp-method multicwd, singlecwd and nocwd reach the same nested file', async (t) => {
      if (!requirePeer(t, 'curl')) return;
      const dir = await prepareDir('methods');
      await mkdir(path.join(dir, 'a', 'b c'), { recursive: true });
      await writeFile(path.join(dir, 'a', 'b c', 'd e.txt'), 'nested\n');
      const verbsFor: Record<string, RegExp> = {
        // multicwd: one CWD per segment; singlecwd: one CWD with the whole folder; nocwd: full path in RETR.
        multicwd: /^CWD b c$/m, singlecwd: /^CWD \S*\/a\/b c$/m, nocwd: /^RETR \S*\/a\/b c\/d e\.txt$/m,
      };
      for (const [method, expected] of Object.entries(verbsFor)) {
        const r = await curlOk(['--ftp-method', method, remote(`v${family}-methods/a/b c/d e.txt`)]);
        assert.equal(r.stdout, 'nested\n', method);
        assert.match(curlCommands(r.stderr).join('\n'), expected, `${method}: ${curlCommands(r.stderr).join(', ')}`);
      }
    });

    test('--ftp-create-dirs: upload into folders that do not exist yet', async (t) => {
      if (!requirePeer(t, 'curl')) return;
      await prepareDir('mkdirs');
      const body = 'deep file\n';
      await curlOk(['--ftp-create-dirs', '-T', '-', remote(`v${family}-mkdirs/a/b c/d.txt`)], body);
      assert.equal(await readFile(path.join(fx.target.root, `v${family}-mkdirs`, 'a', 'b c', 'd.txt'), 'utf8'), body);
    });
  });
}
