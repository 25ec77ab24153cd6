/**
 * The same data-connection settings in the words of other tools: curl flags (curl(1)), lftp `set` commands
 * (lftp(1)), FileZilla options, and (fixes/client-tools.ts) WinSCP, basic-ftp and ftpkit's own flags. Pure.
 * curl 7.88 and lftp 4.9 run the printed words in test/interop/doctor-fixes-peers.test.ts.
 */
import type { ClientSettings } from '../client/options.js';
import { DEFAULT_PASV_ADDRESS_POLICY } from '../protocol/address-policy.js';
import { basicFtpWords, ftpkitWords, winscpWords } from './fixes/client-tools.js';
import type { Recommendation } from './types.js';
import { urlHost } from '../protocol/hostport.js';

/**
 * `pinnedPublicKey`: the base64 SHA-256 of the pinned certificate's public key, for curl's
 * --pinnedpubkey (curl pins keys, not certificates; ftpkit's tls.pin is the certificate's fingerprint).
 */
export function equivalents(s: ClientSettings, target: { host: string; port: number; localAddress?: string; user?: string; pinnedPublicKey?: string }): Recommendation['equivalents'] {
  const curl: string[] = [];
  const lftp: string[] = [];
  const fz: string[] = [];
  const secure = s.secure ?? 'none';
  const tls = s.tls ?? {};
  const host = urlHost(target.host);

  if (secure === 'explicit') {
    curl.push('--ssl-reqd');
    lftp.push('set ftp:ssl-force yes', `set ftp:ssl-protect-data ${tls.protectData === false ? 'no' : 'yes'}`);
    fz.push('Encryption: "Require explicit FTP over TLS"');
  } else if (secure === 'implicit') {
    fz.push('Encryption: "Require implicit FTP over TLS"');
    lftp.push(`set ftp:ssl-protect-data ${tls.protectData === false ? 'no' : 'yes'}`);
  } else {
    // lftp negotiates AUTH TLS on its own when offered, which breaks setups that only work in cleartext.
    lftp.push('set ftp:ssl-allow no');
    fz.push('Encryption: "Only use plain FTP (insecure)"');
  }
  if (secure !== 'none') {
    if (tls.clearCommandChannel) {
      curl.push('--ftp-ssl-ccc');
      lftp.push('set ftp:ssl-use-ccc yes');
      fz.push('(FileZilla has no CCC: use active mode with TLS there, if it works)');
    }
    if (tls.maxVersion === 'TLSv1.2') { curl.push('--tls-max 1.2'); lftp.push('set ssl:priority "NORMAL:-VERS-TLS1.3"'); }
    if (tls.rejectUnauthorized === false) { curl.push('--insecure'); lftp.push('set ssl:verify-certificate no'); }
    if (tls.caFile) { curl.push(`--cacert ${tls.caFile}`); lftp.push(`set ssl:ca-file ${tls.caFile}`); }
    // A pinned certificate no CA vouches for: curl checks the pinned key even with --insecure (libcurl
    // CURLOPT_PINNEDPUBLICKEY is independent of peer verification), so the pair is tied to that one key.
    if (tls.pin?.length && target.pinnedPublicKey && tls.rejectUnauthorized !== false) {
      curl.push(`--insecure --pinnedpubkey sha256//${target.pinnedPublicKey}`);
    }
  }

  const d = s.data ?? {};
  if ((d.mode ?? 'passive') === 'passive') {
    const cmd = d.passive?.command ?? 'auto';
    const policy = d.passive?.addressPolicy ?? DEFAULT_PASV_ADDRESS_POLICY;
    fz.push('Transfer mode: Passive');
    lftp.push('set ftp:passive-mode yes');
    if (cmd === 'pasv') {
      curl.push('--disable-epsv');
      lftp.push('set ftp:prefer-epsv no');
      if (policy === 'reply') {
        curl.push('--no-ftp-skip-pasv-ip');
        lftp.push('set ftp:fix-pasv-address no', 'set ftp:ignore-pasv-address no');
        fz.push('Settings > Connection > FTP > Passive mode: uncheck "Use the server\'s external IP address instead"');
      } else if (policy === 'control') {
        curl.push('--ftp-skip-pasv-ip');
        lftp.push('set ftp:ignore-pasv-address yes');
        fz.push('Settings > Connection > FTP > Passive mode: check "Use the server\'s external IP address instead"');
      }
    } else if (cmd === 'epsv') {
      curl.push('--ftp-pasv');
      lftp.push('set ftp:prefer-epsv yes');
      fz.push('(FileZilla uses EPSV by itself when the server supports it)');
    }
  } else {
    const a = d.active ?? {};
    const addr = a.advertiseAddress && a.advertiseAddress !== 'local' ? a.advertiseAddress : '';
    const range = a.portRange ? `${a.portRange.min}-${a.portRange.max}` : '';
    // curl -P ADDRESS[:LOW-HIGH]; '-' = the control connection's address (only without a range).
    const local = target.localAddress ? urlHost(target.localAddress) : '-';
    curl.push(`-P ${addr || local}${range ? `:${range}` : ''}`);
    if (a.command === 'port') curl.push('--disable-eprt');
    lftp.push('set ftp:passive-mode no', 'set ftp:auto-passive-mode no');
    if (range) lftp.push(`set ftp:port-range ${range}`);
    if (addr) lftp.push(`set ftp:port-ipv4 ${addr}`);
    fz.push('Transfer mode: Active');
    if (range) fz.push(`Settings > Connection > FTP > Active mode: "Limit local ports" ${a.portRange!.min} to ${a.portRange!.max}`);
    if (addr) fz.push(`Settings > Connection > FTP > Active mode: "Use the following IP address" ${addr}`);
    if (secure !== 'none') curl.push('# note: curl 7.87/7.88 cannot do active FTPS (curl issue #10666); use curl >= 8.0');
  }
  const scheme = secure === 'implicit' ? 'ftps' : 'ftp';
  const url = `${scheme}://${host}:${target.port}/`;
  const curlFlags = curl.filter(x => !x.startsWith('#'));
  const note = curl.find(x => x.startsWith('#'));
  const tool = { host: target.host, port: target.port, ...(target.user ? { user: target.user } : {}) };
  return {
    curl: `curl ${[...curlFlags, url].join(' ')}${note ? `   ${note}` : ''}`,
    lftp: `lftp -e '${lftp.join('; ')}' ${url}`,
    filezilla: fz.join('; '),
    winscp: winscpWords(s, tool),
    basicFtp: basicFtpWords(s, tool),
    ftpkit: ftpkitWords(s, tool),
  };
}
