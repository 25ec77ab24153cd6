/**
 * Inference about the control connection: name resolution, TCP (refused vs dropped vs unreachable), the
 * greeting (implicit TLS, refusals), the other address family, TLS certificate, login. Pure.
 */
import { describeOutcome } from './words.js';
import type { Cause } from './types.js';
import { step, type AddCause, type InferenceInput } from './infer-shared.js';
import { certificateSummary, certificateUserFix } from './certificate-finding.js';

export function inferControl(input: InferenceInput, causes: Cause[], add: AddCause): void {
  const ep = `${input.host}:${input.port}`;
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
  if (input.certificate) {
    // A finding, not the end: the probes went on with the certificate pinned (src/doctor/certificate.ts).
    add({ code: 'tls-certificate', side: 'server', title: 'the server\'s TLS certificate is not trusted',
      detail: `${certificateSummary(input.certificate, input.host)}.`,
      adminFix: 'install a certificate from a public CA that names this host (e.g. Let\'s Encrypt), or give users its fingerprint to pin',
      userFix: certificateUserFix(input.certificate, input.userGaveCa === true) });
  } else if (auth && auth.outcome.kind === 'tls' && auth.outcome.tlsFailure === 'certificate') {
    add({ code: 'tls-certificate', side: 'server', title: 'the server\'s TLS certificate is not trusted',
      detail: describeOutcome(auth.outcome),
      adminFix: 'install a certificate from a public CA that names this host',
      userFix: 'pass the server\'s CA certificate (--ca FILE), or pin its fingerprint (--pin sha256:...)' });
  }
  // Without a cleartext login (TLS only: --tls, implicit), the TLS session's login is the one to judge.
  const tlsLoginRefused = auth && auth.outcome.kind === 'reply' && (auth.outcome.phase === 'PASS' || auth.outcome.phase === 'USER');
  const login = step(input.steps, 'login') ?? (tlsLoginRefused ? auth : undefined);
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

  const path = step(input.steps, 'path');
  if (path && path.outcome.kind !== 'ok') {
    add({ code: 'path-unusable', side: 'client', title: `the folder in the URL cannot be entered (${path.title.replace(/^folder /, '')})`,
      detail: `${describeOutcome(path.outcome)}. The data connections were tested in the login folder instead.`,
      userFix: 'check the path in the URL (it is relative to the login folder; %2F at the start makes it absolute)' });
  }
}
