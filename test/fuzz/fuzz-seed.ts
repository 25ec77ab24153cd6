/**
 * The seed and run counts of the fuzz suite (test/fuzz/*.test.ts), so that a failure can be replayed.
 *
 * Every property runs with a fixed seed by default (CI sees the same inputs every time); set
 * FTPKIT_FUZZ_SEED=<integer> to explore other inputs, and FTPKIT_FUZZ_SCALE=<factor> (default 1) to run more
 * (or fewer) of them. fast-check's own failure message names the seed and the shrunk path; fuzzParams adds
 * the command line that replays the run.
 */
import type { Parameters } from 'fast-check';

const DEFAULT_SEED = 20_261_206;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}

/** The seed of this run: FTPKIT_FUZZ_SEED, or the fixed default. */
export const FUZZ_SEED = Math.trunc(envNumber('FTPKIT_FUZZ_SEED', DEFAULT_SEED));
const SCALE = envNumber('FTPKIT_FUZZ_SCALE', 1);

/** How many inputs a property gets: `base` times FTPKIT_FUZZ_SCALE, at least 1. */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * SCALE));
}

/** fast-check parameters: the run's seed, `base` runs (scaled) and a replay hint in the failure report. */
export function fuzzParams<T>(base: number): Parameters<T> {
  return {
    seed: FUZZ_SEED,
    numRuns: fuzzRuns(base),
    reporter: (details) => {
      if (!details.failed) return;
      const replay = `FTPKIT_FUZZ_SEED=${FUZZ_SEED} node --import tsx --test <this file>`;
      throw new Error(`fuzz property failed (seed ${details.seed}, path ${details.counterexamplePath ?? '-'}); replay: ${replay}\n`
        + `counterexample: ${JSON.stringify(details.counterexample)?.slice(0, 2000)}\n`
        + `error: ${String(details.errorInstance ?? '').slice(0, 2000)}`);
    },
  };
}

