/**
 * Our server behind NAT, in ../shared/lab network namespaces: reachable by curl, lftp and Python ftplib
 * in every mode the scenario allows, with one or two flags (--pasv-address, --pasv-ports,
 * --pasv-advertised-ports, --pasv-address-map). Without --pasv-address the server warns, naming the flag.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CLI, Lab, OWN_SCENARIOS, labTestOptions, requireLab, shq } from '../support/lab.js';

const NEEDS = ['curl', 'lftp', 'python3'];
const opts = labTestOptions(NEEDS);

/** Start `ftpkit serve` in the server namespace on port 21; resolves once it listens. */
async function startServer(lab: Lab, flags: string[]): Promise<ReturnType<Lab['spawn']>> {
  const root = path.join(lab.env.LAB_STATE!, 'srv');
  const child = lab.spawn('server', ['node', '--import', 'tsx', CLI, 'serve', root, '--port', '21', '--write', ...flags]);
  let exited = false;
  child.once('exit', () => { exited = true; });
  try {
    await lab.waitListening('server', 21, 30_000, () => !exited);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nserver output:\n${child.output()}`);
  }
  return child;
}

const CURL = 'curl -sS -v --connect-timeout 3 -m 8 -u anonymous:lab@example.com';
const EXPECT = 'hello from ftplab';

async function curlGet(lab: Lab, flags: string, host = '$FTP_HOST', target: 'client' | 'server' = 'client') {
  const r = await lab.sh(target, `${CURL} ${flags} ftp://${host}/hello.txt`, { timeoutMs: 20_000 });
  return { ...r, ok: r.code === 0 && r.stdout.includes(EXPECT) };
}

async function lftpGet(lab: Lab, settings: string) {
  const r = await lab.sh('client', `timeout -k 1 12 lftp -d -c ${shq(`set net:timeout 4; set net:max-retries 1; set ftp:ssl-allow no; ${settings}; `
    + `open -u anonymous,lab@example.com ftp://${lab.env.FTP_HOST}; cat hello.txt`)}`, { timeoutMs: 20_000 });
  return { ...r, ok: r.code === 0 && r.stdout.includes(EXPECT) };
}

async function pyGet(lab: Lab, mode: string) {
  const r = await lab.sh('client', `timeout -k 1 12 python3 "$LAB_DIR/clients/pyftp.py" ${mode} "$FTP_HOST" 21 hello.txt 4 /dev/null`, { timeoutMs: 20_000 });
  return { ...r, ok: r.code === 0 && /^OK /m.test(r.stdout) };
}

const explain = (r: { stdout: string; stderr: string }) => `${r.stdout.slice(-1500)}\n${r.stderr.slice(-2500)}`;

/** `ftpkit doctor --json` from the client namespace against our server. */
async function doctor(lab: Lab): Promise<{ causes: Array<{ code: string; adminFix?: string }>; works: string[]; elapsedMs: number }> {
  const r = await lab.sh('client', `node --import tsx ${shq(CLI)} doctor --json --connect-timeout 3s "ftp://anonymous:x@$FTP_HOST/upload/"`, { timeoutMs: 60_000 });
  assert.ok(r.stdout.trim().startsWith('{'), `doctor output:\n${r.stdout.slice(-500)}\n${r.stderr.slice(-1500)}`);
  return JSON.parse(r.stdout);
}

describe('server NAT in the lab', { concurrency: 4 }, () => {
  it('S3 (NAT + FTP ALG) with our server allowing CCC: the doctor finds TLS-then-CCC passive gets through', opts, async () => {
    requireLab(NEEDS);
    const lab = await Lab.up('S3', { ftpd: 'none' });
    try {
      const st = lab.env.LAB_STATE!;
      const config = path.join(st, 'ftpkit.yaml');
      await writeFile(config, `passive:\n  ports: 30000-30009\ntls:\n  cert: ${st}/cert.pem\n  key: ${st}/key.pem\n  allowCcc: true\n`);
      await startServer(lab, ['-c', config]);
      const r = await lab.sh('client', `node --import tsx ${shq(CLI)} doctor --json --insecure --connect-timeout 3s "ftp://anonymous:x@$FTP_HOST/upload/"`, { timeoutMs: 60_000 });
      const f = JSON.parse(r.stdout) as { causes: Array<{ code: string; userFix?: string }>; works: string[] };
      assert.deepEqual(f.causes.map(c => c.code), ['alg-blind-under-tls'], JSON.stringify(f.causes));
      // After CCC the router reads the 227 again (rewritten to the public address) and opens the port.
      assert.ok(f.works.includes('epsv+ccc') && f.works.includes('pasv-reply+ccc') && !f.works.includes('epsv+tls'), f.works.join(','));
      assert.match(f.causes[0]!.userFix ?? '', /CCC/);
    } finally {
      await lab.down();
    }
  });

  it('active mode from port 20 (own scenario N7): a client firewall admitting only ftp-data gets the connection', opts, async () => {
    requireLab(NEEDS);
    const lab = await Lab.up(path.join(OWN_SCENARIOS, 'N7-client-firewall-ftp-data-port.sh'));
    try {
      // The setting has no flag, it is a config key (docs/nat.md): active.sourcePort.
      const config = path.join(lab.env.LAB_STATE!, 'ftpkit.yaml');
      await writeFile(config, 'active:\n  sourcePort: 20\n');
      await startServer(lab, ['--pasv-ports', '30000-30009', '-c', config]);
      const [port, eprt] = await Promise.all([curlGet(lab, '-P - --disable-eprt'), curlGet(lab, '-P -')]);
      assert.ok(port.ok, `curl active PORT with the server connecting from port 20:\n${explain(port)}`);
      assert.ok(eprt.ok, `curl active EPRT with the server connecting from port 20:\n${explain(eprt)}`);
    } finally {
      await lab.down();
    }
    // Control: the same network without the setting drops the server's connection back.
    const lab2 = await Lab.up(path.join(OWN_SCENARIOS, 'N7-client-firewall-ftp-data-port.sh'));
    try {
      await startServer(lab2, ['--pasv-ports', '30000-30009']);
      const r = await curlGet(lab2, '-P - --disable-eprt');
      assert.equal(r.ok, false, 'without active.sourcePort the firewall drops the connection back');
    } finally {
      await lab2.down();
    }
  });

  it('S14 topology: --pasv-address + --pasv-ports make every client mode work', opts, async () => {
    requireLab(NEEDS);
    const lab = await Lab.up('S14', { ftpd: 'none' });
    try {
      await startServer(lab, ['--pasv-ports', '30000-30009', '--pasv-address', lab.env.SERVER_PUBLIC_IP!]);
      const cases = await Promise.all([
        curlGet(lab, '--disable-epsv --no-ftp-skip-pasv-ip').then(r => ['curl PASV (address from the reply)', r] as const),
        curlGet(lab, '').then(r => ['curl EPSV', r] as const),
        curlGet(lab, '-P - --disable-eprt').then(r => ['curl active PORT', r] as const),
        curlGet(lab, '-P -').then(r => ['curl active EPRT', r] as const),
        lftpGet(lab, 'set ftp:prefer-epsv no; set ftp:fix-pasv-address no').then(r => ['lftp PASV verbatim', r] as const),
        lftpGet(lab, 'set ftp:passive-mode no; set ftp:auto-passive-mode no').then(r => ['lftp active', r] as const),
        pyGet(lab, 'pasv-trust').then(r => ['ftplib PASV trusted', r] as const),
        pyGet(lab, 'epsv').then(r => ['ftplib EPSV', r] as const),
        pyGet(lab, 'active').then(r => ['ftplib active', r] as const),
      ]);
      for (const [name, r] of cases) assert.ok(r.ok, `${name} failed:\n${explain(r)}`);
      // The doctor agrees: nothing to fix.
      const f = await doctor(lab);
      assert.deepEqual(f.causes.map(c => c.code), [], JSON.stringify(f.causes));
      assert.ok(f.works.includes('pasv-reply') && f.works.includes('epsv') && f.works.includes('eprt-local'), f.works.join(','));
      // The 227 reply really carries the public address (not the private 10.0.20.2).
      const pasv = cases[0][1];
      assert.match(pasv.stderr, /227 Entering Passive Mode \(198,18,2,2,/);
    } finally {
      await lab.down();
    }
  });

  it('S14 topology without --pasv-address: PASV advertises the private address and the server warns', opts, async () => {
    requireLab(NEEDS);
    const lab = await Lab.up('S14', { ftpd: 'none' });
    try {
      const server = await startServer(lab, ['--pasv-ports', '30000-30009']);
      const [trust, epsv] = await Promise.all([
        curlGet(lab, '--disable-epsv --no-ftp-skip-pasv-ip'),
        curlGet(lab, ''),
      ]);
      assert.equal(trust.ok, false, 'a client using the 227 address cannot reach 10.0.20.2');
      assert.match(trust.stderr, /227 Entering Passive Mode \(10,0,20,2,/);
      assert.ok(epsv.ok, `EPSV needs no address:\n${explain(epsv)}`);
      // The warning names the setting that fixes it (the server logs JSON lines on stderr).
      assert.match(server.output(), /"code":"private-address-to-public-client".*--pasv-address/);
      // The doctor names the cause and the flag that fixes it.
      const f = await doctor(lab);
      assert.deepEqual(f.causes.map(c => c.code), ['server-private-pasv-address'], JSON.stringify(f.causes));
      assert.match(f.causes[0]!.adminFix ?? '', /ftpkit serve --pasv-address/);
    } finally {
      await lab.down();
    }
  });

  it('port-mapping NAT (own scenario N1): --pasv-advertised-ports, and LAN clients get the local address', opts, async () => {
    requireLab(NEEDS);
    const lab = await Lab.up(path.join(OWN_SCENARIOS, 'N1-server-nat-port-mapped.sh'));
    try {
      await startServer(lab, ['--pasv-ports', '30000-30009', '--pasv-advertised-ports', '40000-40009',
        '--pasv-address', lab.env.SERVER_PUBLIC_IP!, '--pasv-address-map', 'private=local']);
      const [pasv, epsv, py, lan] = await Promise.all([
        curlGet(lab, '--disable-epsv --no-ftp-skip-pasv-ip'),
        curlGet(lab, ''),
        pyGet(lab, 'pasv-trust'),
        // A client on the server's own LAN (here: the server namespace itself) gets the local address.
        curlGet(lab, '--disable-epsv --no-ftp-skip-pasv-ip', lab.env.SERVER_IP!, 'server'),
      ]);
      assert.ok(pasv.ok, `curl PASV through the port map:\n${explain(pasv)}`);
      assert.match(pasv.stderr, /227 Entering Passive Mode \(198,18,2,2,156,(6[4-9]|7[0-3])\)/); // 40000-40009 = 156*256+64..73
      assert.ok(epsv.ok, `curl EPSV through the port map:\n${explain(epsv)}`);
      assert.match(epsv.stderr, /229 Entering Extended Passive Mode \(\|\|\|4000\d\|\)/);
      assert.ok(py.ok, `ftplib PASV through the port map:\n${explain(py)}`);
      assert.match(lan.stderr, /227 Entering Passive Mode \(10,0,20,2,/);
    } finally {
      await lab.down();
    }
  });
});
