/**
 * `ftpkit doctor` in every shared lab scenario (../shared/lab S1...S14) and in our own (test/lab/scenarios):
 * run in the client namespace against the lab's server, then assert
 *  (a) `ftpkit get` and `put` with the recommended settings (`--settings f.json`) succeed whenever any
 *      setting can, (b) the named cause is the right one, (c) the time bound holds: about 5 s when failures
 *      are fast, the connect timeout plus a few seconds when packets are dropped.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { CLI, LAB_PUREFTPD, Lab, OWN_SCENARIOS, labTestOptions, requireLab, shq } from '../support/lab.js';
import type { Finding } from '../../src/doctor/types.js';

const opts = labTestOptions(['vsftpd']);
const CONNECT_S = 4;
/** Slack for a loaded 2-core machine running several labs at once. */
const FAST_BOUND_MS = 5000 + 2500;
const DROP_BOUND_MS = CONNECT_S * 1000 + 5000;

interface Case {
  scenario: string;
  ftpd?: 'vsftpd' | 'pyftpdlib' | 'pure-ftpd';
  /** Cause codes that must be named (empty: none at all). */
  causes: string[];
  /** Some setting works, so get/put must succeed with the recommendation. */
  works: boolean;
  /** No silently dropped packet on the way: the whole diagnosis is fast. */
  fast: boolean;
  /** Extra doctor flags (shell words; lab variables allowed). */
  flags?: string;
  /** Recommended settings must match. */
  check?: (f: Finding) => void;
  /**
   * Run the doctor as a new user would against the server's own self-signed certificate: no --insecure
   * (and no --ca). The certificate must be a finding, pinned in the recommendation.
   */
  untrusted?: boolean;
}

/** The certificate finding of an `untrusted` case: the chain read, the pin recommended, never --insecure. */
function checkPinned(f: Finding): void {
  const leaf = f.certificate?.chain[0];
  assert.ok(leaf && f.certificate?.pinned, JSON.stringify(f.certificate));
  assert.deepEqual(f.recommended?.settings.tls?.pin, [leaf.fingerprint]);
  assert.equal(f.recommended?.settings.tls?.rejectUnauthorized, undefined);
  assert.ok(f.matrix.filter(r => r.spec.tls).every(r => r.unverified), 'TLS cells marked unverified');
}

