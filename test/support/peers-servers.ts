/**
 * Launchers for third-party FTP SERVERS on loopback (vsftpd, pure-ftpd, proftpd, pyftpdlib), used by the
 * client, TLS and doctor tests to talk to real implementations. Each launch gets its own temp dir with
 * config, logs and the served tree, a free control port and a free random passive range (parallel tests
 * never collide), waits for the 220 greeting, and stop() kills the daemon's whole process group and removes
 * the temp dir. Facts behind each config: /work/shared/PEERS.md and docs/testing.md.
 */
import { chown, mkdir, readFile, writeFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  PEER_BIN, PURE_PW, PROFTPD_MODULES, PYTHON, SUPPORT_DIR, assertPeer, freePortRange, ftpAccount,
  makeTempDir, spawnManaged, urlHost, waitForGreeting, writeCertificate,
  type ManagedProcess, type PortRange,
} from './peers-common.js';
import { spawn } from 'node:child_process';

export type PeerTls = 'off' | 'explicit' | 'required' | 'implicit';

export interface PeerServerOptions {
  /** Listen on ::1 instead of 127.0.0.1. */
  ipv6?: boolean;
  /** Passive ports: an explicit range, or how many to pick at random (default 20). */
  pasvPorts?: PortRange | number;
  /** Files written under the served root before the start (relative path -> content). */
  files?: Record<string, string | Uint8Array>;
  /** PEM files for TLS; default: a generated self-signed certificate for localhost/127.0.0.1/::1. */
  cert?: string;
  key?: string;
  /** Raw config lines appended to the generated config (vsftpd, proftpd) or extra argv (pure-ftpd, pyftpdlib). */
  extra?: string[];
  /** Bound on the wait for the 220 greeting. Default 15 s. */
  startTimeoutMs?: number;
}

