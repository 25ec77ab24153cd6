/**
 * Owns the one worker thread that lstat()s the entries of big folders being listed (issue 10), shared by
 * every session and server of the process, started on first use, unref'ed (it never keeps the process
 * alive when idle) and terminated once the last server that holds it closes (holdLstatWorker: FtpServer.listen()
 * holds, close() releases), or by stopLstatWorker().
 *
 * Why a thread: 10,000 synchronous lstat calls hold the main thread ~16 ms, and the libuv pool costs a
 * round trip per call (local-listing.ts). In the worker they cost the main thread nothing; what comes back
 * is numbers in a Float64Array per chunk of CHUNK_ENTRIES (transferred, not copied; no Stats objects), so the
 * main thread can format one chunk while the worker stats the next (docs/architecture.md, "Listings").
 *
 * The worker's code is a string (eval): it is a dozen lines, needs no import of ours, and so runs the same
 * from dist/, under tsx (whose loader a worker does not inherit) and in a bundle.
 * Names are only ever joined to a folder the jail already resolved and pinned (local-jail.ts); lstat does
 * not follow a final symlink, as on the main thread.
 */
import { Worker } from 'node:worker_threads';

/** Numbers per entry: mode, size, mtime (ms), uid, gid, nlink, dev, ino (local-info.ts reads them). */
export const STAT_FIELDS = 8;
/** Entries per message back (one Float64Array of 64 KiB). */
export const CHUNK_ENTRIES = 1024;
/** mode value of an entry that vanished since readdir or cannot be looked at: not part of the listing. */
export const NO_ENTRY = -1;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { lstatSync } = require('node:fs');
parentPort.on('message', ({ id, prefix, names, from }) => {
  for (let start = from; start < names.length; start += ${CHUNK_ENTRIES}) {
    const end = Math.min(names.length, start + ${CHUNK_ENTRIES});
    const out = new Float64Array((end - start) * ${STAT_FIELDS});
    for (let i = start, o = 0; i < end; i++, o += ${STAT_FIELDS}) {
      let st;
      try { st = lstatSync(prefix + names[i], { throwIfNoEntry: false }); } catch { st = undefined; }
      if (!st) { out[o] = ${NO_ENTRY}; continue; }
      out[o] = st.mode; out[o + 1] = st.size; out[o + 2] = st.mtime.getTime(); out[o + 3] = st.uid;
      out[o + 4] = st.gid; out[o + 5] = st.nlink; out[o + 6] = st.dev; out[o + 7] = st.ino;
    }
    parentPort.postMessage({ id, start, stats: out }, [out.buffer]);
  }
});
`;

/** What one request gets back: the stats of names[start, start + stats.length / STAT_FIELDS). */
export interface StatChunk { start: number; stats: Float64Array }

interface Pending {
  onChunk(chunk: StatChunk): void;
  onFail(err: Error): void;
}

let worker: Worker | undefined;
const pending = new Map<number, Pending>();
let nextId = 1;

function failAll(err: Error): void {
  const all = [...pending.values()];
  pending.clear();
  for (const p of all) p.onFail(err);
}

function started(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true, name: 'ftpkit-lstat' });
  w.unref();
  w.on('message', (m: { id: number } & StatChunk) => pending.get(m.id)?.onChunk(m));
  // A worker that fails or exits takes its requests with it: their callers go on on the main thread.
  w.on('error', (err) => { if (worker === w) worker = undefined; failAll(err); });
  w.on('exit', (code) => { if (worker === w) worker = undefined; failAll(new Error(`lstat worker exited (${code})`)); });
  worker = w;
  return w;
}

/**
 * lstat of names[from..] in the folder `prefix` (a host path ending in "/"), in the worker. Chunks come
 * in order through onChunk; onFail once if the worker cannot answer (then no more chunks); done() after
 * the last chunk. `names` must not be empty. Returns a function that forgets the request (chunks
 * still computed are dropped).
 */
export function lstatInWorker(prefix: string, names: readonly string[], from: number, handlers: Pending & { done(): void }): () => void {
  const id = nextId++;
  let w: Worker;
  try {
    w = started();
  } catch (err) {
    handlers.onFail(err as Error);
    return () => undefined;
  }
  const forget = (): void => {
    pending.delete(id);
    if (pending.size === 0) worker?.unref();
  };
  pending.set(id, {
    onChunk(chunk) {
      const last = chunk.start + chunk.stats.length / STAT_FIELDS >= names.length;
      if (last) forget();
      handlers.onChunk(chunk);
      if (last) handlers.done();
    },
    onFail(err) { forget(); handlers.onFail(err); },
  });
  // Referenced while it owes an answer: a listing in progress is work the process has to finish.
  w.ref();
  w.postMessage({ id, prefix, names, from });
  return forget;
}

/** Servers holding the worker (holdLstatWorker). */
let holders = 0;

/**
 * A server of this process may list big folders from now on: the worker is not stopped before every holder
 * let go. Returns the release (idempotent); the last release stops the worker. One server's close() thus
 * no longer stops the worker another server's listings are using.
 */
export function holdLstatWorker(): () => Promise<void> {
  holders++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--holders === 0) await stopLstatWorker();
  };
}

/** Whether a worker thread is running now (for tests). */
export function lstatWorkerRunning(): boolean {
  return worker !== undefined;
}

/** Terminate the worker now. A later listing starts a new one. */
export async function stopLstatWorker(): Promise<void> {
  const w = worker;
  worker = undefined;
  if (w) await w.terminate();
}
