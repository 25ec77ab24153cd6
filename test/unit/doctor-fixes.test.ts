/**
 * Fixes for both ends, ready to paste (src/doctor/fixes/): the server products' lines, firewall / router /
 * helper rules and the user's tools, with the values of the finding, and a report without empty headings.
 * The products run the printed lines in test/interop/doctor-fixes-peers.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { infer } from '../../src/doctor/infer.js';
import { planMatrix } from '../../src/doctor/plan.js';
import { fixesFor, renderReport } from '../../src/doctor/index.js';
import { equivalents } from '../../src/doctor/equivalents.js';
import type { Cause, DataProbeResult, Finding, Note, Outcome } from '../../src/doctor/types.js';

const OK: Outcome = { kind: 'ok', ms: 40 };
const dropped = (endpoint: string): Outcome => ({ kind: 'timeout', ms: 5000, connection: 'data', phase: 'connect', endpoint });

/** A Finding from synthetic cells: every planned cell works unless `cells` says otherwise. */
function findingOf(cells: Record<string, Partial<DataProbeResult>>, o: { portRange?: { min: number; max: number }; causes?: Cause[]; notes?: Note[] } = {}): Finding {
  const specs = planMatrix({ ipv6: false, cleartext: true, tls: true, ...(o.portRange ? { portRange: o.portRange } : {}) });
  // A TLS 1.2 cell behaves like its TLS cell.
  const matrix = specs.map(spec => ({ spec, outcome: OK, evidence: [], ...(cells[spec.id] ?? cells[spec.id.replace(/12$/, '')] ?? {}) }));
  const steps = (['resolve', 'tcp', 'greeting', 'login'] as const).map(id => ({ id, title: id, outcome: OK, summary: '', evidence: [] }));
  const inf = infer({ host: 'ftp.example.net', port: 21, controlAddress: '198.18.2.2', localAddress: '10.0.9.7', steps, matrix, secure: 'explicit',
    ...(o.portRange ? { portRange: o.portRange } : {}) });
  return { version: 1, target: { host: 'ftp.example.net', port: 21, user: 'alice', secure: 'none', addresses: ['198.18.2.2'],
    controlAddress: '198.18.2.2', localAddress: '10.0.9.7' },
  startedAt: new Date(0).toISOString(), elapsedMs: 5100, budgetMs: 20000, steps, matrix, works: inf.works,
  causes: o.causes ?? inf.causes, recommended: inf.recommended, ...(o.notes ? { notes: o.notes } : {}), truncated: false };
}

const lines = (blocks: { product: string; where: string; lines: string[] }[], product: string, where = '') =>
  blocks.filter(b => b.product === product && b.where.includes(where)).flatMap(b => b.lines);

