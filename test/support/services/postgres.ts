/**
 * The `postgres` shared test service (docs/testing.md#shared-services): a throw-away PostgreSQL 15 cluster
 * from Debian's postgresql-15 binaries, never the system cluster. `initdb` and `pg_ctl` run as the `postgres`
 * user (initdb refuses root, and CI runs as root) in the service's own folder, listening on a free loopback
 * port with its unix socket in that folder, `fsync=off` (a test cluster need not survive a power cut).
 * Stopped with `pg_ctl stop -m immediate`, then by PID if that fails.
 *
 * Details for the tests: host, port, user (the superuser), password. Each test file makes its own database
 * (createTestDatabase below) so files stay independent.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePortRange } from '../peers-common.js';
import type { RunningService, SharedService } from './registry.js';

const run = promisify(execFile);

export const PG_BIN = process.env.FTPKIT_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PostgresDetails extends Record<string, unknown> {
  host: string;
  port: number;
  user: string;
  password: string;
}

function postgresAccount(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find(l => l.startsWith('postgres:'));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/** Runs a binary of the cluster as the postgres user when we are root (initdb and postgres refuse root). */
function asPostgres(bin: string, args: string[], account: { uid: number; gid: number } | undefined, timeout = 60_000) {
  const opts = { timeout, ...(account && process.getuid?.() === 0 ? { uid: account.uid, gid: account.gid } : {}) };
  return run(path.join(PG_BIN, bin), args, opts);
}

/** A cluster a test can also stop and start again (the database-down test), on the same port and data. */
export interface PostgresInstance extends RunningService {
  details: PostgresDetails;
  /**
   * pg_ctl stop -m fast: every connection is cut, the port closes; the data is kept (an immediate stop
   * would lose the last commits: the cluster runs with synchronous_commit=off).
   */
  halt(): Promise<void>;
  /** Start it again (same port, same data). */
  resume(): Promise<void>;
}

/** Starts a fresh cluster in `dir`; used by the service and by tests that need a private instance to stop. */
export async function startPostgres(dir: string): Promise<PostgresInstance> {
  const account = process.getuid?.() === 0 ? postgresAccount() : undefined;
  if (account) await chown(dir, account.uid, account.gid);
  const data = path.join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = path.join(dir, 'pw');
  await writeFile(pwfile, password, { mode: 0o600 });
  if (account) await chown(pwfile, account.uid, account.gid);
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '-A', 'scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale', 'C'], account);
  await rm(pwfile, { force: true });
  const start = (port: number) => asPostgres('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', path.join(dir, 'log'), '-o',
    `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200 -c shared_buffers=16MB`],
  account, 90_000);
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { min: port } = await freePortRange(1);
    try {
      await start(port);
      return {
        details: { host: '127.0.0.1', port, user: 'postgres', password },
        // The registry's contract: stop the processes, then remove the service's folder.
        stop: () => stopPostgres(dir, account).then(() => rm(dir, { recursive: true, force: true })),
        halt: () => asPostgres('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30'], account, 40_000).then(() => undefined),
        resume: () => start(port).then(() => undefined),
      };
    } catch (err) {
      lastError = err;
    }
  }
  const log = await readFile(path.join(dir, 'log'), 'utf8').catch(() => '');
  throw new Error(`postgres did not start: ${lastError instanceof Error ? lastError.message : String(lastError)}\n${log.slice(-2000)}`);
}

/** pg_ctl stop -m immediate; when that fails, KILL the postmaster by the PID in its pid file. */
async function stopPostgres(dir: string, account: { uid: number; gid: number } | undefined): Promise<void> {
  const data = path.join(dir, 'data');
  try {
    await asPostgres('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '30'], account, 40_000);
  } catch {
    const pid = Number((await readFile(path.join(data, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (pid > 0) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
}

export const postgresService: SharedService = {
  name: 'postgres',
  problem() {
    if (!existsSync(path.join(PG_BIN, 'initdb'))) return `PostgreSQL 15 is not installed (${PG_BIN}/initdb; Debian package postgresql-15)`;
    if (process.getuid?.() === 0 && !postgresAccount()) return 'running as root but there is no "postgres" user to run initdb as';
    return null;
  },
  start: startPostgres,
};

/**
 * A new database with a random name on the service, for one test file; returns its connection URL. The
 * database is dropped after the file's tests (`after` of node:test).
 */
export async function createTestDatabase(details: PostgresDetails, after: (fn: () => Promise<void>) => void): Promise<string> {
  const { default: pg } = await import('pg');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ host: details.host, port: details.port, user: details.user, password: details.password, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  after(async () => {
    const c = new pg.Client({ host: details.host, port: details.port, user: details.user, password: details.password, database: 'postgres' });
    await c.connect().then(() => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined).finally(() => c.end().catch(() => undefined));
  });
  return databaseUrl(details, name);
}

export function databaseUrl(details: PostgresDetails, database: string): string {
  return `postgres://${details.user}:${encodeURIComponent(details.password)}@${details.host}:${details.port}/${database}`;
}
