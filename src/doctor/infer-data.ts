/**
 * Inference about data connections: compares matrix cells that differ in one setting (EPSV vs PASV, the
 * reply's address vs the control host, cleartext vs TLS, TLS 1.3 vs 1.2, active from the local address vs a
 * range vs a public address) and names what blocks. Pure.
 */
import { addressScope, isNonPublicAddress } from '../protocol/address-class.js';
import { preferenceRank } from './plan.js';
import type { Cause, DataProbeResult, Outcome } from './types.js';
import { describeOutcome, isDataPathFailure, secs } from './words.js';
import {
  ACTIVE_SETUP, PASSIVE_SETUP, TRANSFER_VERBS, activeConnectBackFailed, answered, commandRefused, inconclusive, isWorking,
  type AddCause, type InferenceInput,
} from './infer-shared.js';

/** Returns the working cells' ids, best first. */
export function inferData(input: InferenceInput, causes: Cause[], add: AddCause): string[] {
  // A server that refuses CCC just has no CCC cells (most do: vsftpd, and ours by default).
  const m = input.matrix.filter(r => r.outcome.kind !== 'skipped' && !inconclusive(r)
    && !(r.spec.ccc && r.outcome.kind === 'reply' && r.outcome.phase === 'CCC'));
  const byId = new Map(m.map(r => [r.spec.id, r]));
  const works = m.filter(isWorking).sort((a, b) => preferenceRank(a.spec) - preferenceRank(b.spec)).map(r => r.spec.id);
  const get = (id: string, tls: boolean): DataProbeResult | undefined => byId.get(tls ? `${id}+tls` : id);
  const groups = [false, true].filter(t => m.some(r => r.spec.tls === t));
  const controlIsPublic = input.controlAddress !== undefined && !isNonPublicAddress(input.controlAddress);
  const passiveOk = (tls: boolean) => m.some(r => r.spec.tls === tls && r.spec.mode === 'passive' && r.outcome.kind === 'ok');
  const activeOk = (tls: boolean) => m.some(r => r.spec.tls === tls && r.spec.mode === 'active' && r.outcome.kind === 'ok');
  /**
   * Advice that names only settings that worked (a report never contradicts itself): the first of `ids`
   * that worked with the same security, else with the other, else the recommendation.
   */
  const workingAdvice = (tls: boolean, ids: string[]): string => {
    const words: Record<string, string> = {
      epsv: 'EPSV', 'pasv-reply': 'PASV', 'eprt-local': 'active mode (EPRT)', 'port-local': 'active mode (PORT)',
      'pasv-control': 'PASV with the control host\'s address (curl and lftp do so by default; FileZilla "Use the server\'s external IP address instead")',
    };
    const ok = (id: string, t: boolean) => { const r = get(id, t); return r !== undefined && isWorking(r); };
    const same = ids.filter(id => ok(id, tls));
    if (same.length) return `use ${same.map(id => words[id] ?? id).join(', or ')} (it works)`;
    const other = ids.filter(id => ok(id, !tls));
    if (other.length) return `use ${other.map(id => words[id] ?? id).join(', or ')} ${tls ? 'in cleartext' : 'with TLS'} (it works)`;
    return works.length ? 'use the recommended settings below (the only ones that worked)' : 'no other setting worked either (see the other causes)';
  };

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
    // EPRT "not understood" is explained by epsv-unsupported, not by the path.
    const eprtUnsupported = causes.some(c => c.code === 'epsv-unsupported' && c.title.includes('EPRT'));
    // CCC cells give the ALG its cleartext back: they are the remedy, not part of the symptom.
    const tlsCells = m.filter(r => r.spec.tls && !r.spec.ccc && r.spec.mode === mode && !(eprtUnsupported && r.spec.command === 'eprt'));
    const cccWorks = m.some(r => r.spec.ccc && r.outcome.kind === 'ok');
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
        ...(side === 'server' ? { userFix: cccWorks ? 'use TLS with CCC after login (it works: the router can read PASV again, password and data stay encrypted)'
          : activeOk(true) ? 'use active mode with TLS (it works), or cleartext passive' : 'use cleartext passive mode, or ask the admin to forward the passive ports' } : {}),
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
        userFix: workingAdvice(tls, ['epsv', 'pasv-control']) });
    } else if (replyFailed && control?.outcome.kind === 'ok') {
      // Whatever the address classes (a LAN server with two interfaces, a container network, a public
      // address behind another NAT): the advertised address is not the one we reached, and it fails.
      if (causes.some(c => c.code === 'alg-blind-under-tls') && tls) continue; // the ALG explains the TLS case
      const seen = input.controlAddress ?? input.host;
      add({ code: 'pasv-address-unusable', side: 'server',
        title: `the advertised address differs from the address you connected to: the PASV reply names ${adv}, you reached the server at ${seen}, and ${adv} cannot be reached from here`,
        detail: `PASV to ${adv}: ${describeOutcome(reply!.outcome)}; PASV to the control host ${seen}: worked.`,
        adminFix: `check the server's passive address setting (it advertises ${adv}, clients connect to ${seen}): vsftpd pasv_address, proftpd MasqueradeAddress, pure-ftpd -P, ftpkit serve --pasv-address`,
        userFix: workingAdvice(tls, ['pasv-control', 'epsv']) });
    } else if (scope === 'public' && reply?.outcome.kind === 'ok' && control && isDataPathFailure(control.outcome)) {
      // Not a fault, but a trap: data served from another host than the control connection (FTP farms,
      // some load balancers). Clients that replace the PASV address - curl's and ftplib's default - fail.
      add({ code: 'pasv-other-host', side: 'none',
        title: `the server sends data from another address (${adv}) than the control connection (${input.controlAddress ?? input.host})`,
        detail: `PASV to ${adv}: worked; PASV to the control host: ${describeOutcome(control.outcome)}.`,
        userFix: 'keep the PASV reply\'s address (curl --no-ftp-skip-pasv-ip; lftp set ftp:fix-pasv-address no; ftplib trust_server_pasv_ipv4_address)' });
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
        userFix: `${workingAdvice(tls, ['pasv-reply', 'pasv-control'])}; curl --disable-epsv, lftp set ftp:prefer-epsv no` });
    }
  }

  // A command that never gets an answer while the same session type works otherwise: something on the way
  // (a firewall's FTP inspection) swallows it; the TCP stream then stalls. Typical: EPSV or EPRT blocked by
  // an old "strict" FTP filter, which sees nothing under TLS.
  {
    // (An active-mode transfer command waits for the server's connect-back: that is judged below.)
    const unanswered = m.filter(r => r.outcome.kind === 'timeout' && r.outcome.connection === 'control' && r.outcome.command
      && !(r.spec.mode === 'active' && TRANSFER_VERBS.has(r.outcome.command)));
    const verbs = [...new Set(unanswered.map(r => r.outcome.command!))];
    for (const verb of verbs) {
      const cells = unanswered.filter(r => r.outcome.command === verb);
      // A middlebox is consistent: if the same command got an answer where it could see it (cleartext, or
      // AUTH which always is), a server hiccup under load is likelier.
      const sameView = (r: typeof cells[number]) => verb === 'AUTH' || !r.spec.tls;
      if (m.some(r => r.outcome.command !== verb && sameView(r) && answered(r, verb))) continue;
      const onlyClear = cells.every(r => !r.spec.tls) && m.some(r => r.spec.tls && r.outcome.kind === 'ok' && r.spec.command === cells[0]!.spec.command);
      const others = m.filter(r => r.outcome.kind === 'ok');
      if (!others.length) continue;
      add({ code: 'command-unanswered', side: 'network',
        title: `${verb} never gets an answer: something on the way swallows the command${onlyClear ? ' (only in cleartext: under TLS it works)' : ''}`,
        detail: `${cells[0]!.spec.label}: no reply to ${verb} within ${secs(cells[0]!.outcome.ms)}, while other commands and modes work. `
          + 'A firewall or router with FTP inspection that drops commands it does not allow (or the server hangs on it).',
        adminFix: `check firewalls/ALGs between client and server for FTP command filtering (${verb})`,
        userFix: verb === 'EPSV' || verb === 'EPRT'
          ? `avoid ${verb}: ${workingAdvice(!!cells[0]!.spec.tls, verb === 'EPSV' ? ['pasv-reply', 'pasv-control'] : ['port-local'])}${onlyClear ? '; under TLS it works too' : ''}`
          : 'use the recommended settings below (the only ones that worked)' });
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
    const tls13 = m.filter(r => r.spec.tls && !r.spec.tlsVersion && !r.spec.ccc);
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

  return works;
}