export interface PeerServer {
  name: 'vsftpd' | 'pure-ftpd' | 'proftpd' | 'pyftpdlib';
  host: string;
  port: number;
  /** ftp://host:port (ftps:// for implicit TLS), IPv6 bracketed, no trailing slash. */
  url: string;
  user: string;
  password: string;
  /** Local folder served as "/" (for the login user). */
  root: string;
  /** FTP path of a folder the login user may write to ("/upload"). */
  uploadDir: string;
  /** The same folder on the local disk. */
  localUploadDir: string;
  tls: PeerTls;
  /** PEM path of the server certificate (use as the CA file of a verifying client). */
  certFile?: string;
  pasvPorts: PortRange;
  /** The temp dir holding config, logs and the root. */
  dir: string;
  /** The daemon's output and log files, for assertion messages. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/** Content of /hello.txt on every launched server. */
export const HELLO_TEXT = 'hello from a peer\n';

interface Layout { dir: string; root: string; upload: string; cleanup: () => Promise<void> }

async function makeLayout(prefix: string, files: PeerServerOptions['files'], ownRoot: boolean): Promise<Layout> {
  const { dir, cleanup } = await makeTempDir(prefix);
  const root = path.join(dir, 'root');
  const upload = path.join(root, 'upload');
  await mkdir(upload, { recursive: true, mode: 0o755 });
  await writeFile(path.join(root, 'hello.txt'), HELLO_TEXT);
  for (const [rel, content] of Object.entries(files ?? {})) {
    const target = path.join(root, rel);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  const acct = ftpAccount();
  if (acct && process.getuid?.() === 0) {
    // The daemons write as the ftp account: its upload folder (and, for named users, its whole home).
    await chownTree(ownRoot ? root : upload, acct.uid, acct.gid);
  }
  return { dir, root, upload, cleanup };
}

async function chownTree(p: string, uid: number, gid: number): Promise<void> {
  await chown(p, uid, gid);
  for (const e of await readdir(p, { withFileTypes: true })) {
    const child = path.join(p, e.name);
    if (e.isDirectory()) await chownTree(child, uid, gid);
    else await chown(child, uid, gid);
  }
}

async function pickPorts(pasv: PeerServerOptions['pasvPorts']): Promise<{ control: number; pasv: PortRange }> {
  if (typeof pasv === 'object') return { control: (await freePortRange(1)).min, pasv };
  const count = pasv ?? 20;
  const r = await freePortRange(count + 1);
  return { control: r.min, pasv: { min: r.min + 1, max: r.max } };
}

const BIND_CONFLICT = /address already in use|EADDRINUSE|could not bind|unable to bind|bind\(\) failed/i;

/**
 * Launch with up to 3 attempts: a port verified free can still be taken by a parallel test in between,
 * which shows up as a bind error of the daemon; then pick new ports.
 */
async function launch(
  name: PeerServer['name'], opts: PeerServerOptions,
  start: (ports: { control: number; pasv: PortRange }) => Promise<{ proc: ManagedProcess; implicit: boolean; logFiles: string[]; banner: RegExp }>,
  layout: Layout, info: Omit<PeerServer, 'port' | 'url' | 'pasvPorts' | 'logs' | 'stop' | 'name' | 'dir' | 'root' | 'localUploadDir' | 'uploadDir'>,
): Promise<PeerServer> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports = await pickPorts(opts.pasvPorts);
    let started: Awaited<ReturnType<typeof start>> | undefined;
    try {
      started = await start(ports);
      const greeting = await waitForGreeting(info.host, ports.control, { timeoutMs: opts.startTimeoutMs, implicitTls: started.implicit, proc: started.proc });
      // Someone else's server on a port taken in between would greet too: insist on our daemon's banner.
      if (!started.banner.test(greeting)) throw new Error(`address already in use? foreign greeting: ${greeting.trim()}`);
    } catch (err) {
      lastErr = err;
      await started?.proc.stop();
      const text = `${(err as Error).message}\n${started ? await readLogs(started.logFiles) : ''}`;
      if (BIND_CONFLICT.test(text) && typeof opts.pasvPorts !== 'object') continue;
      await layout.cleanup();
      throw new Error(`${name} did not start: ${text}`);
    }
    const { proc, implicit, logFiles } = started;
    let stopped: Promise<void> | undefined;
    return {
      ...info,
      name,
      port: ports.control,
      url: `${implicit ? 'ftps' : 'ftp'}://${urlHost(info.host)}:${ports.control}`,
      pasvPorts: ports.pasv,
      dir: layout.dir,
      root: layout.root,
      uploadDir: '/upload',
      localUploadDir: layout.upload,
      logs: async () => `--- ${name} output ---\n${proc.output()}\n${await readLogs(logFiles)}`,
      stop: () => (stopped ??= proc.stop().then(layout.cleanup)),
    };
  }
  await layout.cleanup();
  throw new Error(`${name} did not start after 3 attempts: ${(lastErr as Error)?.message}`);
}

async function readLogs(files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const f of files) {
    try { parts.push(`--- ${path.basename(f)} ---\n${(await readFile(f, 'utf8')).slice(-32768)}`); } catch { /* not written yet */ }
  }
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------- vsftpd

export interface VsftpdOptions extends PeerServerOptions {
  tls?: PeerTls;
  /** require_ssl_reuse (vsftpd's default YES): data connections must resume the control TLS session. */
  requireSslReuse?: boolean;
}

/**
 * vsftpd 3.0.3 serving anonymous FTP (named users would need a PAM file in /etc/pam.d, which tests must
 * not touch). The root is owned by root (vsftpd refuses a writable chroot); /upload is writable.
 */
