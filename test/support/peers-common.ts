/**
 * Shared machinery of the third-party peer harness (test/support/peers.ts re-exports it):
 * where the peer programs live, whether they are usable (requirePeer / peerSkip), free port ranges for
 * parallel tests, child processes in their own process group that are always killed, bounded waits for
 * a 220 greeting, temp dirs and self-signed certificates.
 *
 * Peers come from Debian packages installed (curl, lftp, python3-pyftpdlib, vsftpd) or unpacked
 * (pure-ftpd, proftpd, see .ci/run) on the machine. Locally a missing peer skips its tests with the
 * reason; with FTPKIT_REQUIRE_PEERS=1 (set by .ci/run) it fails them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, chmod, writeFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export type PeerName =
  | 'curl' | 'lftp' | 'python3' | 'pyftpdlib' | 'pyftpdlib-tls' | 'vsftpd' | 'pure-ftpd' | 'proftpd' | 'openssl'
  /** ftp-srv, the npm FTP server (a devDependency), run by test/support/peers-ftp-srv.ts. */
  | 'ftp-srv'
  /** GNU inetutils ftpd (it hands LIST's argument to /bin/ls), run by test/support/peers-inetutils.ts. */
  | 'inetutils-ftpd'
  /** A private network namespace (unshare/nsenter/ip as root), for tests that need a non-loopback address. */
  | 'netns'
  /** HAProxy (Debian's haproxy), run on loopback by test/support/haproxy.ts. */
  | 'haproxy'
  /** Proxies for the client's proxy tests (test/support/proxy-lab.ts): Debian dante-server and tinyproxy. */
  | 'danted' | 'tinyproxy';

export const PEERS_DIR = process.env.FTPKIT_PEERS_DIR ?? '/opt/ftpkit-peers';
export const REQUIRE_PEERS = process.env.FTPKIT_REQUIRE_PEERS === '1';
export const SUPPORT_DIR = path.dirname(new URL(import.meta.url).pathname);

/**
 * The Python that has the Debian modules (pyftpdlib, OpenSSL). A pyenv shim earlier in PATH may hide them,
 * so prefer the system interpreter; FTPKIT_PYTHON overrides.
 */
export const PYTHON = process.env.FTPKIT_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/** Absolute paths of the peer programs (first existing candidate wins; env vars override). */
export const PEER_BIN = {
  vsftpd: firstExisting(process.env.FTPKIT_VSFTPD, `${PEERS_DIR}/vsftpd/usr/sbin/vsftpd`, '/usr/sbin/vsftpd'),
  pureFtpd: firstExisting(process.env.FTPKIT_PUREFTPD, `${PEERS_DIR}/pure-ftpd/usr/sbin/pure-ftpd`, '/usr/sbin/pure-ftpd'),
  proftpd: firstExisting(process.env.FTPKIT_PROFTPD, `${PEERS_DIR}/proftpd/usr/sbin/proftpd`, '/usr/sbin/proftpd'),
  inetutilsFtpd: firstExisting(process.env.FTPKIT_INETUTILS_FTPD, `${PEERS_DIR}/inetutils-ftpd/usr/sbin/ftpd`),
};
/** Debian's haproxy lives in /usr/sbin, which is not on every PATH. */
export const HAPROXY_BIN = firstExisting(process.env.FTPKIT_HAPROXY, '/usr/sbin/haproxy', which('haproxy'));
// pure-pw and proftpd's modules sit in the same unpacked tree as the daemon.
export const PURE_PW = PEER_BIN.pureFtpd ? path.resolve(path.dirname(PEER_BIN.pureFtpd), '../bin/pure-pw') : undefined;
export const PROFTPD_MODULES = PEER_BIN.proftpd ? path.resolve(path.dirname(PEER_BIN.proftpd), '../lib/proftpd') : undefined;

function firstExisting(...candidates: (string | undefined)[]): string | undefined {
  return candidates.find((c): c is string => !!c && existsSync(c));
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function pythonHas(module: string): boolean {
  return spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

/** The account vsftpd serves anonymous FTP as (Debian's vsftpd package creates it) and pure-ftpd/proftpd run files as. */
export function ftpAccount(): { uid: number; gid: number; home: string } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('ftp:'));
    if (!line) return undefined;
    const f = line.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
  } catch {
    return undefined;
  }
}

const isRoot = process.getuid?.() === 0;
const cache = new Map<PeerName, string | null>();

