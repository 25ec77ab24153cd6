/**
 * Pure statistics for the bench: medians with min-max over repetitions, nearest-rank percentiles, and the
 * ftpkit / best-peer ratio. Every figure in RESULTS.md goes through summarize(), so one run's spread is
 * always shown next to its median (docs/bench.md explains why single figures mislead on shared machines).
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** How many values (repetitions) the summary is made of. */
  n: number;
}

/** Median, min and max of the values; undefined when there are none (a figure that was not measured). */
export function summarize(values: readonly number[]): Summary | undefined {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return undefined;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** The nearest-rank percentile (p in 0..100) of unsorted values; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** a / b, undefined when either side is missing or b is zero. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined;
  return a / b;
}

export type Better = 'higher' | 'lower';

/**
 * The best of the peers' medians for a figure where `better` says which way is good (MB/s: higher; ms:
 * lower). Returns the peer's name and median, or undefined when no peer measured it.
 */
export function bestPeer(
  medians: ReadonlyMap<string, number | undefined>, better: Better, exclude = 'ftpkit',
): { name: string; value: number } | undefined {
  let best: { name: string; value: number } | undefined;
  for (const [name, value] of medians) {
    if (name === exclude || value === undefined) continue;
    if (!best || (better === 'higher' ? value > best.value : value < best.value)) best = { name, value };
  }
  return best;
}

/** A number with a sensible number of digits for a table: 2458, 24.5, 0.47. */
export function formatNumber(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 100) return String(Math.round(v));
  if (abs >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** "578 (540-610)" — the median and the min-max of the repetitions; just the median for one value. */
export function formatSummary(s: Summary | undefined): string {
  if (!s) return '—';
  if (s.n === 1 || s.min === s.max) return formatNumber(s.median);
  return `${formatNumber(s.median)} (${formatNumber(s.min)}-${formatNumber(s.max)})`;
}

/**
 * The order in which the servers (or clients) take their turns in round `round`: the list rotated by one
 * each round, so each one goes first as often as the others. Whoever goes first after another part of the
 * bench pays for what that part left behind (dirty pages being written back, a cold cache); with a fixed
 * order that cost always fell on the same one (ftpkit, listed first).
 */
export function turnOrder<T>(list: readonly T[], round: number): T[] {
  if (list.length === 0) return [];
  const k = ((round % list.length) + list.length) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