export async function startVsftpd(opts: VsftpdOptions = {}): Promise<PeerServer> {
  assertPeer('vsftpd');
  const tlsMode = opts.tls ?? 'off';
  const host = opts.ipv6 ? '::1' : '127.0.0.1';
  const layout = await makeLayout('vsftpd', opts.files, false);
  const certs = tlsMode === 'off' ? undefined : await writeCertificate(layout.dir, opts);
  const log = path.join(layout.dir, 'vsftpd.log');
  const conf = path.join(layout.dir, 'vsftpd.conf');
  return launch('vsftpd', opts, async ({ control, pasv }) => {
    const yes = (b: boolean) => (b ? 'YES' : 'NO');
    const lines = [
      'background=NO',
      ...(opts.ipv6 ? ['listen=NO', 'listen_ipv6=YES', `listen_address6=${host}`] : ['listen=YES', `listen_address=${host}`]),
      `listen_port=${control}`,
      'anonymous_enable=YES', 'local_enable=NO', `anon_root=${layout.root}`, 'ftp_username=ftp',
      'write_enable=YES', 'anon_upload_enable=YES', 'anon_mkdir_write_enable=YES', 'anon_other_write_enable=YES',
      'anon_umask=022',
      // No uid/namespace tricks beyond what root allows in a test run (PEERS.md).
      'seccomp_sandbox=NO', 'isolate=NO', 'isolate_network=NO',
      'pasv_enable=YES', `pasv_min_port=${pasv.min}`, `pasv_max_port=${pasv.max}`,
      'xferlog_enable=YES', 'xferlog_std_format=NO', `vsftpd_log_file=${log}`, 'log_ftp_protocol=YES',
      'max_clients=200', 'max_per_ip=200',
    ];
    if (certs) {
      lines.push(
        'ssl_enable=YES', `rsa_cert_file=${certs.cert}`, `rsa_private_key_file=${certs.key}`,
        // The default cipher list is refused by OpenSSL 3 (PEERS.md).
        'ssl_ciphers=HIGH', 'allow_anon_ssl=YES', 'ssl_request_cert=NO', 'debug_ssl=YES',
        `require_ssl_reuse=${yes(opts.requireSslReuse ?? true)}`,
        `force_anon_logins_ssl=${yes(tlsMode !== 'explicit')}`, `force_anon_data_ssl=${yes(tlsMode !== 'explicit')}`,
        `implicit_ssl=${yes(tlsMode === 'implicit')}`,
      );
    }
    lines.push(...(opts.extra ?? []));
    await writeFile(conf, lines.join('\n') + '\n');
    const proc = spawnManaged(PEER_BIN.vsftpd!, [conf]);
    return { proc, implicit: tlsMode === 'implicit', logFiles: [log], banner: /vsFTPd/ };
  }, layout, { host, user: 'anonymous', password: 'ftpkit@example.com', tls: tlsMode, certFile: certs?.cert });
}

// ---------------------------------------------------------------------------------------------- pure-ftpd

export interface PureFtpdOptions extends PeerServerOptions {
  /** pure-ftpd -Y: 0 no TLS, 1 optional, 2 required before login, 3 required for control and data. */
  tls?: 0 | 1 | 2 | 3;
}

/**
 * pure-ftpd 1.0.50 with one virtual user (puredb). The password hash is SHA-512 crypt (`openssl passwd -6`)
 * instead of pure-pw's argon2id default, which costs about 2.5 s of CPU per login (PEERS.md).
 */
