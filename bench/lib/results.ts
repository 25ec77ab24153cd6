/**
 * The bench's result record: one run, every figure as the list of its repetitions (summarised only when
 * rendered), grouped in sections of rows (a server or a client) and metrics. Pure data, JSON-serialisable
 * (the run also writes it as bench/RESULTS.json next to RESULTS.md).
 */

export type ServerName = 'ftpkit' | 'vsftpd' | 'pure-ftpd' | 'proftpd' | 'pyftpdlib' | 'ftp-srv';
export const SERVER_NAMES: readonly ServerName[] = ['ftpkit', 'vsftpd', 'pure-ftpd', 'proftpd', 'pyftpdlib', 'ftp-srv'];

export type Mode = 'quick' | 'full' | 'smoke';

/** One row of a section: the repetitions of each metric, failures (one line each), or why it was skipped. */
export interface Cell {
  metrics: Record<string, number[]>;
  failures: string[];
  skipped?: string;
}

export type Section = Record<string, Cell>;

export interface Machine {
  cores: number;
  cpuModel: string;
  kernel: string;
  memGiB: number;
  /** /proc/loadavg's 1, 5 and 15 minute averages. */
  loadStart: number[];
  loadEnd: number[];
}

export interface Sizes {
  transferBytes: number;
  smallBytes: number;
  listingFiles: number;
  mirrorFiles: number;
  mirrorParallel: number;
  levels: number[];
  idleCounts: number[];
  reps: number;
  sessionSeconds: number;
}

export interface Results {
  mode: Mode;
  /** ISO date of the start. */
  date: string;
  durationS: number;
  machine: Machine;
  versions: Record<string, string>;
  sizes: Sizes;
  /** Section key -> rows; keys are built by the helpers in sections.ts. */
  sections: Record<string, Section>;
  /** Free-form lines for the closing notes (skips and why, settings that differ between servers). */
  notes: string[];
}

/** The cell of `row` in `section`, created on first use. */
export function cell(results: Results, section: string, row: string): Cell {
  const s = (results.sections[section] ??= {});
  return (s[row] ??= { metrics: {}, failures: [] });
}

/** Records one repetition's value of a metric. */
export function addSample(results: Results, section: string, row: string, metric: string, value: number): void {
  const c = cell(results, section, row);
  (c.metrics[metric] ??= []).push(value);
}

export function addFailure(results: Results, section: string, row: string, what: string): void {
  cell(results, section, row).failures.push(what);
}

export function markSkipped(results: Results, section: string, row: string, why: string): void {
  cell(results, section, row).skipped = why;
}

/** The values of a metric, or [] when it was never measured. */
export function samples(results: Results, section: string, row: string, metric: string): number[] {
  return results.sections[section]?.[row]?.metrics[metric] ?? [];
}

// Section keys, one place so that the runner, the targets and the renderer agree.
export const TRANSFER_KINDS = ['RETR', 'STOR', 'TLS RETR', 'TLS STOR'] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];
export const transferSection = (kind: TransferKind): string => `transfer ${kind}`;
export type LoginKind = 'named' | 'anonymous';
export const sessionsSection = (login: LoginKind, level: number): string => `sessions ${login} ${level}`;
export const idleSection = (count: number): string => `idle ${count}`;
export const LISTING_KINDS = ['LIST', 'MLSD'] as const;
export type ListingKind = (typeof LISTING_KINDS)[number];
export const listingSection = (kind: ListingKind): string => `listing ${kind}`;
export type ClientDirection = 'download' | 'upload';
export const clientSection = (direction: ClientDirection, tls: boolean): string => `client ${direction} ${tls ? 'TLS' : 'plain'}`;
export const MIRROR_SECTION = 'mirror';
export const STARTUP_SECTION = 'startup';

// Metric names (also the column headers).
export const MBPS = 'MB/s';
export const CPU_PER_GIB = 'server CPU ms/GiB';
export const RATE = 'sessions/s';
export const FAILED = 'failed sessions';
export const P50 = 'p50 ms';
export const P99 = 'p99 ms';
export const PEAK_MEM = 'peak MiB';
export const KIB_PER_SESSION = 'KiB/session';
export const HELD = 'held';
export const MS = 'ms';
export const SECONDS = 's';
export const WALL_MS = 'wall ms';
export const CPU_MS = 'CPU ms';
