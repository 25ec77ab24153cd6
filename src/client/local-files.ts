/**
 * Local side of downloads and uploads. How a download is written depends on what its destination is
 * (local-target.ts):
 * - a regular file (or a missing one): a temporary file in the same folder as the real file, renamed over
 *   it on success, so a failed transfer never leaves a file that looks complete (unless the caller
 *   resumes, which writes in place by definition);
 * - a device or a FIFO: opened and written directly; no temporary file, no rename (that would destroy the
 *   node), no fsync (it fails with EINVAL on such nodes and means nothing there).
 * Big buffers: few syscalls on the hot path. A file written by a download gets 1 MiB batches (one writev
 * each, net/data-direct.ts; one written while the next fills, see there why); a file read by an
 * upload is read in 1 MiB blocks through its block reader (net/block-source.ts).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { FtpUsageError } from '../errors.js';
import { attachBlockReader, attachBlockWriter, fileBlockReader, fileBlockWriter } from '../net/block-source.js';
import { assertResumable, describeKind, isSpecialKind, kindOf, type LocalTarget } from './local-target.js';

/** Of the files a download writes: one 1 MiB batch written while the next fills (net/data-direct.ts). */
const HIGH_WATER_MARK = 1024 * 1024;
/** Polling for a FIFO's reader: start fast (a reader usually is there), back off to this. */
const FIFO_POLL_MAX_MS = 250;

/** Checks the written file before it is made visible (verify.ts); throwing keeps it from looking complete. */
export type BeforeCommit = (writtenPath: string) => Promise<void>;

export interface LocalSink {
  stream: Writable;
  /**
   * Make the result visible (rename the temporary file; close a device or FIFO). With `check` (a regular
   * file only), the closed file is checked first: when the check throws, a temporary file is removed and
   * a file written in place (resume) is renamed to NAME.ftpkit-mismatch, then the error is rethrown.
   */
  commit(check?: BeforeCommit): Promise<void>;
  /** Remove what a failed transfer left (the temporary file; nothing when resuming in place). */
  discard(): Promise<void>;
}

export interface SinkOptions {
  /** Stops the wait for a FIFO's reader (the reason is what the open rejects with). */
  signal?: AbortSignal;
  /** Called once when a FIFO has no reader yet and the download waits for one. */
  onWaitingForReader?: () => void;
}

/** Size of a local file, or 0 when it does not exist. */
export async function localSize(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

async function opened(stream: fs.WriteStream | fs.ReadStream): Promise<void> {
  if (stream.pending) await once(stream, 'open');
}

async function closed(stream: Writable): Promise<void> {
  if (!stream.closed) await once(stream, 'close');
}

/** Close a stream that will not be committed, ignoring what it says while closing. */
async function dropped(stream: Writable): Promise<void> {
  stream.on('error', () => {});
  stream.destroy();
  await closed(stream).catch(() => {});
}

/** The opened descriptor must be the node that was inspected: the path may have been swapped in between. */
function assertSameNode(st: fs.Stats, target: LocalTarget): void {
  const kind = kindOf(st, target.path);
  if (kind !== target.kind || st.dev !== target.identity?.dev || st.ino !== target.identity?.ino) {
    throw new FtpUsageError(`${target.path} changed while the download was starting (it is now ${describeKind(kind)}): try again`);
  }
}

/** A raw descriptor (a FileHandle would close it when collected, under the socket that owns it). */
function openFd(file: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, (e, fd) => (e ? reject(e) : resolve(fd))));
}

/**
 * Open a FIFO for writing without blocking a thread: open(O_WRONLY) blocks until a reader opens the other
 * end, in a libuv pool thread nothing can interrupt, so Ctrl-C or an abort would hang. With O_NONBLOCK the
 * open fails with ENXIO while there is no reader (POSIX open(), "O_NONBLOCK ... FIFO"); poll until one
 * comes, like curl waits, but abortable.
 */
async function openFifo(target: LocalTarget, options: SinkOptions): Promise<number> {
  let waitMs = 5;
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      return await openFd(target.realPath, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
    }
    if (!told) { told = true; options.onWaitingForReader?.(); }
    await delay(waitMs, undefined, { signal: options.signal }).catch(() => options.signal?.throwIfAborted());
    waitMs = Math.min(waitMs * 2, FIFO_POLL_MAX_MS);
  }
}

