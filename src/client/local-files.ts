/**
 * Local side of downloads and uploads: a download to a path is written under a temporary name in the same
 * folder and renamed on success, so a failed transfer never leaves a file that looks complete (unless the
 * caller resumes, which writes in place by definition). Big buffers: few syscalls on the hot path.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';

const HIGH_WATER_MARK = 1024 * 1024;

export interface LocalSink {
  stream: fs.WriteStream;
  /** Make the result visible (rename the temporary file). */
  commit(): Promise<void>;
  /** Remove what a failed transfer left (the temporary file; nothing when resuming in place). */
  discard(): Promise<void>;
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

async function closed(stream: fs.WriteStream): Promise<void> {
  if (!stream.closed) await once(stream, 'close');
}

/**
 * Open the destination of a download. In place (resume): write from startAt into the file itself and keep
 * what arrived when the transfer fails, so the next resume continues from there. Otherwise a temporary file.
 */
export async function openLocalSink(destination: string, startAt: number, inPlace = startAt > 0): Promise<LocalSink> {
  if (inPlace) {
    const stream = fs.createWriteStream(destination, { flags: startAt > 0 ? 'r+' : 'w', start: startAt, highWaterMark: HIGH_WATER_MARK });
    await opened(stream);
    return {
      stream,
      commit: () => closed(stream),
      // Keep the partial file: it is what the next resume continues.
      discard: async () => {
        stream.on('error', () => {});
        if (!stream.destroyed) stream.end();
        await closed(stream).catch(() => {});
      },
    };
  }
  const dir = path.dirname(destination);
  const tmp = path.join(dir, `.${path.basename(destination)}.${randomBytes(4).toString('hex')}.ftpkit-part`);
  const stream = fs.createWriteStream(tmp, { flags: 'wx', highWaterMark: HIGH_WATER_MARK });
  await opened(stream);
  return {
    stream,
    commit: async () => {
      await closed(stream);
      await fsp.rename(tmp, destination);
    },
    discard: async () => {
      stream.on('error', () => {});
      stream.destroy();
      await closed(stream).catch(() => {});
      await fsp.rm(tmp, { force: true });
    },
  };
}

export async function openLocalSource(source: string, startAt: number): Promise<fs.ReadStream> {
  const stream = fs.createReadStream(source, { start: startAt, highWaterMark: HIGH_WATER_MARK });
  await opened(stream);
  return stream;
}
