/**
 * Pure inference: probe outcomes -> causes (in the user's words) -> recommended settings. No sockets.
 *
 * The rules follow how NAT, ALGs and firewalls behave in general, not a list of known setups:
 *  - a silently dropped SYN shows as a timeout, a REJECT rule or a closed port as a fast reset;
 *  - NAT hides a host's address: a server behind NAT that is not told its public address puts its private
 *    address in 227 (RFC 959 s4.1.2); a client behind NAT puts its private address in PORT, and servers refuse
 *    PORT to an address other than the control peer (RFC 2577 s3 bounce protection);
 *  - an FTP ALG reads the cleartext control connection to rewrite 227/PORT and open the data port; under TLS
 *    (RFC 4217) it reads nothing, so what worked in cleartext fails with TLS;
 *  - firewalls are directional: passive needs the server side open inbound, active the client side.
 * Each cause quotes the observations (reply text, addresses, times) that support it.
 */
import { addressScope, isNonPublicAddress } from '../protocol/address-class.js';
import type { TlsSettings } from '../client/options.js';
import { preferenceRank, settingsFor } from './plan.js';
import type { Cause, DataProbeResult, Outcome, Recommendation, StepResult } from './types.js';
import { describeOutcome, isDataPathFailure, secs } from './words.js';
import { equivalents } from './equivalents.js';

export interface InferenceInput {
  host: string;
  port: number;
  /** The IP the control connection went to (undefined when it never connected). */
  controlAddress?: string;
  /** Our local address on the control connection (what PORT/EPRT carry by default). */
  localAddress?: string;
  steps: StepResult[];
  matrix: DataProbeResult[];
  /** TLS mode the control steps found to work ('explicit' unless the port speaks implicit TLS). */
  secure: 'explicit' | 'implicit';
  /** TLS options the user gave (CA, insecure...) — carried into the recommended settings. */
  tls?: TlsSettings;
  portRange?: { min: number; max: number };
  portAddress?: string;
}

export interface Inference {
  causes: Cause[];
  works: string[];
  recommended: Recommendation | undefined;
}

const PASSIVE_SETUP = new Set(['EPSV', 'PASV']);
const ACTIVE_SETUP = new Set(['EPRT', 'PORT']);

function verbOf(o: Outcome): string { return (o.phase ?? '').toUpperCase(); }

/** The data connection (or its setup) is what failed, in either mode. */
function activeConnectBackFailed(o: Outcome): boolean {
  if (o.kind === 'timeout' && o.connection === 'data') return true;
  // The server reports its failed connect-back as 425 (RFC 959 s4.2) on the transfer command.
  return o.kind === 'reply' && (o.replyCode === 425 || o.replyCode === 426) && !ACTIVE_SETUP.has(verbOf(o));
}
function commandRefused(o: Outcome, verbs: Set<string>): boolean {
  return o.kind === 'reply' && verbs.has(verbOf(o)) && (o.replyCode ?? 0) >= 500;
}
function isWorking(r: DataProbeResult): boolean {
  if (r.outcome.kind !== 'ok') return false;
  const t = r.transfer;
  return !t || (t.upload !== 'failed' && t.download !== 'failed');
}
function step(steps: StepResult[], id: StepResult['id']): StepResult | undefined { return steps.find(s => s.id === id); }