/** Write straight into a device or FIFO: no temporary file, no rename, nothing removed on failure. */
async function openSpecialSink(target: LocalTarget, options: SinkOptions): Promise<LocalSink> {
  let stream: Writable;
  if (target.kind === 'fifo') {
    const fd = await openFifo(target, options);
    try {
      assertSameNode(fs.fstatSync(fd), target);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    // A non-blocking pipe descriptor: a libuv pipe handle writes it with backpressure from the event loop
    // (fs streams would fail with EAGAIN once the pipe buffer is full, or block a pool thread without it).
    // The socket owns the descriptor from here and closes it.
    stream = new net.Socket({ fd, readable: false, writable: true });
  } else {
    // No O_TRUNC (meaningless on a device), no O_CREAT (the node exists), O_NOCTTY (a terminal must not
    // become our controlling terminal).
    const fh = await fsp.open(target.realPath, fs.constants.O_WRONLY | fs.constants.O_NOCTTY);
    try {
      assertSameNode(await fh.stat(), target);
    } catch (e) {
      await fh.close();
      throw e;
    }
    stream = fh.createWriteStream({ highWaterMark: HIGH_WATER_MARK });
  }
  return { stream, commit: () => closed(stream), discard: () => dropped(stream) };
}

/**
 * A regular file written by a download: a stream that owns the handle (closes it when it ends or is
 * destroyed), offered with a block writer so that a TYPE I download writes its 1 MiB blocks with positional
 * writes (net/wire-blocks.ts); other transfers (TYPE A) write the stream.
 */
function fileSink(handle: fsp.FileHandle, start: number): fs.WriteStream {
  return attachBlockWriter(handle.createWriteStream({ start, highWaterMark: HIGH_WATER_MARK }), fileBlockWriter(handle, start));
}

/** A temporary name beside `real` (same folder, so the final rename is atomic), hidden, never reused. */
export function partPathFor(real: string): string {
  return path.join(path.dirname(real), `.${path.basename(real)}.${randomBytes(4).toString('hex')}.ftpkit-part`);
}

/**
 * Open the destination of a download. In place (resume): write from startAt into the file itself and keep
 * what arrived when the transfer fails, so the next resume continues from there. A device or FIFO: written
 * directly. Otherwise a temporary file beside the real file, renamed over it by commit().
 */
export async function openLocalSink(target: LocalTarget, startAt: number, inPlace = startAt > 0,
  options: SinkOptions = {}): Promise<LocalSink> {
  if (isSpecialKind(target.kind)) {
    if (inPlace) assertResumable(target);
    return openSpecialSink(target, options);
  }
  if (inPlace) {
    const stream = fileSink(await fsp.open(target.realPath, startAt > 0 ? 'r+' : 'w'), startAt);
    return {
      stream,
      commit: async check => {
        await closed(stream);
        if (!check) return;
        try {
          await check(target.realPath);
        } catch (e) {
          // Not the server's file: under its own name it would look complete, and a resume would continue it.
          await fsp.rename(target.realPath, `${target.realPath}.ftpkit-mismatch`).catch(() => {});
          throw e;
        }
      },
      // Keep the partial file: it is what the next resume continues.
      discard: async () => {
        stream.on('error', () => {});
        if (!stream.destroyed) stream.end();
        await closed(stream).catch(() => {});
      },
    };
  }
  // Beside the real file (a symbolic link's target), so the rename replaces that file and not the link.
  const real = target.realPath;
  const tmp = partPathFor(real);
  const stream = fileSink(await fsp.open(tmp, 'wx'), 0);
  return {
    stream,
    commit: async check => {
      await closed(stream);
      if (check) {
        try {
          await check(tmp);
        } catch (e) {
          await fsp.rm(tmp, { force: true });
          throw e;
        }
      }
      await fsp.rename(tmp, real);
    },
    discard: async () => {
      await dropped(stream);
      await fsp.rm(tmp, { force: true });
    },
  };
}

export async function openLocalSource(source: string, startAt: number): Promise<fs.ReadStream> {
  const handle = await fsp.open(source, 'r');
  // The stream owns the handle (closes it when destroyed); TYPE I uploads read it through the block reader.
  const stream = handle.createReadStream({ start: startAt, highWaterMark: 1024 * 1024 });
  return attachBlockReader(stream, fileBlockReader(handle, startAt));
}
