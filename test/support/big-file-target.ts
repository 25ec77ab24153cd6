// Setup shared by the interop tests of our server with third-party clients: a started target and a work folder holding a big random file.
import { after, before } from 'node:test';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir } from './peers-common.js';
import { BIG_FILE_SIZE, writeRandomFile } from './peers-fixtures.js';

export interface BigFileSetup<T> {
  target: T;
  work: { dir: string; cleanup: () => Promise<void> };
  /** work.dir/big.bin: BIG_FILE_SIZE random bytes. */
  big: string;
  bigSha: string;
}

/**
 * Registers before/after hooks in the calling describe(): start() the target, make the work folder and
 * big.bin (also copied to the target's root with inRoot); after: stop the target, remove the folder.
 * The fields are set once the before hook has run.
 */
export function targetWithBigFile<T extends { root: string; stop(): Promise<void> }>(
  start: () => Promise<T>, workPrefix: string, opts: { inRoot?: boolean } = {},
): BigFileSetup<T> {
  const setup = {} as BigFileSetup<T>;
  before(async () => {
    setup.target = await start();
    setup.work = await makeTempDir(workPrefix);
    setup.big = path.join(setup.work.dir, 'big.bin');
    setup.bigSha = await writeRandomFile(setup.big, BIG_FILE_SIZE);
    if (opts.inRoot) await copyFile(setup.big, path.join(setup.target.root, 'big.bin'));
  });
  after(async () => {
    await setup.target?.stop();
    await setup.work?.cleanup();
  });
  return setup;
}