const CASES: Case[] = [
  { scenario: 'S1', causes: [], works: true, fast: true,
    check: f => assert.equal(f.recommended?.probeId, 'epsv+tls') },
  { scenario: 'S2', causes: ['server-private-pasv-address'], works: true, fast: false,
    check: f => assert.match(f.causes[0]!.title, /10\.0\.20\.2/) },
  { scenario: 'S3', causes: ['alg-blind-under-tls'], works: true, fast: false,
    check: f => assert.ok(f.works.includes('epsv') && !f.works.includes('epsv+tls')) },
  { scenario: 'S4', causes: ['server-passive-ports-dropped'], works: true, fast: false,
    check: f => assert.equal(f.recommended?.settings.data?.mode, 'active') },
  { scenario: 'S4r', causes: ['server-passive-ports-refused'], works: true, fast: true,
    check: f => assert.equal(f.recommended?.settings.data?.mode, 'active') },
  { scenario: 'S5', causes: ['client-active-blocked'], works: true, fast: false,
    check: f => assert.equal(f.recommended?.settings.data?.mode, 'passive') },
  { scenario: 'S6', causes: ['client-active-port-range'], works: true, fast: false, flags: '--port-range $CLIENT_PORT_RANGE',
    check: f => assert.ok(f.works.includes('eprt-range')) },
  { scenario: 'S7', causes: ['client-nat-port-refused'], works: true, fast: true,
    flags: '--port-range $CLIENT_PORT_RANGE --port-address $CLIENT_PUBLIC_IP',
    check: f => assert.ok(f.works.includes('eprt-public') && !f.works.includes('eprt-local')) },
  // pyftpdlib is single-threaded: under the burst of ~20 sessions its first TLS handshakes can stall one
  // session for the command timeout; the doctor retries that cell, so S8 gets the drop-case bound.
  { scenario: 'S8', causes: ['epsv-unsupported'], works: true, fast: false,
    check: f => assert.notEqual(f.recommended?.settings.data?.passive?.command, 'epsv') },
  // S9, S10 and S3 with vsftpd's own self-signed certificate, as a new user meets it (no --insecure, no --ca).
  { scenario: 'S9', causes: ['implicit-tls-port', 'tls-certificate'], works: true, fast: false, untrusted: true,
    check: f => assert.equal(f.recommended?.settings.secure, 'implicit') },
  { scenario: 'S10', causes: ['tls-required', 'tls-certificate'], works: true, fast: true, untrusted: true,
    check: f => { assert.equal(f.recommended?.settings.secure, 'explicit'); assert.ok(!f.matrix.some(r => r.spec.ccc), 'vsftpd refuses CCC: no CCC cells'); } },
  // The certificate finding must not hide the data path: the TLS-blind ALG is still named.
  { scenario: 'S3', causes: ['alg-blind-under-tls', 'tls-certificate'], works: true, fast: false, untrusted: true },
  { scenario: 'S11', causes: [], works: true, fast: true },
  { scenario: 'S12', causes: ['control-port-dropped'], works: false, fast: false },
  { scenario: 'S12r', causes: ['control-port-refused'], works: false, fast: true },
  { scenario: 'S14', causes: [], works: true, fast: true },
  // Our own scenarios: situations the shared lab lacks.
  { scenario: path.join(OWN_SCENARIOS, 'N2-client-nat-no-forward.sh'), ftpd: 'vsftpd', causes: ['client-nat-port-refused', 'client-nat-no-forward'],
    works: true, fast: false, flags: '--port-address $CLIENT_PUBLIC_IP',
    check: f => assert.equal(f.recommended?.settings.data?.mode, 'passive') },
  { scenario: path.join(OWN_SCENARIOS, 'N3-client-nat-alg.sh'), ftpd: 'vsftpd', causes: ['alg-blind-under-tls'], works: true, fast: true,
    check: f => assert.ok(f.works.includes('eprt-local') && !f.works.includes('eprt-local+tls')) },
  { scenario: path.join(OWN_SCENARIOS, 'N4-server-nat-nothing-forwarded.sh'), ftpd: 'vsftpd',
    causes: ['server-private-pasv-address', 'server-passive-ports-dropped'], works: true, fast: false,
    check: f => assert.equal(f.recommended?.settings.data?.mode, 'active') },
  { scenario: path.join(OWN_SCENARIOS, 'N6-epsv-eaten.sh'), ftpd: 'vsftpd', causes: ['command-unanswered'], works: true, fast: false,
    check: f => assert.ok(f.works.includes('epsv+tls') && f.works.includes('pasv-reply') && !f.works.includes('epsv')) },
  // The same situations with another server (pure-ftpd: other reply texts, 421 instead of 530, names the
  // PORT refusal): the inference must not depend on vsftpd's wording.
  { scenario: 'S2', ftpd: 'pure-ftpd', causes: ['server-private-pasv-address'], works: true, fast: false },
  { scenario: 'S7', ftpd: 'pure-ftpd', causes: ['client-nat-port-refused'], works: true, fast: true,
    flags: '--port-range $CLIENT_PORT_RANGE --port-address $CLIENT_PUBLIC_IP',
    check: f => assert.ok(f.works.includes('port-public')) },
  { scenario: 'S10', ftpd: 'pure-ftpd', causes: ['tls-required'], works: true, fast: true },
  { scenario: 'S3', ftpd: 'pure-ftpd', causes: ['alg-blind-under-tls'], works: true, fast: false },
  { scenario: path.join(OWN_SCENARIOS, 'N5-both-sides-blocked.sh'), ftpd: 'vsftpd',
    causes: ['server-passive-ports-dropped', 'client-active-blocked', 'nothing-works'], works: false, fast: false },
];

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const name = (c: Case) => `${path.basename(c.scenario, '.sh')}${c.ftpd === 'pure-ftpd' ? ' (pure-ftpd)' : ''}${c.untrusted ? ' (self-signed, no --insecure)' : ''}`;
const pureOpts = !existsSync(LAB_PUREFTPD) && process.env.FTPKIT_REQUIRE_LAB !== '1'
  ? { skip: `pure-ftpd not unpacked at ${LAB_PUREFTPD} (see .ci/run deps)` } : opts;

