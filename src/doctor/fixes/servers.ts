/**
 * Server configuration lines for the server-side needs, one block per product: vsftpd 3 (vsftpd.conf(5)),
 * proftpd 1.3 (its directives, mod_tls), pure-ftpd 1.0 (its flags, and the Debian wrapper's
 * /etc/pure-ftpd/conf files), FileZilla Server 1.x (its settings dialog), IIS 7+ (appcmd over
 * system.ftpServer/firewallSupport and the site's ftpServer settings) and ftpkit itself (`ftpkit serve`
 * flags and YAML). A product without an option for a need gets no line for it (and a note), never a guess.
 * Pure.
 */
import type { FixBlock } from './block.js';
import { rangeText } from './block.js';
import type { ServerNeeds } from './needs.js';

/** Where a public CA's certificate for `host` usually lives (certbot's layout). */
function certPaths(host: string): { chain: string; key: string } {
  return { chain: `/etc/letsencrypt/live/${host}/fullchain.pem`, key: `/etc/letsencrypt/live/${host}/privkey.pem` };
}

export function serverProductBlocks(n: ServerNeeds): FixBlock[] {
  const out: FixBlock[] = [];
  const blocks = [vsftpd(n), proftpd(n), pureFtpd(n), fileZillaServer(n), iis(n), ftpkit(n)];
  for (const b of blocks) if (b && b.lines.length) out.push(b);
  return out;
}

function vsftpd(n: ServerNeeds): FixBlock {
  const l: string[] = [];
  const notes: string[] = [];
  if (n.passiveAddress) l.push(`pasv_address=${n.passiveAddress}`);
  if (n.passivePorts) l.push('pasv_enable=YES', `pasv_min_port=${n.passivePorts.min}`, `pasv_max_port=${n.passivePorts.max}`);
  if (n.certificateFor) {
    const p = certPaths(n.certificateFor);
    l.push('ssl_enable=YES', `rsa_cert_file=${p.chain}`, `rsa_private_key_file=${p.key}`);
  }
  if (n.noSessionReuse) l.push('require_ssl_reuse=NO');
  if (n.tlsMax12) notes.push('vsftpd 3.0 has no setting to turn TLS 1.3 off: update vsftpd/OpenSSL, or use proftpd/pure-ftpd');
  return { product: 'vsftpd', where: '/etc/vsftpd.conf, then restart vsftpd', lines: l, ...(notes.length ? { note: notes.join('; ') } : {}) };
}

function proftpd(n: ServerNeeds): FixBlock {
  const l: string[] = [];
  if (n.passiveAddress) l.push(`MasqueradeAddress ${n.passiveAddress}`);
  if (n.passivePorts) l.push(`PassivePorts ${n.passivePorts.min} ${n.passivePorts.max}`);
  if (n.certificateFor) {
    const p = certPaths(n.certificateFor);
    l.push('TLSEngine on', `TLSRSACertificateFile ${p.chain}`, `TLSRSACertificateKeyFile ${p.key}`);
  }
  if (n.noSessionReuse) l.push('TLSOptions NoSessionReuseRequired');
  if (n.tlsMax12) l.push('TLSProtocol TLSv1.2');
  return { product: 'proftpd', where: '/etc/proftpd/proftpd.conf (TLS lines: /etc/proftpd/tls.conf), then restart proftpd', lines: l };
}

function pureFtpd(n: ServerNeeds): FixBlock {
  const flags: string[] = [];
  const files: string[] = [];
  const notes: string[] = [];
  if (n.passiveAddress) { flags.push(`-P ${n.passiveAddress}`); files.push(`echo ${n.passiveAddress} > /etc/pure-ftpd/conf/ForcePassiveIP`); }
  if (n.passivePorts) {
    flags.push(`-p ${rangeText(n.passivePorts, ':')}`);
    files.push(`echo '${n.passivePorts.min} ${n.passivePorts.max}' > /etc/pure-ftpd/conf/PassivePortRange`);
  }
  if (n.certificateFor) {
    const p = certPaths(n.certificateFor);
    // pure-ftpd reads the certificate chain and the key from one PEM file.
    flags.push('-Y 1', '-2 /etc/ssl/private/pure-ftpd.pem');
    files.push(`cat ${p.chain} ${p.key} > /etc/ssl/private/pure-ftpd.pem`, 'echo 1 > /etc/pure-ftpd/conf/TLS');
  }
  if (n.tlsMax12) notes.push('pure-ftpd has no TLS version cap');
  const lines = flags.length ? [`pure-ftpd ${flags.join(' ')} ...   # or, with Debian's wrapper:`, ...files] : [];
  return { product: 'pure-ftpd', where: 'its command line, or the files of /etc/pure-ftpd/conf (Debian), then restart pure-ftpd', lines,
    ...(notes.length ? { note: notes.join('; ') } : {}) };
}

