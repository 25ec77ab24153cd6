// The bench's targets check (bench/lib/targets.ts), RESULTS.md rendering (bench/lib/render.ts) and its
// command line (bench/lib/modes.ts), on a hand-made Results record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CPU_MS, CPU_PER_GIB, FAILED, HELD, KIB_PER_SESSION, MBPS, MS, RATE, STARTUP_SECTION, WALL_MS,
  addFailure, addSample, clientSection, idleSection, listingSection, markSkipped, sessionsSection, transferSection,
  type Results,
} from '../../bench/lib/results.js';
import { checkTargets, type TargetCheck } from '../../bench/lib/targets.js';
import { renderResults, renderTable, summariseFailures } from '../../bench/lib/render.js';
import { MODES, parseOptions } from '../../bench/lib/modes.js';

function sample(): Results {
  const r: Results = {
    mode: 'quick', date: '2026-12-05T00:00:00.000Z', durationS: 600,
    machine: { cores: 2, cpuModel: 'Test CPU', kernel: 'Linux 6.1', memGiB: 8, loadStart: [0.1, 0.2, 0.3], loadEnd: [1, 1, 1] },
    versions: { node: 'v20.0.0', vsftpd: '3.0.3' },
    sizes: { ...MODES.quick, levels: [50, 500], idleCounts: [1000] },
    sections: {}, notes: ['a note'],
  };
  for (const v of [578, 540, 610]) addSample(r, transferSection('RETR'), 'ftpkit', MBPS, v);
  for (const v of [2022, 2000]) addSample(r, transferSection('RETR'), 'vsftpd', MBPS, v);
  addSample(r, transferSection('RETR'), 'proftpd', MBPS, 2458);
  addSample(r, transferSection('RETR'), 'ftpkit', CPU_PER_GIB, 500);
  addSample(r, transferSection('RETR'), 'vsftpd', CPU_PER_GIB, 345);
  markSkipped(r, transferSection('TLS RETR'), 'pyftpdlib', 'drops | curl');
  addSample(r, sessionsSection('named', 500), 'ftpkit', RATE, 1400);
  addSample(r, sessionsSection('named', 500), 'ftp-srv', RATE, 893);
  addSample(r, sessionsSection('named', 500), 'ftpkit', FAILED, 0);
  addSample(r, sessionsSection('anonymous', 500), 'ftpkit', FAILED, 3);
  addFailure(r, sessionsSection('anonymous', 500), 'ftpkit', 'timeout');
  addFailure(r, sessionsSection('anonymous', 500), 'ftpkit', 'timeout');
  addSample(r, idleSection(1000), 'ftpkit', KIB_PER_SESSION, 7.5);
  addSample(r, idleSection(1000), 'ftpkit', HELD, 1000);
  addSample(r, listingSection('LIST'), 'ftpkit', MS, 60);
  addSample(r, listingSection('LIST'), 'vsftpd', MS, 64);
  addSample(r, listingSection('MLSD'), 'ftpkit', MS, 70);
  addSample(r, clientSection('download', false), 'ftpkit', MBPS, 2400);
  addSample(r, clientSection('download', false), 'lftp', MBPS, 2310);
  addSample(r, clientSection('download', false), 'basic-ftp', MBPS, 1015);
  addSample(r, STARTUP_SECTION, 'node -e 0', WALL_MS, 100);
  addSample(r, STARTUP_SECTION, 'ftpkit --version', WALL_MS, 400);
  addSample(r, STARTUP_SECTION, 'ftpkit --version', CPU_MS, 380);
  return r;
}

const find = (t: TargetCheck[], prefix: string): TargetCheck => {
  const hit = t.find((x) => x.target.startsWith(prefix));
  assert.ok(hit, `no target starting with ${prefix}: ${t.map((x) => x.target).join(' / ')}`);
  return hit;
};

test('targets: ratios against the best peer, vsftpd, ftp-srv, lftp, basic-ftp and node, each met or not', () => {
  const t = checkTargets(sample());
  assert.deepEqual(find(t, 'RETR MB/s'), { target: 'RETR MB/s >= 1.0 x the best peer', measured: 'ftpkit 578 / proftpd 2458 = 0.24', met: false });
  assert.equal(find(t, 'RETR server CPU').met, true); // 500 / 345 = 1.45
  assert.equal(find(t, 'sessions/s at 500').met, true); // 1400 / 893 = 1.57
  assert.equal(find(t, 'zero failed sessions at 500 concurrent (named)').met, true);
  assert.equal(find(t, 'zero failed sessions at 500 concurrent (anonymous)').met, false);
  assert.equal(find(t, '<= 8 KB per idle').met, true); // 7.5 KiB = 7.68 kB
  assert.equal(find(t, 'LIST of').met, true);
  assert.equal(find(t, 'MLSD of').met, false); // compared with vsftpd's LIST: 70 > 64
  assert.equal(find(t, 'client download plain >= 1.0 x lftp').met, true);
  assert.equal(find(t, 'client download plain >= 1.5 x basic-ftp').met, true);
  assert.equal(find(t, '`ftpkit --version`').met, false);
});

