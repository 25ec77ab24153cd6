/**
 * Segmented download (issue 16): `ftpkit get --segments N` vs `lftp -c 'pget -n N'` of the big file from
 * vsftpd (plain), N connections each fetching a range. MB/s over the client process's wall time, as the
 * other client figures (measure-client.ts); the size of the result is checked.
 */
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBounded, runLftp } from '../../test/support/peers.js';
import { MBPS, addFailure, addSample, type Results } from './results.js';
import { BIG_NAME, type BenchServer } from './servers.js';
import type { ClientContext } from './measure-client.js';

import { PGET_SECTION, type PGET_CLIENTS } from './pget-section.js';

export { PGET_CLIENTS, PGET_SEGMENTS } from './pget-section.js';

export async function measurePget(r: Results, c: ClientContext, s: BenchServer, name: (typeof PGET_CLIENTS)[number],
  segments: number, tag: string): Promise<void> {
  const local = path.join(c.scratch, `pget-${tag}.bin`);
  const t0 = performance.now();
  const run = name === 'ftpkit'
    ? await runBounded(process.execPath, [path.join(c.repo, 'dist/cli/main.js'), 'get', '--segments', String(segments),
      `ftp://${s.main.user}@${s.host}:${s.port}/${BIG_NAME}`, local],
    { timeoutMs: c.timeoutMs, env: { ...process.env, HOME: c.scratch, FTPKIT_PASSWORD: s.main.password } })
    : await runLftp([`open -u "${s.main.user}","${s.main.password}" ftp://${s.host}:${s.port}`, `pget -n ${segments} /${BIG_NAME} -o ${local}`],
      { settings: { 'ftp:ssl-allow': false }, debug: false, timeoutMs: c.timeoutMs });
  const seconds = (performance.now() - t0) / 1000;
  const size = await stat(local).then((st) => st.size, () => -1);
  await rm(local, { force: true });
  if (run.code !== 0 || size !== c.bytes) {
    addFailure(r, PGET_SECTION, name, run.timedOut ? 'timed out' : `exit ${run.code}, ${size} bytes: ${run.stderr.trim().split('\n').pop() ?? ''}`);
    return;
  }
  addSample(r, PGET_SECTION, name, MBPS, c.bytes / 1e6 / seconds);
}
