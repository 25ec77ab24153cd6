/**
 * Python 3.11 ftplib as a client of OUR server (issue 2, "Tests"): in every data-connection mode ftplib can
 * be driven into — PASV (its IPv4 default), EPSV, active PORT (its IPv4 active default), EPRT (its IPv6
 * default) — STOR and RETR of a 24 MiB random file (SHA-256), MLSD facts (RFC 3659 s7), REST for RETR and
 * for STOR, SIZE; TYPE A line-ending conversion both ways; UTF-8 names in MLSD (RFC 2640). IPv4 and IPv6.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BIG_FILE_SIZE, describeRun, peerSkip, requirePeer, runFtplib, sha256File,
  writeTree, ODD_TREE, type FtplibAction, type FtplibResult, type FtplibSpec,
} from '../support/peers.js';
import { startTarget } from '../support/peers-target.js';
import { targetWithBigFile } from '../support/big-file-target.js';

type Mode = NonNullable<FtplibSpec['mode']>;
/** The data-connection verb each mode must put on the wire, per family. */
const VERB: Record<4 | 6, Partial<Record<Mode, string>>> = {
  4: { pasv: 'PASV', epsv: 'EPSV', active: 'PORT', eprt: 'EPRT' },
  // ftplib itself uses EPSV/EPRT on IPv6 (PASV/PORT cannot carry an IPv6 address).
  6: { pasv: 'EPSV', active: 'EPRT' },
};

