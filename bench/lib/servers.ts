/**
 * The servers under test, started once per run on loopback high ports and stopped by pid: ftpkit (the
 * built CLI, `node dist/cli/main.js serve`, as users run it) and the peers through the test harness's
 * launchers (test/support/peers.ts: vsftpd, pure-ftpd, proftpd, pyftpdlib, ftp-srv), with their limits
 * raised for load. Every server offers explicit TLS next to plain FTP, so one instance serves every figure.
 */
import { link, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  freePortRange, makeTempDir, peerProblem, runQuiet, spawnManaged, startProftpd, startPureFtpd, startPyftpdlib, startVsftpd,
  writeCertificate, type ManagedProcess, type PeerName, type PortRange,
} from '../../test/support/peers.js';
import { startFtpSrv } from '../../test/support/peers-ftp-srv.js';
import { cpuAccount, pidListeningOn, treeCpuMs } from './proc.js';
import type { ServerName } from './results.js';

export interface Login { user: string; password: string }

export interface BenchServer {
  name: ServerName;
  host: string;
  port: number;
  /** The daemon's pid (the root of its process tree). */
  pid: number;
  /** CPU time used by the server so far, ms (its own cgroup when possible, else its process tree). */
  cpuMs(): number;
  /** A named user with a password checked against a stored hash, when the server has one set up here. */
  named?: Login;
  anonymous?: Login;
  /** Why a login kind is not measured for this server (RESULTS.md notes). */
  loginNotes: string[];
  /** The login used for transfers and listings (named when there is one). */
  main: Login;
  /** The local folder that `main`'s "/" is. */
  root: string;
  /** FTP path of a writable folder for STOR. */
  uploadDir: string;
  localUploadDir: string;
  /** Why curl cannot measure TLS transfers against it, if it cannot. */
  tlsProblem?: string;
  stop(): Promise<void>;
}

/** Files every server serves (made once per run in `fixtures`, hard-linked into each root). */
export interface Fixtures {
  dir: string;
  /** The big transfer file. */
  big: string;
  /** The file of the sessions test (64 KiB). */
  small: string;
  /** A folder of many files for LIST/MLSD. */
  many: string;
  /** A folder of 10 files (CLI start-up: `ftpkit ls`). */
  smallDir: string;
  /** The tree of small files for `mirror`. */
  tree: string;
}

export const BIG_NAME = 'big.bin';
export const SMALL_NAME = 'small.bin';
export const MANY_NAME = 'many';
export const SMALL_DIR_NAME = 'smalldir';
export const TREE_NAME = 'tree';

const PEER_OF: Record<Exclude<ServerName, 'ftpkit'>, PeerName> = {
  vsftpd: 'vsftpd', 'pure-ftpd': 'pure-ftpd', proftpd: 'proftpd', pyftpdlib: 'pyftpdlib-tls', 'ftp-srv': 'ftp-srv',
};

/** Why a server cannot start here (a missing peer), or null. */
export function serverProblem(name: ServerName): string | null {
  return name === 'ftpkit' ? null : peerProblem(PEER_OF[name]);
}

/** Passive ranges that do not overlap between the servers of one run (each verified free). */
export class PortPlanner {
  private readonly taken: PortRange[] = [];
  async range(count: number): Promise<PortRange> {
    const r = await freePortRange(count, this.taken);
    this.taken.push(r);
    return r;
  }
}

async function linkFixtures(fx: Fixtures, root: string): Promise<void> {
  await link(fx.big, path.join(root, BIG_NAME));
  await link(fx.small, path.join(root, SMALL_NAME));
  for (const folder of [fx.many, fx.smallDir, fx.tree]) await runQuiet('cp', ['-al', folder, root]);
}

export interface StartOptions {
  fixtures: Fixtures;
  ports: PortPlanner;
  /** Passive ports per server (one per concurrent client of the sessions test, and some). */
  pasvPorts: number;
  /** Sessions the server must accept at once (the idle test's largest count). */
  maxSessions: number;
  repo: string;
}

const PEER_LOGIN = { user: 'ftpkit', password: 'ftpkit-secret' };
const ANON = { user: 'anonymous', password: 'bench@example.com' };

/** Starts a server and gives it its CPU account (see cpuAccount in proc.ts). */
export async function startServer(name: ServerName, o: StartOptions): Promise<BenchServer & { cpuSource: string }> {
  const s = await launchServer(name, o);
  const account = cpuAccount(name, s.pid);
  const stop = s.stop;
  return {
    ...s,
    cpuMs: account ? account.usageMs : () => treeCpuMs(s.pid),
    cpuSource: account ? 'cgroup cpuacct' : '/proc process tree',
    stop: async () => { await stop(); await account?.remove(); },
  };
}

type Launched = Omit<BenchServer, 'cpuMs'>;

