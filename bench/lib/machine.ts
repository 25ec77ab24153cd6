/** The machine and the versions of every program measured, for RESULTS.md's header. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PEER_BIN, PYTHON } from '../../test/support/peers.js';
import type { Machine } from './results.js';

export function loadAverage(): number[] {
  return os.loadavg().map((v) => Math.round(v * 100) / 100);
}

export function machine(): Machine {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    kernel: `${os.type()} ${os.release()}`,
    memGiB: os.totalmem() / 1024 ** 3,
    loadStart: loadAverage(),
    loadEnd: [],
  };
}

/** First line matching `re` of a command's output (stdout and stderr), or 'unknown'. */
function versionOf(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  return re.exec(text)?.[1]?.trim() ?? 'unknown';
}

function packageVersion(repo: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch { return 'not installed'; }
}

export function versions(repo: string): Record<string, string> {
  const ours = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
  const git = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout?.trim();
  return {
    ftpkit: `${ours} (${git || 'no git'}), built dist/`,
    node: process.version,
    // vsftpd -v prints its version on stdin's descriptor (0): give it a pipe there.
    vsftpd: PEER_BIN.vsftpd ? versionOf('sh', ['-c', `${PEER_BIN.vsftpd} -v 0>&1`], /version ([\d.]+)/) : 'missing',
    'pure-ftpd': PEER_BIN.pureFtpd ? versionOf(PEER_BIN.pureFtpd, ['--help'], /pure-ftpd v([\d.]+)/i) : 'missing',
    proftpd: PEER_BIN.proftpd ? versionOf(PEER_BIN.proftpd, ['-v'], /ProFTPD Version ([\d.a-z]+)/i) : 'missing',
    pyftpdlib: versionOf(PYTHON, ['-c', 'import pyftpdlib; print("v" + pyftpdlib.__ver__)'], /v([\d.]+)/),
    python: versionOf(PYTHON, ['--version'], /Python ([\d.]+)/),
    'ftp-srv': packageVersion(repo, 'ftp-srv'),
    'basic-ftp': packageVersion(repo, 'basic-ftp'),
    curl: versionOf('curl', ['--version'], /^curl ([\d.]+)/m),
    lftp: versionOf('lftp', ['--version'], /Version ([\d.]+)/),
    openssl: versionOf('openssl', ['version'], /OpenSSL ([\w.]+)/),
  };
}
