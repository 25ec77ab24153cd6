/**
 * The data-connection matrix over a small pool of logged-in control connections: a cell borrows a session
 * of its kind (cleartext, TLS, TLS 1.2, TLS then CCC: settings fixed at login), sets its data settings, runs
 * its probe and gives the session back. Fewer logins, same coverage: logins are what servers limit (per
 * address: vsftpd max_per_ip, pure-ftpd -C, ftpkit maxSessionsPerAddress) and what costs them (a strong
 * password hash per login).
 *
 * How the pool grows and shrinks:
 *  - A kind with no session gets one; at most `startLogins` (2) logins are in flight at a time, and at most
 *    `softCap` (6) sessions do work at once.
 *  - A kind gets another session only when that pays: its waiting cells would take longer on the sessions
 *    it has (measured cell times) than a login takes (measured too), or every session it has waits.
 *  - A cell silent for `slowMs` waits for something (a dropped data connection, a server that never connects
 *    back): it does not count against `softCap`, and the cells behind it go on beside it on new sessions,
 *    so a scenario with dropped packets costs about one timeout, not one per wave.
 *  - 421 or 530 "too many connections" at login is a server limit, never a cell's result: the limit is
 *    provisional, the number of sessions really open at that moment (not those being closed: a server
 *    counts a closed connection until it has torn it down). After a short hold one login above it is tried
 *    again while cells wait, and the limit goes up when it succeeds.
 *  - A session left in doubt (a timeout, a reset, 421, a TLS failure) is closed, never lent again; an idle
 *    session of a kind no cell needs any more is closed when another kind waits for room.
 */
import type { FtpClient } from '../client/ftp-client.js';
import type { DataProbeResult, EvidenceLine, Outcome } from './types.js';
import { inconclusive, isSessionLimit } from './infer-shared.js';
import type { CellRun, CellWatch } from './session-probe.js';

/** A session already logged in (the steps' logins) that the pool takes over. */
export interface PoolSeed {
  kind: string;
  client: FtpClient;
}

export interface OpenAttempt {
  /** Logged in (and in the URL's folder); undefined when the login failed. */
  client?: FtpClient;
  outcome: Outcome;
  evidence: EvidenceLine[];
}

export interface PoolDeps {
  /** The kind of session each cell needs, in plan order. */
  kinds: string[];
  open(kind: string): Promise<OpenAttempt>;
  /** Run cell `i` on a session; `watch` receives what the pool reads to tell a waiting cell. */
  run(client: FtpClient, i: number, watch: (w: CellWatch) => void): Promise<CellRun>;
  /** End a session: politely (QUIT, bounded), or at once when it is in doubt. */
  end(client: FtpClient, polite: boolean): Promise<void>;
  /** The result of a cell whose kind of session could not be opened at all. */
  unopened(i: number, attempt: OpenAttempt): DataProbeResult;
  /** The result of a cell the budget left no time for. */
  skipped(i: number): DataProbeResult;
  signal: AbortSignal;
  /** A running cell silent this long is waiting for something (not working). */
  slowMs: number;
  /** How long a login took in the steps (until the pool has measured its own). */
  loginMs: number;
  progress(line: string): void;
}

export interface PoolOptions {
  /** Logins in flight at once (default 2). */
  startLogins?: number;
  /** Sessions doing work at once, not counting cells that wait (default 6). */
  softCap?: number;
  /** First hold after a "too many connections" refusal (default 250 ms; doubles up to 1 s while nothing ends). */
  holdMs?: number;
  /** A limit already met by the steps' logins (the sessions open at that moment). */
  limit?: { sessions: number; reply: string };
}

export interface PoolReport {
  results: DataProbeResult[];
  /** The server's session limit as the pool last knew it, when the server refused one. */
  limit?: { sessions: number; reply: string };
  /** Resolves when every session the pool had is closed. */
  drained: Promise<void>;
}

interface Slot {
  id: number;
  kind: string;
  client?: FtpClient;
  state: 'opening' | 'idle' | 'busy';
  /** Cells run on it so far. */
  cells: number;
  watch?: CellWatch;
}

/** Consecutive refusals with no session open before the waiting cells are given up. */
const MAX_EMPTY_REFUSALS = 5;
/** How often the pool looks at waiting cells and holds while cells run. */
const TICK_MS = 100;