async function launchServer(name: ServerName, o: StartOptions): Promise<Launched> {
  const problem = serverProblem(name);
  if (problem) throw new Error(`${name} cannot start: ${problem}`);
  switch (name) {
    case 'ftpkit': return startFtpkit(o);
    case 'ftp-srv': {
      const s = await startFtpSrv({ tls: true, pasvPorts: o.pasvPorts });
      await mkdir(path.join(s.root, 'upload'));
      await linkFixtures(o.fixtures, s.root);
      return {
        name, host: s.host, port: s.port, pid: pidListeningOn(s.port), named: PEER_LOGIN, main: PEER_LOGIN,
        loginNotes: ['ftp-srv: no anonymous login in the test launcher; its named login is a plain string compare (no hash), like an anonymous one'],
        root: s.root, uploadDir: '/upload', localUploadDir: path.join(s.root, 'upload'), stop: s.stop,
      };
    }
    default: {
      const pasv = await o.ports.range(o.pasvPorts);
      const many = String(o.maxSessions + 100);
      const s = name === 'vsftpd'
        ? await startVsftpd({ tls: 'explicit', pasvPorts: pasv, extra: ['max_clients=0', 'max_per_ip=0', 'log_ftp_protocol=NO'] })
        : name === 'pure-ftpd'
          ? await startPureFtpd({ tls: 1, pasvPorts: pasv, extra: ['-c', many, '-C', many] })
          : name === 'proftpd'
            ? await startProftpd({ tls: 'explicit', pasvPorts: pasv, extra: [`MaxInstances ${many}`] })
            : await startPyftpdlib({ tls: 'explicit', pasvPorts: pasv, extra: ['--max-cons', '0', '--log-level', 'WARNING'] });
      await linkFixtures(o.fixtures, s.root);
      const isVsftpd = name === 'vsftpd';
      const hasAnon = isVsftpd || name === 'pyftpdlib';
      const named = isVsftpd ? undefined : { user: s.user, password: s.password };
      const loginNotes: string[] = [];
      if (isVsftpd) loginNotes.push('vsftpd: anonymous only (a named user needs a PAM file in /etc/pam.d and a system account, which the bench does not create)');
      if (!hasAnon) loginNotes.push(`${name}: named user only (the test launcher sets no anonymous account)`);
      return {
        name, host: s.host, port: s.port, pid: pidListeningOn(s.port), named, anonymous: hasAnon ? ANON : undefined,
        main: named ?? ANON, loginNotes, root: s.root, uploadDir: '/upload', localUploadDir: s.localUploadDir,
        tlsProblem: name === 'pyftpdlib' ? "pyftpdlib's TLS handler drops curl's PROT P data connections (PEERS.md)" : undefined,
        stop: s.stop,
      };
    }
  }
}

/** The password hash of the bench user, made by the CLI's own `hash-password` at its default cost. */
async function hashPassword(repo: string, password: string): Promise<string> {
  return (await runQuiet(process.execPath, [path.join(repo, 'dist/cli/main.js'), 'hash-password'], password)).trim();
}

async function startFtpkit(o: StartOptions): Promise<Launched> {
  const { dir, cleanup } = await makeTempDir('bench-ftpkit');
  const root = path.join(dir, 'root');
  const upload = path.join(root, 'upload');
  await mkdir(upload, { recursive: true });
  await linkFixtures(o.fixtures, root);
  const certs = await writeCertificate(dir);
  const login = { user: 'bench', password: 'bench-secret-1' };
  const hash = await hashPassword(o.repo, login.password);
  const pasv = await o.ports.range(o.pasvPorts);
  const args = [
    path.join(o.repo, 'dist/cli/main.js'), 'serve', root, '--host', '127.0.0.1', '--port', '0',
    '--pasv-ports', `${pasv.min}-${pasv.max}`, '--max-sessions', String(o.maxSessions + 100), '--max-sessions-per-address', '0',
    '--anonymous', '--user', `${login.user}:${hash}:${root}:read-write`,
    '--tls', 'explicit', '--cert', certs.cert, '--key', certs.key, '--log-file', path.join(dir, 'ftpkit.log'),
  ];
  await writeFile(path.join(dir, 'args.txt'), args.join('\n'));
  const proc = spawnManaged(process.execPath, args, { env: { ...process.env, HOME: dir, FTPKIT_ALLOW_ROOT: '1' } });
  const port = await servedPort(proc);
  let stopped: Promise<void> | undefined;
  return {
    name: 'ftpkit', host: '127.0.0.1', port, pid: proc.child.pid!, named: login, anonymous: ANON, main: login,
    loginNotes: [], root, uploadDir: '/upload', localUploadDir: upload,
    stop: () => (stopped ??= proc.stop().then(cleanup)),
  };
}

/** The port `ftpkit serve` prints in its banner (ftp://host:PORT); rejects if it exits or prints none within 30 s. */
export function servedPort(proc: ManagedProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ftpkit serve printed no URL within 30 s: ${proc.output()}`)), 30_000);
    const check = (): void => {
      const m = /ftp:\/\/[^\s/]+:(\d+)/.exec(proc.output());
      if (m) { clearTimeout(timer); proc.child.stdout!.off('data', check); resolve(Number(m[1])); }
    };
    proc.child.stdout!.on('data', check);
    void proc.exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`ftpkit serve exited (${signal ?? code}): ${proc.output()}`)); });
  });
}