test('targets: a figure nobody measured is "not measured", never met', () => {
  const t = checkTargets(sample());
  for (const prefix of ['STOR MB/s', 'TLS RETR MB/s', 'client upload TLS >= 1.0 x curl', '10,000 idle sessions']) {
    assert.equal(find(t, prefix).met, undefined, prefix);
  }
  assert.match(find(t, 'TLS RETR MB/s').measured, /not measured/);
});

test('renderTable: rows in the given order, ftpkit in bold, medians with min-max, skips and failures, the ratio line', () => {
  const text = renderTable(sample(), {
    title: 'RETR', section: transferSection('RETR'), metrics: [MBPS, CPU_PER_GIB], rowLabel: 'server',
    order: ['ftpkit', 'vsftpd', 'proftpd'], primary: { metric: MBPS, better: 'higher' },
  });
  const rows = text.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| server'));
  assert.deepEqual(rows, [
    '| **ftpkit** | 578 (540-610) | 500 |  |',
    '| vsftpd | 2011 (2000-2022) | 345 |  |',
    '| proftpd | 2458 | — |  |',
  ]);
  assert.match(text, /ftpkit \/ best peer \(MB\/s, higher is better\): \*\*0\.24\*\* \(best peer: proftpd, 2458\)/);
});

test('renderTable: a skip reason is escaped for the table; an empty section says so', () => {
  const r = sample();
  assert.match(renderTable(r, { title: 'x', section: transferSection('TLS RETR'), metrics: [MBPS], rowLabel: 'server' }), /skipped: drops \\\| curl/);
  assert.match(renderTable(r, { title: 'x', section: 'nothing', metrics: [MBPS], rowLabel: 'server' }), /_not measured in this run_/);
});

test('summariseFailures counts repeated lines', () => {
  assert.deepEqual(summariseFailures(['timeout', 'timeout', 'connect ECONNREFUSED']), ['2x timeout', 'connect ECONNREFUSED']);
});

test('renderResults: machine, load at start and end, versions, every part, targets and notes', () => {
  const r = sample();
  const md = renderResults(r, checkTargets(r));
  for (const needle of [
    '# ftpkit bench results', '| CPU | 2 cores, Test CPU |', '| load average (1/5/15 min) at start | 0.1 / 0.2 / 0.3 |',
    '| vsftpd | 3.0.3 |', '256 MiB', '## Server: transfers', '### 500 concurrent clients, named user', '### 1000 sessions held',
    '### MLSD', '### download, plain', '### CLI start-up', '## Targets of issue 10', '| RETR MB/s >= 1.0 x the best peer | ftpkit 578 / proftpd 2458 = 0.24 | **not met** |',
    '- a note',
  ]) assert.ok(md.includes(needle), `missing ${JSON.stringify(needle)}`);
  assert.match(md, /\d+ met, \d+ not met, \d+ not measured\./);
  assert.equal(renderResults(r, checkTargets(r)), md, 'rendering is deterministic');
});

test('parseOptions: modes, parts and servers; unknown words are refused', () => {
  assert.equal(parseOptions([]).mode, 'quick');
  assert.equal(parseOptions(['--full']).mode, 'full');
  const o = parseOptions(['--smoke', '--only', 'transfers,idle', '--servers', 'ftpkit,vsftpd', '--out', '/tmp/x.md']);
  assert.deepEqual([o.mode, [...o.only!], o.servers, o.out], ['smoke', ['transfers', 'idle'], ['ftpkit', 'vsftpd'], '/tmp/x.md']);
  assert.throws(() => parseOptions(['--fast']), /unknown option --fast/);
  assert.throws(() => parseOptions(['--only', 'speed']), /unknown part speed/);
  assert.throws(() => parseOptions(['--servers', 'iis']), /unknown server iis/);
  assert.throws(() => parseOptions(['--out']), /needs a value/);
});

test('modes: full is issue 10 at full size (1 GiB, 10,000 idle sessions), quick is smaller', () => {
  assert.equal(MODES.full.transferBytes, 1024 ** 3);
  assert.deepEqual(MODES.full.idleCounts, [1000, 10000]);
  assert.deepEqual(MODES.quick.levels, [50, 200, 500]);
  assert.equal(MODES.quick.listingFiles, 10000);
  assert.equal(MODES.quick.mirrorFiles, 2000);
});
