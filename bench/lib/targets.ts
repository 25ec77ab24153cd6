/**
 * The targets of issue 10, computed from one run's results: each is met, missed, or not measured (with the
 * reason). Pure; RESULTS.md prints the list and the bench's exit code does not depend on it (a missed
 * target is a finding, not a broken bench).
 */
import {
  CPU_PER_GIB, FAILED, HELD, KIB_PER_SESSION, MBPS, MS, RATE, TRANSFER_KINDS, WALL_MS,
  clientSection, idleSection, listingSection, samples, sessionsSection, transferSection, STARTUP_SECTION,
  type ClientDirection, type Results,
} from './results.js';
import { bestPeer, formatNumber, ratio, summarize } from './stats.js';

export interface TargetCheck {
  target: string;
  /** What was measured, e.g. "ftpkit 578 / proftpd 2458 = 0.24". */
  measured: string;
  /** undefined: not measured in this run (see `measured` for why). */
  met: boolean | undefined;
}

const med = (r: Results, section: string, row: string, metric: string): number | undefined =>
  summarize(samples(r, section, row, metric))?.median;

function compare(
  target: string, a: { name: string; value: number | undefined }, b: { name: string; value: number | undefined } | undefined,
  ok: (q: number) => boolean,
): TargetCheck {
  const q = ratio(a.value, b?.value);
  if (q === undefined || !b) {
    const missing = a.value === undefined ? a.name : (b?.name ?? 'no peer');
    return { target, measured: `not measured (${missing})`, met: undefined };
  }
  return { target, measured: `${a.name} ${formatNumber(a.value)} / ${b.name} ${formatNumber(b.value)} = ${formatNumber(q)}`, met: ok(q) };
}

export function checkTargets(r: Results): TargetCheck[] {
  const out: TargetCheck[] = [];
  const servers = (section: string): Map<string, number | undefined> =>
    new Map(Object.keys(r.sections[section] ?? {}).map((name) => [name, med(r, section, name, MBPS)]));

  for (const kind of TRANSFER_KINDS) {
    const s = transferSection(kind);
    const peer = bestPeer(servers(s), 'higher');
    out.push(compare(`${kind} MB/s >= 1.0 x the best peer`, { name: 'ftpkit', value: med(r, s, 'ftpkit', MBPS) }, peer, (q) => q >= 1));
  }
  for (const kind of TRANSFER_KINDS) {
    const s = transferSection(kind);
    out.push(compare(
      `${kind} server CPU per GiB <= 1.5 x vsftpd's`,
      { name: 'ftpkit', value: med(r, s, 'ftpkit', CPU_PER_GIB) }, { name: 'vsftpd', value: med(r, s, 'vsftpd', CPU_PER_GIB) },
      (q) => q <= 1.5,
    ));
  }

  const level = Math.max(...r.sizes.levels);
  const named = sessionsSection('named', level);
  out.push(compare(
    `sessions/s at ${level} concurrent (named user) >= 1.5 x ftp-srv`,
    { name: 'ftpkit', value: med(r, named, 'ftpkit', RATE) }, { name: 'ftp-srv', value: med(r, named, 'ftp-srv', RATE) },
    (q) => q >= 1.5,
  ));
  for (const login of ['named', 'anonymous'] as const) {
    const failed = samples(r, sessionsSection(login, level), 'ftpkit', FAILED);
    out.push({
      target: `zero failed sessions at ${level} concurrent (${login})`,
      measured: failed.length ? `ftpkit failures per repetition: ${failed.join(', ')}` : 'not measured',
      met: failed.length ? failed.every((f) => f === 0) : undefined,
    });
  }

  for (const count of r.sizes.idleCounts) {
    const kib = med(r, idleSection(count), 'ftpkit', KIB_PER_SESSION);
    out.push({
      target: `<= 8 KB per idle logged-in session (${count} held)`,
      measured: kib === undefined ? 'not measured' : `ftpkit ${formatNumber(kib)} KiB (${formatNumber((kib * 1024) / 1000)} kB)`,
      met: kib === undefined ? undefined : (kib * 1024) / 1000 <= 8,
    });
  }
  const held = samples(r, idleSection(10_000), 'ftpkit', HELD);
  out.push({
    target: '10,000 idle sessions held',
    measured: held.length ? `ftpkit held ${Math.min(...held)}` : 'not measured in this mode (npm run bench -- --full)',
    met: held.length ? Math.min(...held) >= 10_000 : undefined,
  });

  // vsftpd 3.0.3 has no MLSD: both listings are compared with its LIST.
  const vsList = { name: 'vsftpd LIST', value: med(r, listingSection('LIST'), 'vsftpd', MS) };
  for (const kind of ['LIST', 'MLSD'] as const) {
    out.push(compare(
      `${kind} of ${r.sizes.listingFiles} files no slower than vsftpd (ms, lower is better)`,
      { name: `ftpkit ${kind}`, value: med(r, listingSection(kind), 'ftpkit', MS) }, vsList, (q) => q <= 1,
    ));
  }

  for (const direction of ['download', 'upload'] as ClientDirection[]) {
    const plain = clientSection(direction, false);
    const tls = clientSection(direction, true);
    const ours = (s: string) => ({ name: 'ftpkit', value: med(r, s, 'ftpkit', MBPS) });
    out.push(compare(`client ${direction} plain >= 1.0 x lftp`, ours(plain), { name: 'lftp', value: med(r, plain, 'lftp', MBPS) }, (q) => q >= 1));
    out.push(compare(`client ${direction} TLS >= 1.0 x curl`, ours(tls), { name: 'curl', value: med(r, tls, 'curl', MBPS) }, (q) => q >= 1));
    for (const s of [plain, tls]) {
      out.push(compare(`client ${s.slice('client '.length)} >= 1.5 x basic-ftp`, ours(s), { name: 'basic-ftp', value: med(r, s, 'basic-ftp', MBPS) }, (q) => q >= 1.5));
    }
  }

  out.push(compare(
    '`ftpkit --version` within 1.5 x `node -e 0` (wall)',
    { name: 'ftpkit --version', value: med(r, STARTUP_SECTION, 'ftpkit --version', WALL_MS) },
    { name: 'node -e 0', value: med(r, STARTUP_SECTION, 'node -e 0', WALL_MS) },
    (q) => q <= 1.5,
  ));
  return out;
}
