/**
 * `diagnose()`: the doctor's orchestration. Steps in order (resolve, TCP, greeting / implicit TLS, FEAT +
 * AUTH TLS + login), then the data-connection matrix over a pool of logged-in sessions (session-pool.ts:
 * the steps' logins are its first sessions), under one time budget. The conclusions come from the pure
 * `infer()`.
 *
 * Time: cells waiting on dropped packets run side by side as far as the server allows, so a silently
 * dropped data port costs about one data timeout, not one per combination; the budget is a hard stop
 * (clients still running are destroyed and reported as not finished).
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { isIP } from 'node:net';
import type { ClientSettings, TlsSettings } from '../client/options.js';
import { FtpUsageError } from '../errors.js';
import { unmapIPv4 } from '../protocol/hostport.js';
import { probeGreeting, probeResolve, type GreetingProbe } from './control-probe.js';
import { planMatrix, settingsFor } from './plan.js';
import { SessionCounter, dropSession, endSession, openSession, probeCellOn, type SessionTarget } from './session-probe.js';
import { infer } from './infer.js';
import { askCcc, trustByPin, type CccAnswer } from './tls-steps.js';
import { markUnverified, pinnedTls } from './certificate-finding.js';
import { isSessionLimit } from './infer-shared.js';
import { runPool, type PoolSeed } from './session-pool.js';
import type { FtpClient } from '../client/ftp-client.js';
import type { CertificateFinding, DataProbeResult, DataProbeSpec, Finding, Outcome, StepResult } from './types.js';
import { describeOutcome, secs } from './words.js';

export interface DoctorTarget {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  /** Remote directory to list and write in. */
  path?: string;
  /** 'implicit' for ftps:// URLs; 'explicit' when the user wants TLS (then no cleartext login is sent). */
  secure?: 'none' | 'explicit' | 'implicit';
}

export interface DiagnoseOptions {
  /** Total time budget (default 20 s). */
  budgetMs?: number;
  /** TCP connect timeout, also the wait for a data connection (default 5 s). */
  connectTimeoutMs?: number;
  /** Active mode: a port range your firewall/NAT opens. */
  portRange?: { min: number; max: number };
  /** Active mode: your public address (client behind NAT with forwarded ports). */
  portAddress?: string;
  /** TLS options (CA, servername, rejectUnauthorized) used by the probes and carried into the recommendation. */
  tls?: TlsSettings;
  /** Upload + download + delete a small file where writable (default true). */
  writeCheck?: boolean;
  /** Skip active mode. */
  noActive?: boolean;
  /** Name resolution seam (tests, embedding with a custom resolver); default: the system resolver. */
  resolver?: (host: string) => Promise<string[]>;
  /** Progress callback: one line per finished step or cell (the CLI prints these on a TTY). */
  onProgress?: (line: string) => void;
}

