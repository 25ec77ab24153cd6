/**
 * The report as one self-contained HTML file (`ftpkit doctor --html FILE`): the matrix as a grid (data mode
 * rows x security columns, a colour and a short cause in each cell, the evidence when a cell is expanded),
 * the steps, the findings, the recommended settings and the fixes for both ends, and a timeline of when each
 * probe started and ended. Inline CSS, no script, no external resource, and a Content-Security-Policy that
 * forbids both: everything the server sent (banner, reply texts, addresses) is untrusted input and is
 * escaped where it is written. Pure (returns a string).
 */
import type { DataProbeResult, Finding, Outcome, ProbeTiming, StepResult } from './types.js';
import { describeOutcome, secs } from './words.js';
import { fixesFor, type FixBlock, type FixOptions } from './fixes/index.js';
import { REPORT_CSS } from './render-html-style.js';

export interface HtmlOptions {
  /** The server's passive range when the admin has one (the fixes suggest one otherwise). */
  fixes?: FixOptions;
}

/** Text -> HTML text or attribute value (all five specials, so it is safe in both). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const e = escapeHtml;

/** The grid's rows: data modes in the doctor's preference order (plan.ts preferenceRank). */
const ROWS: Array<[string, string]> = [
  ['epsv', 'EPSV'], ['pasv-reply', 'PASV, reply address'], ['pasv-control', 'PASV, control host'],
  ['eprt-local', 'EPRT, local address'], ['port-local', 'PORT, local address'], ['eprt-range', 'EPRT, port range'],
  ['port-range', 'PORT, port range'], ['eprt-public', 'EPRT, public address'], ['port-public', 'PORT, public address'],
];
/** The grid's columns: the id suffix of each security setting. */
const COLUMNS: Array<[string, string]> = [['', 'cleartext'], ['+tls', 'TLS'], ['+tls12', 'TLS 1.2'], ['+ccc', 'TLS then CCC']];

type CellState = 'ok' | 'fail' | 'skip';
function stateOf(o: Outcome): CellState { return o.kind === 'ok' ? 'ok' : o.kind === 'skipped' ? 'skip' : 'fail'; }

/** A few words for a grid cell; the whole sentence is in the cell's title and evidence. */
export function shortOutcome(o: Outcome): string {
  const where = o.connection ? `${o.connection} ` : '';
  switch (o.kind) {
    case 'ok': return `works, ${secs(o.ms)}`;
    case 'timeout': return o.phase === 'accept' ? `no connect-back, ${secs(o.ms)}` : `${where}dropped, ${secs(o.ms)}`;
    case 'refused': return `${where}refused, ${secs(o.ms)}`;
    case 'reset': return `${where}reset`;
    case 'closed': return `${where}closed`;
    case 'unreachable': return 'unreachable';
    case 'reply': return `${o.phase ? `${o.phase}: ` : ''}${o.replyCode ?? '?'}`;
    case 'tls': return `TLS: ${o.tlsFailure ?? 'failed'}`;
    case 'protocol': return 'unusable reply';
    case 'skipped': return 'not tried';
    default: return 'failed';
  }
}

