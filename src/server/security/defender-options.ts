/**
 * Owns the options of the defender (FtpServerOptions.defender) and their defaults, SFTPGo-like: an
 * address is banned when its points within 5 minutes reach 15 (15 wrong passwords, or 8 unknown user
 * names), first for 15 minutes, each next ban twice as long, up to a day.
 */
import { FtpConfigError } from '../../errors.js';
import { NetworkSet } from '../../protocol/address-class.js';

/** Points per kind of event; 0 ignores that kind. */
export interface DefenderScores {
  /** A wrong password for a user that exists (or for any name, when the authenticator cannot tell). Default 1. */
  failedLogin?: number;
  /** A login with a name nobody has. Default 2. */
  unknownUser?: number;
  /** A command that needs a login, sent before it (530). Default 1. */
  refusedCommand?: number;
  /** Protocol garbage before login: a line that is no command (500), too long, or never completed. Default 2. */
  garbage?: number;
  /**
   * A login refused because the address already has its password verification running, or a session
   * closed for a command flood or PASV/PORT churn (logged in or not). Default 3.
   */
  limitExceeded?: number;
}

export interface DefenderOptions {
  /** Default true. false: no scores, no bans (allow and deny lists still apply). */
  enabled?: boolean;
  /** Points within `windowMs` that ban an address. Default 15. */
  threshold?: number;
  /** How long a point counts. Default 5 minutes. */
  windowMs?: number;
  /** First ban of an address or user name; each next one doubles. Default 15 minutes. */
  banMs?: number;
  /** Longest ban. Default 24 hours. */
  maxBanMs?: number;
  /**
   * Points (failed logins) within `windowMs` that ban a user name, from whatever addresses: the name then
   * gets 530 without a password check. Default 30; 0 turns bans of names off. An allow-listed address is
   * never refused for it.
   */
  userThreshold?: number;
  scores?: DefenderScores;
  /** Addresses and user names remembered at most, each. Default 10000. */
  maxEntries?: number;
  /** Networks never banned (CIDR or single addresses, IPv4 and IPv6). */
  allow?: string[];
  /** Networks refused at connect with 421 (CIDR or single addresses, IPv4 and IPv6). */
  deny?: string[];
  /** Clock for tests (ms since the epoch). */
  now?: () => number;
}

export interface ResolvedDefenderOptions {
  enabled: boolean;
  threshold: number;
  windowMs: number;
  banMs: number;
  maxBanMs: number;
  userThreshold: number;
  scores: Required<DefenderScores>;
  maxEntries: number;
  allow: NetworkSet;
  deny: NetworkSet;
  now: () => number;
}

export const DEFAULT_DEFENDER_SCORES: Readonly<Required<DefenderScores>> = Object.freeze({
  failedLogin: 1, unknownUser: 2, refusedCommand: 1, garbage: 2, limitExceeded: 3,
});

function positive(key: string, value: number | undefined, fallback: number, allowZero = false): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new FtpConfigError(`defender.${key}`, allowZero ? 'must be a number >= 0' : 'must be a number > 0');
  }
  return v;
}

function networks(key: string, list: string[] | undefined): NetworkSet {
  try {
    return new NetworkSet(list ?? []);
  } catch (err) {
    throw new FtpConfigError(`defender.${key}`, (err as Error).message);
  }
}

/** Fill in the defaults; throws FtpConfigError naming `defender.<key>`. */
export function resolveDefenderOptions(o: DefenderOptions = {}): ResolvedDefenderOptions {
  const scores = { ...DEFAULT_DEFENDER_SCORES };
  for (const [kind, points] of Object.entries(o.scores ?? {}) as Array<[keyof DefenderScores, number | undefined]>) {
    if (points !== undefined) scores[kind] = positive(`scores.${kind}`, points, 0, true);
  }
  const banMs = positive('banMs', o.banMs, 15 * 60_000);
  const maxBanMs = positive('maxBanMs', o.maxBanMs, 24 * 3_600_000);
  if (maxBanMs < banMs) throw new FtpConfigError('defender.maxBanMs', 'must not be shorter than defender.banMs');
  const maxEntries = positive('maxEntries', o.maxEntries, 10_000);
  if (!Number.isInteger(maxEntries)) throw new FtpConfigError('defender.maxEntries', 'must be an integer');
  return {
    enabled: o.enabled ?? true,
    threshold: positive('threshold', o.threshold, 15),
    windowMs: positive('windowMs', o.windowMs, 5 * 60_000),
    banMs,
    maxBanMs,
    userThreshold: positive('userThreshold', o.userThreshold, 30, true),
    scores,
    maxEntries,
    allow: networks('allow', o.allow),
    deny: networks('deny', o.deny),
    now: o.now ?? Date.now,
  };
}
