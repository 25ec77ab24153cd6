/**
 * `npm test`'s runner: starts the shared services the selected test files need (test/support/services/,
 * docs/testing.md#shared-services) once, runs `node --test` over the files with their details in the
 * environment, and stops them by PID afterwards, whatever happens (exit, failure, Ctrl-C).
 *
 *   node --import tsx test/run.ts                       every test/*\/*.test.ts
 *   node --import tsx test/run.ts test/unit/x.test.ts   only these files
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SERVICES, serviceEnvVar, serviceProblemEnvVar, type RunningService } from './support/services/registry.js';

const TEST_DIR = path.dirname(new URL(import.meta.url).pathname);

async function allTestFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const layer of (await readdir(TEST_DIR, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    for (const f of await readdir(path.join(TEST_DIR, layer.name))) {
      if (f.endsWith('.test.ts')) files.push(path.relative(process.cwd(), path.join(TEST_DIR, layer.name, f)));
    }
  }
  return files.sort();
}

async function main(): Promise<number> {
  const files = process.argv.length > 2 ? process.argv.slice(2) : await allTestFiles();
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  const env: NodeJS.ProcessEnv = { ...process.env };
  const running: RunningService[] = [];
  const dirs: string[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const s of running.reverse()) await s.stop().catch((e: unknown) => console.error(`[test] stopping a service: ${String(e)}`));
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void stopAll().then(() => process.exit(130)));
  }
  try {
    for (const service of SERVICES) {
      if (!texts.some((t) => t.includes(`services/${service.name}`))) continue;
      const problem = service.problem();
      if (problem) {
        console.log(`[test] ${service.name}: not started: ${problem}`);
        env[serviceProblemEnvVar(service.name)] = problem;
        continue;
      }
      const dir = await mkdtemp(path.join(os.tmpdir(), `ftpkit-${service.name}-`));
      dirs.push(dir);
      const t0 = Date.now();
      try {
        const s = await service.start(dir);
        running.push(s);
        env[serviceEnvVar(service.name)] = JSON.stringify(s.details);
        console.log(`[test] ${service.name}: started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (e) {
        const reason = `failed to start: ${e instanceof Error ? e.message : String(e)}`;
        console.log(`[test] ${service.name}: ${reason}`);
        env[serviceProblemEnvVar(service.name)] = reason;
      }
    }
    const child = spawn(
      process.execPath,
      [
        '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000',
        // node's own default: spec on a terminal, which ends with the failing tests. TAP otherwise (CI, a pipe),
        // followed by the failures again, so that they are in the tail CI keeps of a long log.
        ...(process.stdout.isTTY
          ? []
          : ['--test-reporter=tap', '--test-reporter-destination=stdout',
             `--test-reporter=${path.join(TEST_DIR, 'support', 'failure-summary-reporter.mjs')}`, '--test-reporter-destination=stdout']),
        ...files,
      ],
      { stdio: 'inherit', env },
    );
    return await new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    await stopAll();
  }
}

process.exitCode = await main();
