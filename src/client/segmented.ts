/**
 * Segmented download (lftp's `pget -n N`, docs/client.md#segmented-download): the file is cut into N
 * ranges, each fetched on its own connection with REST (RFC 3659 s5) and a read of exactly its bytes,
 * written in place with positional writes into a temporary file of the final size beside the target.
 * A range that is not the file's last ends with ABOR (transfer.ts reads the 426/226 or 226/225 the server
 * answers; the extra connection is closed afterwards either way); the last range runs on the caller's
 * session and ends with the file. When every range is in, the file is checked (its size; the hash too
 * when the server offers one, verify.ts) and only then renamed to its name: a failed or wrong segmented
 * download never leaves a file under the final name.
 * One stream instead (a status line says why) when the server lacks REST STREAM or SIZE, the file is
 * smaller than two segments of MIN_SEGMENT_BYTES, the destination is not a regular file, or no extra
 * connection could be opened.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Writable } from 'node:stream';
import { FtpAbortedError, FtpReplyError, FtpUsageError, FtpVerifyError } from '../errors.js';
import { downloadFile, type DownloadOptions, type TransferResult } from './file-transfers.js';
import { attachBlockWriter } from '../net/block-source.js';
import { partPathFor } from './local-files.js';
import { inspectLocalTarget, isSpecialKind } from './local-target.js';
import { readSize } from './remote-ops.js';
import type { ClientSession } from './session.js';
import { ProgressTracker } from './progress.js';
import { keepRemoteTime } from './timestamps.js';
import { chooseVerifyMethod, verifyFile, type VerifyOutcome } from './verify.js';

/** Smallest range worth a connection of its own (a login costs several round trips). */
export const MIN_SEGMENT_BYTES = 1024 * 1024;
/** Upper bound of `segments` (servers cap connections per address long before). */
export const MAX_SEGMENTS = 32;

/** What a range needs of an extra connection; FtpClient satisfies it. */
export interface SegmentConnection {
  download(remotePath: string, destination: Writable, opts: { startAt?: number; signal?: AbortSignal; end?: boolean;
    size?: number; type?: 'binary'; progress?: boolean }): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
}

export interface SegmentedOptions {
  /** Download on this many connections at once (2..32), each a range of the file. */
  segments?: number;
  /** Opens an extra logged-in connection (default: FtpClient.connect with the same options). */
  connect?: () => Promise<SegmentConnection>;
}

/**
 * The bytes of one range into the shared descriptor at their offsets. Bytes past the range are dropped;
 * `onFull` is called once the range's last byte is on disk (the caller then aborts the transfer). Offered
 * with a block writer (net/block-source.ts), so a plain TYPE I data socket reads straight into the
 * pipeline's 1 MiB blocks (net/wire-blocks.ts) as a one-stream download does: no copy on the way.
 */
class RangeSink extends Writable {
  /** Bytes on disk. */
  received = 0;
  /** Bytes given a place (writes may be in flight). */
  private placed = 0;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly fd: number, private readonly start: number, readonly length: number,
    private readonly onFull: () => void, private readonly onWritten: (n: number) => void) {
    super({ highWaterMark: 1024 * 1024 });
    attachBlockWriter(this, { write: block => this.writeBlock(block) });
  }

  get full(): boolean { return this.received >= this.length; }

  /** Resolves when no write of this sink is in flight (before the descriptor is closed). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** The part of `block` inside the range, written at its place (taken now: two writes may overlap in time). */
  private writeBlock(block: Buffer): Promise<void> {
    const room = this.length - this.placed;
    if (room <= 0) return Promise.resolve();
    const part = block.length > room ? block.subarray(0, room) : block;
    const at = this.start + this.placed;
    this.placed += part.length;
    const write = writeAllAt(this.fd, [part], at).then(n => {
      this.received += n;
      this.onWritten(n);
      if (this.full) this.onFull();
    });
    const tracked = write.catch(() => undefined).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return write;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    Promise.all(chunks.map(({ chunk }) => this.writeBlock(chunk))).then(() => callback(), callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeBlock(chunk).then(() => callback(), callback);
  }
}

/** pwritev until every byte is written (a regular file rarely writes short, but may). */
async function writeAllAt(fd: number, buffers: Buffer[], position: number): Promise<number> {
  let total = 0;
  let rest = buffers;
  while (rest.length) {
    const n = await new Promise<number>((resolve, reject) => fs.writev(fd, rest, position + total, (e, w) => (e ? reject(e) : resolve(w))));
    total += n;
    let skip = n;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) { skip -= b.length; continue; }
      next.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    rest = next;
  }
  return total;
}

/** Ranges [start, start + length) of equal size, the last one taking the remainder. */
export function splitRanges(size: number, count: number): Array<{ start: number; length: number }> {
  const chunk = Math.floor(size / count);
  return Array.from({ length: count }, (_, i) => ({ start: i * chunk, length: i === count - 1 ? size - i * chunk : chunk }));
}