describe('ftpkit doctor in the lab', { concurrency: 4 }, () => {
  let tmp: string;
  const tmpReady = mkdtemp(path.join(os.tmpdir(), 'ftpkit-doctor-lab-')).then(d => { tmp = d; });
  after(async () => { await tmpReady; await rm(tmp, { recursive: true, force: true }); });

  for (const c of CASES) {
    it(`${name(c)}: ${c.causes.join(' + ') || 'no problem'}`, c.ftpd === 'pure-ftpd' ? pureOpts : opts, async t => {
      requireLab(['vsftpd']);
      await tmpReady;
      const lab = await Lab.up(c.scenario, c.ftpd ? { ftpd: c.ftpd } : {});
      try {
        const dir = await mkdtemp(path.join(tmp, `${lab.id}-`));
        const json = path.join(dir, 'finding.json');
        const url = '"ftp://$FTP_USER:$FTP_PASS@$FTP_URL_HOST:$FTP_PORT/$FTP_UPLOAD_DIR/"';
        const doc = await lab.sh('client',
          `node --import tsx ${shq(CLI)} doctor --json ${c.untrusted ? '' : '--insecure'} --connect-timeout ${CONNECT_S}s ${c.flags ?? ''} ${url} > ${shq(json)}`,
          { timeoutMs: 60_000 });
        const text = await readFile(json, 'utf8').catch(() => '');
        assert.ok(text, `doctor printed nothing (exit ${doc.code}):\n${doc.stderr.slice(-3000)}`);
        const f = JSON.parse(text) as Finding;
        const summary = `causes: ${f.causes.map(x => `${x.code} (${x.title})`).join('; ') || 'none'}\nworks: ${f.works.join(', ')}\n`
          + `steps: ${f.steps.map(s => `${s.id}=${s.outcome.kind}`).join(' ')}\n`
          + `matrix: ${f.matrix.map(r => `${r.spec.id}=${r.outcome.kind}${r.outcome.replyCode ?? ''}`).join(' ')}\n`
          // When each cell ran and on which pooled session, and what the pool met (the time bound's evidence).
          + `timeline: ${f.matrix.map(r => `${r.spec.id}@${r.session ?? '-'}[${r.at?.startMs ?? '?'}-${r.at?.endMs ?? '?'}]`).join(' ')}\n`
          + `steps at: ${f.steps.map(s => `${s.id}[${s.at?.startMs ?? '?'}-${s.at?.endMs ?? '?'}]`).join(' ')}\n`
          + `sessions: ${JSON.stringify(f.sessions)}`;

        t.diagnostic(`${name(c)}: ${f.elapsedMs} ms, causes ${f.causes.map(x => x.code).join(',') || '-'}, recommended ${f.recommended?.probeId ?? '-'}, `
          + `${f.sessions?.logins ?? '?'} logins, peak ${f.sessions?.peak ?? '?'} sessions${f.sessions?.limit ? `, limit ${f.sessions.limit}` : ''}`);
        // FTPKIT_LAB_VERBOSE=1: the evidence of every case, also when it passes (docs/testing.md).
        if (process.env.FTPKIT_LAB_VERBOSE) t.diagnostic(summary);
        // (b) the right cause(s), and nothing else.
        assert.deepEqual(f.causes.map(x => x.code).sort(), [...c.causes].sort(), summary);
        c.check?.(f);
        if (c.untrusted) checkPinned(f);
        // (c) the time bound.
        assert.ok(f.elapsedMs <= (c.fast ? FAST_BOUND_MS : DROP_BOUND_MS), `took ${f.elapsedMs} ms (${c.fast ? 'fast' : 'drop'} case)\n${summary}`);
        assert.equal(doc.code, c.works ? 0 : 5, `doctor exit code\n${summary}`);

        // (a) get and put with the recommended settings.
        if (!c.works) { assert.equal(f.recommended?.probeId, undefined, summary); return; }
        assert.ok(f.recommended?.probeId, summary);
        const scheme = f.recommended.settings.secure === 'implicit' ? 'ftps' : 'ftp';
        const base = `"${scheme}://$FTP_USER:$FTP_PASS@$FTP_URL_HOST:$FTP_PORT`;
        const local = path.join(dir, 'hello.txt');
        const get = await lab.sh('client',
          `node --import tsx ${shq(CLI)} get --settings ${shq(json)} ${base}/$FTP_FILE" ${shq(local)}`, { timeoutMs: 30_000 });
        assert.equal(get.code, 0, `get with the recommended settings failed:\n${get.stderr.slice(-2000)}\n${summary}`);
        assert.equal(sha256(await readFile(local)), lab.env.FTP_FILE_SHA256);
        const up = path.join(dir, 'up.txt');
        await writeFile(up, `uploaded by the doctor lab test ${lab.id}\n`);
        const put = await lab.sh('client',
          `node --import tsx ${shq(CLI)} put --settings ${shq(json)} ${shq(up)} ${base}/$FTP_UPLOAD_DIR/put-${lab.id}.txt"`, { timeoutMs: 30_000 });
        assert.equal(put.code, 0, `put with the recommended settings failed:\n${put.stderr.slice(-2000)}\n${summary}`);
        const stored = await readFile(path.join(lab.env.LAB_STATE!, 'srv', lab.env.FTP_UPLOAD_DIR!, `put-${lab.id}.txt`), 'utf8');
        assert.match(stored, new RegExp(lab.id));
      } finally {
        await lab.down();
      }
    });
  }
});