export function infer(input: InferenceInput): Inference {
  const causes: Cause[] = [];
  const add = (c: Cause): void => { if (!causes.some(x => x.code === c.code)) causes.push(c); };
  const ep = `${input.host}:${input.port}`;

  // ---- control connection ----------------------------------------------------------------------------
  const resolve = step(input.steps, 'resolve');
  if (resolve && resolve.outcome.kind !== 'ok') {
    add({ code: 'dns-failure', side: 'client', title: `the name ${input.host} does not resolve`,
      detail: describeOutcome(resolve.outcome), userFix: 'check the host name, or your DNS settings' });
  }
  const tcp = step(input.steps, 'tcp');
  const implicit = step(input.steps, 'implicit-tls');
  const greeting = step(input.steps, 'greeting');
  if (tcp && tcp.outcome.kind !== 'ok' && tcp.outcome.kind !== 'skipped') {
    const o = tcp.outcome;
    if (o.kind === 'timeout') {
      add({ code: 'control-port-dropped', side: 'network',
        title: `port ${input.port} is blocked: connections to ${ep} are silently dropped by a firewall or the ISP`,
        detail: `${describeOutcome(o)}. Nothing answered, not even a refusal: a firewall (yours, your ISP's or the server's) drops the packets, or the server is down behind one.`,
        adminFix: `allow inbound TCP ${input.port} to the FTP server (and forward it on the NAT router)`,
        userFix: `try from another network; check that your firewall/ISP allows outbound TCP ${input.port}` });
    } else if (o.kind === 'refused') {
      add({ code: 'control-port-refused', side: 'server',
        title: `port ${input.port} is closed or rejected: ${ep} refused the connection at once`,
        detail: `${describeOutcome(o)}: either nothing listens on port ${input.port} there, or a firewall rejects it.`,
        adminFix: `make sure the FTP server runs and listens on port ${input.port}, and that no firewall rejects it`,
        userFix: 'check the port number (implicit FTPS uses 990)' });
    } else if (o.kind === 'unreachable') {
      add({ code: 'control-unreachable', side: 'network', title: `${input.host} is unreachable from here`,
        detail: describeOutcome(o), userFix: 'check your network connection and routing (VPN?)' });
    } else if (o.kind === 'not-found') {
      add({ code: 'dns-failure', side: 'client', title: `the name ${input.host} does not resolve`, detail: describeOutcome(o) });
    }
  }
  const alt = step(input.steps, 'tcp-alt');
  const main = step(input.steps, 'greeting');
  if (alt && alt.outcome.kind !== 'ok' && main?.outcome.kind === 'ok') {
    const addr = alt.title.replace(/^the other address /, '');
    const family = addr.includes(':') ? 'IPv6' : 'IPv4';
    add({ code: 'address-family-broken', side: 'server',
      title: `${input.host}'s ${family} address ${addr} does not work (the other address does)`,
      detail: `${family} ${addr}: ${describeOutcome(alt.outcome)}. Clients that try ${family} first hang or fall back slowly.`,
      adminFix: `make the FTP server reachable on ${addr} (listener, firewall), or remove that DNS record`,
      userFix: `connect to the working address directly` });
  }
  const p990 = step(input.steps, 'port-990');
  if (p990?.outcome.kind === 'ok' && (causes.length > 0 || (greeting && greeting.outcome.kind !== 'ok'))) {
    add({ code: 'implicit-on-990', side: 'client',
      title: `port 990 answers with implicit FTPS: the server may be meant to be used as ftps://${input.host}/`,
      detail: p990.summary, userFix: `try ftps://${input.host}/ (implicit TLS on port 990)` });
  }
  if (greeting && implicit?.outcome.kind !== 'ok'
      && (greeting.outcome.kind === 'reply' || greeting.outcome.kind === 'closed' || greeting.outcome.kind === 'reset')) {
    const o = greeting.outcome;
    add({ code: 'greeting-refused', side: 'server',
      title: o.kind === 'reply'
        ? `the server refuses the session right away: ${o.replyCode} ${o.replyText ?? ''}`.trim()
        : `the server ${o.kind === 'reset' ? 'resets' : 'closes'} the connection instead of greeting`,
      detail: `${describeOutcome(o)}. Typical reasons: too many connections (per address or in total), an address-based `
        + 'access rule (TCP wrappers, a deny list), or a server that is shutting down.',
      adminFix: 'check the server\'s connection limits and access rules for this client address',
      userFix: 'retry later; close other FTP sessions to this server' });
  }
  if (greeting && greeting.outcome.kind !== 'ok' && greeting.outcome.kind !== 'skipped') {
    if (implicit?.outcome.kind === 'ok') {
      add({ code: 'implicit-tls-port', side: 'client',
        title: `port ${input.port} speaks implicit FTPS: it waits for a TLS handshake and never greets in cleartext`,
        detail: `plain connection: ${describeOutcome(greeting.outcome)}; TLS handshake on connect: ${describeOutcome(implicit.outcome)}.`,
        userFix: `use ftps://${input.host}:${input.port}/ (implicit TLS)` });
    } else if (greeting.outcome.kind === 'timeout') {
      add({ code: 'no-greeting', side: 'network',
        title: `connected to ${ep}, but no FTP greeting came`,
        detail: `${describeOutcome(greeting.outcome)}${implicit ? `; implicit TLS: ${describeOutcome(implicit.outcome)}` : ''}. A proxy or firewall that accepts connections without passing them on, or a hung server.`,
        adminFix: 'check that the FTP server is running and not overloaded' });
    }
  }
  if (implicit && implicit.outcome.kind === 'tls' && greeting?.outcome.kind === 'ok' && input.secure === 'implicit') {
    add({ code: 'explicit-tls-mismatch', side: 'client',
      title: `port ${input.port} speaks plain FTP (explicit TLS via AUTH TLS), not implicit FTPS`,
      detail: `TLS handshake on connect: ${describeOutcome(implicit.outcome)}; plain connection: ${greeting.summary}.`,
      userFix: `use ftp://${input.host}:${input.port}/ with explicit TLS (--tls), not ftps://` });
  }
  const auth = step(input.steps, 'auth-tls');
  if (auth && auth.outcome.kind === 'tls' && /certificate|self.signed|verify|altname|hostname/i.test(auth.outcome.message ?? '')) {
    add({ code: 'tls-certificate', side: 'server', title: 'the server\'s TLS certificate is not trusted',
      detail: describeOutcome(auth.outcome),
      adminFix: 'install a certificate from a public CA that names this host',
      userFix: 'pass the server\'s CA certificate (--ca FILE), or --insecure if you accept the risk' });
  }
  const login = step(input.steps, 'login');
  if (login && login.outcome.kind !== 'ok' && login.outcome.kind !== 'skipped') {
    const tlsLoginWorked = input.matrix.some(r => r.spec.tls && r.outcome.kind !== 'skipped'
      && !(r.outcome.kind === 'reply' && r.outcome.phase?.toUpperCase() === 'PASS'));
    const text = `${login.outcome.replyCode ?? ''} ${login.outcome.replyText ?? ''}`;
    if (/tls|ssl|encrypt|secur/i.test(text) || (tlsLoginWorked && (login.outcome.replyCode === 530 || login.outcome.replyCode === 421))) {
      add({ code: 'tls-required', side: 'none', title: 'the server requires TLS (explicit FTPS) before login',
        detail: `plain login: ${describeOutcome(login.outcome)}.`, userFix: 'use explicit TLS (--tls; FileZilla "Require explicit FTP over TLS")' });
    } else if (login.outcome.kind === 'reply' && (login.outcome.replyCode === 530 || login.outcome.replyCode === 430)) {
      add({ code: 'login-failed', side: 'client', title: 'the user name or password was refused',
        detail: describeOutcome(login.outcome), userFix: 'check the user name and password' });
    }
  }

  // ---- data connections --------------------------------------------------------------------------------
  const m = input.matrix.filter(r => r.outcome.kind !== 'skipped');
  const byId = new Map(m.map(r => [r.spec.id, r]));
  const works = m.filter(isWorking).sort((a, b) => preferenceRank(a.spec) - preferenceRank(b.spec)).map(r => r.spec.id);
  const get = (id: string, tls: boolean): DataProbeResult | undefined => byId.get(tls ? `${id}+tls` : id);
  const groups = [false, true].filter(t => m.some(r => r.spec.tls === t));
  const controlIsPublic = input.controlAddress !== undefined && !isNonPublicAddress(input.controlAddress);
  const passiveOk = (tls: boolean) => m.some(r => r.spec.tls === tls && r.spec.mode === 'passive' && r.outcome.kind === 'ok');
  const activeOk = (tls: boolean) => m.some(r => r.spec.tls === tls && r.spec.mode === 'active' && r.outcome.kind === 'ok');

  // EPSV / EPRT not supported (RFC 2428).
  for (const tls of groups) {
    const e = get('epsv', tls);
    if (e && commandRefused(e.outcome, PASSIVE_SETUP)) {
      const eprt = get('eprt-local', tls);
      const alsoEprt = eprt && commandRefused(eprt.outcome, ACTIVE_SETUP);
      add({ code: 'epsv-unsupported', side: 'server',
        title: `the server does not support EPSV${alsoEprt ? ' or EPRT' : ''} (RFC 2428)`,
        detail: `EPSV: ${describeOutcome(e.outcome)}${alsoEprt ? `; EPRT: ${describeOutcome(eprt.outcome)}` : ''}. Use PASV${alsoEprt ? ' / PORT' : ''} instead.`,
        adminFix: 'enable EPSV/EPRT (RFC 2428) in the server; they are needed for IPv6 and behind NAT',
        userFix: 'use PASV (curl --disable-epsv; lftp set ftp:prefer-epsv no)' });
    }
    if (tls === false && !e && input.matrix.length === 0) break;
  }

  // The PASV reply's address.
  const pasvAddr = (tls: boolean) => get('pasv-reply', tls)?.advertised?.host ?? get('pasv-control', tls)?.advertised?.host;
  const plainAddr = pasvAddr(false);
  const tlsAddr = pasvAddr(true);
  const rewritten = plainAddr !== undefined && tlsAddr !== undefined && plainAddr !== tlsAddr;

  // ALG blind under TLS: the same mode works in cleartext and fails in TLS at the network level.
  for (const mode of ['passive', 'active'] as const) {
    const ok = mode === 'passive' ? passiveOk(false) : activeOk(false);
    const tlsCells = m.filter(r => r.spec.tls && r.spec.mode === mode);
    const tlsFailedNet = tlsCells.length > 0 && tlsCells.every(r => r.outcome.kind !== 'ok')
      // Active: an ALG on the client's router rewrites PORT/EPRT in cleartext; under TLS the private address
      // goes through and the server refuses it (or its connect-back hits the router).
      && tlsCells.some(r => (mode === 'passive' ? isDataPathFailure(r.outcome)
        : activeConnectBackFailed(r.outcome) || commandRefused(r.outcome, ACTIVE_SETUP)));
    if (ok && tlsFailedNet) {
      const sample = tlsCells.find(r => isDataPathFailure(r.outcome) || activeConnectBackFailed(r.outcome) || commandRefused(r.outcome, ACTIVE_SETUP))!;
      const side = mode === 'passive' ? 'server' : 'client';
      add({ code: 'alg-blind-under-tls', side: 'network',
        title: mode === 'passive'
          ? 'an FTP ALG on the server\'s side handles passive mode in cleartext but cannot once TLS is on'
          : 'an FTP ALG on your side handles active mode in cleartext but cannot once TLS is on',
        detail: (rewritten && mode === 'passive'
          ? `in cleartext the PASV reply reached you as ${plainAddr}, under TLS as ${tlsAddr}: a router rewrites the reply and opens the data port only while it can read the control connection. `
          : `${mode} mode works in cleartext. `)
          + `With TLS: ${sample.spec.label}: ${describeOutcome(sample.outcome)}.`,
        ...(side === 'server'
          ? { adminFix: `don't rely on the router's FTP helper: forward the passive port range to the server and set its public passive address${tlsAddr && isNonPublicAddress(tlsAddr) ? ` (it advertises ${tlsAddr})` : ''}` }
          : { userFix: 'forward an active port range on your router and advertise your public address, or use passive mode' }),
        ...(side === 'server' ? { userFix: activeOk(true) ? 'use active mode with TLS (it works), or cleartext passive' : 'use cleartext passive mode, or ask the admin to forward the passive ports' } : {}),
      });
    }
  }

  // A server behind NAT advertising its private address.
  for (const tls of groups) {
    const reply = get('pasv-reply', tls);
    const control = get('pasv-control', tls);
    const adv = reply?.advertised?.host ?? control?.advertised?.host;
    if (!adv || adv === input.controlAddress) continue;
    const scope = addressScope(adv);
    const replyFailed = reply ? isDataPathFailure(reply.outcome) || reply.outcome.kind === 'refused' : false;
    if (scope && scope !== 'public' && (controlIsPublic || scope === 'unspecified')) {
      if (causes.some(c => c.code === 'alg-blind-under-tls') && tls) continue; // the ALG explains the TLS case
      if (!reply || reply.outcome.kind === 'ok') continue;
      const controlWorks = control?.outcome.kind === 'ok';
      add({ code: 'server-private-pasv-address', side: 'server',
        title: scope === 'unspecified'
          ? `the server advertises the unusable address ${adv} in its PASV reply`
          : `the server is behind NAT and advertises its private address ${adv} in its PASV reply`,
        detail: `PASV to ${adv}: ${describeOutcome(reply.outcome)}`
          + (control ? `; PASV to the control host ${input.controlAddress ?? input.host}: ${describeOutcome(control.outcome)}` : '') + '.'
          + (controlWorks ? ' Clients that ignore the PASV address (curl, lftp and ftplib by default) or use EPSV are not affected.' : ''),
        adminFix: `tell the FTP server its public address (vsftpd pasv_address=${input.controlAddress ?? 'PUBLIC_IP'}, proftpd MasqueradeAddress, pure-ftpd -P, ftpkit serve --pasv-address) and forward its passive port range`,
        userFix: 'use EPSV, or PASV with the control host\'s address (FileZilla "Use the server\'s external IP address instead")' });
    } else if (scope === 'public' && replyFailed && control?.outcome.kind === 'ok') {
      add({ code: 'pasv-address-unusable', side: 'server',
        title: `the PASV reply names ${adv}, which cannot be reached from here`,
        detail: `PASV to ${adv}: ${describeOutcome(reply!.outcome)}; PASV to the control host: worked.`,
        adminFix: `check the server's passive address setting (it advertises ${adv}, clients connect to ${input.controlAddress ?? input.host})`,
        userFix: 'use PASV with the control host\'s address, or EPSV' });
    }
  }

  // The server's firewall drops / rejects its passive ports: every passive cell that went to a reachable
  // address failed at the network level, in every TLS group, while the control connection works.
  {
    const relevant = m.filter(r => r.spec.mode === 'passive'
      && !(r.spec.addressPolicy === 'reply' && r.advertised?.host && isNonPublicAddress(r.advertised.host) && controlIsPublic));
    const failed = relevant.filter(r => isDataPathFailure(r.outcome));
    const algExplains = causes.some(c => c.code === 'alg-blind-under-tls' && c.title.includes('passive'));
    if (relevant.length > 0 && failed.length === relevant.length && !algExplains) {
      const dropped = failed.filter(r => r.outcome.kind === 'timeout');
      const ports = [...new Set(failed.map(r => r.advertised?.port).filter((p): p is number => p !== undefined))].sort((a, b) => a - b);
      const sample = (dropped[0] ?? failed[0])!;
      const portWords = ports.length ? ` (ports tried: ${ports.join(', ')})` : '';
      if (dropped.length >= failed.length / 2) {
        add({ code: 'server-passive-ports-dropped', side: 'server',
          title: `the server's firewall drops connections to its passive ports${portWords}`,
          detail: `every passive data connection got no answer (e.g. ${sample.spec.label}: ${describeOutcome(sample.outcome)}), while the control connection works. `
            + 'Usually the firewall or NAT router in front of the server; less often a firewall on your side that only lets a few outbound ports through.',
          adminFix: 'open (and on a NAT router, forward) the server\'s passive port range inbound, e.g. vsftpd pasv_min_port/pasv_max_port',
          userFix: activeOk(false) || activeOk(true) ? 'use active mode (it works)' : 'ask the server\'s admin to open the passive ports' });
      } else {
        add({ code: 'server-passive-ports-refused', side: 'server',
          title: `connections to the server's passive ports are rejected${portWords}`,
          detail: `every passive data connection was refused at once (e.g. ${sample.spec.label}: ${describeOutcome(sample.outcome)}): a firewall rejects them, or the NAT router does not forward them.`,
          adminFix: 'open (and forward) the server\'s passive port range inbound',
          userFix: activeOk(false) || activeOk(true) ? 'use active mode (it works)' : 'ask the server\'s admin to open the passive ports' });
      }
    }
  }

  // EPSV answers but its data connection fails, while PASV works.
  for (const tls of groups) {
    const e = get('epsv', tls);
    const pasvWorks = ['pasv-reply', 'pasv-control'].some(id => get(id, tls)?.outcome.kind === 'ok');
    if (e && isDataPathFailure(e.outcome) && pasvWorks) {
      add({ code: 'epsv-unusable', side: 'network',
        title: 'EPSV is answered but its data connection fails, while PASV works',
        detail: `EPSV${tls ? ' (TLS)' : ''}: ${describeOutcome(e.outcome)}${e.advertised ? ` (port ${e.advertised.port})` : ''}. A middlebox handles PASV but not EPSV, or a port-mapping NAT rewrites only 227 replies.`,
        adminFix: 'make the advertised EPSV port reachable (forward it as it is, or make the server advertise the mapped port)',
        userFix: 'use PASV (curl --disable-epsv; lftp set ftp:prefer-epsv no)' });
    }
  }

  // A command that never gets an answer while the same session type works otherwise: something on the way
  // (a firewall's FTP inspection) swallows it; the TCP stream then stalls. Typical: EPSV or EPRT blocked by
  // an old "strict" FTP filter, which sees nothing under TLS.
  {
    const unanswered = m.filter(r => r.outcome.kind === 'timeout' && r.outcome.connection === 'control' && r.outcome.command);
    const verbs = [...new Set(unanswered.map(r => r.outcome.command!))];
    for (const verb of verbs) {
      const cells = unanswered.filter(r => r.outcome.command === verb);
      const onlyClear = cells.every(r => !r.spec.tls) && m.some(r => r.spec.tls && r.outcome.kind === 'ok' && r.spec.command === cells[0]!.spec.command);
      const others = m.filter(r => r.outcome.kind === 'ok');
      if (!others.length) continue;
      add({ code: 'command-unanswered', side: 'network',
        title: `${verb} never gets an answer: something on the way swallows the command${onlyClear ? ' (only in cleartext: under TLS it works)' : ''}`,
        detail: `${cells[0]!.spec.label}: no reply to ${verb} within ${secs(cells[0]!.outcome.ms)}, while other commands and modes work. `
          + 'A firewall or router with FTP inspection that drops commands it does not allow (or the server hangs on it).',
        adminFix: `check firewalls/ALGs between client and server for FTP command filtering (${verb})`,
        userFix: verb === 'EPSV' || verb === 'EPRT' ? `avoid ${verb}: use ${verb === 'EPSV' ? 'PASV' : 'PORT'}${onlyClear ? ', or TLS' : ''}` : 'use a mode that works (see the recommendation)' });
    }
  }

  // Active mode.
  for (const tls of groups) {
    // An EPRT "not understood" is explained by epsv-unsupported; judge active mode by PORT then.
    const eprtUnsupported = causes.some(c => c.code === 'epsv-unsupported' && c.title.includes('EPRT'));
    const local = ['eprt-local', 'port-local'].map(id => get(id, tls))
      .filter((r): r is DataProbeResult => !!r && !(eprtUnsupported && r.spec.command === 'eprt'));
    if (!local.length) continue;
    if (tls && causes.some(c => c.code === 'alg-blind-under-tls' && c.title.includes('active'))) continue;
    const refused = local.filter(r => commandRefused(r.outcome, ACTIVE_SETUP));
    const localPrivate = input.localAddress !== undefined && isNonPublicAddress(input.localAddress);
    if (refused.length === local.length || (refused.length > 0 && local.every(r => r.outcome.kind !== 'ok'))) {
      const r = refused[0]!;
      if (localPrivate && controlIsPublic) {
        const pub = ['eprt-public', 'port-public'].map(id => get(id, tls)).filter((x): x is DataProbeResult => !!x);
        const pubOk = pub.some(x => x.outcome.kind === 'ok');
        const pubAccepted = pub.filter(x => activeConnectBackFailed(x.outcome));
        add({ code: 'client-nat-port-refused', side: 'client',
          title: `you are behind NAT: your PORT/EPRT carried your private address ${input.localAddress}, and the server refuses to connect to it`,
          detail: `${r.spec.label}: ${describeOutcome(r.outcome)}. Servers only connect back to the address the control connection comes from (RFC 2577 bounce protection)`
            + (pubOk ? `; advertising ${input.portAddress} works.` : '.'),
          userFix: pubOk ? `advertise your public address ${input.portAddress}${input.portRange ? ` and listen on ${input.portRange.min}-${input.portRange.max}` : ''} (or use passive mode)`
            : 'use passive mode, or forward a port range on your router and give your public address (--port-address, --port-range)' });
        if (pubAccepted.length && !pubOk) {
          add({ code: 'client-nat-no-forward', side: 'client',
            title: `your router does not forward the active port${input.portRange ? `s ${input.portRange.min}-${input.portRange.max}` : ''} to you`,
            detail: `${pubAccepted[0]!.spec.label}: the server accepted the address but ${describeOutcome(pubAccepted[0]!.outcome)}.`,
            userFix: 'forward the port range on your router to this machine, or use passive mode' });
        }
      } else {
        add({ code: 'active-refused-by-server', side: 'server', title: 'the server refuses active mode (PORT/EPRT)',
          detail: `${r.spec.label}: ${describeOutcome(r.outcome)}.`, userFix: 'use passive mode' });
      }
      continue;
    }
    const backFailed = local.filter(r => activeConnectBackFailed(r.outcome));
    if (backFailed.length && local.every(r => r.outcome.kind !== 'ok')) {
      const rangeOk = ['eprt-range', 'port-range'].some(id => get(id, tls)?.outcome.kind === 'ok');
      const sample = backFailed[0]!;
      const fast = sample.outcome.kind === 'reply' && sample.outcome.ms < 1500;
      if (localPrivate && controlIsPublic) {
        add({ code: 'client-nat-no-forward', side: 'client',
          title: `you are behind NAT without a forwarded port: the server's connection back to ${input.localAddress} cannot reach you`,
          detail: `${sample.spec.label}: ${describeOutcome(sample.outcome)}.`,
          userFix: 'use passive mode, or forward a port range to this machine and give your public address (--port-address, --port-range)' });
      } else if (rangeOk) {
        add({ code: 'client-active-port-range', side: 'client',
          title: `your firewall lets the server connect back only to ports ${input.portRange!.min}-${input.portRange!.max}`,
          detail: `${sample.spec.label}: ${describeOutcome(sample.outcome)}; listening in ${input.portRange!.min}-${input.portRange!.max} works.`,
          userFix: `in active mode, listen on ${input.portRange!.min}-${input.portRange!.max} (curl -P :${input.portRange!.min}-${input.portRange!.max}; lftp set ftp:port-range)` });
      } else {
        add({ code: 'client-active-blocked', side: 'client',
          title: 'your firewall blocks the server\'s connection back to you in active mode',
          detail: `${sample.spec.label}: ${describeOutcome(sample.outcome)}${fast ? ' (a fast 425: the server\'s connect was rejected)' : ' (the server\'s connect attempt got no answer)'}.`,
          userFix: 'use passive mode; for active mode, open a port range inbound on your firewall and use --port-range' });
      }
    }
  }

  // TLS 1.3 resumption: the default TLS cells fail for TLS reasons (or 522 "session reuse required") while
  // the TLS 1.2 cells work: the server (or our TLS stack against it) cannot resume with 1.3 tickets.
  {
    const tls13 = m.filter(r => r.spec.tls && !r.spec.tlsVersion);
    const tls12 = m.filter(r => r.spec.tlsVersion === 'TLSv1.2');
    const tlsFail = (o: Outcome) => o.kind === 'tls' || (o.kind === 'reply' && (o.replyCode === 522
      || (o.replyCode === 425 && /reuse|session|tls|ssl/i.test(o.replyText ?? ''))));
    const failed13 = tls13.filter(r => tlsFail(r.outcome));
    if (failed13.length && tls12.some(r => r.outcome.kind === 'ok') && !tls13.some(r => r.outcome.kind === 'ok')) {
      add({ code: 'tls13-resumption', side: 'server',
        title: 'TLS data connections fail with TLS 1.3 but work with TLS 1.2 (session resumption)',
        detail: `${failed13[0]!.spec.label}: ${describeOutcome(failed13[0]!.outcome)}; with TLS 1.2 the same works. `
          + 'The server requires the data connection to resume the control connection\'s TLS session (RFC 4217 s10.2) and '
          + 'does not accept TLS 1.3 resumption.',
        adminFix: 'update the server\'s TLS library/configuration so TLS 1.3 session tickets can be resumed on data connections',
        userFix: 'limit TLS to version 1.2 (the recommended settings do)' });
    }
  }

  // TLS data connections failing for TLS reasons (not the network).
  const tlsData = m.filter(r => r.spec.tls && r.outcome.kind === 'tls');
  if (tlsData.length && !m.some(r => r.spec.tls && r.outcome.kind === 'ok') && !causes.some(c => c.code === 'tls13-resumption')) {
    add({ code: 'tls-data-blocked', side: 'server', title: 'TLS on the data connection fails',
      detail: `${tlsData[0]!.spec.label}: ${describeOutcome(tlsData[0]!.outcome)}.`,
      adminFix: 'check the server\'s TLS settings for data connections (session reuse, certificates)' });
  }

  // Read-only access is reported, not an error.
  const ro = m.find(r => r.outcome.kind === 'ok' && r.transfer?.upload === 'readonly');
  if (ro && !m.some(r => r.transfer?.upload === 'ok')) {
    add({ code: 'readonly', side: 'none', title: 'you can read but not write here (uploads are refused)',
      detail: ro.transfer?.note ?? 'the upload was refused by the server' });
  }

  if (m.length > 0 && works.length === 0) {
    const passive = m.filter(r => r.spec.mode === 'passive');
    const active = m.filter(r => r.spec.mode === 'active');
    add({ code: 'nothing-works', side: 'network', title: 'no data connection got through, in any mode',
      detail: [
        passive.length ? `passive: ${describeOutcome(passive[0]!.outcome)}` : '',
        active.length ? `active: ${describeOutcome(active[0]!.outcome)}` : '',
      ].filter(Boolean).join('; ') + '. Passive needs the server\'s passive ports reachable; active needs your side open inbound.',
      adminFix: 'open and forward the server\'s passive port range, and set its public passive address',
      userFix: 'ask the server\'s admin; or open a port range inbound on your side and use active mode with it' });
  }

  // ---- recommendation ---------------------------------------------------------------------------------
  let recommended: Recommendation | undefined;
  const best = works[0] ? byId.get(works[0]) : undefined;
  if (best) {
    const settings = settingsFor(best.spec, { secure: input.secure, ...(input.tls ? { tls: input.tls } : {}) });
    recommended = {
      settings, probeId: best.spec.id,
      reason: `${best.spec.label}: ${describeOutcome(best.outcome)}` + (works.length > 1 ? `; ${works.length - 1} other combination(s) also work` : ''),
      equivalents: equivalents(settings, { host: input.host, port: input.port, ...(input.localAddress ? { localAddress: input.localAddress } : {}) }),
    };
  }
  return { causes, works, recommended };
}

export { secs };