export async function startPureFtpd(opts: PureFtpdOptions = {}): Promise<PeerServer> {
  assertPeer('pure-ftpd', 'openssl');
  const level = opts.tls ?? 0;
  const host = opts.ipv6 ? '::1' : '127.0.0.1';
  const user = 'ftpkit';
  const password = 'ftpkit-secret';
  const layout = await makeLayout('pure-ftpd', opts.files, true);
  const certs = level === 0 ? undefined : await writeCertificate(layout.dir, opts);
  const acct = ftpAccount()!;
  const passwd = path.join(layout.dir, 'pureftpd.passwd');
  const pdb = path.join(layout.dir, 'pureftpd.pdb');
  const hash = (await runQuiet('openssl', ['passwd', '-6', '-stdin'], password + '\n')).trim();
  // pure-pw's 18-field line; "/./" at the end of the home makes it the user's chroot.
  await writeFile(passwd, `${user}:${hash}:${acct.uid}:${acct.gid}::${layout.root}/./::::::::::::\n`, { mode: 0o600 });
  await runQuiet(PURE_PW!, ['mkdb', pdb, '-f', passwd]);
  const xfer = path.join(layout.dir, 'transfer.log');
  return launch('pure-ftpd', opts, async ({ control, pasv }) => {
    const args = [
      '-S', `${host},${control}`, opts.ipv6 ? '-6' : '-4', '-l', `puredb:${pdb}`,
      '-E', '-A', '-H', '-f', 'none', '-p', `${pasv.min}:${pasv.max}`, '-c', '50', '-C', '50',
      '-O', `clf:${xfer}`,
    ];
    if (certs) args.push('-Y', String(level), '-2', certs.combined);
    args.push(...(opts.extra ?? []));
    return { proc: spawnManaged(PEER_BIN.pureFtpd!, args), implicit: false, logFiles: [xfer], banner: /Pure-FTPd/ };
  }, layout, {
    host, user, password,
    tls: level === 0 ? 'off' : level === 1 ? 'explicit' : 'required',
    certFile: certs?.cert,
  });
}

// ---------------------------------------------------------------------------------------------- proftpd

export interface ProftpdOptions extends PeerServerOptions {
  tls?: PeerTls;
  /** Default true (proftpd's default): data connections must resume the control TLS session. */
  requireSslReuse?: boolean;
  /** Load mod_deflate for MODE Z. */
  deflate?: boolean;
}

/** proftpd 1.3.8 (unpacked) with one user from an AuthUserFile (SHA-512 crypt), no PAM, no login delay. */
export async function startProftpd(opts: ProftpdOptions = {}): Promise<PeerServer> {
  assertPeer('proftpd', 'openssl');
  const tlsMode = opts.tls ?? 'off';
  const host = opts.ipv6 ? '::1' : '127.0.0.1';
  const user = 'ftpkit';
  const password = 'ftpkit-secret';
  const layout = await makeLayout('proftpd', opts.files, true);
  const certs = tlsMode === 'off' ? undefined : await writeCertificate(layout.dir, opts);
  const acct = ftpAccount()!;
  const hash = (await runQuiet('openssl', ['passwd', '-6', '-stdin'], password + '\n')).trim();
  const passwd = path.join(layout.dir, 'passwd');
  const group = path.join(layout.dir, 'group');
  await writeFile(passwd, `${user}:${hash}:${acct.uid}:${acct.gid}::${layout.root}:/bin/sh\n`, { mode: 0o600 });
  await writeFile(group, `ftp:x:${acct.gid}:\n`, { mode: 0o644 });
  const conf = path.join(layout.dir, 'proftpd.conf');
  const syslog = path.join(layout.dir, 'system.log');
  const tlslog = path.join(layout.dir, 'tls.log');
  return launch('proftpd', opts, async ({ control, pasv }) => {
    const lines = [
      'ServerName "ftpkit test proftpd"', 'ServerType standalone', 'DefaultServer on',
      `Port ${control}`, `DefaultAddress ${host}`, 'SocketBindTight on', 'UseIPv6 on',
      'User ftp', 'Group ftp', `ModulePath ${PROFTPD_MODULES}`,
      `ScoreboardFile ${path.join(layout.dir, 'scoreboard')}`, `PidFile ${path.join(layout.dir, 'proftpd.pid')}`,
      `SystemLog ${syslog}`, `TransferLog ${path.join(layout.dir, 'xfer.log')}`,
      // Without these it pads login timing on purpose and resolves names (PEERS.md).
      'DelayEngine off', 'WtmpLog off', 'UseReverseDNS off',
      'AuthPAM off', 'AuthOrder mod_auth_file.c', `AuthUserFile ${passwd}`, `AuthGroupFile ${group}`,
      'RequireValidShell off', 'DefaultRoot ~', `PassivePorts ${pasv.min} ${pasv.max}`, 'MaxInstances 100',
      'Umask 022', 'AllowOverwrite on', 'AllowStoreRestart on', 'AllowRetrieveRestart on',
    ];
    if (opts.deflate) lines.push('LoadModule mod_deflate.c', 'DeflateEngine on');
    if (certs) {
      const options = [
        ...(opts.requireSslReuse === false ? ['NoSessionReuseRequired'] : []),
        ...(tlsMode === 'implicit' ? ['UseImplicitSSL'] : []),
      ];
      lines.push(
        'LoadModule mod_tls.c', 'TLSEngine on', `TLSLog ${tlslog}`, 'TLSProtocol TLSv1.2 TLSv1.3',
        `TLSRSACertificateFile ${certs.cert}`, `TLSRSACertificateKeyFile ${certs.key}`, 'TLSVerifyClient off',
        `TLSRequired ${tlsMode === 'explicit' ? 'off' : 'on'}`,
        ...(options.length ? [`TLSOptions ${options.join(' ')}`] : []),
      );
    }
    lines.push(...(opts.extra ?? []));
    await writeFile(conf, lines.join('\n') + '\n');
    return { proc: spawnManaged(PEER_BIN.proftpd!, ['-n', '-q', '-c', conf]), implicit: tlsMode === 'implicit', logFiles: [syslog, tlslog], banner: /ftpkit test proftpd/ };
  }, layout, { host, user, password, tls: tlsMode, certFile: certs?.cert });
}

