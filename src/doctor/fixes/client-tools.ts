/**
 * The recommended settings in the words of WinSCP (a script's `open` switches and raw site settings),
 * basic-ftp (npm, its Client options and transfer strategies) and ftpkit itself (CLI flags and library
 * options). curl, lftp and FileZilla are in ../equivalents.ts. A setting a tool lacks is said plainly.
 * Pure.
 */
import type { ClientSettings } from '../../client/options.js';
import { DEFAULT_PASV_ADDRESS_POLICY } from '../../protocol/address-policy.js';
import { urlHost } from '../../protocol/hostport.js';

export interface ToolTarget { host: string; port: number; user?: string }

/** WinSCP script: `open` with -explicit/-implicit, -passive, and raw settings (FtpForcePasvIp2: 0 off, 1 on). */
export function winscpWords(s: ClientSettings, t: ToolTarget): string {
  const secure = s.secure ?? 'none';
  const sw: string[] = [];
  const raw: string[] = [];
  const notes: string[] = [];
  if (secure === 'explicit') sw.push('-explicit');
  if (secure === 'implicit') sw.push('-implicit');
  const tls = s.tls ?? {};
  if (secure !== 'none') {
    if (tls.rejectUnauthorized === false) notes.push('accept the certificate with -certificate="<its SHA-256 fingerprint>"');
    if (tls.clearCommandChannel) notes.push('WinSCP has no CCC');
    if (tls.maxVersion === 'TLSv1.2') raw.push('MaxTlsVersion=12');
  }
  const d = s.data ?? {};
  if ((d.mode ?? 'passive') === 'passive') {
    sw.push('-passive=on');
    const policy = d.passive?.addressPolicy ?? DEFAULT_PASV_ADDRESS_POLICY;
    if (d.passive?.command === 'pasv') raw.push(`FtpForcePasvIp2=${policy === 'control' ? 1 : 0}`);
    if (d.passive?.command === 'epsv') notes.push('WinSCP uses EPSV by itself when the server offers it');
  } else {
    sw.push('-passive=off');
    const addr = d.active?.advertiseAddress && d.active.advertiseAddress !== 'local' ? d.active.advertiseAddress : '';
    if (addr) notes.push(`Preferences > Network > "Use following external IP address": ${addr}`);
    if (d.active?.portRange) notes.push(`WinSCP cannot limit its active-mode ports to ${d.active.portRange.min}-${d.active.portRange.max}`);
  }
  const scheme = secure === 'implicit' ? 'ftps' : 'ftp';
  const user = t.user ? `${encodeURIComponent(t.user)}@` : '';
  const open = `open ${scheme}://${user}${urlHost(t.host)}:${t.port}/ ${sw.join(' ')}${raw.length ? ` -rawsettings ${raw.join(' ')}` : ''}`;
  return notes.length ? `${open}   # ${notes.join('; ')}` : open;
}

/** basic-ftp: passive mode only; EPSV is its enterPassiveModeIPv6 strategy, PASV its enterPassiveModeIPv4. */
export function basicFtpWords(s: ClientSettings, t: ToolTarget): string {
  const d = s.data ?? {};
  if ((d.mode ?? 'passive') === 'active') return 'basic-ftp has no active mode: it cannot use these settings';
  const secure = s.secure ?? 'none';
  const tls = s.tls ?? {};
  const secureOptions: string[] = [];
  if (tls.rejectUnauthorized === false) secureOptions.push('rejectUnauthorized: false');
  if (tls.caFile) secureOptions.push(`ca: fs.readFileSync(${JSON.stringify(tls.caFile)})`);
  if (tls.maxVersion === 'TLSv1.2') secureOptions.push("maxVersion: 'TLSv1.2'");
  const access = [`host: ${JSON.stringify(t.host)}`, `port: ${t.port}`, ...(t.user ? [`user: ${JSON.stringify(t.user)}`] : []),
    ...(secure === 'explicit' ? ['secure: true'] : secure === 'implicit' ? ["secure: 'implicit'"] : []),
    ...(secureOptions.length ? [`secureOptions: { ${secureOptions.join(', ')} }`] : [])];
  const parts: string[] = [];
  const cmd = d.passive?.command ?? 'auto';
  const policy = d.passive?.addressPolicy ?? DEFAULT_PASV_ADDRESS_POLICY;
  // basic-ftp refuses a PASV address other than the control host's unless allowSeparateTransferHost is set,
  // and then replaces a private one with the control host's when that one is public.
  parts.push(cmd === 'pasv' && policy === 'reply' ? 'const client = new Client(30_000, { allowSeparateTransferHost: true });' : 'const client = new Client();');
  parts.push(`await client.access({ ${access.join(', ')} });`);
  if (cmd === 'epsv') parts.push('client.prepareTransfer = enterPassiveModeIPv6;   // EPSV');
  else if (cmd === 'pasv') parts.push('client.prepareTransfer = enterPassiveModeIPv4;   // PASV');
  const notes = [...(tls.clearCommandChannel ? ['basic-ftp has no CCC'] : []),
    ...(cmd === 'pasv' && policy === 'control' ? ['basic-ftp connects to the control host only when the PASV address is private'] : [])];
  return parts.join(' ') + (notes.length ? `   // ${notes.join('; ')}` : '');
}

/** ftpkit CLI flags for the settings (and --settings for what has no flag). */
export function ftpkitWords(s: ClientSettings, t: ToolTarget): string {
  const f: string[] = [];
  const secure = s.secure ?? 'none';
  const tls = s.tls ?? {};
  if (secure === 'explicit') f.push('--tls-required');
  if (secure !== 'none') {
    if (tls.rejectUnauthorized === false) f.push('--insecure');
    if (tls.caFile) f.push(`--ca ${tls.caFile}`);
    for (const pin of tls.pin ?? []) f.push(`--pin ${pin}`);
  }
  const d = s.data ?? {};
  if ((d.mode ?? 'passive') === 'passive') {
    if (d.passive?.command === 'epsv') f.push('--epsv-only');
    if (d.passive?.command === 'pasv') f.push('--no-epsv', `--pasv-host ${d.passive.addressPolicy ?? DEFAULT_PASV_ADDRESS_POLICY}`);
  } else {
    f.push('--active');
    if (d.active?.command === 'port') f.push('--no-eprt');
    if (d.active?.portRange) f.push(`--port-range ${d.active.portRange.min}-${d.active.portRange.max}`);
    if (d.active?.advertiseAddress && d.active.advertiseAddress !== 'local') f.push(`--port-address ${d.active.advertiseAddress}`);
  }
  const scheme = secure === 'implicit' ? 'ftps' : 'ftp';
  const onlySettings = [...(tls.maxVersion ? ['the TLS version cap'] : []), ...(tls.clearCommandChannel ? ['CCC'] : [])];
  const line = `ftpkit ls ${[...f, `${scheme}://${t.user ? `${encodeURIComponent(t.user)}@` : ''}${urlHost(t.host)}:${t.port}/`].join(' ')}`;
  return onlySettings.length ? `${line}   # ${onlySettings.join(' and ')}: only with --settings (the doctor's --json file)` : line;
}
