/**
 * Shared test services: daemons that are heavy to start (an object store, a database, a load balancer) and
 * that many test files use. `npm test` runs test/run.ts, which starts each service that a selected test file
 * names (the file contains `services/<name>`) once for the whole run, hands its connection details to every
 * test file in an environment variable, and stops it by PID when the run ends (docs/testing.md#shared-services).
 *
 * A test file run on its own (`node --import tsx --test test/x/y.test.ts`) has no such variable: useService()
 * then starts a private instance for that file and stops it after the file's tests.
 *
 * Adding a service: write test/support/services/<name>.ts exporting a SharedService, add it to SERVICES below.
 */
import { postgresService } from './postgres.js';
import { radosgw } from './radosgw.js';

export interface RunningService {
  /** Connection details for the test files, JSON-serialisable (ports, credentials, folders). */
  details: Record<string, unknown>;
  /** Stops every process of the service (by PID / process group) and removes its folders. */
  stop(): Promise<void>;
}

export interface SharedService {
  /** Short name; a test file that contains `services/<name>` makes the runner start it. */
  name: string;
  /** Why it cannot run on this machine (a missing Debian package, not root...), or null when it can. */
  problem(): string | null;
  /** Starts a fresh instance on loopback, in `dir` (a temporary folder the service owns). */
  start(dir: string): Promise<RunningService>;
}

/** The environment variable that carries a started service's details (JSON) to the test files. */
export function serviceEnvVar(name: string): string {
  return `FTPKIT_SERVICE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Set by the runner when a service could not start: the reason, so each test that needs it reports it. */
export function serviceProblemEnvVar(name: string): string {
  return `${serviceEnvVar(name)}_PROBLEM`;
}

/** Every shared service, in start order. */
export const SERVICES: SharedService[] = [radosgw, postgresService];