// ---------------------------------------------------------------------------------------------- pyftpdlib

export interface PyftpdlibOptions extends PeerServerOptions {
  /** pyftpdlib has no implicit TLS. */
  tls?: Exclude<PeerTls, 'implicit'>;
  /** Remove EPSV and EPRT (answers 500, like servers that predate RFC 2428). */
  noEpsv?: boolean;
  /** IPv4 address advertised in 227 replies (masquerade_address). */
  masquerade?: string;
}

/** pyftpdlib 1.5.7: user ftpkit with full rights, anonymous read-only with writes in /upload. No root needed. */
export async function startPyftpdlib(opts: PyftpdlibOptions = {}): Promise<PeerServer> {
  assertPeer(opts.tls && opts.tls !== 'off' ? 'pyftpdlib-tls' : 'pyftpdlib');
  const tlsMode = opts.tls ?? 'off';
  const host = opts.ipv6 ? '::1' : '127.0.0.1';
  const user = 'ftpkit';
  const password = 'ftpkit-secret';
  const layout = await makeLayout('pyftpdlib', opts.files, false);
  const certs = tlsMode === 'off' ? undefined : await writeCertificate(layout.dir, opts);
  return launch('pyftpdlib', opts, async ({ control, pasv }) => {
    const args = [
      path.join(SUPPORT_DIR, 'pyftpd_server.py'), '--host', host, '--port', String(control), '--root', layout.root,
      '--user', user, '--pasv-range', `${pasv.min}-${pasv.max}`, '--tls', tlsMode,
    ];
    if (certs) args.push('--cert', certs.cert, '--key', certs.key);
    if (opts.noEpsv) args.push('--no-epsv');
    if (opts.masquerade) args.push('--masquerade', opts.masquerade);
    args.push(...(opts.extra ?? []));
    const env = { ...process.env, FTPKIT_PEER_PASSWORD: password, PYTHONUNBUFFERED: '1' };
    return { proc: spawnManaged(PYTHON, args, { env }), implicit: false, logFiles: [], banner: /ftpkit test peer/ };
  }, layout, { host, user, password, tls: tlsMode, certFile: certs?.cert });
}

/** Runs a short helper program to completion (bounded), returning stdout; throws with stderr on failure. */
export function runQuiet(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err}`));
    });
    // A helper that exits without reading stdin (pure-pw mkdb) makes this write fail with EPIPE: not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}