/** Why `name` cannot run here, or null when it can. Results are cached for the process. */
export function peerProblem(name: PeerName): string | null {
  if (cache.has(name)) return cache.get(name)!;
  const hint = 'install it with `bash .ci/run deps` (see docs/testing.md)';
  let problem: string | null = null;
  switch (name) {
    case 'curl': case 'lftp': case 'openssl':
      if (!which(name)) problem = `${name} is not installed; ${hint}`;
      break;
    case 'haproxy':
      if (!HAPROXY_BIN) problem = `haproxy is not installed; ${hint}`;
      break;
    case 'python3':
      if (spawnSync(PYTHON, ['-c', 'import ftplib, ssl'], { stdio: 'ignore' }).status !== 0) problem = `${PYTHON} with ftplib/ssl not found`;
      break;
    case 'ftp-srv':
      if (!existsSync(path.resolve(SUPPORT_DIR, '../../node_modules/ftp-srv/package.json'))) problem = 'the ftp-srv devDependency is not installed (npm ci)';
      break;
    case 'pyftpdlib':
      if (!pythonHas('pyftpdlib')) problem = `python3-pyftpdlib is not importable by ${PYTHON}; ${hint}`;
      break;
    case 'pyftpdlib-tls':
      if (!pythonHas('pyftpdlib') || !pythonHas('OpenSSL')) problem = `python3-pyftpdlib/python3-openssl missing for ${PYTHON}; ${hint}`;
      break;
    case 'vsftpd':
      if (!PEER_BIN.vsftpd) problem = `vsftpd is not installed; ${hint}`;
      else if (!isRoot) problem = 'vsftpd needs root here (it switches to the ftp account and chroots)';
      else if (!ftpAccount()) problem = "vsftpd needs the 'ftp' account (created by Debian's vsftpd package)";
      break;
    case 'pure-ftpd':
      if (!PEER_BIN.pureFtpd || !PURE_PW || !existsSync(PURE_PW)) problem = `pure-ftpd/pure-pw not found under ${PEERS_DIR}/pure-ftpd; ${hint}`;
      else if (!isRoot) problem = 'pure-ftpd needs root here (virtual users switch uid and chroot)';
      else if (!ftpAccount()) problem = "pure-ftpd's virtual user runs as the 'ftp' account, which is missing";
      break;
    case 'inetutils-ftpd':
      if (!PEER_BIN.inetutilsFtpd) problem = `inetutils-ftpd not found under ${PEERS_DIR}/inetutils-ftpd; ${hint}`;
      else if (!isRoot) problem = 'inetutils-ftpd needs root here (anonymous sessions chroot into a bind-mounted folder)';
      else if (!ftpAccount()) problem = "inetutils-ftpd serves anonymous FTP as the 'ftp' account, which is missing";
      else if (!which('unshare') || !which('mount')) problem = `unshare/mount (util-linux) missing; ${hint}`;
      break;
    case 'danted': case 'tinyproxy':
      if (!which(name) && !existsSync(`/usr/sbin/${name}`) && !existsSync(`/usr/bin/${name}`)) problem = `${name} is not installed (Debian ${name === 'danted' ? 'dante-server' : 'tinyproxy'}); ${hint}`;
      break;
    case 'netns':
      if (!isRoot) problem = 'a private network namespace needs root (unshare --net)';
      else if (!which('unshare') || !which('nsenter') || !which('ip')) problem = `unshare/nsenter (util-linux) or ip (iproute2) missing; ${hint}`;
      break;
    case 'proftpd':
      if (!PEER_BIN.proftpd || !PROFTPD_MODULES || !existsSync(path.join(PROFTPD_MODULES, 'mod_tls.so'))) {
        problem = `proftpd/mod_tls not found under ${PEERS_DIR}/proftpd; ${hint}`;
      } else if (!isRoot) problem = 'proftpd needs root here (it switches to the ftp account and chroots)';
      else if (!ftpAccount()) problem = "proftpd runs as the 'ftp' account, which is missing";
      break;
  }
  cache.set(name, problem);
  return problem;
}

function problemsOf(names: PeerName[]): string | null {
  const problems = names.map(peerProblem).filter((p): p is string => p !== null);
  return problems.length ? problems.join('; ') : null;
}

/**
 * For test()/describe() options: `describe('x', peerSkip('curl'), ...)`. Locally a missing peer gives
 * `{ skip: reason }`. Under FTPKIT_REQUIRE_PEERS=1 it never skips; call requirePeer() in the test (or use a
 * launcher) to fail with the reason.
 */
export function peerSkip(...names: PeerName[]): { skip?: string } {
  const problem = problemsOf(names);
  return problem && !REQUIRE_PEERS ? { skip: problem } : {};
}