/** ftp://user:pass@host:port/path or ftps:// (implicit TLS). */
export function parseDoctorUrl(text: string): DoctorTarget {
  let url: URL;
  try { url = new URL(text); } catch { throw new FtpUsageError(`invalid URL: ${text}`); }
  const proto = url.protocol.toLowerCase();
  if (proto !== 'ftp:' && proto !== 'ftps:') throw new FtpUsageError(`not an ftp:// or ftps:// URL: ${text}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new FtpUsageError(`the URL has no host: ${text}`);
  const dec = (s: string) => { const d = decodeURIComponent(s); if (/[\r\n\0]/.test(d)) throw new FtpUsageError('CR, LF or NUL in the URL'); return d; };
  const path = dec(url.pathname.replace(/^\//, ''));
  return {
    host,
    port: url.port ? Number(url.port) : proto === 'ftps:' ? 990 : 21,
    ...(url.username ? { user: dec(url.username) } : {}),
    ...(url.password ? { password: dec(url.password) } : {}),
    path,
    secure: proto === 'ftps:' ? 'implicit' : 'none',
  };
}

function step(id: StepResult['id'], title: string, outcome: Outcome, summary: string, evidence: StepResult['evidence'] = []): StepResult {
  return { id, title, outcome, summary, evidence };
}

export async function diagnose(target: string | DoctorTarget, options: DiagnoseOptions = {}): Promise<Finding> {
  const t = typeof target === 'string' ? parseDoctorUrl(target) : target;
  const startedAt = new Date();
  const t0 = performance.now();
  const budgetMs = options.budgetMs ?? 20_000;
  const connectMs = Math.max(500, Math.min(options.connectTimeoutMs ?? 5000, budgetMs / 2));
  const port = t.port ?? (t.secure === 'implicit' ? 990 : 21);
  const user = t.user ?? 'anonymous';
  const password = t.password ?? (user === 'anonymous' || user === 'ftp' ? 'anonymous@' : '');
  const progress = options.onProgress ?? (() => {});
  const ac = new AbortController();
  // Every probe (one per matrix cell) listens for the budget's end on this one signal.
  setMaxListeners(200, ac.signal);
  const budgetTimer = setTimeout(() => ac.abort(), budgetMs);
  const steps: StepResult[] = [];
  let matrix: DataProbeResult[] = [];
  let addresses: string[] = [];
  let controlAddress: string | undefined;
  let localAddress: string | undefined;
  let secureFound: 'explicit' | 'implicit' = t.secure === 'implicit' ? 'implicit' : 'explicit';
  let certificate: CertificateFinding | undefined;
  const counter = new SessionCounter();
  /** The server's session limit, when it refused a session (the pool's last word on it). */
  let limitSeen: { sessions: number; reply: string } | undefined;
  const noteLimit = (o: Outcome) => {
    limitSeen = { sessions: Math.max(1, counter.openNow), reply: `${o.replyCode} ${o.replyText ?? ''}`.trim() };
  };
  /** Resolves when the pool's sessions are closed. */
  let drained: Promise<void> = Promise.resolve();
  const addStep = (s: StepResult) => {
    // A step is added when it ends; its outcome says how long it took (the report's timeline).
    const endMs = Math.round(performance.now() - t0);
    steps.push({ ...s, at: { startMs: Math.max(0, endMs - Math.round(s.outcome.ms)), endMs } });
    progress(`${s.title}: ${s.summary}`);
  };

  try {
    // 1. Name resolution.
    const res = await probeResolve(t.host, connectMs, ...(options.resolver ? [options.resolver] : []));
    addresses = res.addresses;
    addStep(step('resolve', 'name resolution', res.outcome,
      res.outcome.kind === 'ok' ? `${t.host} -> ${addresses.join(', ')}` : describeOutcome(res.outcome), res.evidence));
    if (res.outcome.kind !== 'ok') return finish();
    let host = isIP(t.host) ? t.host : addresses[0]!;
    // A name with IPv4 and IPv6 addresses: try the other family alongside. A dead AAAA (or A) record makes
    // clients that prefer it hang or fall back slowly; and when the first family fails we go on with the other.
    const altHost = isIP(t.host) ? undefined : addresses.find(a => isIP(a) !== isIP(host));

    // 2. TCP + greeting; implicit TLS when the port suggests it or no greeting comes.
    const greetingMs = Math.min(connectMs, 4000);
    const implicitFirst = t.secure === 'implicit' || port === 990;
    // On 990 both are tried at once; a cleartext greeting comes within milliseconds if it comes at all, so
    // the cleartext wait is short there (an implicit-FTPS port never greets in cleartext).
    const plainP = t.secure === 'implicit' ? undefined
      : probeGreeting({ host, port, connectTimeoutMs: connectMs, greetingTimeoutMs: implicitFirst ? Math.min(greetingMs, 1500) : greetingMs, signal: ac.signal });
    const implicitP = implicitFirst
      ? probeGreeting({ host, port, connectTimeoutMs: connectMs, greetingTimeoutMs: greetingMs, implicitTls: true, signal: ac.signal, ...(options.tls?.servername ? { servername: options.tls.servername } : {}) })
      : undefined;
    // On the default port 21, look at 990 alongside (no extra time): when 21 is blocked or silent, an
    // implicit-FTPS port that answers is the likely intended one.
    const side990P = port === 21 && t.secure !== 'implicit'
      ? probeGreeting({ host, port: 990, connectTimeoutMs: connectMs, greetingTimeoutMs: greetingMs, implicitTls: true, signal: ac.signal,
        ...(options.tls?.servername ? { servername: options.tls.servername } : {}) })
      : undefined;
    const altP = altHost && t.secure !== 'implicit'
      ? probeGreeting({ host: altHost, port, connectTimeoutMs: connectMs, greetingTimeoutMs: greetingMs, signal: ac.signal })
      : undefined;
    let plain = plainP ? await plainP : undefined;
    /** The address not used for the rest of the diagnosis, and what it did (reported as step 'tcp-alt'). */
    let other: { addr: string; probe: Promise<GreetingProbe> } | undefined = altP ? { addr: altHost!, probe: altP } : undefined;
    if (altP && plain && plain.greeting.kind !== 'ok') {
      const alt = await altP;
      if (alt.greeting.kind === 'ok') {
        // Go on with the family that works; the failing one is reported.
        other = { addr: host, probe: Promise.resolve(plain) };
        plain = alt;
        host = altHost!;
      }
    }
    let implicit: GreetingProbe | undefined = implicitP ? await implicitP : undefined;
    const first = plain ?? implicit!;
    addStep(step('tcp', `TCP connect to port ${port}`, first.tcp,
      first.tcp.kind === 'ok' ? `connected in ${secs(first.tcp.ms)}` : describeOutcome(first.tcp), first.evidence.slice(0, 2)));
    const plainGreets = plain?.greeting.kind === 'ok';
    if (side990P && !plainGreets) {
      const side = await side990P;
      if (side.greeting.kind === 'ok') {
        addStep(step('port-990', 'implicit FTPS on port 990', side.greeting,
          `port 990 answers: TLS (${side.tlsProtocol ?? '?'}, certificate not checked here) then ${side.greetingLines.join(' / ')}`, side.evidence));
      }
    } else {
      void side990P?.catch(() => {});
    }
    const reportAlt = async () => {
      if (!other) return;
      const o = await other.probe;
      addStep(step('tcp-alt', `the other address ${other.addr}`, o.tcp.kind !== 'ok' ? o.tcp : o.greeting,
        o.tcp.kind !== 'ok' ? describeOutcome(o.tcp) : o.greeting.kind === 'ok' ? `also answers: ${o.greetingLines.join(' / ')}` : describeOutcome(o.greeting),
        o.evidence));
    };
    if (first.tcp.kind !== 'ok') { await reportAlt(); return finish(); }
    controlAddress = first.remoteAddress === undefined ? undefined : unmapIPv4(first.remoteAddress);
    localAddress = first.localAddress === undefined ? undefined : unmapIPv4(first.localAddress);
    if (plain) {
      addStep(step('greeting', 'greeting', plain.greeting,
        plain.greeting.kind === 'ok' ? plain.greetingLines.join(' / ') : describeOutcome(plain.greeting), plain.evidence));
      const noGreeting = plain.greeting.kind === 'timeout' || plain.greeting.kind === 'closed' || plain.greeting.kind === 'reset';
      if (!implicit && noGreeting) {
        implicit = await probeGreeting({ host, port, connectTimeoutMs: connectMs, greetingTimeoutMs: greetingMs, implicitTls: true, signal: ac.signal,
          ...(options.tls?.servername ? { servername: options.tls.servername } : {}) });
      }
    }
    if (implicit) {
      addStep(step('implicit-tls', 'implicit TLS on connect', implicit.greeting,
        implicit.greeting.kind === 'ok' ? `TLS (${implicit.tlsProtocol ?? '?'}, certificate checked at login) then ${implicit.greetingLines.join(' / ')}` : describeOutcome(implicit.greeting), implicit.evidence));
    }
    const plainOk = plain?.greeting.kind === 'ok';
    const implicitOk = implicit?.greeting.kind === 'ok';
    if (!plainOk && !implicitOk) { await reportAlt(); return finish(); }
    secureFound = implicitOk && (!plainOk || t.secure === 'implicit') ? 'implicit' : 'explicit';

    // 3. FEAT, AUTH TLS and login: cleartext and TLS sessions at once.
    const remaining = () => budgetMs - (performance.now() - t0);
    const session: SessionTarget = { host, port, user, password, path: t.path ?? '', connectMs, dataMs: connectMs,
      writeCheck: options.writeCheck ?? true, signal: ac.signal, counter };
    let tlsSettings: TlsSettings = { ...(options.tls ?? {}) };
    if (!tlsSettings.servername && !isIP(t.host)) tlsSettings.servername = t.host;
    const cleartextAllowed = secureFound !== 'implicit' && t.secure !== 'explicit';
    // The sessions these logins open stay open for the matrix's pool (session-pool.ts).
    let [plainLogin, tlsLogin] = await Promise.all([
      cleartextAllowed ? openSession(session, { secure: 'none' }) : Promise.resolve(undefined),
      openSession(session, { secure: secureFound, tls: tlsSettings }),
    ]);
    // A server that allows fewer sessions than that (or still counts the greeting probe's connection):
    // give the other login's session back, and try again after a short hold.
    for (let k = 0; k < 4 && !ac.signal.aborted; k++) {
      const plainLimited = plainLogin && isSessionLimit(plainLogin.outcome);
      const tlsLimited = isSessionLimit(tlsLogin.outcome);
      if (!plainLimited && !tlsLimited) break;
      noteLimit((plainLimited ? plainLogin! : tlsLogin).outcome);
      if (k > 0) for (const l of [plainLogin, tlsLogin]) if (l?.client) { await endSession(session, l.client); delete l.client; }
      await sleep(250 * (k + 1), undefined, { signal: ac.signal }).catch(() => {});
      if (plainLimited) plainLogin = await openSession(session, { secure: 'none' });
      if (tlsLimited) tlsLogin = await openSession(session, { secure: secureFound, tls: tlsSettings });
    }
    // An untrusted certificate is a finding, not the end: go on with its leaf pinned (tls-steps.ts).
    const trust = await trustByPin(session, tlsLogin, { secure: secureFound, tls: tlsSettings });
    if (trust) ({ certificate, login: tlsLogin, tls: tlsSettings } = trust);
    const feats = (plainLogin?.features.length ? plainLogin.features : tlsLogin.features);
    const authOffered = feats.some(f => /^AUTH\b.*\b(TLS|SSL)\b/.test(f));
    const loggedIn = plainLogin?.outcome.kind === 'ok' || tlsLogin.outcome.kind === 'ok';
    addStep({ ...step('features', 'FEAT', { kind: feats.length ? 'ok' : loggedIn ? 'other' : 'skipped', ms: 0 },
      feats.length ? feats.join(', ') : loggedIn ? 'no FEAT reply (RFC 2389 features unknown)' : 'not known (no session got that far)'), absent: !feats.length && loggedIn });
    if (trust) addStep(trust.step);
    const tlsStepOutcome = tlsLogin.outcome;
    const tlsBlockedAtAuth = tlsStepOutcome.kind === 'reply' && tlsStepOutcome.phase === 'AUTH';
    addStep(step('auth-tls', secureFound === 'implicit' ? 'TLS login (implicit)' : 'AUTH TLS + login', tlsStepOutcome,
      tlsStepOutcome.kind === 'ok' ? `TLS works${authOffered ? ' (AUTH TLS offered in FEAT)' : ''}${trust?.certificate.pinned ? ', with the certificate pinned' : ''}`
        : tlsBlockedAtAuth ? `TLS not available: ${describeOutcome(tlsStepOutcome)}` : describeOutcome(tlsStepOutcome),
      tlsLogin.evidence));
    // A server without FTPS is a fact to report, not a failure, as long as cleartext gets in.
    if (tlsBlockedAtAuth && plainLogin?.outcome.kind === 'ok') steps[steps.length - 1].absent = true;
    if (plainLogin) {
      addStep(step('login', `login as ${user} (cleartext)`, plainLogin.outcome,
        plainLogin.outcome.kind === 'ok' ? 'logged in' : describeOutcome(plainLogin.outcome), plainLogin.evidence));
    }

    // The URL's folder: when it cannot be entered, say so and probe in the login folder instead.
    const pathProblem = plainLogin?.pathProblem ?? tlsLogin.pathProblem;
    if (pathProblem && session.path) {
      addStep(step('path', `folder ${session.path}`, pathProblem, `cannot enter it: ${describeOutcome(pathProblem)}; probing in the login folder instead`));
      session.path = '';
    }

    // 4. The data-connection matrix over a pool of logged-in sessions (session-pool.ts).
    // FEAT need not list CCC (RFC 4217 s6): asked once; a server that refuses it has no CCC cells.
    const ccc: CccAnswer = trust ? trust.ccc : tlsLogin.outcome.kind === 'ok'
      ? await askCcc(session, { secure: secureFound, tls: tlsSettings }) : { accepted: false, outcome: { kind: 'skipped', ms: 0 } };
    if (isSessionLimit(ccc.outcome)) noteLimit(ccc.outcome);
    const specs = planMatrix({
      ipv6: !!controlAddress && isIP(controlAddress) === 6,
      cleartext: plainLogin?.outcome.kind === 'ok',
      tls: tlsLogin.outcome.kind === 'ok',
      ...(options.portRange ? { portRange: options.portRange } : {}),
      ...(options.portAddress ? { portAddress: options.portAddress } : {}),
      ...(options.noActive ? { noActive: true } : {}),
      ccc: ccc.accepted !== false,
    });
    const settingsOf = (id: string): ClientSettings => settingsFor(specs.find(s => s.id === id)!, { secure: secureFound, tls: tlsSettings });
    const kinds = specs.map(sessionKind);
    const seeds: PoolSeed[] = [];
    const seed = (kind: string, client: FtpClient | undefined) => {
      if (!client) return;
      if (kinds.includes(kind)) seeds.push({ kind, client }); else void endSession(session, client);
    };
    seed('clear', plainLogin?.client);
    seed('tls', tlsLogin.client);
    seed('ccc', ccc.client);
    // A cell that waits this long without a word from the server waits for a dropped packet (session-pool.ts):
    // ten round trips of the control connection, at least 300 ms.
    const slowMs = Math.max(300, 10 * first.tcp.ms);
    const pool = await runPool(seeds, {
      kinds, signal: ac.signal, slowMs, progress, loginMs: tlsLogin.outcome.ms,
      open: kind => {
        const spec = specs[kinds.indexOf(kind)]!;
        const { data: _data, ...sessionSettings } = settingsOf(spec.id);
        return openSession(session, sessionSettings);
      },
      end: (client, polite) => polite ? endSession(session, client) : Promise.resolve(dropSession(session, client)),
      run: async (client, i, watch) => {
        const spec = specs[i]!;
        if (remaining() < 500) return { healthy: true, result: { spec, outcome: { kind: 'skipped', ms: 0, message: 'time budget exhausted' }, evidence: [] } };
        const startMs = Math.round(performance.now() - t0);
        const run = await probeCellOn(client, session, spec, settingsOf(spec.id), watch);
        run.result.at = { startMs, endMs: Math.round(performance.now() - t0) };
        progress(`${spec.label}: ${describeOutcome(run.result.outcome)}`);
        return run;
      },
      // The login of this cell's kind of session failed: that is the cell's result (phase says where).
      unopened: (i, a) => ({ spec: specs[i]!, outcome: { ...a.outcome, connection: a.outcome.connection ?? 'control' }, evidence: a.evidence }),
      skipped: i => ({ spec: specs[i]!, outcome: { kind: 'skipped', ms: 0, message: 'time budget exhausted' }, evidence: [] }),
    }, limitSeen ? { limit: limitSeen } : {});
    drained = pool.drained;
    // CCC planned while the server's limit left the question open, then refused: no such cells (docs/doctor.md).
    matrix = pool.results.filter(r => !(r.spec.ccc && r.outcome.kind === 'reply' && r.outcome.phase === 'CCC'));
    if (pool.limit) limitSeen = pool.limit;
    await reportAlt();
    return finish();
  } finally {
    clearTimeout(budgetTimer);
    await drained;
    ac.abort();
    counter.destroyAll();
  }

  function finish(): Finding {
    const inference = infer({
      host: t.host, port, steps, matrix, secure: secureFound,
      ...(controlAddress ? { controlAddress } : {}),
      ...(localAddress ? { localAddress } : {}),
      ...(certificate?.pinned ? { tls: pinnedTls(options.tls ?? {}, certificate.chain[0]!.fingerprint) } : options.tls ? { tls: { ...options.tls } } : {}),
      ...(certificate ? { certificate } : {}),
      ...(options.tls?.caFile || options.tls?.ca ? { userGaveCa: true } : {}),
      ...(options.portRange ? { portRange: options.portRange } : {}),
      ...(options.portAddress ? { portAddress: options.portAddress } : {}),
      ...(limitSeen ? { sessionLimit: limitSeen } : {}),
    });
    matrix = markUnverified(matrix, certificate);
    return {
      version: 1,
      target: { host: t.host, port, user, secure: secureFound === 'implicit' ? 'implicit' : (t.secure ?? 'none'), addresses,
        ...(controlAddress ? { controlAddress } : {}), ...(localAddress ? { localAddress } : {}) },
      startedAt: startedAt.toISOString(),
      elapsedMs: Math.round(performance.now() - t0),
      budgetMs,
      steps, matrix,
      works: inference.works,
      causes: inference.causes,
      recommended: inference.recommended,
      ...(certificate ? { certificate } : {}),
      ...(inference.notes.length ? { notes: inference.notes } : {}),
      sessions: { logins: counter.logins, peak: counter.peak, ...(limitSeen ? { limit: limitSeen.sessions, limitReply: limitSeen.reply } : {}) },
      truncated: matrix.some(r => r.outcome.kind === 'skipped') || ac.signal.aborted && performance.now() - t0 >= budgetMs,
    };
  }
}

/** Which kind of session a cell needs: settings fixed at login (TLS, its version, CCC) are a kind each. */
export function sessionKind(spec: DataProbeSpec): string {
  return !spec.tls ? 'clear' : spec.ccc ? 'ccc' : spec.tlsVersion ? 'tls12' : 'tls';
}

/** Chilkat-style: the settings that work (undefined when none does). */
export async function determineSettings(target: string | DoctorTarget, options: DiagnoseOptions = {}): Promise<ClientSettings | undefined> {
  const f = await diagnose(target, options);
  return f.recommended?.probeId ? f.recommended.settings : undefined;
}