export function renderHtml(f: Finding, opts: HtmlOptions = {}): string {
  const scheme = f.target.secure === 'implicit' ? 'ftps' : 'ftp';
  const title = `ftpkit doctor: ${scheme}://${f.target.host}:${f.target.port}`;
  const fixes = fixesFor(f, opts.fixes);
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Defence in depth behind the escaping: no script, no fetch of any kind when the file is viewed.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${e(title)}</title><style>${REPORT_CSS}</style></head><body>`,
    `<h1>${e(title)}</h1>`,
    `<p class="sub">as ${e(f.target.user)}, started ${e(f.startedAt)}, ${e(secs(f.elapsedMs))}`
      + `${f.truncated ? `, stopped by the ${e(secs(f.budgetMs))} budget` : ''}</p>`,
    gridHtml(f.matrix),
    stepsHtml(f.steps),
    causesHtml(f),
    notesHtml(f),
    recommendedHtml(f),
    fixesHtml('For the server\'s admin', f.causes.filter(c => c.adminFix).map(c => c.adminFix!), fixes.admin, 'admin-fixes'),
    fixesHtml('For you', f.causes.filter(c => c.userFix).map(c => c.userFix!), fixes.user, 'user-fixes'),
    timelineHtml(f),
    '</body></html>',
  ];
  return parts.filter(Boolean).join('\n') + '\n';
}

function evidenceText(lines: { atMs: number; text: string }[]): string {
  return lines.map(l => `${secs(l.atMs).padStart(7)}  ${l.text}`).join('\n');
}

function gridHtml(matrix: DataProbeResult[]): string {
  if (!matrix.length) return '<h2>Data connections</h2><p id="no-matrix">No data connection was tried (no FTP session could be set up).</p>';
  const byId = new Map(matrix.map(r => [r.spec.id, r]));
  const cols = COLUMNS.filter(([suffix]) => matrix.some(r => r.spec.id.endsWith(suffix) && (suffix || !r.spec.tls)));
  const rows = ROWS.filter(([id]) => cols.some(([suffix]) => byId.has(id + suffix)));
  const head = `<tr><th>data mode</th>${cols.map(([, name]) => `<th>${e(name)}</th>`).join('')}</tr>`;
  const body = rows.map(([id, name]) => `<tr><th>${e(name)}</th>${cols.map(([suffix]) => cellHtml(byId.get(id + suffix))).join('')}</tr>`);
  return `<h2>Data connections</h2>\n<table class="grid" id="grid">${head}\n${body.join('\n')}</table>`;
}

function cellHtml(r: DataProbeResult | undefined): string {
  if (!r) return '<td class="cell none" data-state="none">-</td>';
  const state = stateOf(r.outcome);
  // doctor-tls marks cells probed without certificate verification; shown when the field is there.
  const unverified = (r as DataProbeResult & { unverified?: boolean }).unverified ? '<span class="mark">unverified</span>' : '';
  const adv = r.advertised ? (r.advertised.host ? `227 ${r.advertised.host}:${r.advertised.port}` : `229 port ${r.advertised.port}`) : '';
  const xfer = r.transfer ? `upload ${r.transfer.upload}, download ${r.transfer.download}, delete ${r.transfer.delete}` : '';
  const facts = [describeOutcome(r.outcome), adv, r.offered ? `offered ${r.offered}` : '', xfer].filter(Boolean).join('\n');
  const evidence = evidenceText(r.evidence);
  return `<td class="cell ${state}" data-cell="${e(r.spec.id)}" data-state="${state}" title="${e(r.spec.label)}: ${e(describeOutcome(r.outcome))}">`
    + `<details><summary><span class="state">${state === 'ok' ? 'ok' : state === 'skip' ? '-' : 'FAIL'}</span> `
    + `<span class="short">${e(shortOutcome(r.outcome))}</span>${unverified}</summary>`
    + `<pre class="facts">${e(facts)}</pre><pre class="evidence">${e(evidence || '(no transcript lines)')}</pre></details></td>`;
}

function stepsHtml(steps: StepResult[]): string {
  if (!steps.length) return '';
  const rows = steps.map(s => {
    const state = s.absent ? 'skip' : stateOf(s.outcome);
    return `<tr class="step" data-step="${e(s.id)}"><td class="${state}">${state === 'ok' ? 'ok' : s.absent ? 'no' : state === 'skip' ? '-' : 'FAIL'}</td>`
      + `<td>${e(s.title)}</td><td><span class="summary">${e(s.summary)}</span>`
      + (s.evidence.length ? `<details><summary>evidence</summary><pre class="evidence">${e(evidenceText(s.evidence))}</pre></details>` : '')
      + '</td></tr>';
  });
  return `<h2>Steps</h2>\n<table id="steps">${rows.join('\n')}</table>`;
}

function causesHtml(f: Finding): string {
  if (!f.causes.length) return `<h2>Findings</h2><p id="causes">${f.recommended?.probeId ? 'No problem found.' : 'No cause named.'}</p>`;
  const items = f.causes.map(c => `<li data-cause="${e(c.code)}"><b>${e(c.title)}</b><br>why: ${e(c.detail)}`
    + (c.userFix ? `<br>you: ${e(c.userFix)}` : '') + '</li>');
  return `<h2>Findings</h2>\n<ul class="causes" id="causes">${items.join('\n')}</ul>`;
}

/** Facts that are not problems (the server's session limit, read-only access), and what the probes cost. */
function notesHtml(f: Finding): string {
  const items = (f.notes ?? []).map(n => `<li data-note="${e(n.code)}"><b>${e(n.title)}</b><br>${e(n.detail)}</li>`);
  const st = f.sessions;
  const cost = st ? `<p id="sessions">${e(`${st.logins} login(s) in all, up to ${st.peak} session(s) at once`)}</p>` : '';
  if (!items.length && !cost) return '';
  return `<h2>Notes</h2>
${items.length ? `<ul class="notes" id="notes">${items.join('\n')}</ul>\n` : ''}${cost}`;
}

function recommendedHtml(f: Finding): string {
  const r = f.recommended;
  if (!r?.probeId) return '<h2>Recommended settings</h2><p id="recommended">None: no combination of settings got a data connection through.</p>';
  return `<h2>Recommended settings</h2>\n<div id="recommended"><p>${e(r.reason)}</p>`
    + `<pre>${e(JSON.stringify(r.settings, null, 2))}</pre>`
    + (f.works.length > 1 ? `<p>also works: ${e(f.works.slice(1).join(', '))}</p>` : '') + '</div>';
}

function fixesHtml(heading: string, texts: string[], blocks: FixBlock[], id: string): string {
  // Like the text report: no heading over nothing.
  if (!texts.length && !blocks.length) return '';
  const list = texts.length ? `<ul>${texts.map(t => `<li>${e(t)}</li>`).join('')}</ul>` : '';
  const pre = blocks.map(b => `<h3>${e(b.product)} <span class="sub">(${e(b.where)})</span></h3><pre>${e(b.lines.join('\n'))}</pre>`
    + (b.note ? `<p class="sub">note: ${e(b.note)}</p>` : ''));
  return `<h2>${e(heading)}</h2>\n<div id="${id}">${list}${pre.join('\n')}</div>`;
}

function timelineHtml(f: Finding): string {
  const items: Array<{ label: string; at: ProbeTiming; state: CellState }> = [
    ...f.steps.filter(s => s.at).map(s => ({ label: s.title, at: s.at!, state: s.absent ? 'skip' as const : stateOf(s.outcome) })),
    ...f.matrix.filter(r => r.at).map(r => ({ label: r.spec.label, at: r.at!, state: stateOf(r.outcome) })),
  ];
  if (!items.length) return '';
  const total = Math.max(1, f.elapsedMs, ...items.map(i => i.at.endMs));
  const pct = (ms: number) => `${((ms / total) * 100).toFixed(2)}%`;
  const rows = items.map(i => `<tr class="tl"><td>${e(i.label)}</td><td>${e(secs(i.at.startMs))} - ${e(secs(i.at.endMs))}</td>`
    + `<td class="bars"><div class="tl-row"><div class="tl-bar ${i.state}" style="left:${pct(i.at.startMs)};width:${pct(i.at.endMs - i.at.startMs)}"></div></div></td></tr>`);
  return `<h2>Timeline</h2>\n<table class="timeline-table" id="timeline"><tr><th>probe</th><th>start - end</th><th>0 - ${e(secs(total))}</th></tr>\n${rows.join('\n')}</table>`;
}
