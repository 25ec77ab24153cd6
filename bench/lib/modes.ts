/** The sizes of each mode and the command line (pure). */
import type { Mode, Sizes } from './results.js';
import { SERVER_NAMES, type ServerName } from './results.js';

const MiB = 1024 * 1024;

export const MODES: Record<Mode, Sizes & { servers: readonly ServerName[] }> = {
  // A few minutes on 2 cores: 256 MiB transfers instead of 1 GiB (said in RESULTS.md), 1,000 idle sessions.
  quick: {
    transferBytes: 256 * MiB, smallBytes: 64 * 1024, listingFiles: 10_000, mirrorFiles: 2_000, mirrorParallel: 4,
    levels: [50, 200, 500], idleCounts: [1_000], reps: 3, sessionSeconds: 3, servers: SERVER_NAMES,
  },
  full: {
    transferBytes: 1024 * MiB, smallBytes: 64 * 1024, listingFiles: 10_000, mirrorFiles: 2_000, mirrorParallel: 4,
    levels: [50, 200, 500], idleCounts: [1_000, 10_000], reps: 5, sessionSeconds: 5, servers: SERVER_NAMES,
  },
  // The harness end to end in seconds: two servers that need no root.
  smoke: {
    transferBytes: 4 * MiB, smallBytes: 64 * 1024, listingFiles: 100, mirrorFiles: 20, mirrorParallel: 2,
    levels: [5], idleCounts: [5], reps: 1, sessionSeconds: 1, servers: ['ftpkit', 'pyftpdlib'],
  },
};

export interface Options {
  mode: Mode;
  /** Only these parts (transfers, listings, sessions, idle, client, startup); all by default. */
  only?: Set<string>;
  servers?: ServerName[];
  /** Where RESULTS.md (and results.json beside it) goes; default bench/RESULTS.md. */
  out?: string;
}

export const PARTS = ['startup', 'transfers', 'listings', 'sessions', 'idle', 'client'] as const;

export function parseOptions(argv: readonly string[]): Options {
  const o: Options = { mode: 'quick' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--full') o.mode = 'full';
    else if (a === '--smoke') o.mode = 'smoke';
    else if (a === '--quick') o.mode = 'quick';
    else if (a === '--only') {
      o.only = new Set(value().split(','));
      for (const p of o.only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part ${p} (${PARTS.join(', ')})`);
    } else if (a === '--servers') {
      o.servers = value().split(',') as ServerName[];
      for (const s of o.servers) if (!SERVER_NAMES.includes(s)) throw new Error(`--servers: unknown server ${s} (${SERVER_NAMES.join(', ')})`);
    } else if (a === '--out') o.out = value();
    else throw new Error(`unknown option ${a}; usage: npm run bench [-- --full | --smoke] [--only ${PARTS.join(',')}] [--servers a,b] [--out FILE]`);
  }
  return o;
}
