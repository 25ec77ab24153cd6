/**
 * RESULTS.md from one run's Results: the machine and versions, one table per section (rows: servers or
 * clients; columns: metrics as "median (min-max)"; a closing ftpkit / best-peer ratio), the targets and the
 * notes. Pure: the same Results always give the same text.
 */
import { PGET_CLIENTS, PGET_SECTION, PGET_SEGMENTS } from './pget-section.js';
import {
  CPU_MS, CPU_PER_GIB, FAILED, HELD, KIB_PER_SESSION, LISTING_KINDS, MBPS, MIRROR_SECTION, MS, P50, P99, PEAK_MEM, RATE,
  SECONDS, SERVER_NAMES, STARTUP_SECTION, TRANSFER_KINDS, WALL_MS,
  clientSection, idleSection, listingSection, sessionsSection, transferSection,
  type Results, type Section,
} from './results.js';
import { bestPeer, formatNumber, formatSummary, ratio, summarize, type Better } from './stats.js';
import type { TargetCheck } from './targets.js';

const MiB = 1024 * 1024;

interface TableSpec {
  title: string;
  section: string;
  metrics: string[];
  /** The metric compared in the ftpkit / best line, and which way is better. */
  primary?: { metric: string; better: Better };
  rowLabel: string;
  order?: readonly string[];
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** One section as a Markdown table, or a line saying it was not measured. */
export function renderTable(r: Results, spec: TableSpec): string {
  const section: Section | undefined = r.sections[spec.section];
  const lines = [`### ${spec.title}`, ''];
  if (!section || Object.keys(section).length === 0) return [...lines, '_not measured in this run_', ''].join('\n');
  const names = Object.keys(section);
  const order = [...(spec.order ?? []).filter((n) => names.includes(n)), ...names.filter((n) => !(spec.order ?? []).includes(n))];
  lines.push(`| ${spec.rowLabel} | ${spec.metrics.join(' | ')} | failures / notes |`);
  lines.push(`|---|${spec.metrics.map(() => '---:').join('|')}|---|`);
  for (const name of order) {
    const c = section[name]!;
    const cells = spec.metrics.map((m) => formatSummary(summarize(c.metrics[m] ?? [])));
    const notes = [c.skipped ? `skipped: ${c.skipped}` : '', ...summariseFailures(c.failures)].filter(Boolean).join('; ');
    const label = name === 'ftpkit' || name.startsWith('ftpkit ') ? `**${name}**` : name;
    lines.push(`| ${label} | ${cells.join(' | ')} | ${escapeCell(notes)} |`);
  }
  if (spec.primary) {
    const medians = new Map(names.map((n) => [n, summarize(section[n]!.metrics[spec.primary!.metric] ?? [])?.median]));
    const best = bestPeer(medians, spec.primary.better);
    const ours = medians.get('ftpkit');
    const q = ratio(ours, best?.value);
    lines.push('', q === undefined || !best
      ? `ftpkit / best peer (${spec.primary.metric}): —`
      : `ftpkit / best peer (${spec.primary.metric}, ${spec.primary.better} is better): **${formatNumber(q)}** (best peer: ${best.name}, ${formatNumber(best.value)})`);
  }
  lines.push('');
  return lines.join('\n');
}

/** Identical failure lines are counted, not repeated: "3x connect ECONNREFUSED". */
export function summariseFailures(failures: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f, (counts.get(f) ?? 0) + 1);
  return [...counts].map(([f, n]) => (n > 1 ? `${n}x ${f}` : f)).slice(0, 5);
}

function mark(met: boolean | undefined): string {
  return met === undefined ? 'not measured' : met ? 'met' : '**not met**';
}

