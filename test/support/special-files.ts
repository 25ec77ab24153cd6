/**
 * Test helper: special files as download targets. A FIFO (mkfifo), a character device (mknod, root only:
 * `nodeSkip()` gives the reason to skip otherwise), a reader on a FIFO, and the device numbers of a node.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';

type T = { after: (fn: () => unknown) => void };

const run = promisify(execFile);

export async function mkfifo(file: string): Promise<void> {
  await run('mkfifo', [file]);
}

/** Why device-node tests cannot run here, or undefined when they can (mknod needs root). */
export function nodeSkip(): string | undefined {
  return process.getuid?.() === 0 ? undefined : 'mknod needs root (CI runs the tests as root)';
}

/** A character device node, e.g. (1, 3): the same node as /dev/null. */
export async function mknodChar(file: string, major: number, minor: number): Promise<void> {
  await run('mknod', [file, 'c', String(major), String(minor)]);
}

/** Major and minor of a device number below 2^32 as Linux encodes it (glibc gnu_dev_major/gnu_dev_minor). */
export function deviceNumbers(rdev: number): [number, number] {
  return [(rdev >>> 8) & 0xfff, (rdev & 0xff) | ((rdev >>> 12) & 0xfff00)];
}

/**
 * A reader on a FIFO (`cat FIFO`, in a child process so a test that fails never blocks this one): resolves
 * with every byte read once the writer closes its end. Killed after the test.
 */
export function readFifo(t: T, fifo: string): Promise<Buffer> {
  const cat = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { if (cat.exitCode === null && cat.signalCode === null) cat.kill('SIGKILL'); });
  const chunks: Buffer[] = [];
  cat.stdout.on('data', (d: Buffer) => chunks.push(d));
  return new Promise((resolve, reject) => {
    cat.on('error', reject);
    cat.on('close', (code, signal) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`cat ${fifo}: exit ${code ?? signal}`))));
  });
}

/**
 * Opens and closes the FIFO's read end without blocking: releases a writer that is blocked in open()
 * waiting for a reader (so a test of code that blocks there ends instead of hanging the process).
 */
export function releaseFifoWriters(fifo: string): void {
  try {
    fs.closeSync(fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
  } catch {
    // gone already
  }
}