/**
 * Inside a test: returns true when every peer is usable. Otherwise skips the test with the reason and
 * returns false (`if (!requirePeer(t, 'lftp')) return;`), or throws under FTPKIT_REQUIRE_PEERS=1 so that CI
 * fails instead of silently testing less.
 */
export function requirePeer(t: TestContext, ...names: PeerName[]): boolean {
  const problem = problemsOf(names);
  if (!problem) return true;
  if (REQUIRE_PEERS) throw new Error(`required peer unavailable (FTPKIT_REQUIRE_PEERS=1): ${problem}`);
  t.skip(problem);
  return false;
}

/** Throws with the reason when a peer cannot run (used by the launchers themselves). */
export function assertPeer(...names: PeerName[]): void {
  const problem = problemsOf(names);
  if (problem) throw new Error(`peer unavailable: ${problem}`);
}

// ---------------------------------------------------------------------------------------------- ports

/**
 * Ports below Linux's ephemeral range (32768-60999 by default): outgoing connections of parallel tests
 * never take them, so a range verified free stays free unless another test picks it at random too.
 */
const PORT_LOW = 10000;
const PORT_HIGH = 32000;

async function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT'));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export interface PortRange { min: number; max: number }

/** The first of the ports min..min+count-1 that is taken on 127.0.0.1 or ::1, or undefined when all are free. */
async function firstTakenPort(min: number, count: number): Promise<number | undefined> {
  for (let p = min; p < min + count; p++) {
    if (!(await portFree(p, '127.0.0.1')) || !(await portFree(p, '::1'))) return p;
  }
  return undefined;
}

/**
 * A random range of `count` consecutive ports, each verified free on 127.0.0.1 and ::1 (passive ports of
 * servers launched by parallel test files must not collide). The first port can serve as a control port.
 *
 * With `avoid` (the bench: one process hands out every range, and pure-ftpd's 12,000 ports in --full need
 * the room): the lowest range that overlaps none of them and whose ports are free, so the ranges are packed
 * and the large one fits whenever the space allows (random starts could leave no gap wide enough).
 */
export async function freePortRange(count: number, avoid?: readonly PortRange[]): Promise<PortRange> {
  if (avoid) {
    for (let min = PORT_LOW; min + count <= PORT_HIGH;) {
      const clash = avoid.find(t => min <= t.max && t.min <= min + count - 1);
      if (clash) { min = clash.max + 1; continue; }
      const taken = await firstTakenPort(min, count);
      if (taken === undefined) return { min, max: min + count - 1 };
      min = taken + 1;
    }
    throw new Error(`no free range of ${count} ports between ${PORT_LOW} and ${PORT_HIGH} beside ${avoid.length} ranges already handed out`);
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const min = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW - count));
    if ((await firstTakenPort(min, count)) === undefined) return { min, max: min + count - 1 };
  }
  throw new Error(`no free range of ${count} ports found between ${PORT_LOW} and ${PORT_HIGH}`);
}

// ---------------------------------------------------------------------------------------------- processes