export function runPool(seeds: PoolSeed[], d: PoolDeps, o: PoolOptions = {}): Promise<PoolReport> {
  const startLogins = o.startLogins ?? 2;
  const softCap = o.softCap ?? 6;
  const baseHold = o.holdMs ?? 250;
  const count = d.kinds.length;
  const results: Array<DataProbeResult | undefined> = new Array(count);
  const attempts = new Array<number>(count).fill(0);
  const queue: number[] = Array.from({ length: count }, (_, i) => i);
  const slots: Slot[] = [];
  const ends: Array<Promise<void>> = [];
  let nextId = 1;
  let limit = o.limit?.sessions ?? Infinity;
  let limitReply = o.limit?.reply;
  let hold = baseHold;
  let holdUntil = 0;
  let probing = false;
  let emptyRefusals = 0;
  /** Polite ends in flight: their room is not free until the server has answered QUIT. */
  let closing = 0;
  /** Most sessions open at once so far: the server accepted that many, a later refusal is about timing. */
  let accepted = seeds.length;
  const cellMs: number[] = [];
  const loginMs: number[] = [d.loginMs];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  /** Kinds whose last login failed for another reason than a limit: not grown any more. */
  const failedKinds = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  for (const s of seeds) slots.push({ id: nextId++, kind: s.kind, client: s.client, state: 'idle', cells: 0 });

  return new Promise(resolve => {
    const live = () => slots.filter(s => s.state !== 'opening').length;
    const openingOf = (kind?: string) => slots.filter(s => s.state === 'opening' && (kind === undefined || s.kind === kind)).length;
    const waitingCells = (kind: string) => queue.filter(i => d.kinds[i] === kind);
    const isStuck = (s: Slot) => s.state === 'busy' && !!s.watch && performance.now() - s.watch.lastActivity > d.slowMs;
    const stuck = (kind?: string) => slots.filter(s => isStuck(s) && (kind === undefined || s.kind === kind)).length;
    const remove = (s: Slot) => { const k = slots.indexOf(s); if (k >= 0) slots.splice(k, 1); };
    const retire = (s: Slot, polite = true) => {
      remove(s);
      if (!s.client) return;
      if (polite) closing++;
      // Room is free again: a refusal from now on is about the server's teardown, so hold only briefly.
      hold = baseHold;
      const end = d.end(s.client, polite).finally(() => { if (polite) { closing--; pump(); } });
      ends.push(end);
    };
    const settle = (i: number, r: DataProbeResult) => { results[i] = r; };

    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      for (const s of [...slots]) if (s.state === 'idle') retire(s);
      resolve({
        results: results.map((r, i) => r ?? d.skipped(i)),
        ...(limitReply !== undefined && Number.isFinite(limit) ? { limit: { sessions: limit, reply: limitReply } } : {}),
        drained: Promise.allSettled(ends).then(() => {}),
      });
    };

    const start = (s: Slot, i: number) => {
      s.state = 'busy';
      s.cells++;
      attempts[i]!++;
      s.watch = { lastActivity: performance.now() };
      const began = performance.now();
      void d.run(s.client!, i, w => { s.watch = w; }).then(({ result, healthy }) => {
        s.watch = undefined;
        if (result.outcome.kind !== 'skipped') cellMs.push(performance.now() - began);
        result.session = s.id;
        result.evidence.unshift({ atMs: 0, text: `Status: session #${s.id} (${s.kind}), cell ${s.cells} on it` });
        if (inconclusive(result) && attempts[i]! < 3 && !d.signal.aborted) queue.push(i);
        settle(i, result);
        if (isSessionLimit(result.outcome)) noteLimit(result.outcome);
        if (healthy && !d.signal.aborted) s.state = 'idle'; else retire(s, false);
        pump();
      });
    };

    const noteLimit = (outcome: Outcome) => {
      // Sessions we closed may still count on the server's side; it accepted `accepted` at once before.
      limit = Math.max(1, live(), accepted);
      limitReply = `${outcome.replyCode} ${outcome.replyText ?? ''}`.trim();
      holdUntil = performance.now() + hold;
      hold = Math.min(hold * 2, 1000);
    };

    const open = (kind: string) => {
      const s: Slot = { id: nextId++, kind, state: 'opening', cells: 0 };
      slots.push(s);
      const above = live() + openingOf() - 1 >= limit;
      if (above) probing = true;
      const began = performance.now();
      void d.open(kind).then(a => {
        if (above) probing = false;
        if (a.client && !finished && !d.signal.aborted) {
          loginMs.push(performance.now() - began);
          s.client = a.client;
          s.state = 'idle';
          accepted = Math.max(accepted, live());
          emptyRefusals = 0;
          hold = baseHold;
          // One more than we thought got in: the limit was a server still counting closed connections.
          if (live() > limit) limit = live();
          pump();
          return;
        }
        remove(s);
        if (a.client) { ends.push(d.end(a.client, true)); pump(); return; }
        if (d.signal.aborted || finished) { pump(); return; }
        if (isSessionLimit(a.outcome)) {
          const first = !Number.isFinite(limit);
          noteLimit(a.outcome);
          if (first) d.progress(`the server allows ${limit} session(s) from this address for now: the other cells wait their turn`);
          if (live() === 0 && ++emptyRefusals >= MAX_EMPTY_REFUSALS) {
            // Someone else holds every session the server allows: give the waiting cells that answer.
            for (const i of queue.splice(0)) if (!results[i]) settle(i, d.unopened(i, a));
          }
        } else if (!slots.some(x => x.kind === kind)) {
          // No session of this kind at all: the login's failure is these cells' result (a TLS 1.2
          // handshake the server refuses, CCC refused, a login that got no answer).
          for (const i of waitingCells(kind)) {
            queue.splice(queue.indexOf(i), 1);
            settle(i, d.unopened(i, a));
          }
        } else {
          failedKinds.add(kind);
        }
        pump();
      });
    };

    const pump = (): void => {
      if (finished) return;
      clearTimeout(timer);
      timer = undefined;
      if (d.signal.aborted) queue.splice(0);
      // 1. Work for idle sessions.
      for (const s of slots) {
        if (s.state !== 'idle') continue;
        const k = queue.findIndex(i => d.kinds[i] === s.kind);
        if (k >= 0) start(s, queue.splice(k, 1)[0]!);
      }
      if (!queue.length && !slots.some(s => s.state !== 'idle')) { finish(); return; }
      // A session of a kind no waiting cell needs only takes room from the others (a server limit counts it).
      for (const s of [...slots]) if (s.state === 'idle' && !queue.some(i => d.kinds[i] === s.kind)) retire(s);
      const now = performance.now();
      const kinds = [...new Set(queue.map(i => d.kinds[i]!))];
      const busyNow = () => live() + openingOf() + closing;
      const roomFor = () => busyNow() < limit && busyNow() - stuck() < softCap;
      // 2. Kinds with no session wait for room: close idle sessions that no waiting cell needs.
      const starving = kinds.filter(k => !slots.some(s => s.kind === k));
      if (starving.length && !roomFor()) {
        for (const s of [...slots]) {
          if (s.state !== 'idle' || !starving.length) continue;
          if (!kinds.includes(s.kind) || slots.filter(x => x.kind === s.kind).length > 1) { retire(s); starving.shift(); }
        }
      }
      // 3. Grow where it pays: a kind without a session, a kind whose sessions all wait, or one whose waiting
      //    cells would take longer on the sessions it has than another login takes.
      const worthIt = (k: string): number => {
        const mine = slots.filter(s => s.kind === k).length;
        const waiting = waitingCells(k).length - openingOf(k);
        if (waiting <= 0) return 0;
        if (mine === 0) return 1;
        const working = mine - stuck(k) + openingOf(k);
        if (working <= 0) return waiting;
        if (!cellMs.length) return 0;
        return waiting * mean(cellMs) / working > mean(loginMs) ? 1 : 0;
      };
      if (!d.signal.aborted && now >= holdUntil) {
        for (const k of kinds) {
          if (failedKinds.has(k) && slots.some(s => s.kind === k)) continue;
          let need = worthIt(k);
          while (need > 0 && openingOf() < startLogins && busyNow() < count) {
            if (busyNow() - stuck() >= softCap) break;
            if (busyNow() >= limit) {
              // At the limit: one login above it after the hold (the server may still count closed ones).
              if (probing) break;
              open(k);
              need = 0;
              break;
            }
            open(k);
            need--;
          }
        }
      }
      // 4. Look again soon while cells wait (holds end, running cells turn out to be waiting).
      if (queue.length && !finished) timer = setTimeout(pump, Math.max(10, Math.min(TICK_MS, holdUntil - now))).unref();
    };

    pump();
  });
}
