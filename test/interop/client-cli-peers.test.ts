// `ftpkit put / get / ls` against vsftpd and pure-ftpd in every data-connection mode (EPSV, PASV, EPRT,
// PORT): the transfer is byte exact and the -v transcript shows that the flag changed the command on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requirePeer, startPureFtpd, startVsftpd, type PeerName, type PeerServer } from '../support/peers.js';
import { describeCli, runFtpkit } from '../support/ftpkit-cli.js';

const modes: { flags: string[]; verb: string }[] = [
  { flags: [], verb: 'EPSV' },
  { flags: ['--no-epsv'], verb: 'PASV' },
  { flags: ['--active'], verb: 'EPRT' },
  { flags: ['--active', '--no-eprt'], verb: 'PORT' },
];

const launchers: [PeerName, () => Promise<PeerServer>][] = [
  ['vsftpd', () => startVsftpd()],
  ['pure-ftpd', () => startPureFtpd()],
];

for (const [name, launch] of launchers) {
  test(`ftpkit put/get/ls against ${name}: EPSV, PASV, EPRT, PORT`, async t => {
    if (!requirePeer(t, name)) return;
    const server = await launch();
    t.after(() => server.stop());
    const work = await mkdtemp(path.join(tmpdir(), `ftpkit-cli-${name}-`));
    t.after(() => rm(work, { recursive: true, force: true }));
    const env = { FTPKIT_PASSWORD: server.password };
    const base = server.url.replace('://', `://${encodeURIComponent(server.user)}@`);
    for (const { flags, verb } of modes) {
      const data = randomBytes(150_000 + flags.length);
      const file = `m-${verb}.bin`;
      await writeFile(path.join(work, file), data);
      const put = await runFtpkit(['put', '-v', ...flags, path.join(work, file), `${base}${server.uploadDir}/`], { env });
      assert.equal(put.code, 0, `${verb} put\n${describeCli(put)}\n${await server.logs()}`);
      assert.match(put.stderr, new RegExp(`Command:\\t${verb}\\b`));
      for (const other of modes.map(m => m.verb).filter(v => v !== verb)) assert.doesNotMatch(put.stderr, new RegExp(`Command:\\t${other}\\b`));
      assert.deepEqual(await readFile(path.join(server.localUploadDir, file)), data, `${verb} upload content`);
      const back = path.join(work, `back-${verb}.bin`);
      const get = await runFtpkit(['get', ...flags, '--json', `${base}${server.uploadDir}/${file}`, back], { env });
      assert.equal(get.code, 0, `${verb} get\n${describeCli(get)}`);
      assert.equal(JSON.parse(get.stdout).mode, flags.includes('--active') ? 'active' : 'passive');
      assert.deepEqual(await readFile(back), data, `${verb} download content`);
    }
    const ls = await runFtpkit(['ls', '--json', `${base}${server.uploadDir}/`], { env });
    assert.equal(ls.code, 0, describeCli(ls));
    assert.deepEqual(JSON.parse(ls.stdout).entries.map((e: { name: string }) => e.name).sort(),
      ['m-EPRT.bin', 'm-EPSV.bin', 'm-PASV.bin', 'm-PORT.bin']);
  });
}