function fileZillaServer(n: ServerNeeds): FixBlock {
  const l: string[] = [];
  const passive = 'Server > Configure > Protocol settings > FTP and FTP over TLS (FTPS) > Passive mode';
  if (n.passivePorts) l.push(`${passive}: check "Use custom port range", ${n.passivePorts.min} to ${n.passivePorts.max}`);
  if (n.passiveAddress) l.push(`${passive}: Public host "Use the following host": ${n.passiveAddress}`);
  if (n.certificateFor) l.push(`Server > Configure > Protocol settings > FTP and FTP over TLS (FTPS) > FTP over TLS settings: a certificate for ${n.certificateFor} (e.g. "Let's Encrypt")`);
  return { product: 'FileZilla Server 1.x', where: 'the administration interface', lines: l,
    ...(n.tlsMax12 || n.noSessionReuse ? { note: 'FileZilla Server has no TLS 1.3 or session-reuse switch' } : {}) };
}

function iis(n: ServerNeeds): FixBlock {
  const appcmd = '%windir%\\system32\\inetsrv\\appcmd';
  const site = 'Default FTP Site';
  const l: string[] = [];
  if (n.passivePorts) l.push(`${appcmd} set config -section:system.ftpServer/firewallSupport /lowDataChannelPort:${n.passivePorts.min} /highDataChannelPort:${n.passivePorts.max} /commit:apphost`);
  if (n.passiveAddress) l.push(`${appcmd} set config -section:system.applicationHost/sites /[name='${site}'].ftpServer.firewallSupport.externalIp4Address:${n.passiveAddress} /commit:apphost`);
  if (n.passivePorts) l.push(`netsh advfirewall firewall add rule name="FTP passive" dir=in action=allow protocol=TCP localport=${rangeText(n.passivePorts)}`);
  if (n.disableHelper) l.push('netsh advfirewall set global StatefulFTP disable');
  if (n.certificateFor) l.push(`${appcmd} set config -section:system.applicationHost/sites /[name='${site}'].ftpServer.security.ssl.serverCertHash:<thumbprint of the certificate for ${n.certificateFor}> /commit:apphost`);
  if (l.length) l.push('net stop ftpsvc & net start ftpsvc');
  return { product: 'IIS', where: 'an administrator command prompt', lines: l,
    note: `"${site}" is IIS's default name: use your FTP site's name` };
}

function ftpkit(n: ServerNeeds): FixBlock {
  const flags: string[] = [];
  const yaml: string[] = [];
  if (n.passiveAddress || n.passivePorts) yaml.push('passive:');
  if (n.passiveAddress) { flags.push(`--pasv-address ${n.passiveAddress}`); yaml.push(`  address: ${n.passiveAddress}`); }
  if (n.passivePorts) { flags.push(`--pasv-ports ${rangeText(n.passivePorts)}`); yaml.push(`  ports: ${rangeText(n.passivePorts)}`); }
  const tls: string[] = [];
  if (n.certificateFor) {
    const p = certPaths(n.certificateFor);
    flags.push(`--cert ${p.chain} --key ${p.key}`);
    tls.push(`  cert: ${p.chain}`, `  key: ${p.key}`);
  }
  if (n.noSessionReuse) tls.push('  requireSessionReuse: false');
  if (n.tlsMax12) tls.push('  maxVersion: TLSv1.2');
  if (tls.length) yaml.push('tls:', ...tls);
  const lines = [...(flags.length ? [`ftpkit serve ${flags.join(' ')} ...`] : []), ...(yaml.length ? ['# or in the --config file:', ...yaml] : [])];
  return { product: 'ftpkit', where: 'ftpkit serve (flags, or its YAML --config file)', lines };
}
