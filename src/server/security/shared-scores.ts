/**
 * The seam for a defender shared by several server nodes (issue 13): scores and bans kept outside the
 * process (src/server/db/shared-defender.ts keeps them in PostgreSQL), so a node keeps none of its own.
 * With a SharedScores, the Defender (defender.ts) sends every scored event to it and asks it about bans;
 * its in-memory ScoreBooks are not used.
 *
 * The accept-time check (admission.ts) must answer synchronously: it reads `cachedBan`, which the store
 * keeps from a periodic read of the bans in force (bounded staleness, the store says how long). The
 * PASS-time check first awaits `refresh` for the address and the name, so a login is judged on the
 * store's current word.
 */
import type { NewBan } from './score-book.js';

export type ScoreKind = 'address' | 'user';

/** The rules a store applies when points are added (the node's defender options, at that moment). */
export interface BanRules {
  threshold: number;
  windowMs: number;
  banMs: number;
  maxBanMs: number;
  now: () => number;
}

export interface SharedScores {
  /** Add points atomically for every node; resolves to the ban when they reach the threshold. */
  add(kind: ScoreKind, key: string, points: number, rules: BanRules): Promise<NewBan | undefined>;
  /** When the key's ban ends as this node last heard (undefined: not banned). */
  cachedBan(kind: ScoreKind, key: string): number | undefined;
  /** Ask the store now about an address (and a user name) and update what cachedBan answers for them. */
  refresh(addressKey: string, user?: string): Promise<void>;
  /** Forget the key's points (a successful login of a name); bans stay. */
  clearScore(kind: ScoreKind, key: string): Promise<void>;
  /** Lift a ban for every node. */
  unban(kind: ScoreKind, key: string, now: number): Promise<boolean>;
  /** The bans in force as this node last heard. */
  bans(): Array<{ kind: ScoreKind; key: string; until: number }>;
}