export function renderResults(r: Results, targets: readonly TargetCheck[]): string {
  const s = r.sizes;
  const out: string[] = [];
  out.push('# ftpkit bench results', '');
  out.push(`Written by \`npm run bench${r.mode === 'quick' ? '' : ` -- --${r.mode}`}\` (${r.mode} mode) on ${r.date}, in ${Math.round(r.durationS)} s. ` +
    'How it measures and how to read it: [docs/bench.md](../docs/bench.md). Figures are medians of the repetitions with min-max in ' +
    'parentheses; compare figures only within one run (single figures on a shared 2-core machine vary by up to 2x between runs).', '');
  out.push('## Machine', '');
  out.push('| | |', '|---|---|');
  out.push(`| CPU | ${r.machine.cores} cores, ${escapeCell(r.machine.cpuModel)} |`);
  out.push(`| kernel | ${escapeCell(r.machine.kernel)} |`);
  out.push(`| memory | ${formatNumber(r.machine.memGiB)} GiB |`);
  out.push(`| load average (1/5/15 min) at start | ${r.machine.loadStart.join(' / ')} |`);
  out.push(`| load average (1/5/15 min) at end | ${r.machine.loadEnd.join(' / ')} |`);
  out.push('', '## Versions', '', '| program | version |', '|---|---|');
  for (const [name, v] of Object.entries(r.versions)) out.push(`| ${name} | ${escapeCell(v)} |`);
  out.push('', '## Sizes', '');
  out.push(`- transfers: ${formatNumber(s.transferBytes / MiB)} MiB (page-cached), ${s.reps} repetitions, servers interleaved round-robin in each repetition`);
  out.push(`- sessions: ${s.levels.join(' / ')} concurrent clients for ${s.sessionSeconds} s each, RETR of ${s.smallBytes / 1024} KiB`);
  out.push(`- idle sessions held: ${s.idleCounts.join(', ')}; listings: ${s.listingFiles} files; mirror: ${s.mirrorFiles} files with ${s.mirrorParallel} connections`);
  out.push('');

  out.push('## Server: transfers (curl as the client, loopback)', '');
  for (const kind of TRANSFER_KINDS) {
    out.push(renderTable(r, {
      title: kind, section: transferSection(kind), metrics: [MBPS, CPU_PER_GIB], rowLabel: 'server', order: SERVER_NAMES,
      primary: { metric: MBPS, better: 'higher' },
    }));
  }
  out.push('## Server: sessions per second (connect, login, TYPE I, PASV, RETR, QUIT)', '');
  for (const login of ['named', 'anonymous'] as const) {
    for (const level of s.levels) {
      out.push(renderTable(r, {
        title: `${level} concurrent clients, ${login === 'named' ? 'named user' : 'anonymous'}`, section: sessionsSection(login, level),
        metrics: [RATE, FAILED, P50, P99, PEAK_MEM], rowLabel: 'server', order: SERVER_NAMES, primary: { metric: RATE, better: 'higher' },
      }));
    }
  }
  out.push('## Server: memory per idle logged-in session', '');
  for (const count of s.idleCounts) {
    out.push(renderTable(r, {
      title: `${count} sessions held`, section: idleSection(count), metrics: [KIB_PER_SESSION, HELD], rowLabel: 'server',
      order: SERVER_NAMES, primary: { metric: KIB_PER_SESSION, better: 'lower' },
    }));
  }
  out.push(`## Server: listing a folder of ${s.listingFiles} files (time per listing, curl)`, '');
  for (const kind of LISTING_KINDS) {
    out.push(renderTable(r, {
      title: kind, section: listingSection(kind), metrics: [MS], rowLabel: 'server', order: SERVER_NAMES,
      primary: { metric: MS, better: 'lower' },
    }));
  }
  out.push('## Client: against vsftpd', '');
  const clients = ['ftpkit', 'curl', 'lftp', 'basic-ftp'];
  for (const direction of ['download', 'upload'] as const) {
    for (const tls of [false, true]) {
      out.push(renderTable(r, {
        title: `${direction}, ${tls ? 'explicit TLS' : 'plain'}`, section: clientSection(direction, tls), metrics: [MBPS],
        rowLabel: 'client', order: clients, primary: { metric: MBPS, better: 'higher' },
      }));
    }
  }
  out.push(renderTable(r, {
    title: `mirror of ${s.mirrorFiles} small files, ${s.mirrorParallel} connections`, section: MIRROR_SECTION, metrics: [SECONDS],
    rowLabel: 'client', order: ['ftpkit', 'lftp'], primary: { metric: SECONDS, better: 'lower' },
  }));
  out.push(renderTable(r, {
    title: `segmented download of the big file, ${PGET_SEGMENTS} connections (get --segments vs lftp pget -n)`, section: PGET_SECTION,
    metrics: [MBPS], rowLabel: 'client', order: [...PGET_CLIENTS], primary: { metric: MBPS, better: 'higher' },
  }));
  out.push(renderTable(r, {
    title: 'CLI start-up', section: STARTUP_SECTION, metrics: [WALL_MS, CPU_MS], rowLabel: 'command',
  }));

  out.push('## Targets of issue 10', '', '| target | measured | |', '|---|---|---|');
  for (const t of targets) out.push(`| ${escapeCell(t.target)} | ${escapeCell(t.measured)} | ${mark(t.met)} |`);
  const met = targets.filter((t) => t.met === true).length;
  const missed = targets.filter((t) => t.met === false).length;
  out.push('', `${met} met, ${missed} not met, ${targets.length - met - missed} not measured.`, '');
  if (r.notes.length) {
    out.push('## Notes', '');
    for (const n of r.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}