export async function downloadSegmented(session: ClientSession, remotePath: string, destination: string | Writable,
  opts: DownloadOptions & SegmentedOptions, connect: () => Promise<SegmentConnection>): Promise<TransferResult> {
  const wanted = opts.segments ?? 1;
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > MAX_SEGMENTS) throw new FtpUsageError(`segments must be a whole number from 1 to ${MAX_SEGMENTS}, got ${wanted}`);
  const { segments: _s, connect: _c, ...single } = opts;
  const oneStream = (why: string): Promise<TransferResult> => {
    session.status(`${remotePath}: one connection instead of ${wanted}: ${why}`);
    return downloadFile(session, remotePath, destination, single);
  };
  if (wanted === 1) return downloadFile(session, remotePath, destination, single);
  if (opts.resume || (opts.startAt ?? 0) > 0) throw new FtpUsageError('a segmented download cannot resume or start at an offset: use one or the other');
  if ((opts.type ?? session.options.transferType) === 'ascii') throw new FtpUsageError('a segmented download needs binary type: TYPE A offsets are not byte offsets');
  if (typeof destination !== 'string') return oneStream('the destination is a stream, not a file');
  // RFC 3659 s5.4: "REST STREAM" in FEAT says REST works in stream mode.
  if (!/\bSTREAM\b/i.test(session.features.get('REST') ?? '')) return oneStream('the server does not offer REST STREAM in FEAT');
  const target = await inspectLocalTarget(destination);
  if (isSpecialKind(target.kind)) return oneStream(`${destination} is not a regular file`);
  let size = opts.size;
  if (size === undefined) {
    try {
      size = await readSize(session, remotePath);
    } catch (e) {
      if (!(e instanceof FtpReplyError)) throw e;
      return oneStream(`SIZE was refused (${e.replyCode} ${e.replyText}), so the ranges are unknown`);
    }
  }
  const count = Math.min(wanted, Math.floor(size / MIN_SEGMENT_BYTES));
  if (count < 2) return oneStream(`the file (${size} bytes) is smaller than two segments of ${MIN_SEGMENT_BYTES} bytes`);
  opts.signal?.throwIfAborted();

  // The extra connections first: a server that caps connections per address gets fewer ranges.
  const opened = await Promise.allSettled(Array.from({ length: count - 1 }, () => connect()));
  const extras: SegmentConnection[] = [];
  for (const o of opened) {
    if (o.status === 'fulfilled') extras.push(o.value);
    else session.status(`an extra connection for ${remotePath} failed (${(o.reason as Error)?.message}); continuing with fewer`);
  }
  if (extras.length === 0) return oneStream('no extra connection could be opened');
  session.status(`${remotePath}: ${size} bytes in ${extras.length + 1} segments`);

  const tmp = partPathFor(target.realPath);
  const fd = await fsp.open(tmp, 'wx');
  let renamed = false;
  const failAll = new AbortController();
  const ranges = splitRanges(size, extras.length + 1);
  const sinks: RangeSink[] = [];
  // One progress for the whole file, counted as the ranges reach the disk (the ranges report none).
  const progress = new ProgressTracker(e => session.events.progress(e), { direction: 'download', path: remotePath, startOffset: 0, total: size });
  try {
    // The final size at once: every range writes into its place, and a short file shows as one.
    await fd.truncate(size);
    const runs = ranges.map((range, i) => {
      const ended = new AbortController();
      const last = i === ranges.length - 1;
      // The last range ends with the file: its transfer ends by itself, no ABOR.
      const sink = new RangeSink(fd.fd, range.start, range.length, last ? () => undefined : () => ended.abort(), n => progress.add(n));
      sinks.push(sink);
      const signal = AbortSignal.any([ended.signal, failAll.signal, ...(opts.signal ? [opts.signal] : [])]);
      // Each range is held to its own end below, not to the file's (a range stops short of it on purpose).
      const common = { startAt: range.start, signal, end: true, size, type: 'binary' as const, progress: false, sizeCheck: false };
      // The caller's session takes the last range: it ends with the file, without ABOR.
      const run = last
        ? downloadFile(session, remotePath, sink, common)
        : extras[i].download(remotePath, sink, common);
      return run.then(() => undefined, (e: unknown) => {
        // The range's own end: the ABOR that stopped the rest of the file.
        if (sink.full && e instanceof FtpAbortedError && !failAll.signal.aborted && !opts.signal?.aborted) return;
        if (!failAll.signal.aborted) failAll.abort(e);
        throw e;
      }).then(() => {
        if (!sink.full) throw new FtpVerifyError({ reason: 'mismatch', path: remotePath, method: 'SIZE',
          expected: String(range.length), actual: String(sink.received),
          message: `${remotePath}: the range at ${range.start} ended after ${sink.received} of ${range.length} bytes (the file changed on the server?)` });
      });
    });
    const results = await Promise.allSettled(runs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      for (const c of extras) c.destroy();
      throw failAll.signal.aborted ? failAll.signal.reason ?? failed.reason : failed.reason;
    }
    progress.finish();
    await Promise.all(extras.map(c => c.close().catch(() => c.destroy())));
    await Promise.all(sinks.map(s => s.idle()));
    await fd.close();
    let verified: VerifyOutcome | undefined;
    // The size always (no round trip); the hash too when the server offers one, or when asked.
    const written = (await fsp.stat(tmp)).size;
    if (written !== size) {
      throw new FtpVerifyError({ reason: 'mismatch', path: remotePath, method: 'SIZE', expected: String(size), actual: String(written),
        message: `${remotePath}: the segments wrote ${written} bytes, the server has ${size}` });
    }
    if (opts.verify || chooseVerifyMethod(session.features).kind !== 'size') verified = await verifyFile(session, remotePath, tmp);
    await fsp.rename(tmp, target.realPath);
    renamed = true;
    const modifiedAt = opts.preserveTime ? await keepRemoteTime(session, remotePath, target.realPath, opts.modifiedAt) : undefined;
    return { bytes: size, startOffset: 0, segments: ranges.length, ...(verified ? { verified } : {}), ...(modifiedAt ? { modifiedAt } : {}) };
  } finally {
    if (!renamed) {
      for (const c of extras) c.destroy();
      await Promise.all(sinks.map(s => s.idle()));
      await fd.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true });
    }
  }
}