const liveGroups = new Set<number>();
// A test process that dies (assertion, crash, Ctrl-C) must not leave daemons behind.
process.once('exit', () => {
  for (const pgid of liveGroups) {
    try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

/** Registers a process group to be killed if this test process exits before it is stopped. */
export function trackGroup(pgid: number): () => void {
  liveGroups.add(pgid);
  return () => { liveGroups.delete(pgid); };
}

export interface ManagedProcess {
  child: ChildProcess;
  /** stdout+stderr so far (bounded to the last 64 KiB), for failure messages. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** TERM the whole process group, KILL it after `graceMs`, resolve when the leader has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns a daemon in its own process group (so its forked per-session children die with it). */
export function spawnManaged(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ManagedProcess {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => { out = (out + b.toString('utf8')).slice(-65536); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const pgid = child.pid;
  if (pgid !== undefined) liveGroups.add(pgid);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => { out += `\nspawn error: ${err.message}`; resolve({ code: -1, signal: null }); });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const killGroup = (sig: NodeJS.Signals) => {
    if (pgid === undefined) return;
    try { process.kill(-pgid, sig); } catch { /* group gone */ }
  };
  return {
    child,
    output: () => out,
    exited,
    async stop(graceMs = 3000) {
      if (pgid === undefined) return;
      killGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
      clearTimeout(timer);
      // Forked session children may outlive the leader: KILL whatever is left of the group.
      killGroup('SIGKILL');
      await exited;
      liveGroups.delete(pgid);
    },
  };
}

/** The port a child printed as "listening PORT" on its output (ftp_srv_server.cjs, inetd.cjs); rejects if it exits first. */
export function listeningPort(proc: ManagedProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onData = (): void => {
      const m = /listening (\d+)/.exec(proc.output());
      if (m) { proc.child.stdout!.off('data', onData); resolve(Number(m[1])); }
    };
    proc.child.stdout!.on('data', onData);
    void proc.exited.then(({ code, signal }) => reject(new Error(`exited (${signal ?? code}) before listening: ${proc.output()}`)));
  });
}

/**
 * Waits until `host:port` answers with a complete 220 greeting (multi-line "220-" ... "220 " too), polling
 * connect every 50 ms, bounded by `timeoutMs`. Rejects early, with the daemon's output, when it exits.
 * `implicitTls` does the TLS handshake first (FTPS on a dedicated port).
 */
export async function waitForGreeting(
  host: string, port: number,
  opts: { timeoutMs?: number; implicitTls?: boolean; proc?: ManagedProcess } = {},
): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  let exitedEarly: string | undefined;
  opts.proc?.exited.then(({ code, signal }) => { exitedEarly = `exited with ${signal ?? code} before greeting`; });
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(`${exitedEarly}; output:\n${opts.proc?.output() ?? ''}`);
    try {
      return await readGreeting(host, port, Math.max(200, deadline - Date.now()), !!opts.implicitTls);
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no 220 greeting from ${host}:${port} within the timeout (${lastError}); output:\n${opts.proc?.output() ?? ''}`);
}

function readGreeting(host: string, port: number, timeoutMs: number, implicitTls: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock: net.Socket = implicitTls
      ? tls.connect({ host, port, rejectUnauthorized: false, servername: net.isIP(host) ? undefined : host })
      : net.connect({ host, port });
    let buf = '';
    let settled = false;
    const timer = setTimeout(() => finish(new Error('timeout reading greeting')), timeoutMs);
    function finish(err: Error | null, banner?: string) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.removeAllListeners('data');
      if (err) { sock.destroy(); reject(err); return; }
      // Say goodbye politely so the daemon's session ends cleanly; the socket closes by itself.
      sock.on('error', () => undefined);
      sock.end('QUIT\r\n');
      setTimeout(() => sock.destroy(), 1000).unref();
      resolve(banner!);
    }
    sock.on('error', (err) => finish(err));
    sock.on('close', () => finish(new Error(`closed before greeting: ${JSON.stringify(buf)}`)));
    sock.on('data', (b: Buffer) => {
      buf += b.toString('latin1');
      // RFC 959 s4.2: a multi-line reply ends with a line that starts with the code and a space.
      const done = buf.split('\r\n').some((line) => /^\d{3} /.test(line));
      if (!done) return;
      if (/^220[ -]/.test(buf)) finish(null, buf);
      else finish(new Error(`unexpected greeting: ${buf.trim()}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------- temp + certs

/** A temp dir (mode 0755 so daemons that dropped privileges can traverse it) removed by the returned cleanup. */
export async function makeTempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `ftpkit-${prefix}-`));
  await chmod(dir, 0o755);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestCertificate { certPem: string; keyPem: string }

let certPromise: Promise<TestCertificate> | undefined;

/**
 * A self-signed RSA certificate for localhost, 127.0.0.1 and ::1 (generated once per test process with the
 * `selfsigned` package; 2048-bit because OpenSSL 3's default security level refuses smaller keys).
 */
export function testCertificate(): Promise<TestCertificate> {
  certPromise ??= (async () => {
    const selfsigned = await import('selfsigned');
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
      ],
    });
    return { certPem: pems.cert, keyPem: pems.private };
  })();
  return certPromise;
}

/** Writes cert.pem, key.pem and combined.pem (key + cert, pure-ftpd's format) into dir. */
export async function writeCertificate(dir: string, given?: { cert?: string; key?: string }): Promise<{ cert: string; key: string; combined: string }> {
  let certPem: string, keyPem: string;
  if (given?.cert && given?.key) {
    certPem = readFileSync(given.cert, 'utf8');
    keyPem = readFileSync(given.key, 'utf8');
  } else {
    ({ certPem, keyPem } = await testCertificate());
  }
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const combined = path.join(dir, 'combined.pem');
  await writeFile(cert, certPem);
  await writeFile(key, keyPem, { mode: 0o600 });
  await writeFile(combined, keyPem + certPem, { mode: 0o600 });
  return { cert, key, combined };
}

/** Bracket an IPv6 literal for URLs. */
export function urlHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}