for (const family of [4, 6] as const) {
  describe(`Python ftplib -> ftpkit server over IPv${family}`, peerSkip('python3'), () => {
    const fx = targetWithBigFile(() => startTarget({ family }), 'ftplib');

    async function ftplibOk(mode: Mode, actions: FtplibAction[]): Promise<NonNullable<FtplibResult['report']>> {
      // trustPasvAddress: a wrong 227 address (0.0.0.0, mapped form) fails instead of being papered over.
      const r = await runFtplib({
        host: fx.target.host, port: fx.target.port, user: fx.target.user, password: fx.target.password, mode, actions, trustPasvAddress: true,
      }, { timeoutMs: 120000 });
      if (r.report?.ok !== true) {
        const transcript = r.report?.transcript.slice(-40).join('\n') ?? '';
        assert.fail(`ftplib failed: ${r.report?.error ?? ''}\n${transcript}\n${describeRun(r)}\n${await fx.target.logs()}`);
      }
      return r.report;
    }

    async function serverDir(name: string): Promise<{ local: string; remote: string }> {
      const local = path.join(fx.target.root, `v${family}-${name}`);
      await mkdir(local, { recursive: true });
      await chmod(local, 0o777);
      return { local, remote: `${fx.target.base}/v${family}-${name}` };
    }

    for (const [mode, verb] of Object.entries(VERB[family]) as [Mode, string][]) {
      test(`${mode} (${verb}): STOR, MLSD, RETR, REST+RETR, REST+STOR, SIZE of 24 MiB`, async (t) => {
        if (!requirePeer(t, 'python3')) return;
        const dir = await serverDir(mode);
        await mkdir(path.join(dir.local, 'sub'));
        const cut = 7 * 1024 * 1024 + 321;
        // Local partial download: the first `cut` bytes are already here.
        const partial = path.join(fx.work.dir, `partial-${family}-${mode}.bin`);
        await copyFile(fx.big, partial);
        await truncate(partial, cut);
        const full = path.join(fx.work.dir, `full-${family}-${mode}.bin`);

        const report = await ftplibOk(mode, [
          { op: 'stor', local: fx.big, remote: `${dir.remote}/big.bin` },
          { op: 'mlsd', path: dir.remote },
          { op: 'retr', remote: `${dir.remote}/big.bin`, local: full },
          { op: 'retr', remote: `${dir.remote}/big.bin`, local: partial, rest: cut },
          { op: 'size', path: `${dir.remote}/big.bin` },
        ]);
        const [stor, mlsd, retr, rest, size] = report.steps;

        assert.match(stor!.reply ?? '', /^226/);
        assert.equal(await sha256File(path.join(dir.local, 'big.bin')), fx.bigSha, 'STOR: stored file differs');

        const entries = Object.fromEntries(mlsd!.entries!.map(([name, facts]) => [name, lowerKeys(facts)]));
        assert.equal(entries['big.bin']?.type, 'file', JSON.stringify(entries));
        assert.equal(entries['big.bin']?.size, String(BIG_FILE_SIZE));
        assert.match(entries['big.bin']?.modify ?? '', /^\d{14}(\.\d+)?$/, 'modify is YYYYMMDDHHMMSS (RFC 3659 s2.3)');
        assert.ok(entries['big.bin']?.perm !== undefined, 'perm fact present');
        assert.equal(entries.sub?.type, 'dir');

        assert.equal(retr!.sha256, fx.bigSha, 'RETR: downloaded file differs');
        assert.equal(rest!.bytes, BIG_FILE_SIZE - cut, 'REST+RETR sends only the rest');
        assert.equal(rest!.sha256, fx.bigSha, 'REST+RETR: resumed file differs');
        assert.equal(size!.value, BIG_FILE_SIZE);

        // REST + STOR: the server holds the first `cut` bytes; the client sends the rest.
        const serverPartial = path.join(dir.local, 'resumed.bin');
        await copyFile(fx.big, serverPartial);
        await truncate(serverPartial, cut);
        await ftplibOk(mode, [{ op: 'stor', local: fx.big, remote: `${dir.remote}/resumed.bin`, rest: cut }]);
        assert.equal(await sha256File(serverPartial), fx.bigSha, 'REST+STOR: resumed upload differs');

        const sent = report.transcript.filter((l) => l.startsWith('> ')).map((l) => l.slice(2).split(' ')[0]);
        assert.ok(sent.includes(verb), `expected ${verb}; ftplib sent ${[...new Set(sent)].join(' ')}`);
        for (const other of ['PASV', 'EPSV', 'PORT', 'EPRT'].filter((v) => v !== verb)) {
          assert.ok(!sent.includes(other), `unexpected ${other}; ftplib sent ${[...new Set(sent)].join(' ')}`);
        }
        assert.ok(report.transcript.includes('> PASS ****'));
      });
    }

    test('TYPE A converts line endings both ways (RFC 959 s3.1.1.1); TYPE I keeps them', async (t) => {
      if (!requirePeer(t, 'python3')) return;
      const dir = await serverDir('ascii');
      const text = 'line one\nline two\n\nlast line\n';
      const local = path.join(fx.work.dir, `text-${family}.txt`);
      await writeFile(local, text);
      const back = path.join(fx.work.dir, `text-back-${family}.txt`);
      await ftplibOk('pasv', [
        // storlines sends CRLF on the wire; a Unix server stores LF.
        { op: 'stor', local, remote: `${dir.remote}/a.txt`, ascii: true },
        // retrlines reads CRLF lines; we write them back with LF.
        { op: 'retr', remote: `${dir.remote}/a.txt`, local: back, ascii: true },
      ]);
      assert.equal(await readFile(path.join(dir.local, 'a.txt'), 'utf8'), text, 'stored with native LF');
      assert.equal(await readFile(back, 'utf8'), text);
      // Binary keeps bytes: a file with CRLF stays CRLF.
      await writeFile(path.join(dir.local, 'crlf.txt'), 'a\r\nb\r\n');
      const bin = path.join(fx.work.dir, `crlf-${family}.txt`);
      await ftplibOk('pasv', [{ op: 'retr', remote: `${dir.remote}/crlf.txt`, local: bin }]);
      assert.equal(await readFile(bin, 'utf8'), 'a\r\nb\r\n');
    });

    test('MLSD, MKD, RNFR/RNTO, DELE, RMD with UTF-8 and quoted names (RFC 2640)', async (t) => {
      if (!requirePeer(t, 'python3')) return;
      const dir = await serverDir('names');
      await writeTree(dir.local);
      const report = await ftplibOk('pasv', [
        { op: 'mlsd', path: dir.remote },
        { op: 'mkd', path: `${dir.remote}/new "quoted" dir` },
        { op: 'rename', from: `${dir.remote}/héllo wörld ✓.txt`, to: `${dir.remote}/renamed ✓.txt` },
        { op: 'dele', path: `${dir.remote}/-leading-dash.txt` },
        { op: 'rmd', path: `${dir.remote}/empty dir` },
      ]);
      const names = report.steps[0]!.entries!.map(([n]) => n).filter((n) => n !== '.' && n !== '..').sort();
      const expected = [...new Set(Object.keys(ODD_TREE).map((p) => p.split('/')[0]!))].sort();
      assert.deepEqual(names, expected);
      // RFC 959 s7 (MKD reply): the path is quoted and embedded quotes doubled; ftplib undoes it.
      assert.equal(report.steps[1]!.value, `${dir.remote}/new "quoted" dir`);
      assert.ok((await stat(path.join(dir.local, 'new "quoted" dir'))).isDirectory());
      assert.equal(await readFile(path.join(dir.local, 'renamed ✓.txt'), 'utf8'), 'utf-8\n');
      await assert.rejects(stat(path.join(dir.local, '-leading-dash.txt')));
      await assert.rejects(stat(path.join(dir.local, 'empty dir')));
    });
  });
}

/** MLSD fact names are case-insensitive (RFC 3659 s7.5.1). */
function lowerKeys(facts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(facts).map(([k, v]) => [k.toLowerCase(), v]));
}
