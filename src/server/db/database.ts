/**
 * Owns the connection pool to PostgreSQL (node-postgres) that every database-backed part of a node shares:
 * users (db-users.ts), the defender's scores and bans (shared-defender.ts) and quota usage
 * (shared-quota.ts). One pool per node; a pooled connection that dies (the server restarted) is dropped
 * and the next query opens a new one, so the node reconnects by itself once the database is back.
 *
 * Every failure comes out as FtpDatabaseError: 'unreachable' when no server answered (refused, reset,
 * timed out, the server shutting down), so callers can say "service not available" (421) rather than
 * "wrong password" (docs/server.md#users-bans-and-quotas-in-postgresql).
 */
import pg from 'pg';
import { FtpDatabaseError } from '../../errors.js';
import { describeDatabase, poolSettings, type DatabaseOptions } from './options.js';

/** The rows a query returns. */
export type Row = Record<string, unknown>;

/** A connection inside a transaction (Database.transaction). */
export interface Queryable {
  query<R extends Row = Row>(text: string, values?: unknown[]): Promise<R[]>;
}

/** SQLSTATE classes and codes that mean "no server to talk to" rather than "the server refused". */
const UNREACHABLE_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** Our error for a driver error. */
export function databaseError(err: unknown, where: string): FtpDatabaseError {
  if (err instanceof FtpDatabaseError) return err;
  const e = err as { code?: string; message?: string };
  const text = e?.message ?? String(err);
  const unreachable = (e?.code !== undefined && (UNREACHABLE_STATES.has(e.code) || UNREACHABLE_ERRNOS.has(e.code)))
    || /timeout|terminat|Connection ended|not queryable|connect/i.test(text);
  return new FtpDatabaseError(unreachable ? 'unreachable' : 'query', `${where}: ${text}`, { cause: err });
}

export class Database implements Queryable {
  private readonly pool: pg.Pool;
  private closed = false;
  /** Where it connects (for messages; never the password). */
  readonly address: string;

  /** Throws FtpConfigError for bad options; connects lazily (the first query). */
  constructor(readonly options: DatabaseOptions, onIdleError?: (err: Error) => void) {
    this.address = describeDatabase(options);
    this.pool = new pg.Pool(poolSettings(options));
    // An idle pooled connection that the server closes emits 'error' on the pool: without a listener that
    // would crash the process. It is dropped from the pool; the next query connects again.
    this.pool.on('error', (err) => onIdleError?.(err));
  }

  async query<R extends Row = Row>(text: string, values?: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query(text, values)).rows as R[];
    } catch (err) {
      throw databaseError(err, `database ${this.address}`);
    }
  }

  /** Runs `work` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw databaseError(err, `database ${this.address}`);
    }
    const tx: Queryable = {
      query: async <R extends Row = Row>(text: string, values?: unknown[]) => {
        try {
          return (await client.query(text, values)).rows as R[];
        } catch (err) {
          throw databaseError(err, `database ${this.address}`);
        }
      },
    };
    let broken: unknown;
    try {
      await tx.query('BEGIN');
      const result = await work(tx);
      await tx.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => { broken = e; });
      throw err;
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
