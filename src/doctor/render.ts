/**
 * The human report of a Finding: the steps with their evidence, the matrix (what works, how the rest
 * failed and how long it took), the causes in the user's words, what the server's admin should fix (with
 * lines to paste, fixes/), the recommended settings and the same settings in other tools' words. Pure.
 */
import type { Finding } from './types.js';
import { describeOutcome, secs } from './words.js';
import { fixesFor, type FixBlock, type FixOptions } from './fixes/index.js';
import { urlHost } from '../protocol/hostport.js';

export interface RenderOptions {
  /** Include transcript evidence of each step and of failed cells. */
  verbose?: boolean;
  /** The server's passive range when the admin has one (the fixes suggest one otherwise). */
  fixes?: FixOptions;
}

function mark(ok: boolean | undefined, absent = false): string { return ok === undefined ? ' - ' : ok ? ' ok' : absent ? ' no' : 'FAIL'; }

export function renderReport(f: Finding, opts: RenderOptions = {}): string {
  const out: string[] = [];
  const p = (s = '') => out.push(s);
  p(`ftpkit doctor: ${f.target.secure === 'implicit' ? 'ftps' : 'ftp'}://${f.target.host}:${f.target.port} as ${f.target.user} `
    + `(${secs(f.elapsedMs)}${f.truncated ? `, stopped by the ${secs(f.budgetMs)} budget` : ''})`);
  p();
  p('Steps');
  for (const s of f.steps) {
    const ok = s.outcome.kind === 'ok' ? true : s.outcome.kind === 'skipped' ? undefined : false;
    p(`  [${mark(ok, s.absent).padStart(4)}] ${s.title}: ${s.summary}`);
    if (opts.verbose) for (const e of s.evidence) p(`           ${secs(e.atMs).padStart(7)}  ${e.text}`);
  }
  if (f.matrix.length) {
    p();
    const st = f.sessions;
    p(st ? `Data connections (${st.logins} login${st.logins === 1 ? '' : 's'} in all, up to ${st.peak} session${st.peak === 1 ? '' : 's'} at once)`
      : 'Data connections');
    for (const r of f.matrix) {
      const ok = r.outcome.kind === 'ok' ? true : r.outcome.kind === 'skipped' ? undefined : false;
      const adv = r.advertised ? (r.advertised.host ? ` [227 ${r.advertised.host}:${r.advertised.port}]` : ` [229 port ${r.advertised.port}]`) : '';
      const off = r.offered ? ` [offered ${r.offered}]` : '';
      const xfer = r.transfer ? `; upload ${r.transfer.upload}, download ${r.transfer.download}, delete ${r.transfer.delete}` : '';
      const label = r.unverified ? `${r.spec.label} (unverified)` : r.spec.label;
      p(`  [${mark(ok).padStart(4)}] ${label.padEnd(46)} ${describeOutcome(r.outcome)}${adv}${off}${xfer}`);
      if (opts.verbose && r.outcome.kind !== 'ok') for (const e of r.evidence.slice(-12)) p(`           ${secs(e.atMs).padStart(7)}  ${e.text}`);
    }
  }
  if (f.matrix.length) {
    const short: Record<string, string> = {
      epsv: 'EPSV', 'pasv-reply': 'PASV (reply address)', 'pasv-control': 'PASV (control host)', 'eprt-local': 'EPRT',
      'port-local': 'PORT', 'eprt-range': 'EPRT (port range)', 'port-range': 'PORT (port range)',
      'eprt-public': 'EPRT (public address)', 'port-public': 'PORT (public address)',
    };
    const group = (suffix: string) => f.works.filter(id => id.replace(/^[a-z-]+/, '') === suffix)
      .map(id => short[id.replace(/\+(tls|tls12|ccc)$/, '')] ?? id);
    const parts = [['cleartext', group('')], ['TLS', group('+tls')], ['TLS 1.2', group('+tls12')], ['TLS then CCC', group('+ccc')]] as const;
    const text = parts.filter(([, l]) => l.length).map(([n, l]) => `${n}: ${l.join(', ')}`).join('; ');
    p();
    p(`What works: ${text || 'nothing'}`);
  }
  const leftovers = f.matrix.filter(r => r.transfer?.upload === 'ok' && r.transfer.delete !== 'ok').length;
  if (leftovers) {
    p(`  note: ${leftovers} test file(s) .ftpkit-doctor-*.txt could not be deleted (the server allows upload but not delete)`);
  }
  p();
  const fixes = fixesFor(f, opts.fixes);
  if (f.causes.length) {
    p('Diagnosis');
    for (const c of f.causes) {
      p(`  * ${c.title}`);
      p(`    why: ${c.detail}`);
      if (c.userFix) p(`    you: ${c.userFix}`);
    }
  } else if (f.recommended?.probeId) {
    p('Diagnosis: no problem found.');
  }
  if (f.notes?.length) {
    // Facts that are not problems: never under "Diagnosis".
    p();
    p('Notes');
    for (const n of f.notes) {
      p(`  * ${n.title}`);
      p(`    ${n.detail}`);
    }
  }
  const adminTexts = f.causes.filter(c => c.adminFix).map(c => c.adminFix!);
  // A heading only over something: the causes' words for the admin, or lines to paste.
  if (adminTexts.length || fixes.admin.length) {
    p();
    p('For the server\'s admin');
    for (const t of adminTexts) p(`  * ${t}`);
    for (const b of fixes.admin) pasteBlock(p, b);
  }
  p();
  if (f.recommended?.probeId) {
    p(`Recommended: ${f.recommended.reason}`);
    p(`  settings:  ${JSON.stringify(f.recommended.settings)}`);
    // Implicit TLS needs an ftps:// URL with the settings too (the client refuses ftp:// for it).
    const url = f.recommended.settings.secure === 'implicit' ? `ftps://${urlHost(f.target.host)}:${f.target.port}/FILE` : 'URL';
    p(`  ftpkit:    ftpkit doctor --json URL > f.json; ftpkit get --settings f.json ${url}`);
    if (f.works.length > 1) p(`  also works: ${f.works.slice(1).join(', ')}`);
  } else {
    p(f.matrix.length
      ? 'Recommended: none - no combination of settings got a data connection through (see the diagnosis).'
      : 'Recommended: none - no FTP session could be set up, so no data connection was tried (see the diagnosis).');
  }
  if (fixes.user.length) {
    p();
    p(f.recommended?.probeId ? 'For you, the same settings in other tools (ready to paste)' : 'For you (ready to paste)');
    for (const b of fixes.user) pasteBlock(p, b);
  }
  return out.join('\n') + '\n';
}

/** "  vsftpd (/etc/vsftpd.conf, then restart vsftpd):" and the lines under it, indented for copying. */
function pasteBlock(p: (s?: string) => void, b: FixBlock): void {
  p(`  ${b.product} (${b.where}):`);
  for (const l of b.lines) p(`      ${l}`);
  if (b.note) p(`      note: ${b.note}`);
}