test('server behind NAT with its private address in 227: every product gets the address seen and one range', () => {
  const f = findingOf({
    'pasv-reply': { outcome: dropped('10.0.20.2:30001'), advertised: { host: '10.0.20.2', port: 30001 } },
    'pasv-reply+tls': { outcome: dropped('10.0.20.2:30003'), advertised: { host: '10.0.20.2', port: 30003 } },
  });
  assert.deepEqual(f.causes.map(c => c.code), ['server-private-pasv-address']);
  const { admin } = fixesFor(f, { passivePorts: { min: 40100, max: 40120 } });
  assert.deepEqual(lines(admin, 'vsftpd'), ['pasv_address=198.18.2.2', 'pasv_enable=YES', 'pasv_min_port=40100', 'pasv_max_port=40120']);
  assert.deepEqual(lines(admin, 'proftpd'), ['MasqueradeAddress 198.18.2.2', 'PassivePorts 40100 40120']);
  assert.match(lines(admin, 'pure-ftpd')[0]!, /^pure-ftpd -P 198\.18\.2\.2 -p 40100:40120 /);
  assert.ok(lines(admin, 'pure-ftpd').includes("echo '40100 40120' > /etc/pure-ftpd/conf/PassivePortRange"));
  assert.ok(lines(admin, 'FileZilla Server 1.x').some(l => /Use custom port range", 40100 to 40120/.test(l)));
  assert.ok(lines(admin, 'IIS').some(l => l.includes('/lowDataChannelPort:40100 /highDataChannelPort:40120')));
  assert.ok(lines(admin, 'IIS').some(l => l.includes('ftpServer.firewallSupport.externalIp4Address:198.18.2.2')));
  assert.equal(lines(admin, 'ftpkit')[0], 'ftpkit serve --pasv-address 198.18.2.2 --pasv-ports 40100-40120 ...');
  assert.deepEqual(lines(admin, 'nftables', 'on the server'), ['nft add rule inet filter input tcp dport 40100-40120 accept']);
  assert.deepEqual(lines(admin, 'iptables', 'on the server'), ['iptables -A INPUT -p tcp --dport 40100:40120 -j ACCEPT']);
  // The router forwards the range to the private address the server put in its 227.
  assert.ok(lines(admin, 'nftables', 'NAT router').includes('nft add rule ip nat prerouting tcp dport 40100-40120 dnat to 10.0.20.2'));
  assert.ok(lines(admin, 'iptables', 'NAT router').includes('iptables -t nat -A PREROUTING -p tcp --dport 40100:40120 -j DNAT --to-destination 10.0.20.2'));
  const text = admin.flatMap(b => b.lines).join('\n');
  assert.doesNotMatch(text, /PUBLIC_IP|<public|x\.x\.x\.x/i, 'no placeholder where the value is known');
  // Without a range from the admin, one suggested range is used everywhere.
  const dflt = fixesFor(f).admin;
  assert.ok(lines(dflt, 'vsftpd').includes('pasv_min_port=50000') && lines(dflt, 'nftables', 'on the server')[0]!.includes('50000-50100'));
});

test('FTP helper blind under TLS: the helper goes, with nftables, iptables and the Windows firewall', () => {
  const f = findingOf({
    'pasv-reply': { advertised: { host: '198.18.2.2', port: 30001 } },
    'pasv-control': { advertised: { host: '198.18.2.2', port: 30002 } },
    'epsv+tls': { outcome: dropped('198.18.2.2:30005'), advertised: { port: 30005 } },
    'pasv-reply+tls': { outcome: dropped('10.0.20.2:30003'), advertised: { host: '10.0.20.2', port: 30003 } },
    'pasv-control+tls': { outcome: dropped('198.18.2.2:30004'), advertised: { host: '10.0.20.2', port: 30004 } },
  });
  assert.deepEqual(f.causes.map(c => c.code), ['alg-blind-under-tls']);
  const { admin } = fixesFor(f);
  const helper = lines(admin, 'FTP helper (ALG) off');
  assert.ok(helper.includes('iptables -t raw -D PREROUTING -p tcp --dport 21 -j CT --helper ftp'));
  assert.ok(helper.includes('modprobe -r nf_nat_ftp nf_conntrack_ftp'));
  assert.ok(helper.some(l => l.startsWith("nft -a list ruleset | grep 'ct helper'")));
  assert.ok(lines(admin, 'IIS').includes('netsh advfirewall set global StatefulFTP disable'));
  assert.ok(lines(admin, 'vsftpd').includes('pasv_address=198.18.2.2'));
});

test('client side: active mode blocked by the user\'s router -> their own firewall and forward, not the admin\'s', () => {
  const range = { min: 41000, max: 41010 };
  const f = findingOf({}, { portRange: range, causes: [{ code: 'client-nat-no-forward', side: 'client', title: 't', detail: 'd', userFix: 'u' }] });
  const { admin, user } = fixesFor(f);
  assert.deepEqual(admin, []);
  assert.deepEqual(lines(user, 'nftables', 'on your machine'), ['nft add rule inet filter input tcp dport 41000-41010 accept']);
  assert.ok(lines(user, 'nftables', 'NAT router').includes('nft add rule ip nat prerouting tcp dport 41000-41010 dnat to 10.0.9.7'));
});

test('no empty "For the server\'s admin" heading; the user\'s tools under the recommendation', () => {
  const f = findingOf({}, { causes: [], notes: [{ code: 'readonly', title: 'you can read but not write here', detail: 'STOR: 550' }] });
  const text = renderReport(f);
  assert.doesNotMatch(text, /For the server's admin/);
  for (const tool of ['ftpkit', 'ftpkit library', 'curl', 'lftp', 'WinSCP', 'FileZilla', 'basic-ftp']) {
    assert.match(text, new RegExp(`\\n  ${tool} \\([^\\n]+\\):\\n      \\S`), tool);
  }
  const tls = findingOf({}, { causes: [{ code: 'tls-certificate', side: 'server', title: 'certificate not trusted', detail: 'self-signed' }] });
  const t2 = renderReport(tls);
  assert.match(t2, /For the server's admin\n  vsftpd \(\/etc\/vsftpd\.conf, then restart vsftpd\):\n      ssl_enable=YES\n      rsa_cert_file=\/etc\/letsencrypt\/live\/ftp\.example\.net\/fullchain\.pem/);
  assert.match(t2, /TLSRSACertificateFile \/etc\/letsencrypt\/live\/ftp\.example\.net\/fullchain\.pem/);
});

test('the user\'s tools: WinSCP, basic-ftp and ftpkit words for each kind of cell', () => {
  const t = { host: '198.18.2.2', port: 2121, user: 'alice' };
  const epsvTls = equivalents({ secure: 'explicit', tls: { maxVersion: 'TLSv1.2' }, data: { mode: 'passive', passive: { command: 'epsv' } } }, t);
  assert.match(epsvTls.winscp, /^open ftp:\/\/alice@198\.18\.2\.2:2121\/ -explicit -passive=on -rawsettings MaxTlsVersion=12/);
  assert.match(epsvTls.basicFtp, /secure: true, secureOptions: \{ maxVersion: 'TLSv1\.2' \}.*client\.prepareTransfer = enterPassiveModeIPv6/);
  assert.match(epsvTls.ftpkit, /^ftpkit ls --tls-required --epsv-only ftp:\/\/alice@198\.18\.2\.2:2121\/ +# the TLS version cap: only with --settings/);
  const pasvControl = equivalents({ secure: 'none', data: { mode: 'passive', passive: { command: 'pasv', addressPolicy: 'control' } } }, t);
  assert.match(pasvControl.winscp, /-passive=on -rawsettings FtpForcePasvIp2=1$/);
  assert.match(pasvControl.ftpkit, /--no-epsv --pasv-host control /);
  const pasvReply = equivalents({ secure: 'none', data: { mode: 'passive', passive: { command: 'pasv', addressPolicy: 'reply' } } }, t);
  assert.match(pasvReply.winscp, /FtpForcePasvIp2=0$/);
  assert.match(pasvReply.basicFtp, /new Client\(30_000, \{ allowSeparateTransferHost: true \}\)/);
  const active = equivalents({ secure: 'implicit', data: { mode: 'active', active: { command: 'port', portRange: { min: 50000, max: 50010 }, advertiseAddress: '203.0.113.9' } } }, t);
  assert.match(active.winscp, /^open ftps:\/\/alice@198\.18\.2\.2:2121\/ -implicit -passive=off .*external IP address": 203\.0\.113\.9/);
  assert.equal(active.basicFtp, 'basic-ftp has no active mode: it cannot use these settings');
  assert.match(active.ftpkit, /--active --no-eprt --port-range 50000-50010 --port-address 203\.0\.113\.9 ftps:\/\//);
});
