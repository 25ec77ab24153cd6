/**
 * `npm run bench` (quick), `npm run bench -- --full`, `--smoke`: ftpkit against vsftpd, pure-ftpd,
 * proftpd, pyftpdlib and ftp-srv on loopback, and ftpkit's client against curl, lftp and basic-ftp.
 * Writes bench/RESULTS.md. How it measures: docs/bench.md. `npm run bench -- --fuzz ...` and `-- --soak ...`
 * run bench/fuzz-run.ts and bench/soak.ts instead (also `npm run bench:fuzz`, `npm run bench:soak`); `-- --modes ...`
 * runs bench/modes-run.ts (MODE Z vs S, issue 15).
 *
 * The unpacked peers (pure-ftpd, proftpd) come from `bash .ci/run deps`; when they are missing and we are
 * root, it is run first (bounded), because the harness locates the peers when it is imported.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODES, parseOptions } from './lib/modes.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function ensurePeers(servers: readonly string[]): void {
  const dir = process.env.FTPKIT_PEERS_DIR ?? '/opt/ftpkit-peers';
  const needed: Record<string, string> = {
    vsftpd: '/usr/sbin/vsftpd', 'pure-ftpd': `${dir}/pure-ftpd/usr/sbin/pure-ftpd`, proftpd: `${dir}/proftpd/usr/sbin/proftpd`,
  };
  const missing = servers.filter((s) => needed[s] && !existsSync(needed[s]!) && !(s === 'vsftpd' && existsSync(`${dir}/vsftpd/usr/sbin/vsftpd`)));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing peers (${missing.join(', ')}): run \`sudo bash .ci/run deps\` first`);
  process.stderr.write(`[bench] installing missing peers (${missing.join(', ')}) with bash .ci/run deps\n`);
  const r = spawnSync('bash', [path.join(repo, '.ci/run'), 'deps'], { stdio: 'inherit', timeout: 15 * 60_000 });
  if (r.status !== 0) throw new Error(`bash .ci/run deps failed (${r.status ?? r.signal}); missing peers: ${missing.join(', ')}`);
}

async function main(): Promise<number> {
  // The fuzz and soak runs (issue 12) are programs of their own; --fuzz / --soak hand them the other options.
  const [first, ...rest] = process.argv.slice(2);
  if (first === '--fuzz') return (await import('./fuzz-run.js')).fuzzRun(rest);
  if (first === '--soak') return (await import('./soak.js')).soakRun(rest);
  if (first === '--modes') return (await import('./modes-run.js')).modesRun(rest);
  const o = parseOptions(process.argv.slice(2));
  if (!existsSync(path.join(repo, 'dist/cli/main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  ensurePeers(o.servers ?? MODES[o.mode].servers);
  const { runBench } = await import('./lib/run.js');
  return runBench(repo, o);
}

main().then((code) => { process.exitCode = code; }, (err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exitCode = 1;
});
