/**
 * useService(t, service): the running service's details inside a test. Under test/run.ts they come from the
 * environment (one instance for the whole run); run alone, the file starts its own instance once and stops
 * it after its tests. A service that cannot run skips the test with the reason locally and fails it under
 * FTPKIT_REQUIRE_PEERS=1 (as .ci/run sets), like a missing peer (test/support/peers-common.ts).
 */
import { after, type TestContext } from 'node:test';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REQUIRE_PEERS } from '../peers-common.js';
import { serviceEnvVar, serviceProblemEnvVar, type RunningService, type SharedService } from './registry.js';

const own = new Map<string, Promise<RunningService>>();

// Registered while this module is first evaluated, that is at the top level of the test file that imports it,
// so the hook belongs to the file's root and runs once after all its tests. (after() called inside a test
// would belong to that test and stop the service after the first one.)
after(async () => {
  for (const running of own.values()) await (await running).stop();
  own.clear();
});

/** Returns the details, or undefined after skipping the test (never undefined under FTPKIT_REQUIRE_PEERS=1). */
export async function useService<T extends Record<string, unknown>>(t: TestContext, service: SharedService): Promise<T | undefined> {
  const fromRunner = process.env[serviceEnvVar(service.name)];
  if (fromRunner) return JSON.parse(fromRunner) as T;
  const problem = process.env[serviceProblemEnvVar(service.name)] ?? service.problem();
  if (problem) {
    if (REQUIRE_PEERS) throw new Error(`required service ${service.name} unavailable (FTPKIT_REQUIRE_PEERS=1): ${problem}`);
    t.skip(`${service.name}: ${problem}`);
    return undefined;
  }
  let running = own.get(service.name);
  if (!running) {
    running = mkdtemp(path.join(os.tmpdir(), `ftpkit-${service.name}-`)).then((dir) => service.start(dir));
    own.set(service.name, running);
  }
  return (await running).details as T;
}
